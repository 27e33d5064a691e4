"""The demo's history: weeks of colleagues' activity played through the platform's own use cases.

``simulate_activity`` takes the plan of ``tfe.app.demo.activity_plan`` and plays it, in time order, under
a simulated clock (``tfe.core.clock.simulated``): each colleague's account is created on their join day
(``identity.create_user``, audited ``user.create``), and each visit searches (``SearchService.run``,
audited ``search`` with its total), reads and downloads what it found (``ged.documents.read_document`` and
``download_document``), creates or drops an alert (``SubscriptionService.create`` and ``delete``), and a
curator's visit may correct a machine classification of their organisation's documents
(``ged.editing.edit_document``: the curator row keeps the machine's prior score). Every record is written
as real use writes it, on the ``demo`` channel; only its time is simulated. Back on the real clock, the due
digests run once (``DigestService.run``), so the colleagues' alerts deliver what the demo's curator has
accepted since they were made, and the indicators' roll-ups are redone from the history's first day
(``tfe.app.rollups.run``), so the dashboards count it.

It runs once per installation: the colleagues' accounts are its mark, and a second run is refused
(``ConflictError``); ``tfe demo`` skips it then (``already_simulated``).
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from tqdm import tqdm

from ged.documents import download_document, read_document
from ged.editing import DocumentChanges, edit_document
from ged.models import Document
from search.service import SearchParams
from taxonomy.classifications import CURATOR, classifications_of
from tfe.app.demo.activity_plan import ALERTS, Person, Plan, Search, Visit, load_people, make_plan
from tfe.app.demo.vectors import use_demo_vectors
from tfe.app.rollups import run as roll_up
from tfe.core import clock
from tfe.core.db import utcnow
from tfe.core.errors import ConflictError, TfeError, ValidationError
from tfe.core.models import Organisation, User
from tfe.core.security import audit, identity
from veille.alerts.subscriptions import SubscriptionSpec

if TYPE_CHECKING:
    from tfe.app.runtime import Runtime

__all__ = ["CHANNEL", "DEFAULT_SEED", "MAX_WEEKS", "ActivityReport", "already_simulated", "simulate_activity"]

log = logging.getLogger(__name__)
CHANNEL = "demo"
DEFAULT_SEED = 2026
MAX_WEEKS = 26


@dataclass
class ActivityReport:
    weeks: int
    seed: int
    start: str
    end: str
    users: int = 0
    visits: int = 0
    searches: int = 0
    empty_searches: int = 0
    reads: int = 0
    downloads: int = 0
    subscriptions: int = 0
    unsubscriptions: int = 0
    corrections: int = 0
    alerts_sent: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def already_simulated(rt: Runtime) -> bool:
    """Whether a colleague of the demo's history has an account here (the history was played)."""
    emails = [p.email for p in load_people()]
    with rt.session() as session:
        return session.scalar(select(User.id).where(User.email.in_(emails)).limit(1)) is not None


def simulate_activity(
    rt: Runtime,
    *,
    weeks: int = 8,
    seed: int = DEFAULT_SEED,
    progress: bool = False,
    end: dt.date | None = None,
) -> ActivityReport:
    """Play ``weeks`` weeks of activity ending yesterday (or the day before ``end``); what was done."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise ValidationError(f"weeks must be between 1 and {MAX_WEEKS}, not {weeks}")
    if already_simulated(rt):
        raise ConflictError("the demo activity was already simulated here (its colleagues have accounts)")
    use_demo_vectors(rt)  # the colleagues' searches are the demo's own queries
    people = load_people()
    plan = make_plan(people, weeks=weeks, seed=seed, end=end or utcnow().date())
    report = ActivityReport(weeks, seed, plan.start.isoformat(), plan.end.isoformat())
    rng = random.Random(seed + 1)  # the choices that depend on what the searches found
    bar = tqdm(total=len(plan.visits), desc="activité", unit="visite", disable=not progress)
    try:
        with clock.simulated(_first_moment(plan)) as sim:
            _play(rt, sim, plan, people, rng, report, bar)
    finally:
        bar.close()
    report.alerts_sent = rt.digests.run().sent  # the real clock again: what is due now
    # the simulated past lands in weeks and months the roll-ups may have closed already: redo them
    roll_up(rt.session_factory, since=plan.start)
    log.info("demo activity simulated %s", report.as_dict())
    return report


def _first_moment(plan: Plan) -> dt.datetime:
    return min(plan.joins.values(), default=dt.datetime.combine(plan.start, dt.time(), dt.UTC))


def _play(
    rt: Runtime,
    sim: clock.SimulatedClock,
    plan: Plan,
    people: list[Person],
    rng: random.Random,
    report: ActivityReport,
    bar: tqdm[Any],
) -> None:
    by_email = {p.email: p for p in people}
    pending = sorted(plan.joins.items(), key=lambda kv: (kv[1], kv[0]))
    for visit in plan.visits:
        while pending and pending[0][1] <= visit.at:
            email, at = pending.pop(0)
            sim.set(at)
            _join(rt, by_email[email])
            report.users += 1
        sim.set(visit.at)
        _visit(rt, sim, visit, rng, report)
        report.visits += 1
        bar.update(1)
    for email, at in pending:  # joined too late to come
        sim.set(at)
        _join(rt, by_email[email])
        report.users += 1


def _join(rt: Runtime, person: Person) -> None:
    with rt.session() as session:
        org = session.scalar(select(Organisation).where(Organisation.slug == person.org))
        if org is None:
            raise ValidationError(f"demo organisation {person.org!r} missing: load the demo first")
        user = identity.create_user(session, email=person.email, org=org, role=person.role, name=person.name)
        audit.record(
            session,
            "user.create",
            audit.Actor.system(CHANNEL),
            target_kind="user",
            target_id=str(user.id),
            detail={"email": person.email, "demo": True},
        )


def _visit(
    rt: Runtime, sim: clock.SimulatedClock, visit: Visit, rng: random.Random, report: ActivityReport
) -> None:
    with rt.session() as session:
        user = identity.find_user(session, visit.email)
        scope = identity.scope_for(user)
        actor = audit.Actor.of_scope(scope, CHANNEL)
        found: list[str] = []
        for wanted in visit.searches:
            sim.advance(dt.timedelta(seconds=rng.randrange(20, 180)))
            hits = _search(rt, session, scope, actor, wanted)
            report.searches += 1
            report.empty_searches += not hits
            found += [h for h in hits[:3] if h not in found]
            session.commit()  # one request each, as the web commits them
        for doc_id in rng.sample(found, min(visit.reads, len(found))):
            sim.advance(dt.timedelta(seconds=rng.randrange(30, 400)))
            read_document(session, doc_id, scope, channel=CHANNEL)
            report.reads += 1
            if rng.random() < visit.download_share:
                download_document(session, rt.blob_store, doc_id, scope, channel=CHANNEL)
                report.downloads += 1
            session.commit()
        if visit.subscribe is not None:
            sim.advance(dt.timedelta(minutes=2))
            _subscribe(rt, session, user, visit.subscribe)
            report.subscriptions += 1
        if visit.unsubscribe:
            sim.advance(dt.timedelta(minutes=1))
            report.unsubscriptions += _unsubscribe(rt, session, user)
        if visit.correct:
            sim.advance(dt.timedelta(minutes=3))
            report.corrections += _correct(rt, session, user, rng)


def _search(rt: Runtime, session: Session, scope: Any, actor: audit.Actor, wanted: Search) -> list[str]:
    """The documents among the hits of one search (items are read on the watch pages, not here)."""
    params = SearchParams(q=wanted.q, sector=wanted.sector, country=wanted.country, limit=10)
    result = rt.search_service.run(session, scope, actor, params)
    return [str(h["id"]) for h in result["hits"] if h.get("kind", "document") == "document"]


def _subscribe(rt: Runtime, session: Session, user: User, index: int) -> None:
    name, countries, sectors, frequency = ALERTS[index]
    spec = SubscriptionSpec(
        name=name,
        countries=list(countries),
        sectors=list(sectors),
        frequency=frequency,
        weekday=0 if frequency == "weekly" else None,
        channels=["email"],
    )
    rt.subscriptions.create(session, user, spec, channel=CHANNEL)
    session.commit()


def _unsubscribe(rt: Runtime, session: Session, user: User) -> int:
    views = rt.subscriptions.list(session, user)
    if not views:
        return 0
    rt.subscriptions.delete(session, user, views[0].sub.id, channel=CHANNEL)
    session.commit()
    return 1


def _correct(rt: Runtime, session: Session, user: User, rng: random.Random) -> int:
    """A curator reviews one machine sector of one of their organisation's documents: a wrong one among
    several is removed (a correction), a lone one confirmed (reviewed, kept)."""
    own = select(Document.id).where(Document.org_id == user.org_id).order_by(Document.id)
    doc_ids = list(session.scalars(own))
    rng.shuffle(doc_ids)
    for doc_id in doc_ids:
        rows = classifications_of(session, "document", doc_id)
        machine = [c for c in rows if c.scheme == "naf" and c.method != CURATOR]
        if not machine:
            continue
        weakest = min(machine, key=lambda c: (c.score, c.concept_id))
        changes = (
            DocumentChanges(remove_sectors=(weakest.concept_id,))
            if len(machine) > 1
            else DocumentChanges(add_sectors=(weakest.concept_id,))
        )
        try:
            edit_document(session, rt.backend, rt.referential, user, doc_id, changes, channel=CHANNEL)
        except TfeError as exc:  # a document the curator may not edit after all: the next one
            session.rollback()
            log.debug("demo correction skipped doc=%s: %s", doc_id, exc.message)
            continue
        session.commit()
        return 1
    return 0
