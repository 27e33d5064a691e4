"""Indicators on a small seeded world (SQLite and PostgreSQL): values, the suppression of cells from
fewer than five people, who may see which scope, and bad periods and scopes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

import ged.models  # noqa: F401  (tables)
import ingest.models  # noqa: F401
import search.models  # noqa: F401
import taxonomy.models  # noqa: F401
import veille.alerts.models  # noqa: F401
from ged.models import Document
from taxonomy.classifications import record_curator_decision
from taxonomy.models import Classification, Concept, ConceptScheme
from tests.conftest import tables
from tfe.app.indicators.periods import parse_period
from tfe.app.indicators.scopes import resolve
from tfe.app.indicators.service import compute, indicators_for
from tfe.core.errors import NotFoundError, PermissionDeniedError, ValidationError
from tfe.core.models import AuditEvent, Organisation, User
from tfe.core.settings import Settings
from veille.models import Item, Source, Story

NOV = dt.datetime(2026, 11, 3, 10, tzinfo=dt.UTC)  # a Tuesday of ISO week 45
NOW = dt.datetime(2026, 12, 3, 12, tzinfo=dt.UTC)


def _event(session: Session, user: User, action: str, at: dt.datetime, **detail: object) -> None:
    session.add(
        AuditEvent(
            at=at,
            actor_user_id=user.id,
            actor_org_id=user.org_id,
            action=action,
            detail=detail,
            hash="x" * 64,
        )
    )


@pytest.fixture
def factory(db_settings: Settings) -> Iterator[sessionmaker[Session]]:
    with tables(db_settings) as made:
        _seed_world(made)
        yield made


def _seed_world(made: sessionmaker[Session]) -> None:
    old = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    with made.begin() as s:
        s.add_all(
            [
                Organisation(
                    id=1, slug="business-france", name="Business France", kind="national_agency", region="11"
                ),
                Organisation(id=2, slug="cci-na", name="CCI NA", kind="regional_chamber", region="75"),
                Organisation(id=3, slug="cci-ara", name="CCI ARA", kind="regional_chamber", region="84"),
                Organisation(id=4, slug="cci-japon", name="CCI Japon", kind="partner_abroad", country="JP"),
            ]
        )
        s.flush()
        users = [User(id=1, email="admin@bf.fr", org_id=1, role="admin", created_at=old)]
        users += [  # cci-na: five people (one admin); cci-ara: four (one admin)
            User(
                id=10 + n, email=f"u{n}@na.fr", org_id=2, role="admin" if n == 0 else "reader", created_at=old
            )
            for n in range(5)
        ]
        users += [
            User(
                id=20 + n,
                email=f"u{n}@ara.fr",
                org_id=3,
                role="admin" if n == 0 else "reader",
                created_at=old,
            )
            for n in range(4)
        ]
        users.append(User(id=30, email="new@na.fr", org_id=2, role="contributor", created_at=NOV))
        s.add_all(users)
        s.flush()
        for u in users[1:6]:  # every cci-na member searches twice in week 45, once with no result
            _event(s, u, "search", NOV, total=3)
            _event(s, u, "search", NOV + dt.timedelta(hours=1), total=0)
            _event(s, u, "document.read", NOV + dt.timedelta(days=7))  # week 46
        for u in users[6:10]:  # four cci-ara members search once
            _event(s, u, "search", NOV, total=1)
        _event(s, users[1], "search", dt.datetime(2026, 10, 30, tzinfo=dt.UTC), total=1)  # outside November
        s.add(ConceptScheme(id="naf", uri="u:naf", label_fr="NAF", label_en="NAF"))
        s.add(ConceptScheme(id="country", uri="u:c", label_fr="Pays", label_en="Countries"))
        s.flush()
        s.add_all(
            [
                Concept(id="naf:11.02", scheme_id="naf", notation="11.02", pref_label_fr="Vins"),
                Concept(id="country:DE", scheme_id="country", notation="DE", pref_label_fr="Allemagne"),
            ]
        )
        for n, (org, status) in enumerate([(2, "validated"), (2, "draft"), (3, "validated")]):
            s.add(
                Document(
                    id=f"d{n}",
                    title=f"Doc {n}",
                    doc_type="doctype:note",
                    org_id=org,
                    status=status,
                    created_at=NOV,
                    valid_until=dt.datetime(2027, 1, 15, tzinfo=dt.UTC) if n == 0 else None,
                )
            )
        s.add(Source(id=1, url="https://a.example/feed", title="Le Quotidien", health="ok"))
        s.add(Source(id=2, url="https://b.example/feed", title="Mort", health="dead"))
        s.flush()
        s.add(Story(id="s1", title="Vins en Allemagne", item_count=2, source_count=1))
        s.flush()
        for n in range(3):
            s.add(
                Item(
                    id=f"i{n}",
                    source_id=1,
                    guid=f"g{n}",
                    title=f"Item {n}",
                    content_hash=str(n) * 64,
                    fetched_at=NOV,
                    story_id="s1" if n < 2 else None,
                    curator_status="accepted" if n == 0 else "new",
                    decided_at=NOV + dt.timedelta(hours=4) if n == 0 else None,
                )
            )
        s.flush()
        for target, kind in (("d0", "document"), ("i0", "item"), ("i1", "item")):
            s.add(
                Classification(
                    target_kind=kind,
                    target_id=target,
                    concept_id="naf:11.02",
                    score=0.9,
                    method="rule",
                    created_at=NOV,
                )
            )
            s.add(
                Classification(
                    target_kind=kind,
                    target_id=target,
                    concept_id="country:DE",
                    score=0.4,
                    method="rule",
                    created_at=NOV,
                )
            )
        s.flush()
        record_curator_decision(s, "item", "i1", ["country:DE"], keep=False, user_id=1)
        s.flush()
        s.execute(Classification.__table__.update().values(created_at=NOV))


def _cell(cells: list, metric: str, **where: object) -> dict:
    found = [
        c.as_dict()
        for c in cells
        if c.metric == metric
        and all(
            (c.dims.get(k) if k not in ("bucket", "grain") else getattr(c, k)) == v for k, v in where.items()
        )
        and all(k in where for k in c.dims)
    ]
    assert len(found) == 1, (metric, where, found)
    return found[0]


def test_values_and_suppression(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        net = compute(s, resolve(s, "network"), parse_period("2026-11"), now=NOW).sections
        na = compute(s, resolve(s, "org:cci-na"), parse_period("2026-11"), now=NOW).sections
        ara = compute(s, resolve(s, "org:cci-ara"), parse_period("2026-11"), now=NOW).sections
    # five people: shown; four: suppressed (value null, marked)
    assert _cell(na["use"], "searches", grain="week", bucket="2026-W45")["value"] == 10
    assert _cell(na["use"], "searches_no_result_share", grain="week", bucket="2026-W45")["value"] == 0.5
    hidden = _cell(ara["use"], "searches", grain="week", bucket="2026-W45")
    assert hidden == {**hidden, "value": None, "suppressed": True}
    assert _cell(ara["adoption"], "accounts")["suppressed"] is True
    assert _cell(na["adoption"], "accounts")["value"] == 6  # five plus the one created in November
    assert _cell(na["adoption"], "active_users", grain="month", bucket="2026-11")["value"] == 5
    assert _cell(net["adoption"], "active_users", grain=None, bucket=None)["value"] == 9
    assert (
        _cell(net["adoption"], "active_users", kind="regional_chamber", grain=None, bucket=None)["value"] == 9
    )
    assert _cell(na["adoption"], "new_users", grain=None, bucket=None)["suppressed"] is True  # one person
    assert _cell(net["use"], "searches", grain="month", bucket="2026-11")["value"] == 14  # October's left out
    assert _cell(na["use"], "document_reads", grain="week", bucket="2026-W46")["value"] == 5
    assert _cell(na["use"], "document_reads", grain="week", bucket="2026-W45")["value"] == 0
    # content of cci-na: two documents, one validated expiring within 90 days of the period's end
    assert _cell(na["content"], "documents")["value"] == 2
    assert _cell(na["content"], "validated")["value"] == 1 and _cell(na["content"], "draft")["value"] == 1
    assert _cell(na["content"], "documents", sector="11")["value"] == 1
    assert _cell(na["content"], "expiring_90_days")["value"] == 1
    assert _cell(net["content"], "documents", status="validated")["value"] == 2
    # watch
    assert _cell(net["watch"], "items", grain="month", bucket="2026-11")["value"] == 3
    assert _cell(net["watch"], "stories", grain=None, bucket=None)["value"] == 1
    pair = _cell(net["watch"], "items_by_sector_country", sector="11", country="DE", grain=None, bucket=None)
    assert pair["value"] == 1  # i1's country was removed by a curator
    for grain in ("week", "month"):  # the buckets' cells add up to the period's (an item is in one bucket)
        cells = [c for c in net["watch"] if c.metric == "items_by_sector_country" and c.grain == grain]
        assert sum(c.value for c in cells if c.dims == {"sector": "11", "country": "DE"}) == 1
        assert {c.bucket for c in cells} <= set(parse_period("2026-11").buckets(grain))
    top = _cell(net["watch"], "top_stories", rank="1", story="s1", title="Vins en Allemagne")
    assert top["value"] == 2
    assert _cell(net["watch"], "sources", health="dead")["value"] == 1
    assert _cell(net["watch"], "curation_backlog")["value"] == 2
    assert _cell(net["watch"], "median_hours_to_decision")["value"] == 4.0
    # quality: of the low-band country proposals (three), one corrected by a curator
    assert _cell(net["quality"], "corrected", scheme="country", band="low")["value"] == 1
    assert _cell(net["quality"], "corrected_share", scheme="country", band="low")["value"] == round(1 / 3, 4)
    assert _cell(net["quality"], "corrected", scheme="naf", band="high")["value"] == 0


def test_one_section_alone_is_the_same_as_in_the_whole_dashboard(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        scope, period = resolve(s, "org:cci-na"), parse_period("2026-11")
        whole = compute(s, scope, period, now=NOW).sections
        alone = compute(s, scope, period, now=NOW, only=["watch", "use"]).sections
        nothing = compute(s, scope, period, now=NOW, only=[]).sections
    assert list(whole) == ["adoption", "use", "content", "watch", "quality", "satisfaction"]
    assert list(alone) == ["use", "watch"] and nothing == {}  # in the dashboard's order, not the caller's
    assert alone["watch"] == whole["watch"] and alone["use"] == whole["use"] and alone["use"]


def test_buckets_of_a_quarter() -> None:
    q4 = parse_period("2026-q4")
    assert q4.months() == ["2026-10", "2026-11", "2026-12"]
    assert q4.weeks()[0] == "2026-W40" and q4.weeks()[-1] == "2026-W53"
    assert parse_period("2026-W48").start == dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
    span = parse_period("2026-11-02..2026-11-08")
    assert span.weeks() == ["2026-W45"] and span.end == dt.datetime(2026, 11, 9, tzinfo=dt.UTC)


def test_a_running_period_has_no_future_buckets() -> None:
    q4, now = parse_period("2026-Q4"), dt.datetime(2026, 11, 4, 15, tzinfo=dt.UTC)  # a Wednesday of W45
    assert q4.buckets("month", until=now) == ["2026-10", "2026-11"]
    assert q4.buckets("week", until=now)[-1] == "2026-W45"
    assert q4.buckets("week", until=dt.datetime(2027, 3, 1, tzinfo=dt.UTC)) == q4.weeks()


@pytest.mark.parametrize("period", ["2026-13", "2026-Q5", "demain", "2026-11-30..2026-11-01", ""])
def test_bad_periods(period: str) -> None:
    with pytest.raises(ValidationError, match="période"):
        parse_period(period)


def test_who_sees_what(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        national, na_admin, na_reader = (s.get(User, i) for i in (1, 10, 11))
        assert national and na_admin and na_reader
        for scope in ("network", "region:84", "org:cci-ara"):
            assert indicators_for(s, national, scope, "2026-11", channel="api", now=NOW).scope.text == scope
        assert indicators_for(s, na_admin, None, "2026-11", channel="api", now=NOW).scope.text == "org:cci-na"
        assert indicators_for(s, na_admin, "region:75", "2026-11", channel="api", now=NOW).scope.label == (
            "Nouvelle-Aquitaine"
        )
        for scope in ("network", "region:84", "org:cci-ara"):
            with pytest.raises(PermissionDeniedError):
                indicators_for(s, na_admin, scope, "2026-11", channel="api", now=NOW)
        with pytest.raises(PermissionDeniedError):
            indicators_for(s, na_reader, "org:cci-na", "2026-11", channel="api", now=NOW)
        with pytest.raises(NotFoundError):
            indicators_for(s, national, "org:nulle-part", "2026-11", channel="api", now=NOW)
        with pytest.raises(NotFoundError):
            indicators_for(s, national, "region:99", "2026-11", channel="api", now=NOW)
        with pytest.raises(ValidationError, match="périmètre"):
            indicators_for(s, national, "planete", "2026-11", channel="api", now=NOW)
        s.commit()
        reads = s.query(AuditEvent).filter(AuditEvent.action == "indicators.read").count()
        assert reads == 5
