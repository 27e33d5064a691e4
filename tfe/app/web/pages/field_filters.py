"""Typed document fields as filters of the search page (``/recherche?field.currency=EUR``).

The pairs are read from the query string as typed; ``search_fields`` turns them into the keywords the
passages carry (``ged.field_schema.field_filters``) and ``chips`` into the French « Devise : Euro (EUR) »
labels of the active filters. The API does the same (``tfe.app.web.api.search.typed_field_filters``).
"""

from __future__ import annotations

from fastapi import Request

from ged.field_schema import field_filters, schema_for, schemas
from taxonomy.referential import Referential

__all__ = ["MAX_FIELD_FILTERS", "chip_label", "field_pairs", "search_fields"]

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
