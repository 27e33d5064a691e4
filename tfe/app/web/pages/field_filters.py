"""Typed document fields as filters of the search page (``/recherche?field.currency=EUR``).

The pairs are read from the query string as typed; ``search_fields`` turns them into the keywords the
passages carry (``ged.field_schema.field_filters``) and ``chip_label`` into the French « Devise : Euro
(EUR) » labels of the active filters. With one document type filtered, ``facet_candidates`` names its
choice and yes/no fields for the search to count and ``facet_blocks`` lays the counts out as facets.
The API reads its filters the same way (``tfe.app.web.api.search.typed_field_filters``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request

from ged.field_schema import field_filters, schema_for, schemas
from taxonomy.referential import Referential

__all__ = [
    "MAX_FIELD_FILTERS",
    "chip_label",
    "facet_blocks",
    "facet_candidates",
    "field_pairs",
    "search_fields",
]

MAX_FIELD_FILTERS = 20
PREFIX = "field."


def field_pairs(request: Request) -> tuple[tuple[str, str], ...]:
    """The ``field.<name>=<value>`` parameters as (name, value) pairs, blanks left out."""
    pairs = [
        (key[len(PREFIX) :][:64], value.strip()[:200])
        for key, value in request.query_params.multi_items()
        if key.startswith(PREFIX) and value.strip()
    ]
    return tuple(dict.fromkeys(pairs))[:MAX_FIELD_FILTERS]


def _types(referential: Referential, types: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(referential.resolve(t, "doctype") or t for t in types)


def search_fields(
    referential: Referential, pairs: tuple[tuple[str, str], ...], types: tuple[str, ...]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The pairs as search filters (``ValidationError`` for an unknown field or value)."""
    if not pairs:
        return ()
    return field_filters([(PREFIX + n, v) for n, v in pairs], referential, _types(referential, types))


def chip_label(referential: Referential, name: str, value: str, types: tuple[str, ...]) -> str:
    """« Devise : Euro (EUR) »: the field's French label and the value as the document page shows it."""
    pool = [schema_for(t) for t in _types(referential, types)] if types else schemas()
    spec = next((f for s in pool if (f := s.field(name)) is not None), None)
    if spec is None:
        return f"{name} : {value}"
    shown: object = value
    if spec.type == "concept":
        shown = referential.resolve(value, str(spec.scheme)) or value
    elif spec.type == "boolean":
        shown = value.lower() in ("true", "oui", "1", "vrai", "yes", "on")
    return f"{spec.label} : {spec.display(shown, referential)}"


def facet_candidates(
    referential: Referential, types: tuple[str, ...]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """With exactly one type filtered: its choice and yes/no fields and their values, to count."""
    if len(types) != 1:
        return ()
    schema = schema_for(_types(referential, types)[0])
    out: list[tuple[str, tuple[str, ...]]] = []
    for spec in schema.fields:
        if spec.multiple or not spec.is_filterable:
            continue
        if spec.type == "choice":
            out.append((spec.name, tuple(c.value for c in spec.choices)))
        elif spec.type == "boolean":
            out.append((spec.name, ("true", "false")))
    return tuple(out)


def facet_blocks(
    referential: Referential,
    counts: dict[str, list[dict[str, Any]]],
    pairs: tuple[tuple[str, str], ...],
    types: tuple[str, ...],
    url: Callable[[tuple[tuple[str, str], ...]], str],
) -> list[dict[str, Any]]:
    """The field facets of the page: a French heading per field, each value with its count and the link
    that selects it (or, when selected, removes it); ``url`` builds a search link from field pairs."""
    if not counts or len(types) != 1:
        return []
    schema = schema_for(_types(referential, types)[0])
    blocks = []
    for name, entries in counts.items():
        spec = schema.field(name)
        if spec is None or not entries:
            continue
        chosen = dict(search_fields(referential, tuple(p for p in pairs if p[0] == name), types)).get(
            name, ()
        )
        rest = tuple(p for p in pairs if p[0] != name)
        items = []
        for entry in entries:
            value = str(entry["id"])
            selected = value in chosen
            shown = spec.display(value == "true" if spec.type == "boolean" else value, referential)
            href = url(rest if selected else (*rest, (name, value)))
            items.append({"label": shown, "count": entry["count"], "href": href, "selected": selected})
        blocks.append({"name": name, "label": spec.label, "entries": items})
    return blocks
