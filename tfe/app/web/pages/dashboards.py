"""``/tableaux-de-bord``: the network, region and organisation dashboards, and their CSV exports.

``/tableaux-de-bord`` is the caller's default scope (the network for the national agency's administrators,
their organisation for the others), ``/tableaux-de-bord/region/{code}`` and
``/tableaux-de-bord/organisation/{slug}`` the others. Who sees what is ``indicators_for``'s rule (403 for
non-administrators and scopes outside theirs, 404 for an unknown region or organisation, 400 for a bad
period); every read, page or export, is audited there (``indicators.read``, channel ``web``). Each table
has a CSV export (``export.csv?table=ID``, the table's very rows) and ``export.csv`` alone gives every cell
(``Indicators.rows()``, as ``tfe indicators export``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from taxonomy.models import Concept
from tfe.app.indicators.periods import month_label, week_label
from tfe.app.indicators.privacy import MIN_PEOPLE
from tfe.app.indicators.service import Indicators, indicators_for
from tfe.app.web.deps import PageUser, SessionDep
from tfe.app.web.pages.dashboard_tables import SUPPRESSED, Table, tables_of
from tfe.app.web.templating import templates
from tfe.core.csvcells import safe_row
from tfe.core.db import utcnow
from tfe.core.errors import NotFoundError
from tfe.core.models import Organisation, User
from tfe.core.regions import region_name, regions
from tfe.core.security import identity

router = APIRouter(prefix="/tableaux-de-bord", tags=["pages"], include_in_schema=False)

PeriodQuery = Annotated[str, Query(max_length=32)]
TableQuery = Annotated[str, Query(max_length=128)]
Code = Annotated[str, Path(min_length=1, max_length=64)]


def default_period(today: dt.date) -> str:
    return f"{today.year}-Q{(today.month - 1) // 3 + 1}"


def period_choices(today: dt.date) -> list[tuple[str, str]]:
    """The selector's periods: the last four quarters, months and weeks, and this year and the last."""
    out: list[tuple[str, str]] = []
    year, quarter = today.year, (today.month - 1) // 3 + 1
    for _ in range(4):
        out.append((f"{year}-Q{quarter}", f"Trimestre {quarter} {year}"))
        year, quarter = (year - 1, 4) if quarter == 1 else (year, quarter - 1)
    day = today.replace(day=1)
    for _ in range(4):
        out.append((month_label(day), f"Mois {month_label(day)}"))
        day = (day - dt.timedelta(days=1)).replace(day=1)
    for weeks in range(4):
        label = week_label(today - dt.timedelta(days=7 * weeks))
        out.append((label, f"Semaine {label}"))
    out += [(str(today.year), f"Année {today.year}"), (str(today.year - 1), f"Année {today.year - 1}")]
    return out


def _base(scope_kind: str, code: str) -> str:
    if scope_kind == "region":
        return f"/tableaux-de-bord/region/{code}"
    if scope_kind == "org":
        return f"/tableaux-de-bord/organisation/{code}"
    return "/tableaux-de-bord"


def _navigation(session: Session, user: User) -> dict[str, Any]:
    """The scopes the caller may open: every region and organisation for the national agency's
    administrators; their organisation and their region for the others."""
    org = session.get(Organisation, user.org_id)
    if identity.is_national_agency(org):
        orgs = session.execute(select(Organisation.slug, Organisation.name).order_by(Organisation.name))
        return {
            "network": True,
            "regions": [(_base("region", c), n) for c, n in sorted(regions().items(), key=lambda r: r[1])],
            "orgs": [(_base("org", s), n) for s, n in orgs],
        }
    own = [(_base("org", org.slug), org.name)] if org else []
    region = [(_base("region", org.region), region_name(org.region))] if org and org.region else []
    return {"network": False, "regions": region, "orgs": own}


def _read(
    session: Session, user: User, scope: str | None, period: str, only: list[str] | None = None
) -> Indicators:
    chosen = period or default_period(utcnow().date())
    return indicators_for(session, user, scope, chosen, channel="web", only=only)


def _concept_names(session: Session, found: Indicators) -> dict[str, str]:
    """French names of the concepts (``doctype:…``) the cells carry as dimension values."""
    ids = {v for cells in found.sections.values() for c in cells for v in c.dims.values() if ":" in v}
    if not ids:
        return {}
    rows = session.execute(select(Concept.id, Concept.pref_label_fr).where(Concept.id.in_(sorted(ids))))
    return {cid: label for cid, label in rows if label}


def _page(request: Request, session: Session, user: User, scope: str | None, period: str) -> Response:
    found = _read(session, user, scope, period)
    base = _base(found.scope.kind, found.scope.code)
    label = found.period.label
    sections = tables_of(found.sections, _concept_names(session, found))
    choices = period_choices(utcnow().date())
    if label not in {c for c, _ in choices}:
        choices.insert(0, (label, label))
    context = {
        "user": user,
        "found": found,
        "base": base,
        "period": label,
        "last_day": (found.period.end - dt.timedelta(days=1)).date().isoformat(),
        "choices": choices,
        "sections": sections,
        "nav": _navigation(session, user),
        "min_people": MIN_PEOPLE,
        "suppressed": SUPPRESSED,
        "export": f"{base}/export.csv?{urlencode({'period': label})}",
    }
    return templates.TemplateResponse(request, "dashboard.html", context)


def _csv(header: list[str], rows: list[list[Any]], name: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(safe_row(r) for r in rows)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


def _export(session: Session, user: User, scope: str | None, period: str, table: str) -> Response:
    # one table's export computes its own section only (a table's id starts with its section's code); an
    # unknown one computes nothing, after the scope's checks, and is a 404 below
    section = table.split("_", 1)[0]
    found = _read(session, user, scope, period, [section] if table else None)
    stem = f"indicateurs-{found.scope.text.replace(':', '-')}-{found.period.label}"
    if not table:
        rows = found.rows()
        header = list(rows[0]) if rows else ["section", "metric", "dimensions", "grain", "bucket", "value"]
        return _csv(header, [list(r.values()) for r in rows], f"{stem}.csv")
    named = tables_of(found.sections, _concept_names(session, found))
    tables: dict[str, Table] = {t.id: t for _, _, ts in named for t in ts}
    if table not in tables:
        raise NotFoundError(f"tableau inconnu : {table}")
    return _csv(tables[table].columns, tables[table].rows, f"{stem}-{table}.csv")


@router.get("")
def default_dashboard(
    request: Request, session: SessionDep, user: PageUser, period: PeriodQuery = ""
) -> Response:
    return _page(request, session, user, None, period)


@router.get("/export.csv")
def default_export(
    session: SessionDep, user: PageUser, period: PeriodQuery = "", table: TableQuery = ""
) -> Response:
    return _export(session, user, None, period, table)


@router.get("/region/{code}")
def region_dashboard(
    request: Request, session: SessionDep, user: PageUser, code: Code, period: PeriodQuery = ""
) -> Response:
    return _page(request, session, user, f"region:{code}", period)


@router.get("/region/{code}/export.csv")
def region_export(
    session: SessionDep, user: PageUser, code: Code, period: PeriodQuery = "", table: TableQuery = ""
) -> Response:
    return _export(session, user, f"region:{code}", period, table)


@router.get("/organisation/{slug}")
def org_dashboard(
    request: Request, session: SessionDep, user: PageUser, slug: Code, period: PeriodQuery = ""
) -> Response:
    return _page(request, session, user, f"org:{slug}", period)


@router.get("/organisation/{slug}/export.csv")
def org_export(
    session: SessionDep, user: PageUser, slug: Code, period: PeriodQuery = "", table: TableQuery = ""
) -> Response:
    return _export(session, user, f"org:{slug}", period, table)
