"""The demo's alerts: the advisers' subscriptions, created before the watch's first poll, and a first digest
in the local outbox (no SMTP relay), as ``tfe demo`` loads them.

One fresh installation for the module (models load: slow): the loader's watch and alerts part
(``load_watch_and_alerts``) on the real demo site over HTTP, then the checks a new user would make: three
subscriptions for three advisers, a digest in the outbox with a story told by several sources and the
RFC 8058 headers, nothing created or sent twice on a re-run, the daily one sent at its time, an alert the
adviser deleted not made again.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import make_settings
from tfe.app.demo.alerts import DEMO_ALERTS, SHOWCASE, place_subscriptions
from tfe.app.demo.loader import demo_site, ensure_demo_accounts, load_watch_and_alerts
from tfe.app.demo.site import stop_site
from tfe.app.install import init_installation
from tfe.app.runtime import Runtime
from tfe.core.models import AuditEvent, User
from veille.alerts.models import AlertMessage, Delivery, Subscription
from veille.alerts.subscriptions import SubscriptionView
from veille.channels.outbox import OUTBOX, headers_of, list_messages
from veille.models import Item

pytestmark = pytest.mark.slow

PUBLIC_URL = "http://demo.test"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, dict[str, Any]]]:
    settings = make_settings(tmp_path_factory.mktemp("demo-alerts"), smtp_url=None, public_url=PUBLIC_URL)
    rt = Runtime(settings)
    report = init_installation(rt)
    ensure_demo_accounts(rt, report.admin_password)
    watch, alerts = load_watch_and_alerts(rt, demo_site(rt))
    assert watch["failed"] == 0 and watch["new_items"] == 39
    yield rt, alerts
    stop_site(rt.settings.resolved_data_dir)
    rt.close()


def _subscriptions(rt: Runtime) -> dict[str, SubscriptionView]:
    with rt.session() as session:
        views = rt.subscriptions.list_all(session)
        session.expunge_all()
    return {v.search.name: v for v in views}


def _outbox(rt: Runtime) -> list[AlertMessage]:
    with rt.session() as session:
        page = list_messages(session, org_id=None, limit=100)
        session.expunge_all()
    return page.messages


def _counts(rt: Runtime) -> tuple[int, int, int]:
    with rt.session() as session:
        return (
            int(session.scalar(select(func.count(Subscription.id))) or 0),
            int(session.scalar(select(func.count(Delivery.id))) or 0),
            int(session.scalar(select(func.count(AlertMessage.id))) or 0),
        )


def test_the_advisers_have_their_demo_subscriptions_made_before_the_first_poll(
    demo: tuple[Runtime, dict[str, Any]],
) -> None:
    rt, alerts = demo
    assert alerts["subscriptions"] == alerts["created"] == len(DEMO_ALERTS) == 3
    subs = _subscriptions(rt)
    assert set(subs) == {
        "Agroalimentaire × Vietnam",
        "Vins et spiritueux × Allemagne",
        "Appels d'offres × Maroc",
    }
    for alert in DEMO_ALERTS:
        view = subs[alert.name]
        assert view.owner_email == alert.email and view.sub.frequency == alert.frequency
        assert list(view.sub.channels) == list(alert.channels) and not view.sub.paused
    vietnam = subs["Agroalimentaire × Vietnam"].as_dict()
    assert vietnam["atom_enabled"] and [c["id"] for c in vietnam["countries"]] == ["country:VN"]
    wine = subs["Vins et spiritueux × Allemagne"].sub
    assert wine.send_time == "08:00" and wine.timezone == "Europe/Paris" and wine.next_run_at is not None
    with rt.session() as session:
        first_item = session.scalar(select(func.min(Item.fetched_at)))
        creates = session.scalars(select(AuditEvent).where(AuditEvent.action == "subscription.create")).all()
    assert first_item is not None
    assert all(v.sub.created_at <= first_item for v in subs.values())  # watermark: before the first poll
    assert len(creates) == 3 and {e.detail["name"] for e in creates} == set(subs)


def test_a_first_digest_is_in_the_outbox_with_a_story_of_several_sources_and_rfc_8058_headers(
    demo: tuple[Runtime, dict[str, Any]],
) -> None:
    rt, alerts = demo
    assert alerts["accepted"] >= 3 and alerts["failed"] == 0
    messages = _outbox(rt)
    seen = [(m.recipient, [e["title"] for e in m.payload["digest"]["entries"]]) for m in messages]
    assert alerts["sent"] == 2 and alerts["stories"] >= 2, (alerts, seen)  # the instant ones; daily waits
    assert {m.recipient for m in messages} == {
        "conseiller@business-france.demo",
        "conseiller@region-occitanie.demo",
    }
    assert all(m.channel == OUTBOX and m.status == "sent" for m in messages)
    by_recipient = {m.recipient: m for m in messages}
    vietnam = by_recipient["conseiller@business-france.demo"]
    entries = vietnam.payload["digest"]["entries"]
    assert entries and all(e["kind"] == "story" for e in entries)
    (trade,) = [e for e in entries if "Vietnam" in e["title"]]
    assert len(trade["sources"]) >= 2, trade
    assert trade["url"].startswith(f"{PUBLIC_URL}/veille/actualites/")
    assert trade["title"] in vietnam.body_text and trade["url"] in vietnam.body_html
    assert "Agroalimentaire × Vietnam" in vietnam.subject
    headers = dict(headers_of(vietnam))
    assert re.fullmatch(
        rf"<{re.escape(PUBLIC_URL)}/alertes/desabonnement/[0-9]+\.[A-Za-z0-9_-]+>",
        headers["List-Unsubscribe"],
    )
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "conseiller@business-france.demo" in headers["To"]
    tender = by_recipient["conseiller@region-occitanie.demo"].payload["digest"]["entries"]
    assert any("Souss-Massa" in e["title"] or "dessalement" in e["title"] for e in tender), tender
    assert max(len(e["sources"]) for e in tender) >= 2
    with rt.session() as session:  # the showcase stories' items were accepted by a curator (the admin)
        rows = session.execute(select(Item.story_id, Item.title, Item.curator_status)).all()
    for fragment in SHOWCASE:  # titles are sealed at rest: matched once read, not in SQL
        stories = {story for story, title, _ in rows if story is not None and fragment in title}
        statuses = {status for story, _, status in rows if story in stories}
        assert stories and "accepted" in statuses, (fragment, statuses)
        assert statuses <= {"accepted", "auto_accepted"}, (fragment, statuses)


def test_reloading_creates_no_subscription_and_sends_nothing_twice(
    demo: tuple[Runtime, dict[str, Any]],
) -> None:
    rt, _ = demo
    before = _counts(rt)
    outbox = {m.id for m in _outbox(rt)}
    watch, again = load_watch_and_alerts(rt, demo_site(rt))
    assert watch["added"] == 0 and watch["new_items"] == 0
    assert again["subscriptions"] == 3 and again["created"] == 0 and again["accepted"] == 0
    assert again["sent"] == 0 and again["failed"] == 0
    assert _counts(rt) == before and {m.id for m in _outbox(rt)} == outbox


def test_the_daily_alert_follows_at_its_time_once(demo: tuple[Runtime, dict[str, Any]]) -> None:
    rt, _ = demo
    wine = _subscriptions(rt)["Vins et spiritueux × Allemagne"].sub
    assert wine.next_run_at is not None
    due = wine.next_run_at if wine.next_run_at.tzinfo else wine.next_run_at.replace(tzinfo=dt.UTC)
    at = due + dt.timedelta(minutes=1)
    report = rt.digests.run("daily", now=at).as_dict()
    assert report["subscriptions"] == 1 and report["sent"] == 1 and report["failed"] == 0
    (message,) = [m for m in _outbox(rt) if m.recipient == "conseiller@cci-nouvelle-aquitaine.demo"]
    entries = message.payload["digest"]["entries"]
    assert any("ProWein" in e["title"] for e in entries) and max(len(e["sources"]) for e in entries) >= 2
    assert rt.digests.run("daily", now=at).sent == 0  # the ledger: the same run again sends nothing


def test_an_alert_the_adviser_deleted_is_not_made_again(demo: tuple[Runtime, dict[str, Any]]) -> None:
    rt, _ = demo
    tender = _subscriptions(rt)["Appels d'offres × Maroc"]
    with rt.session() as session:
        owner = session.scalar(select(User).where(User.email == tender.owner_email))
        assert owner is not None
        rt.subscriptions.delete(session, owner, tender.sub.id, channel="web")
    placed = place_subscriptions(rt)
    assert placed["created"] == 0 and placed["subscriptions"] == 2
    assert "Appels d'offres × Maroc" not in _subscriptions(rt)
