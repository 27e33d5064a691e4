"""One-click unsubscribe (RFC 8058) through the app: no sign-in, one subscription only, audited, no forgery.

``make_alert_site`` (shared with the Atom feed and outbox tests) is a small real installation: SQLite,
migrations, the national admin of ``tfe init``, two organisations with an admin and advisers each, no SMTP
relay (e-mails go to the outbox) and subscriptions created as rows on saved searches.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from search.models import SavedSearch
from tfe.app.install import init_installation
from tfe.app.runtime import Runtime
from tfe.app.web.app import create_app
from tfe.core.models import AuditEvent
from tfe.core.security import identity
from tfe.core.settings import Settings
from veille.alerts import unsubscribe as tokens
from veille.alerts.models import AlertMessage, Subscription
from veille.channels import registry
from veille.channels.testing import sample_digest

PASSWORD = "motdepasse-solide-42"
HTML = {"accept": "text/html"}


@dataclass
class AlertSite:
    rt: Runtime
    client: TestClient
    users: dict[str, int]  # key -> user id: alice, bob (alpha), carla, admin_b (beta), admin_a (alpha)

    def subscribe(self, who: str, name: str, *, channels: list[str] | None = None, **values: object) -> int:
        """A saved search and its instant subscription for ``who``; the subscription id."""
        with self.rt.session() as session:
            saved = SavedSearch(
                user_id=self.users[who], name=name, query="vins", filters={"sector": ["naf:11"]}
            )
            session.add(saved)
            session.flush()
            sub = Subscription(
                user_id=self.users[who],
                saved_search_id=saved.id,
                frequency="instant",
                channels=channels or ["email"],
                **values,
            )
            session.add(sub)
            session.flush()
            return sub.id

    def token(self, subscription_id: int) -> str:
        with self.rt.session() as session:
            sub = session.get(Subscription, subscription_id)
            assert sub is not None
            return tokens.make_token(self.rt.settings.secret_key, sub)

    def subscription(self, subscription_id: int) -> Subscription:
        with self.rt.session() as session:
            sub = session.get(Subscription, subscription_id)
            assert sub is not None
            return sub

    def events(self, action: str, target_id: int | str) -> list[AuditEvent]:
        with self.rt.session() as session:
            return list(
                session.scalars(
                    select(AuditEvent).where(
                        AuditEvent.action == action, AuditEvent.target_id == str(target_id)
                    )
                )
            )

    def sign_in(self, email: str, password: str = PASSWORD) -> None:
        self.client.cookies.clear()
        csrf = self.client.get("/login").text.split('name="csrf" value="')[1].split('"')[0]
        answer = self.client.post(
            "/login", data={"email": email, "password": password, "csrf": csrf}, follow_redirects=False
        )
        assert answer.status_code == 303, answer.text


def make_alert_site(data_dir: Path) -> Iterator[AlertSite]:
    settings = Settings(
        data_dir=data_dir,
        environment="test",
        admin_password="admin-password-123",
        secret_key="alert-tests-secret",
        fetch_allow_private=True,
        public_url="http://testserver",
    )
    rt = Runtime(settings)
    init_installation(rt)
    users: dict[str, int] = {}
    with rt.session() as session:
        alpha = identity.get_or_create_org(session, "alpha", "CCI Alpha", "regional_chamber")
        beta = identity.get_or_create_org(session, "beta", "Banque Beta", "bank")
        for key, org, role in (
            ("alice", alpha, "reader"),
            ("bob", alpha, "contributor"),
            ("admin_a", alpha, "admin"),
            ("carla", beta, "reader"),
            ("admin_b", beta, "admin"),
        ):
            user = identity.create_user(
                session,
                email=f"{key}@{org.slug}.fr",
                org=org,
                role=role,
                name=key.capitalize(),
                password=PASSWORD,
            )
            users[key] = user.id
    with TestClient(create_app(rt)) as client:
        yield AlertSite(rt=rt, client=client, users=users)
    rt.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AlertSite]:
    yield from make_alert_site(tmp_path_factory.mktemp("unsubscribe"))


def test_page_confirms_and_changes_nothing(site: AlertSite) -> None:
    sub_id = site.subscribe("alice", "Vins × Allemagne")
    site.client.cookies.clear()
    page = site.client.get(f"/alertes/desabonnement/{site.token(sub_id)}", headers=HTML)
    assert page.status_code == 200
    assert "Se désabonner de l'alerte « Vins × Allemagne »" in page.text and "Me désabonner" in page.text
    assert 'name="List-Unsubscribe" value="One-Click"' in page.text
    assert page.headers["referrer-policy"] == "no-referrer" and page.headers["cache-control"] == "no-store"
    assert site.subscription(sub_id).paused is False
    assert site.events("subscription.unsubscribe", sub_id) == []


def test_one_click_post_without_cookies_pauses_only_that_subscription(site: AlertSite) -> None:
    target = site.subscribe("alice", "Appels d'offres santé au Maghreb")
    other = site.subscribe("alice", "Cosmétiques au Japon")
    neighbour = site.subscribe("bob", "Appels d'offres santé au Maghreb")
    site.client.cookies.clear()
    started = time.perf_counter()
    answer = site.client.post(
        f"/alertes/desabonnement/{site.token(target)}", data={"List-Unsubscribe": "One-Click"}
    )
    assert answer.status_code == 200 and time.perf_counter() - started < 2
    assert "Vous êtes désabonné" in answer.text and "« Appels d&#39;offres santé au Maghreb »" in answer.text
    assert site.subscription(target).paused is True
    assert site.subscription(other).paused is False and site.subscription(neighbour).paused is False
    state = site.subscription(target).channel_state["unsubscribe"]
    assert state["method"] == "one_click" and state["at"]
    events = site.events("subscription.unsubscribe", target)
    assert len(events) == 1 and events[0].actor_user_id == site.users["alice"]
    assert events[0].detail == {"method": "one_click", "channel": "web"}
    again = site.client.post(
        f"/alertes/desabonnement/{site.token(target)}", data={"List-Unsubscribe": "One-Click"}
    )
    assert again.status_code == 200 and "déjà suspendue" in again.text
    assert len(site.events("subscription.unsubscribe", target)) == 1  # nothing changed, nothing recorded


def test_the_page_button_unsubscribes_too(site: AlertSite) -> None:
    sub_id = site.subscribe("bob", "Machines agricoles")
    site.client.cookies.clear()
    answer = site.client.post(
        f"/alertes/desabonnement/{site.token(sub_id)}", data={"List-Unsubscribe": "One-Click", "via": "page"}
    )
    assert answer.status_code == 200 and site.subscription(sub_id).paused is True
    assert site.events("subscription.unsubscribe", sub_id)[0].detail["method"] == "form"


def test_forged_malformed_and_revoked_tokens_are_refused(site: AlertSite) -> None:
    mine = site.subscribe("alice", "Vins × Italie")
    theirs = site.subscribe("carla", "Vins × Japon")
    good = site.token(mine)
    sub_part, mac = good.split(".")
    forged = [
        f"{sub_part}.{'A' * len(mac)}",  # a made-up signature
        f"{theirs}.{mac}",  # my signature on another subscription
        f"999999.{mac}",  # no such subscription
    ]
    other_key = tokens._mac("another-secret", mine, "nonce")
    forged.append(f"{mine}.{other_key}")
    site.client.cookies.clear()
    for token in forged:
        assert site.client.get(f"/alertes/desabonnement/{token}", headers=HTML).status_code == 404
        post = site.client.post(f"/alertes/desabonnement/{token}", data={"List-Unsubscribe": "One-Click"})
        assert post.status_code == 404 and post.json()["error"]["code"] == "not_found"
    malformed = site.client.post(
        "/alertes/desabonnement/pas-un-jeton", data={"List-Unsubscribe": "One-Click"}
    )
    assert malformed.status_code == 400
    no_body = site.client.post(f"/alertes/desabonnement/{good}")
    assert no_body.status_code == 400 and "One-Click" in no_body.json()["error"]["message"]
    with site.rt.session() as session:
        sub = session.get(Subscription, mine)
        assert sub is not None
        tokens.revoke_tokens(sub)
    revoked = site.client.post(f"/alertes/desabonnement/{good}", data={"List-Unsubscribe": "One-Click"})
    assert revoked.status_code == 404
    assert site.subscription(mine).paused is False and site.subscription(theirs).paused is False
    assert site.token(mine) != good  # a new link works again
    fresh = site.client.post(
        f"/alertes/desabonnement/{site.token(mine)}", data={"List-Unsubscribe": "One-Click"}
    )
    assert fresh.status_code == 200 and site.subscription(mine).paused is True


def test_the_email_link_works_and_the_next_digest_skips_it(site: AlertSite) -> None:
    """The List-Unsubscribe URL of a real (outbox) e-mail unsubscribes; the digest run then leaves it out."""
    sub_id = site.subscribe("carla", "Santé × Maroc")
    with site.rt.session() as session:
        sub = session.get(Subscription, sub_id)
        assert sub is not None
        url = tokens.unsubscribe_url(site.rt.settings, sub)
    channel = registry.available(site.rt.settings, site.rt.session_factory)["email"]
    digest = sample_digest(sub_id, base_url=site.rt.settings.public_url)
    digest = digest.__class__(**{**digest.__dict__, "unsubscribe_url": url})
    assert channel.send(digest, target="carla@beta.fr").outcome == "sent"
    with site.rt.session() as session:
        row = session.scalars(select(AlertMessage).where(AlertMessage.subscription_id == sub_id)).one()
        header = dict(row.payload["headers"])["List-Unsubscribe"]
    assert header == f"<{url}>"
    before = site.rt.digests.run("instant")
    site.client.cookies.clear()
    path = urlsplit(header.strip("<>")).path
    assert site.client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    after = site.rt.digests.run("instant")
    assert after.subscriptions == before.subscriptions - 1
    assert site.subscription(sub_id).paused is True
