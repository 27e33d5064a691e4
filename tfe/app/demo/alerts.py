"""The demo's alerts: a few subscriptions for the demo advisers and their first digests.

Three advisers (one per demo organisation, see ``tfe.app.demo.loader.ensure_demo_accounts``) follow what
the demo watch tells (``DEMO_ALERTS``): « Agroalimentaire × Vietnam » (instant, e-mail and Atom: the
EU–Vietnam trade agreement), « Vins et spiritueux × Allemagne » (daily at 08:00, e-mail: ProWein
Düsseldorf) and « Appels d'offres × Maroc » (instant, e-mail: the Souss-Massa desalination tender). They
are created through the subscriptions' use cases (``runtime.subscriptions``, channel ``demo``); a re-run
creates only the missing ones (an adviser's alert is known by its name), never one the adviser deleted.

The order matters, and ``tfe.app.demo.loader`` keeps it: ``place_subscriptions`` runs *before* the watch's
first poll (a subscription only receives what is accepted after its creation), then ``first_digests``
accepts, as a curator would (the installation's administrator), the items still waiting in the three
showcase stories (``SHOWCASE``: one headline fragment each) and runs the instant digests once
(``runtime.digests.run("instant")``). Without an SMTP relay (``TFE_SMTP_URL`` unset, the demo's default)
the e-mails land in the local outbox (``veille.channels.outbox``, « Boîte d'envoi » for administrators),
so a new user reads a real digest at once; the daily one follows the worker's schedule. The delivery
ledger makes a re-run send nothing twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tfe.app.demo.watch import admin_scope
from tfe.core.models import AuditEvent, User
from veille import curation
from veille.alerts.subscriptions import SubscriptionSpec
from veille.models import Item

if TYPE_CHECKING:
    from tfe.app.runtime import Runtime

__all__ = ["DEMO_ALERTS", "SHOWCASE", "DemoAlert", "first_digests", "place_subscriptions"]

log = logging.getLogger(__name__)
CHANNEL = "demo"


@dataclass(frozen=True)
class DemoAlert:
    """One demo subscription: whose (the adviser of organisation ``org``) and what it follows."""

    org: str
    name: str
    query: str = ""
    sectors: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    scope: str = "items"
    frequency: str = "instant"
    send_time: str = "08:00"
    channels: tuple[str, ...] = ("email",)

    @property
    def email(self) -> str:
        return f"conseiller@{self.org}.demo"

    def spec(self) -> SubscriptionSpec:
        return SubscriptionSpec(
            name=self.name,
            query=self.query,
            sectors=list(self.sectors),
            countries=list(self.countries),
            scope=self.scope,
            frequency=self.frequency,
            send_time=self.send_time,
            channels=list(self.channels),
        )


DEMO_ALERTS: tuple[DemoAlert, ...] = (
    DemoAlert(
        org="business-france",
        name="Agroalimentaire × Vietnam",
        sectors=("naf:10", "naf:11"),  # food industries and beverages, at any level below
        countries=("country:VN",),
        scope="both",  # a new validated sector analysis on Vietnam is news too
        channels=("email", "atom"),
    ),
    DemoAlert(
        org="cci-nouvelle-aquitaine",
        name="Vins et spiritueux × Allemagne",
        sectors=("naf:11.01", "naf:11.02"),
        countries=("country:DE",),
        frequency="daily",
        send_time="08:00",
    ),
    DemoAlert(
        org="region-occitanie",
        name="Appels d'offres × Maroc",
        query='"appel d\'offres"',
        countries=("country:MA",),
    ),
)

# the stories the demo's curator accepts after the first poll: a fragment of one of each story's headlines
SHOWCASE: tuple[str, ...] = ("libre-échange", "ProWein", "Souss-Massa")


def _made_before(session: Session, owner: User) -> set[str]:
    """The names of the demo alerts once created for ``owner`` (by the audit trail)."""
    events = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "subscription.create", AuditEvent.actor_user_id == owner.id
        )
    )
    return {str(e.detail.get("name")) for e in events if (e.detail or {}).get("channel") == CHANNEL}


def place_subscriptions(rt: Runtime) -> dict[str, Any]:
    """Create the missing demo subscriptions (before the watch's first poll); their ids by name.

    Returns ``{"subscriptions": n, "created": n, "ids": {name: id}}``; an adviser missing from the
    installation (accounts not created yet) is skipped with a warning, and an alert the adviser deleted
    since the demo created it (``subscription.create`` on the ``demo`` channel in the audit trail) is not
    made again.
    """
    ids: dict[str, int] = {}
    created = 0
    with rt.session() as session:
        for alert in DEMO_ALERTS:
            owner = session.scalar(select(User).where(User.email == alert.email))
            if owner is None or not owner.active:
                log.warning("demo alert %r: no active adviser %s", alert.name, alert.email)
                continue
            known = {view.search.name: view.sub.id for view in rt.subscriptions.list(session, owner)}
            if alert.name in known:
                ids[alert.name] = known[alert.name]
                continue
            if alert.name in _made_before(session, owner):
                continue  # the adviser deleted it: their choice stands
            made = rt.subscriptions.create(session, owner, alert.spec(), channel=CHANNEL)
            ids[alert.name] = made.view.sub.id
            created += 1
    if created:
        log.info("demo subscriptions created: %d", created)
    return {"subscriptions": len(ids), "created": created, "ids": ids}


def _showcase_items(rt: Runtime) -> list[str]:
    """The items still waiting (``new``) in the stories of the showcase headlines."""
    with rt.session() as session:
        # titles are sealed at rest (random nonces): no SQL LIKE on them, they are matched once opened
        rows = session.execute(
            select(Item.id, Item.story_id, Item.title, Item.curator_status)
            .where(Item.story_id.is_not(None))
            .order_by(Item.fetched_at, Item.id)
        ).all()
    stories = {story for _, story, title, _ in rows if any(fragment in title for fragment in SHOWCASE)}
    return [item_id for item_id, story, _, status in rows if story in stories and status == "new"]


def accept_showcase(rt: Runtime) -> int:
    """Accept the showcase stories' waiting items as the administrator (a curator would); how many."""
    waiting = _showcase_items(rt)
    if not waiting:
        return 0
    scope = admin_scope(rt)
    with rt.session() as session:
        result = curation.decide_many(
            session,
            scope,
            waiting,
            "accept",
            backend=rt.backend,
            referential=rt.referential,
            channel=CHANNEL,
        )
    for failure in result.failed:
        log.warning("demo item %s not accepted: %s", failure["id"], failure["reason"])
    return len(result.done)


def first_digests(rt: Runtime, placed: dict[str, Any]) -> dict[str, Any]:
    """After the first poll: accept the showcase stories and run the instant digests once.

    Returns the load report's ``alerts``: ``{"subscriptions", "created", "accepted", "sent", "stories",
    "skipped_empty", "failed"}`` (the last four from the instant run).
    """
    accepted = accept_showcase(rt)
    report = rt.digests.run("instant").as_dict()
    return {
        "subscriptions": placed["subscriptions"],
        "created": placed["created"],
        "accepted": accepted,
        "sent": report["sent"],
        "stories": report["stories"],
        "skipped_empty": report["skipped_empty"],
        "failed": report["failed"],
    }
