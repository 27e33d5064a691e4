"""The private Atom feed route: no sign-in, the token is the secret; feedparser reads what was delivered."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import feedparser
import pytest

from tests.web.test_unsubscribe import AlertSite, make_alert_site
from tfe.core.models import User
from veille.alerts.models import AlertMessage, Subscription
from veille.channels.atom import entry_id, new_feed_token
from veille.channels.testing import sample_digest

AT = dt.datetime(2025, 3, 4, 7, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AlertSite]:
    yield from make_alert_site(tmp_path_factory.mktemp("atom-feed"))


def feed_subscription(site: AlertSite, who: str = "alice") -> tuple[int, str]:
    """An Atom subscription with one delivered digest, one failed and one e-mail message; (id, token)."""
    token, token_hash = new_feed_token()
    sub_id = site.subscribe(
        who, "agroalimentaire × Vietnam", channels=["atom", "email"], atom_token_hash=token_hash
    )
    digest = sample_digest(sub_id, base_url=site.rt.settings.public_url)
    with site.rt.session() as session:
        for channel, status, entries in (
            ("atom", "sent", digest.entries[:2]),
            ("atom", "failed", digest.entries[2:]),
            ("email", "sent", digest.entries[2:]),
        ):
            payload = digest.__class__(**{**digest.__dict__, "entries": entries}).as_dict()
            session.add(
                AlertMessage(
                    subscription_id=sub_id,
                    channel=channel,
                    status=status,
                    payload=payload,
                    created_at=AT,
                    sent_at=AT,
                )
            )
    return sub_id, token


def test_feed_without_sign_in_carries_the_delivered_stories(site: AlertSite) -> None:
    sub_id, token = feed_subscription(site)
    site.client.cookies.clear()
    answer = site.client.get(f"/alertes/atom/{token}")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert answer.headers["referrer-policy"] == "no-referrer" and "private" in answer.headers["cache-control"]
    feed = feedparser.parse(answer.content)
    assert not feed.bozo and feed.version == "atom10"
    digest = sample_digest(sub_id, base_url=site.rt.settings.public_url)
    assert [(e.title, e.link) for e in feed.entries] == [(e.title, e.url) for e in digest.entries[:2]]
    assert [e.id for e in feed.entries] == [entry_id(sub_id, "story", e.id) for e in digest.entries[:2]]
    assert digest.entries[2].title not in answer.text  # failed and e-mail messages are not the feed's
    events = site.events("subscription.feed_read", sub_id)
    assert len(events) == 1 and events[0].actor_user_id == site.users["alice"]
    again = site.client.get(f"/alertes/atom/{token}", headers={"if-none-match": answer.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_unknown_revoked_or_orphaned_feeds_answer_404(site: AlertSite) -> None:
    sub_id, token = feed_subscription(site, "bob")
    site.client.cookies.clear()
    assert site.client.get(f"/alertes/atom/{new_feed_token()[0]}").status_code == 404
    assert site.client.get("/alertes/atom/court").status_code == 400
    assert site.client.get(f"/alertes/atom/{token}").status_code == 200
    with site.rt.session() as session:  # the subscription leaves the Atom channel
        sub = session.get(Subscription, sub_id)
        assert sub is not None
        sub.channels = ["email"]
    assert site.client.get(f"/alertes/atom/{token}").status_code == 404
    with site.rt.session() as session:  # back on Atom, but with a new token: the old URL is revoked
        sub = session.get(Subscription, sub_id)
        assert sub is not None
        sub.channels = ["atom"]
        fresh, sub.atom_token_hash = new_feed_token()
    assert site.client.get(f"/alertes/atom/{token}").status_code == 404
    assert site.client.get(f"/alertes/atom/{fresh}").status_code == 200
    with site.rt.session() as session:  # an owner no longer active gets nothing
        user = session.get(User, site.users["bob"])
        assert user is not None
        user.active = False
    missing = site.client.get(f"/alertes/atom/{fresh}")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    with site.rt.session() as session:
        user = session.get(User, site.users["bob"])
        assert user is not None
        user.active = True
