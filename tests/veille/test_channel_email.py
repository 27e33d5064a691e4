"""The e-mail channel against real SMTP servers on loopback (aiosmtpd), and its outbox stand-in.

Both pass the channel conformance suite; the e-mail tests also read the received message with the
``email`` package: the RFC 8058 headers, both alternatives in French, the links, the subject.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Literal

import pytest
from sqlalchemy import create_engine, select

from search.models import SavedSearch
from tests.conftest import make_settings
from tests.veille.smtpserver import Collecting, Refusing, closed_port, silent_server, smtp_server
from tfe.core.db import make_engine, make_session_factory, migrate
from tfe.core.models import User
from tfe.core.security import identity
from tfe.core.settings import Settings
from veille.alerts.digest import Digest
from veille.alerts.models import AlertMessage, Subscription
from veille.channels import registry
from veille.channels.base import NotConfigured
from veille.channels.email import EmailChannel, parse_smtp_url, subject_of
from veille.channels.outbox import OUTBOX, OutboxChannel
from veille.channels.testing import ChannelConformance, ChannelHarness, Failing, sample_digest

RECIPIENT = "alice@alpha.fr"


class Anchors(HTMLParser):
    """``(text, href)`` of every link of an HTML document."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href") or ""
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((" ".join("".join(self._text).split()), self._href))
            self._href = None


def links_of(html: str) -> list[tuple[str, str]]:
    parser = Anchors()
    parser.feed(html)
    return parser.links


def smtp_settings(settings: Settings, port: int, **extra: object) -> Settings:
    return settings.model_copy(
        update={"smtp_url": f"smtp://127.0.0.1:{port}", "smtp_timeout_s": 2.0, **extra}
    )


class EmailHarness(ChannelHarness):
    def __init__(self, settings: Settings, port: int, inbox: Collecting) -> None:
        self.settings = settings
        self.channel = EmailChannel(smtp_settings(settings, port))
        self.target = RECIPIENT
        self.inbox = inbox

    def arrived(self, digest: Digest) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for message in self.inbox.messages:
            html = message.get_body(("html",))
            assert html is not None
            out.extend(links_of(html.get_content()))
        return out

    def failing(self, kind: Literal["temporary", "permanent"]) -> Failing | None:
        if kind == "permanent":
            return self.channel, None  # no recipient address
        return EmailChannel(smtp_settings(self.settings, closed_port())), RECIPIENT

    def unreachable(self) -> Failing | None:
        return EmailChannel(smtp_settings(self.settings, closed_port())), RECIPIENT


class TestEmailConformance(ChannelConformance):
    @pytest.fixture
    def harness(self, settings: Settings) -> Iterator[ChannelHarness]:
        inbox = Collecting()
        with smtp_server(inbox) as port:
            yield EmailHarness(settings, port, inbox)


def test_message_has_rfc8058_headers_both_alternatives_and_links(settings: Settings) -> None:
    inbox = Collecting()
    digest = sample_digest(subscription_id=42)
    with smtp_server(inbox) as port:
        result = EmailChannel(smtp_settings(settings, port)).send(digest, target=RECIPIENT)
    assert result.outcome == "sent" and result.detail.startswith("<")
    assert len(inbox.messages) == 1 and inbox.envelopes[0][1] == [RECIPIENT]
    message = inbox.messages[0]
    assert message["Subject"] == "[Veille TFE] agroalimentaire × Vietnam : 2 actualités, 1 document"
    assert message["List-Unsubscribe"] == f"<{digest.unsubscribe_url}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["From"] == settings.smtp_from and RECIPIENT in message["To"]
    assert message["Message-ID"] == result.detail and message["Date"]
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    plain, markup = text.get_content(), html.get_content()
    links = links_of(markup)
    for entry in digest.entries:
        assert (entry.title, entry.url) in links
        assert entry.title in plain and entry.url in plain
    assert ("Gérer mes alertes", digest.manage_url) in links
    assert ("Se désabonner", digest.unsubscribe_url) in links
    assert digest.unsubscribe_url in plain and digest.manage_url in plain
    assert "2 nouvelles sources" in plain and "2 nouvelles sources" in markup
    assert "Bonjour Alice Martin" in plain and "Synthèse quotidienne" in markup
    assert "Sources : Business France, Les Échos" in plain and "Pays : Allemagne" in plain
    assert "&lt;2025&gt;" in markup and "<2025>" not in markup  # titles are escaped in HTML
    assert "https://www.example.org/articles/droits-accise?id=7&amp;lang=fr" in markup
    assert "4 mars 2025" in plain


def test_subject_counts_stories_only() -> None:
    digest = sample_digest()
    stories = Digest(**{**digest.__dict__, "entries": digest.entries[:1]})
    assert subject_of(stories) == "[Veille TFE] agroalimentaire × Vietnam : 1 actualité"


@pytest.mark.parametrize(
    ("reply", "outcome"),
    [("451 4.3.0 Réessayez plus tard", "temporary"), ("550 5.1.1 Boîte inconnue", "permanent")],
)
def test_refusals_are_classified(settings: Settings, reply: str, outcome: str) -> None:
    handler = Refusing(reply)
    with smtp_server(handler) as port:
        result = EmailChannel(smtp_settings(settings, port)).send(sample_digest(), target=RECIPIENT)
    assert result.outcome == outcome and result.detail.startswith(f"SMTP {reply[:3]}")
    assert handler.messages == []


def test_server_that_hangs_is_temporary_after_the_timeout(settings: Settings) -> None:
    with silent_server() as port:
        channel = EmailChannel(smtp_settings(settings, port, smtp_timeout_s=0.5))
        result = channel.send(sample_digest(), target=RECIPIENT)
    assert result.outcome == "temporary" and "délai SMTP dépassé" in result.detail


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_login_and_the_password_never_shows(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    inbox = Collecting()
    caplog.set_level(logging.DEBUG)
    with smtp_server(inbox, credentials=("veille", "s3cr3t-p@ss")) as port:
        good = settings.model_copy(
            update={"smtp_url": f"smtp://veille:s3cr3t-p%40ss@127.0.0.1:{port}", "smtp_timeout_s": 2.0}
        )
        assert EmailChannel(good).send(sample_digest(), target=RECIPIENT).outcome == "sent"
        bad = good.model_copy(update={"smtp_url": f"smtp://veille:wrong-pass@127.0.0.1:{port}"})
        refused = EmailChannel(bad)
        result = refused.send(sample_digest(), target=RECIPIENT)
    assert len(inbox.messages) == 1
    assert result.outcome == "temporary" and "authentification SMTP refusée" in result.detail
    assert "s3cr3t" not in caplog.text and "wrong-pass" not in caplog.text
    assert "wrong-pass" not in repr(refused.relay) and "wrong-pass" not in result.detail


def test_smtp_url_parsing_and_not_configured(settings: Settings) -> None:
    relay = parse_smtp_url("smtp://u%40x:p%3Aw@mail.example.org:587?starttls=true")
    assert (relay.host, relay.port, relay.starttls, relay.tls) == ("mail.example.org", 587, True, False)
    assert (relay.username, relay.password) == ("u@x", "p:w")
    assert parse_smtp_url("smtps://mail.example.org").port == 465
    assert parse_smtp_url("smtp://mail.example.org").port == 25
    with pytest.raises(NotConfigured, match="smtp:// ou smtps://"):
        parse_smtp_url("http://user:topsecret@mail.example.org")
    with pytest.raises(NotConfigured, match="TFE_SMTP_URL") as caught:
        EmailChannel(settings)
    assert "topsecret" not in str(caught.value)


def test_registry_replaces_email_with_the_outbox_without_a_relay(settings: Settings) -> None:
    assert set(registry.available(settings)) == {"atom", "webhook"}
    assert "TFE_SMTP_URL" in registry.unavailable(settings)["email"]
    engine = create_engine("sqlite://")
    factory = make_session_factory(engine)
    with_db = registry.available(settings, factory)
    assert isinstance(with_db["email"], OutboxChannel) and registry.unavailable(settings, factory) == {}
    relay = settings.model_copy(update={"smtp_url": "smtp://127.0.0.1:2525"})
    assert isinstance(registry.available(relay, factory)["email"], EmailChannel)
    bad = settings.model_copy(update={"smtp_url": "ftp://127.0.0.1"})
    assert "email" not in registry.available(bad, factory) and "schéma" in registry.unavailable(bad)["email"]


# -- the outbox, on SQLite and PostgreSQL --------------------------------------------------------------


def subscription_row(factory: object, email: str = RECIPIENT) -> int:
    """A user, a saved search and its subscription; the subscription id."""
    with factory() as session:  # type: ignore[operator]
        org = identity.get_or_create_org(session, "alpha", "CCI Alpha", "regional_chamber")
        user = session.scalar(select(User).where(User.email == email)) or identity.create_user(
            session, email=email, org=org, role="reader", name="Alice"
        )
        saved = SavedSearch(user_id=user.id, name="agroalimentaire × Vietnam", query="vins")
        session.add(saved)
        session.flush()
        sub = Subscription(user_id=user.id, saved_search_id=saved.id, channels=["email"])
        session.add(sub)
        session.commit()
        return sub.id


class OutboxHarness(ChannelHarness):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
        self.engine = make_engine(settings)
        migrate(self.engine)
        self.factory = make_session_factory(self.engine)
        self.subscription_id = subscription_row(self.factory)
        self.channel = OutboxChannel(settings, self.factory)
        self.target = RECIPIENT

    def digest(self) -> Digest:
        return sample_digest(self.subscription_id)

    def arrived(self, digest: Digest) -> list[tuple[str, str]]:
        with self.factory() as session:
            rows = session.scalars(select(AlertMessage).where(AlertMessage.channel == OUTBOX)).all()
        return [link for row in rows for link in links_of(row.body_html)]

    def failing(self, kind: Literal["temporary", "permanent"]) -> Failing | None:
        if kind == "permanent":
            return self.channel, None
        return self._broken(), RECIPIENT

    def unreachable(self) -> Failing | None:
        return self._broken(), RECIPIENT

    def _broken(self) -> OutboxChannel:
        gone = make_session_factory(create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"))
        return OutboxChannel(self.settings, gone)


class TestOutboxConformance(ChannelConformance):
    @pytest.fixture
    def harness(self, db_settings: Settings) -> Iterator[ChannelHarness]:
        harness = OutboxHarness(db_settings)
        yield harness
        harness.engine.dispose()


def test_outbox_keeps_the_whole_message(db_settings: Settings) -> None:
    harness = OutboxHarness(db_settings)
    digest = harness.digest()
    result = harness.channel.send(digest, target=RECIPIENT)
    assert result.outcome == "sent" and result.detail.startswith("boîte d'envoi n° ")
    with harness.factory() as session:
        row = session.scalars(select(AlertMessage)).one()
    assert (row.channel, row.status, row.recipient, row.subscription_id) == (
        OUTBOX,
        "sent",
        RECIPIENT,
        harness.subscription_id,
    )
    assert row.subject == subject_of(digest) and row.sent_at is not None
    headers = dict(row.payload["headers"])
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["List-Unsubscribe"] == f"<{digest.unsubscribe_url}>"
    assert "Se désabonner" in row.body_html and digest.entries[1].title in row.body_text
    assert "multipart/alternative" in row.payload["raw"]
    assert row.payload["digest"]["entries"][0]["id"] == "s-101"
    harness.engine.dispose()


def test_make_settings_default_has_no_relay(tmp_path: object) -> None:
    assert make_settings(tmp_path).smtp_url is None  # type: ignore[arg-type]
