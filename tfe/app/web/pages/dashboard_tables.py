"""The dashboards' tables and plots, made from the cells of ``tfe.app.indicators`` (no query here).

Every section's cells are grouped by (section, grain, dimension names): one table per group, one row per
(bucket, dimension values), one column per metric. A section, a metric or a dimension this module does not
know is still shown: as a table, under its code. ``CHARTS`` names the groups that also get a plot (line,
bar or the sector × country heat map); the plot's data are exactly the table's. A suppressed cell (fewer
than 5 people) reads « < 5 », in the table, in the plot (no point) and in the CSV export.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tfe.app.indicators.privacy import MIN_PEOPLE, Cell
from tfe.app.web.pages.admin import KIND_LABELS, ROLE_LABELS

__all__ = ["CHARTS", "SUPPRESSED", "Table", "tables_of"]

SUPPRESSED = f"< {MIN_PEOPLE}"

SECTION_TITLES = {
    "adoption": "Adoption",
    "use": "Usage",
    "content": "Contenu",
    "watch": "Veille",
    "quality": "Qualité de la classification",
    "satisfaction": "Satisfaction",
}
METRIC_LABELS = {
    "accounts": "Comptes",
    "active_users": "Utilisateurs actifs",
    "new_users": "Nouveaux utilisateurs",
    "searches": "Recherches",
    "searches_no_result": "Recherches sans résultat",
    "searches_no_result_share": "Part sans résultat",
    "document_reads": "Consultations",
    "document_downloads": "Téléchargements",
    "uploads": "Dépôts",
    "new_versions": "Nouvelles versions",
    "unsubscriptions": "Désabonnements",
    "alerts_sent": "Alertes envoyées",
    "documents": "Documents",
    "validated": "Validés",
    "draft": "Brouillons",
    "expiring_90_days": "Expirant sous 90 jours",
    "items": "Articles",
    "stories": "Sujets",
    "items_by_sector_country": "Articles par secteur et pays",
    "top_stories": "Articles du sujet",
    "sources": "Sources",
    "items_per_source": "Articles",
    "curation_backlog": "À valider",
    "decisions": "Décisions",
    "median_hours_to_decision": "Délai médian de décision (h)",
    "proposals": "Propositions",
    "reviewed": "Revues",
    "corrected": "Corrigées",
    "corrected_share": "Part corrigée",
    "added_by_curator": "Ajoutées par un curateur",
    "score_mean": "Note moyenne",
    "responses": "Réponses",
    "nps": "NPS",
}
DIM_LABELS = {
    "kind": "Type d'organisation",
    "role": "Rôle",
    "org": "Organisation",
    "type": "Type",
    "status": "Statut",
    "sector": "Secteur (NAF)",
    "country": "Pays",
    "health": "État",
    "scheme": "Référentiel",
    "band": "Confiance",
    "rank": "Rang",
    "story": "Sujet",
    "source": "Source",
    "title": "Titre",
    "region": "Région",
}
GRAIN_LABELS = {"week": "par semaine", "month": "par mois", None: "sur la période"}


@dataclass(frozen=True)
class Chart:
    kind: str  # "line" | "bar" | "matrix"
    metrics: tuple[str, ...]


_LINE = "line"
CHARTS: dict[tuple[str, str | None, tuple[str, ...]], Chart] = {
    ("adoption", "week", ()): Chart(_LINE, ("active_users", "new_users")),
    ("adoption", "month", ()): Chart(_LINE, ("active_users", "new_users")),
    ("use", "week", ()): Chart(_LINE, ("searches", "document_reads", "document_downloads")),
    ("use", "month", ()): Chart(_LINE, ("searches", "document_reads", "document_downloads")),
    ("watch", "week", ()): Chart(_LINE, ("items", "stories")),
    ("watch", "month", ()): Chart(_LINE, ("items", "stories")),
    ("content", None, ("type",)): Chart("bar", ("documents",)),
    ("content", None, ("sector",)): Chart("bar", ("documents",)),
    ("content", None, ("status",)): Chart("bar", ("documents",)),
    ("watch", None, ("health",)): Chart("bar", ("sources",)),
    ("quality", None, ("band", "scheme")): Chart("bar", ("corrected_share",)),
    ("watch", None, ("country", "sector")): Chart("matrix", ("items_by_sector_country",)),
}


@dataclass
class Table:
    """One table of a dashboard: its id (``use_week``, ``content_period_type``), caption, column codes and
    French headers, rows of displayed text, and the plot's spec (``None``: table only)."""

    id: str
    section: str
    caption: str
    columns: list[str]
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    chart: dict[str, Any] | None = None
    has_suppressed: bool = False


VALUE_LABELS = {"kind": KIND_LABELS, "role": ROLE_LABELS}  # dimension values shown in French


def _value(dim: str, value: str, names: Mapping[str, str]) -> str:
    """A dimension value in French: a role or organisation kind by its label, a concept by its name."""
    return VALUE_LABELS.get(dim, {}).get(value) or names.get(value, value)


def text_of(cell: Cell | None) -> str:
    if cell is None:
        return ""
    if cell.suppressed:
        return SUPPRESSED
    if cell.value is None:
        return "—"
    return str(cell.value)


def _number(cell: Cell | None) -> float | int | None:
    return None if cell is None or cell.suppressed else cell.value


def _group_id(section: str, grain: str | None, dims: tuple[str, ...]) -> str:
    return "_".join([section, grain or "period", *dims])


def _caption(section: str, metrics: list[str], grain: str | None, dims: tuple[str, ...]) -> str:
    what = ", ".join(METRIC_LABELS.get(m, m) for m in metrics)
    by = f" par {', '.join(DIM_LABELS.get(d, d).lower() for d in dims)}" if dims else ""
    return f"{SECTION_TITLES.get(section, section)} – {what}{by}, {GRAIN_LABELS.get(grain, grain or '')}"


def _table(
    section: str, grain: str | None, dims: tuple[str, ...], cells: list[Cell], names: Mapping[str, str]
) -> Table:
    metrics = list(dict.fromkeys(c.metric for c in cells))
    keys: dict[tuple[str, ...], dict[str, Cell]] = {}
    for c in cells:
        key = ((c.bucket or "",) if grain else ()) + tuple(_value(d, c.dims.get(d, ""), names) for d in dims)
        keys.setdefault(key, {})[c.metric] = c
    lead = (["bucket"] if grain else []) + list(dims)
    table = Table(
        id=_group_id(section, grain, dims),
        section=section,
        caption=_caption(section, metrics, grain, dims),
        columns=lead + metrics,
        headers=(["Période"] if grain else [])
        + [DIM_LABELS.get(d, d) for d in dims]
        + [METRIC_LABELS.get(m, m) for m in metrics],
    )
    for key, by_metric in keys.items():
        table.rows.append(list(key) + [text_of(by_metric.get(m)) for m in metrics])
        table.has_suppressed |= any(c.suppressed for c in by_metric.values())
    chart = CHARTS.get((section, grain, dims))
    if chart is not None and keys:
        table.chart = _spec(chart, table.id, dims, keys, [m for m in chart.metrics if m in metrics])
    return table


def _spec(
    chart: Chart,
    table_id: str,
    dims: tuple[str, ...],
    keys: dict[tuple[str, ...], dict[str, Cell]],
    metrics: list[str],
) -> dict[str, Any] | None:
    if not metrics:
        return None
    if chart.kind == "matrix":  # dims are ("country", "sector")
        metric = metrics[0]
        points = [{"x": k[1], "y": k[0], "v": _number(v.get(metric))} for k, v in keys.items() if metric in v]
        return {
            "id": table_id,
            "type": "matrix",
            "label": METRIC_LABELS.get(metric, metric),
            "xLabel": DIM_LABELS["sector"],
            "yLabel": DIM_LABELS["country"],
            "points": points,
        }
    labels = [" / ".join(k) for k in keys]
    datasets = [
        {"label": METRIC_LABELS.get(m, m), "data": [_number(v.get(m)) for v in keys.values()]}
        for m in metrics
    ]
    return {"id": table_id, "type": chart.kind, "labels": labels, "datasets": datasets}


def tables_of(
    sections: dict[str, list[Cell]], names: Mapping[str, str] | None = None
) -> list[tuple[str, str, list[Table]]]:
    """``(section code, French title, tables)`` for every section, in their order, unknown ones included;
    ``names`` gives the French name of concept ids found as dimension values (``doctype:…``)."""
    out = []
    for name, cells in sections.items():
        groups: dict[tuple[str | None, tuple[str, ...]], list[Cell]] = {}
        for c in cells:
            groups.setdefault((c.grain, tuple(sorted(c.dims))), []).append(c)
        ordered = sorted(
            groups.items(), key=lambda g: ({None: 0, "week": 1, "month": 2}.get(g[0][0], 3), g[0][1])
        )
        tables = [_table(name, grain, dims, group, names or {}) for (grain, dims), group in ordered]
        out.append((name, SECTION_TITLES.get(name, name), tables))
    return out
