"""Issue 7's « Done when », end to end: a real SMTP server (aiosmtpd), a real feed server, a real webhook
receiver, all on loopback, and the platform's own pipeline, poller, curation, digests, CLI and web app.

One installation for the module: a subscriber of CCI Alpha follows sector 11 × Germany by e-mail, Atom and
webhook. Items arrive through ``runtime.poller`` from local feeds (two network sources and one source private
to Banque Beta), are accepted or rejected through ``veille.curation.decide``, and digests are run through
``tfe digest run --json`` (a real subprocess on the same data dir for the first digest, then in this process:
``tests.cli.runner``, the real entry point) and ``runtime.digests.run``. The tests
run in order, each one building on what the previous one sent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import feedparser
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.cli.runner import invoke
from tests.veille.feedserver import FeedServer, Route, feed_server, rss
from tests.veille.smtpserver import Collecting, smtp_server
from tfe.app.install import init_installation
from tfe.app.runtime import Runtime
from tfe.app.web.app import create_app
from tfe.core.models import User
from tfe.core.security import identity
from tfe.core.settings import Settings
from veille import curation
from veille.alerts.models import Subscription
from veille.alerts.subscriptions import SubscriptionSpec
from veille.models import Item, Source

pytestmark = pytest.mark.slow

PASSWORD = "motdepasse-solide-42"
SECRET_KEY = "alerts-e2e-secret-key"
PUBLIC_URL = "http://testserver"

WINE = "Les vins français progressent en Allemagne"
WINE_TEXT = "Les exportations de vins français vers l'Allemagne progressent, portées par le salon ProWein."
COSMETICS = "Les cosmétiques français séduisent le Japon"
SECRET = "Note interne Beta : les vins français en Allemagne"
REJECTED = "Brasseries allemandes : les vins français en Allemagne"


class WebhookReceiver:
    """A partner's endpoint on loopback: keeps every POST (headers and raw body), answers 200."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                receiver.calls.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/hook"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@dataclass
class World:
    rt: Runtime
    client: TestClient
    smtp: Collecting
    smtp_url: str
    feeds: FeedServer
    hook: WebhookReceiver
    users: dict[str, int]
    sources: dict[str, int]
    entries: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    sub_id: int = 0
    atom_path: str = ""
    webhook_secret: str = ""

    def publish(self, source: str, guid: str, title: str, text: str) -> list[str]:
        """Add an entry to ``source``'s feed and poll it; the ids of the new items."""
        self.entries.setdefault(source, []).append((guid, title, text))
        self.feeds.routes[f"/{source}.xml"] = Route(body=rss(source, list(reversed(self.entries[source]))))
        outcome = self.rt.poller.poll(self.sources[source])
        assert outcome.status == "ok" and outcome.new == 1, outcome.as_dict()
        with self.rt.session() as session:
            return list(session.scalars(select(Item.id).where(Item.guid == guid)))

    def decide(self, item_id: str, decision: str, curator: str = "curator") -> None:
        with self.rt.session() as session:
            user = session.get(User, self.users[curator])
            assert user is not None
            curation.decide(
                session,
                identity.scope_for(user),
                item_id,
                decision,
                backend=self.rt.backend,
                referential=self.rt.referential,
                channel="api",
            )

    def story_of(self, item_id: str) -> str:
        with self.rt.session() as session:
            item = session.get(Item, item_id)
            assert item is not None and item.story_id is not None
            return item.story_id

    def sign_in(self, email: str) -> None:
        self.client.cookies.clear()
        csrf = self.client.get("/login").text.split('name="csrf" value="')[1].split('"')[0]
        answer = self.client.post(
            "/login", data={"email": email, "password": PASSWORD, "csrf": csrf}, follow_redirects=False
        )
        assert answer.status_code == 303, answer.text


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    smtp = Collecting()
    with smtp_server(smtp) as port, feed_server() as feeds:
        hook = WebhookReceiver()
        smtp_url = f"smtp://127.0.0.1:{port}"
        settings = Settings(
            data_dir=tmp_path_factory.mktemp("alerts-e2e") / "data",
            environment="test",
            admin_password="admin-password-123",
            secret_key=SECRET_KEY,
            fetch_allow_private=True,
            public_url=PUBLIC_URL,
            smtp_url=smtp_url,
        )
        rt = Runtime(settings)
        init_installation(rt)
        try:
            users: dict[str, int] = {}
            with rt.session() as session:
                alpha = identity.get_or_create_org(session, "alpha", "CCI Alpha", "regional_chamber")
                beta = identity.get_or_create_org(session, "beta", "Banque Beta", "bank")
                for key, org, role in (
                    ("subscriber", alpha, "reader"),
                    ("curator", alpha, "curator"),
                    ("curator_b", beta, "curator"),
                ):
                    user = identity.create_user(
                        session, email=f"{key}@{org.slug}.fr", org=org, role=role, name=key, password=PASSWORD
                    )
                    users[key] = user.id
                rows = {
                    "moci": Source(url=f"{feeds.url}/moci.xml", kind="feed", title="Le Moci"),
                    "echos": Source(url=f"{feeds.url}/echos.xml", kind="feed", title="Les Échos Export"),
                    "beta": Source(
                        url=f"{feeds.url}/beta.xml",
                        kind="feed",
                        title="Beta interne",
                        org_id=beta.id,
                        visibility="organisation",
                    ),
                }
                session.add_all(rows.values())
                session.flush()
                sources = {k: s.id for k, s in rows.items()}
            with TestClient(create_app(rt)) as client:
                yield World(rt, client, smtp, smtp_url, feeds, hook, users, sources)
        finally:
            rt.close()
            hook.close()


def tfe_digest_run(w: World, *, process: bool = False) -> dict[str, Any]:
    """``tfe digest run --json`` as an operator runs it, on the world's data dir and settings: in this
    process, or in a real ``python -m tfe`` subprocess when ``process``."""
    env = {
        "TFE_DATA_DIR": str(w.rt.settings.resolved_data_dir),
        "TFE_ENVIRONMENT": "test",
        "TFE_ADMIN_PASSWORD": "admin-password-123",
        "TFE_SECRET_KEY": SECRET_KEY,
        "TFE_PUBLIC_URL": PUBLIC_URL,
        "TFE_SMTP_URL": w.smtp_url,
        "TFE_FETCH_ALLOW_PRIVATE": "true",
        "HAYSTACK_TELEMETRY_ENABLED": "False",
        "OMP_NUM_THREADS": "1",
    }
    if process:
        full = {**os.environ, **env}
        full.pop("TFE_DATABASE_URL", None)
        out = subprocess.run(
            [sys.executable, "-m", "tfe", "digest", "run", "--json"],
            capture_output=True,
            text=True,
            env=full,
            timeout=300,
        )
    else:
        out = invoke({**env, "TFE_DATABASE_URL": None}, "digest", "run", "--json")
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    return dict(json.loads(out.stdout))


def run(w: World) -> dict[str, int]:
    return w.rt.digests.run().as_dict()


def bodies(message: EmailMessage) -> tuple[str, str]:
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    return plain.get_content(), html.get_content()


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The check documented in docs/api.md (« Webhooks »), as a partner writes it."""
    timestamp = headers["x-tfe-timestamp"]
    expected = (
        "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    )
    return hmac.compare_digest(expected, headers["x-tfe-signature"])


# -- the scenario, in order ------------------------------------------------------------------------------


def test_1_first_digest_by_the_cli_one_email_with_headers_links_atom_and_signed_webhook(world: World) -> None:
    w = world
    with w.rt.session() as session:
        subscriber = session.get(User, w.users["subscriber"])
        assert subscriber is not None
        created = w.rt.subscriptions.create(
            session,
            subscriber,
            SubscriptionSpec(
                name="Boissons × Allemagne",
                sectors=["naf:11"],
                countries=["country:DE"],
                frequency="instant",
                channels=["email", "atom", "webhook"],
                webhook_url=w.hook.url,
            ),
        )
    assert created.atom_url is not None and created.webhook_secret is not None
    w.sub_id = created.view.sub.id
    w.atom_path = urlsplit(created.atom_url).path
    w.webhook_secret = created.webhook_secret

    (wine,) = w.publish("moci", "moci-1", WINE, WINE_TEXT)
    (cosmetics,) = w.publish("moci", "moci-2", COSMETICS, "Les cosmétiques et parfums français au Japon.")
    (secret,) = w.publish("beta", "beta-1", SECRET, WINE_TEXT + " Note réservée à la banque.")
    (rejected,) = w.publish("echos", "echos-0", REJECTED, "Les brasseurs allemands et les vins français.")
    w.decide(wine, "accept")
    w.decide(cosmetics, "accept")
    w.decide(secret, "accept", curator="curator_b")
    w.decide(rejected, "reject")

    with w.rt.session() as session:  # Beta's own curator would be sent Beta's note: it does match the facets
        curator_b = session.get(User, w.users["curator_b"])
        assert curator_b is not None
        spec = SubscriptionSpec(sectors=["naf:11"], countries=["country:DE"])
        seen = w.rt.subscriptions.preview_spec(session, curator_b, spec)["entries"]
    assert any("Beta interne" in e["sources"] for e in seen), seen

    report = tfe_digest_run(w, process=True)
    assert report == {"subscriptions": 1, "sent": 1, "stories": 1, "skipped_empty": 0, "failed": 0}

    # e-mail: one message, RFC 8058 headers, text and HTML alternatives, only what the subscriber may see
    assert len(w.smtp.messages) == 1
    message = w.smtp.messages[0]
    assert message["To"] and "subscriber@alpha.fr" in message["To"]
    unsubscribe = message["List-Unsubscribe"]
    assert re.fullmatch(
        rf"<{re.escape(PUBLIC_URL)}/alertes/desabonnement/[0-9]+\.[A-Za-z0-9_-]+>", unsubscribe
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/alternative"
    plain, html = bodies(message)
    for text in (plain, html):
        assert WINE in text and "Le Moci" in text
        for other in (COSMETICS, SECRET, REJECTED, "Beta interne"):
            assert other not in text, other
    story = w.story_of(wine)
    link = f"{PUBLIC_URL}/veille/actualites/{story}"
    assert link in plain and f'href="{link}"' in html

    # the link works for the subscriber, signed in: the story's page shows the story
    w.sign_in("subscriber@alpha.fr")
    for url in set(re.findall(rf'href="({re.escape(PUBLIC_URL)}/veille/actualites/[^"]+)"', html)):
        page = w.client.get(urlsplit(url).path, headers={"accept": "text/html"})
        assert page.status_code == 200, url
        assert WINE in page.text and SECRET not in page.text

    # Atom: valid for feedparser, the same story, nothing else
    w.client.cookies.clear()
    feed = feedparser.parse(w.client.get(w.atom_path).content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert [e.title for e in feed.entries] == [WINE]

    # webhook: one POST, signed as docs/api.md says, the same story
    assert len(w.hook.calls) == 1
    headers, body = w.hook.calls[0]
    assert verify(w.webhook_secret, headers, body)
    assert not verify("another-secret", headers, body)
    payload = json.loads(body)
    assert [(e["id"], e["title"], e["grown_by"]) for e in payload["entries"]] == [(story, WINE, 0)]
    assert SECRET not in body.decode() and REJECTED not in body.decode()


def test_2_the_same_run_again_sends_nothing(world: World) -> None:
    w = world
    assert run(w)["sent"] == 0
    assert tfe_digest_run(w)["sent"] == 0
    assert len(w.smtp.messages) == 1 and len(w.hook.calls) == 1


def test_3_a_new_item_from_a_counted_source_does_not_bring_the_story_back(world: World) -> None:
    w = world
    (again,) = w.publish("moci", "moci-3", WINE + " (mise à jour)", WINE_TEXT + " Mise à jour.")
    with w.rt.session() as session:
        wine_story = session.scalar(select(Item.story_id).where(Item.guid == "moci-1"))
    assert w.story_of(again) == wine_story  # the same story, from the same source
    w.decide(again, "accept")
    report = run(w)
    assert report["sent"] == 0 and report["stories"] == 0
    assert len(w.smtp.messages) == 1 and len(w.hook.calls) == 1


def test_4_a_new_source_announces_the_story_once_as_grown(world: World) -> None:
    w = world
    (other,) = w.publish("echos", "echos-1", WINE, WINE_TEXT + " Selon Les Échos.")
    with w.rt.session() as session:
        wine_story = session.scalar(select(Item.story_id).where(Item.guid == "moci-1"))
    assert w.story_of(other) == wine_story
    w.decide(other, "accept")
    report = run(w)
    assert report == {"subscriptions": 1, "sent": 1, "stories": 1, "skipped_empty": 0, "failed": 0}
    assert len(w.smtp.messages) == 2
    plain, html = bodies(w.smtp.messages[1])
    assert WINE in plain and "1 nouvelle source" in plain and "1 nouvelle source" in html
    assert "Les Échos Export" in plain and SECRET not in plain and REJECTED not in plain
    headers, body = w.hook.calls[-1]
    assert len(w.hook.calls) == 2 and verify(w.webhook_secret, headers, body)
    assert [(e["id"], e["grown_by"]) for e in json.loads(body)["entries"]] == [(wine_story, 1)]
    feed = feedparser.parse(w.client.get(w.atom_path).content)
    assert not feed.bozo and {e.title for e in feed.entries} == {WINE}
    assert run(w)["sent"] == 0  # announced once


def test_5_one_click_unsubscribe_without_a_cookie_stops_the_next_digest(world: World) -> None:
    w = world
    header = w.smtp.messages[-1]["List-Unsubscribe"]
    path = urlsplit(header.strip("<>")).path
    w.client.cookies.clear()
    answer = w.client.post(
        path,
        content=b"List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200, answer.text
    with w.rt.session() as session:
        sub = session.get(Subscription, w.sub_id)
        assert sub is not None and sub.paused is True
    (fresh,) = w.publish("moci", "moci-4", "Le cidre normand conquiert l'Allemagne", WINE_TEXT)
    w.decide(fresh, "accept")
    assert tfe_digest_run(w)["sent"] == 0
    assert len(w.smtp.messages) == 2 and len(w.hook.calls) == 2
