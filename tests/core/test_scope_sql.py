"""The access rule as a SQL condition selects exactly what ``can_see`` allows, for every kind of caller."""

from __future__ import annotations

import itertools

from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select

from tfe.core.security.scope import AccessScope

VISIBILITIES = ("public", "network", "organisation", "private")


def test_sql_clause_matches_can_see() -> None:
    meta = MetaData()
    rows = Table(
        "rows",
        meta,
        Column("id", Integer, primary_key=True),
        Column("visibility", String),
        Column("org_id", Integer, nullable=True),
        Column("owner_user_id", Integer, nullable=True),
    )
    engine = create_engine("sqlite://")
    meta.create_all(engine)
    combos = list(itertools.product(VISIBILITIES, (1, 2, None), (10, 20, None)))
    with engine.begin() as conn:
        conn.execute(insert(rows), [{"visibility": v, "org_id": o, "owner_user_id": u} for v, o, u in combos])
    scopes = [
        AccessScope.anonymous(),
        AccessScope.everything(),
        AccessScope.member(1),
        AccessScope.member(1, 10),
        AccessScope(user_id=10, org_id=1, roles=frozenset({"contributor"})),
        AccessScope(user_id=30, org_id=1, roles=frozenset({"admin"})),
        AccessScope(user_id=20, org_id=2),
    ]
    with engine.connect() as conn:
        for scope in scopes:
            clause = scope.sql_clause(rows.c.visibility, rows.c.org_id, rows.c.owner_user_id)
            got = {r.id for r in conn.execute(select(rows.c.id).where(clause))}
            expected = {
                i
                for i, (v, o, u) in enumerate(combos, start=1)
                if scope.can_see(visibility=v, org_id=o, owner_user_id=u)
            }
            assert got == expected, scope
            assert scope.system or len(got) < len(combos)
