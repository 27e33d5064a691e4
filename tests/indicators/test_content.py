"""The content section (one grouped pass over the documents; the network's classifications joined from
the covering index, an organisation's through its documents) gives exactly the cells of the query per
dimension it replaced, in the same order, on a seeded world with the awkward cases: documents deleted
before and after the snapshot, created after it, with no type, archived, expiring at the edges, classified
twice in one division, a curator's removal, classifications of items with the same ids."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session, sessionmaker

import ged.models  # noqa: F401  (tables)
import ingest.models  # noqa: F401
import search.models  # noqa: F401
import veille.alerts.models  # noqa: F401
from ged.models import Document
from taxonomy.models import Classification, Concept, ConceptScheme
from tests.conftest import tables
from tfe.app.indicators.content import EXPIRY_DAYS, _alive, content, country_of, division_of, standing
from tfe.app.indicators.context import Context
from tfe.app.indicators.periods import parse_period
from tfe.app.indicators.privacy import Cell, plain_cell
from tfe.app.indicators.scopes import resolve
from tfe.app.indicators.sql import dialect_of
from tfe.core.models import Organisation
from tfe.core.settings import Settings

NOW = dt.datetime(2027, 1, 2, tzinfo=dt.UTC)
T = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _before(ctx: Context) -> list[Cell]:
    """The section as it was (2026-12-04, before the single pass): the reference."""
    cells: list[Cell] = []
    total = ctx.session.scalar(select(func.count(Document.id)).where(_alive(ctx))) or 0
    cells.append(plain_cell("documents", int(total)))
    for name, column in (("type", Document.doc_type), ("status", Document.status)):
        rows = ctx.session.execute(
            select(column, func.count(Document.id)).where(_alive(ctx)).group_by(column).order_by(column)
        )
        cells += [plain_cell("documents", int(n), dims={name: str(v or "")}) for v, n in rows]
    by_status = {c.dims["status"]: c.value for c in cells if "status" in c.dims}
    cells.append(plain_cell("validated", by_status.get("validated", 0)))
    cells.append(plain_cell("draft", by_status.get("draft", 0)))
    for name, prefix, part in (("sector", "naf:", division_of()), ("country", "country:", country_of())):
        where: Any = Classification.concept_id.like(f"{prefix}%")
        if name == "sector":
            where = where & (func.length(Classification.concept_id) >= 6)
        rows = ctx.session.execute(
            select(part, func.count(distinct(Document.id)))
            .join(
                Classification,
                (Classification.target_id == Document.id) & (Classification.target_kind == "document"),
            )
            .where(_alive(ctx), where, standing())
            .group_by(part)
            .order_by(part)
        )
        cells += [plain_cell("documents", int(n), dims={name: str(v)}) for v, n in rows]
    at = ctx.snapshot_at
    expiring = ctx.session.scalar(
        select(func.count(Document.id)).where(
            _alive(ctx),
            Document.status != "archived",
            Document.valid_until >= at,
            Document.valid_until < at + dt.timedelta(days=EXPIRY_DAYS),
        )
    )
    cells.append(plain_cell("expiring_90_days", int(expiring or 0)))
    return cells


@pytest.fixture
def factory(db_settings: Settings) -> Iterator[sessionmaker[Session]]:
    with tables(db_settings) as made:
        _seed(made)
        yield made


def _seed(made: sessionmaker[Session]) -> None:
    rng = random.Random(4)
    concepts = ["naf:01", "naf:11", "naf:11.02", "naf:62.01", "naf:6", "country:DE", "country:JP"]
    with made.begin() as s:
        s.add_all(
            [
                Organisation(id=n, slug=f"o{n}", name=f"O{n}", kind="regional_chamber", region=r)
                for n, r in ((1, "75"), (2, "75"), (3, "84"), (4, "11"))
            ]
        )
        s.add(ConceptScheme(id="naf", uri="u:naf", label_fr="NAF", label_en="NAF"))
        s.add(ConceptScheme(id="country", uri="u:c", label_fr="Pays", label_en="Countries"))
        s.flush()
        s.add_all(
            [Concept(id=c, scheme_id=c.split(":")[0], notation=c[4:], pref_label_fr=c) for c in concepts]
        )
        s.flush()
        for n in range(240):
            created = T + dt.timedelta(days=rng.randrange(400))  # some after the year's end
            deleted = created + dt.timedelta(days=rng.randrange(1, 300)) if rng.random() < 0.25 else None
            s.add(
                Document(
                    id=f"d{n}",
                    title=f"Doc {n}",
                    doc_type=rng.choice(["doctype:note", "doctype:fiche", None]),
                    org_id=rng.choice([1, 2, 3, 4, None]),
                    status=rng.choice(["draft", "validated", "archived", "review"]),
                    created_at=created,
                    deleted_at=deleted,
                    valid_until=rng.choice([None, created + dt.timedelta(days=rng.randrange(-10, 500))]),
                )
            )
        # the edges of the 90 days after the year's end
        for n, until in enumerate(
            (dt.datetime(2027, 1, 1, tzinfo=dt.UTC), dt.datetime(2027, 4, 1, tzinfo=dt.UTC))
        ):
            s.add(
                Document(
                    id=f"e{n}", title="Edge", org_id=1, status="validated", created_at=T, valid_until=until
                )
            )
        s.flush()
        for n in range(240):
            for concept in rng.sample(concepts, rng.randrange(0, 4)):  # naf:11 and naf:11.02: one division
                removed = rng.random() < 0.1
                s.add(
                    Classification(
                        target_kind="document",
                        target_id=f"d{n}",
                        concept_id=concept,
                        score=0.0 if removed else rng.random(),
                        method="curator" if removed or rng.random() < 0.1 else "rule",
                        created_at=T,
                    )
                )
            # an item with a document's id: never counted
            s.add(
                Classification(
                    target_kind="item", target_id=f"d{n}", concept_id="naf:01", score=1, created_at=T
                )
            )


@pytest.mark.parametrize("scope", ["network", "region:75", "org:o3"])
@pytest.mark.parametrize("period", ["2026", "2026-Q4", "2026-11", "2026-W47"])
def test_content_cells_are_those_of_the_previous_queries(
    factory: sessionmaker[Session], scope: str, period: str
) -> None:
    with factory() as s:
        ctx = Context(s, dialect_of(s), resolve(s, scope), parse_period(period), NOW)
        now, before = content(ctx), _before(ctx)
    assert [(c.metric, c.dims, c.value) for c in now] == [(c.metric, c.dims, c.value) for c in before]
    assert now == before
    assert any(c.dims.get("sector") == "11" and (c.value or 0) > 0 for c in now)  # the world has content
    total = now[0].value
    assert sum(c.value or 0 for c in now if "type" in c.dims) == total
    assert sum(c.value or 0 for c in now if "status" in c.dims) == total
