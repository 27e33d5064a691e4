"""Organisations in search: the ``org`` filter's values (slugs or ids) as ids, and the ``org`` facet's ids as
slugs and names. The facet only ever holds organisations the caller's scoped matches carry, so naming
them reveals nothing the hits would not; and the filter accepts only organisations the caller may name
(``visible``), an existing one they may not being refused exactly as a slug that exists nowhere, so that
the answers cannot be used to probe which organisations exist."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tfe.core.errors import ValidationError
from tfe.core.models import Organisation

MAX_VALUES = 50
MAX_CHARS = 100  # a slug or an id is far shorter; longer values (and control characters) are unknown


def _is_id(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) < 18


def org_ids(
    session: Session, values: Iterable[str], visible: Callable[[list[str]], set[str]] | None = None
) -> tuple[str, ...]:
    """Each value (a slug or a numeric id) as the organisation's id; an unknown one is an error.

    ``visible``: the ids, among those given, the caller may name (``SearchService.org_ids``); any other
    is refused with the very message of an organisation that does not exist."""
    wanted = list(dict.fromkeys(str(v).strip() for v in values if str(v).strip()))
    if not wanted:
        return ()
    if len(wanted) > MAX_VALUES:
        raise ValidationError(f"at most {MAX_VALUES} organisations may be given")
    for value in wanted:
        if len(value) > MAX_CHARS or not value.isprintable():
            raise ValidationError(f"unknown organisation {value[:MAX_CHARS]!r}")
    numbers = [int(v) for v in wanted if _is_id(v)]
    rows = session.execute(
        select(Organisation.id, Organisation.slug).where(
            or_(Organisation.slug.in_(wanted), Organisation.id.in_(numbers))
        )
    ).all()
    by_slug = {slug: oid for oid, slug in rows}
    ids = {str(oid) for oid, _slug in rows}
    found: dict[str, str] = {}
    for value in wanted:
        if value in by_slug:
            found[value] = str(by_slug[value])
        elif _is_id(value) and str(int(value)) in ids:
            found[value] = str(int(value))
        else:
            raise ValidationError(f"unknown organisation {value!r}")
    allowed = visible(list(dict.fromkeys(found.values()))) if visible is not None else set(found.values())
    for value, oid in found.items():
        if oid not in allowed:
            raise ValidationError(f"unknown organisation {value!r}")
    return tuple(dict.fromkeys(found.values()))


def org_facet(session: Session, counts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``org`` facet entries (ids) as ``{"id": slug, "label": name, "count"}``; unknown ids are dropped."""
    ids = [int(c["id"]) for c in counts if _is_id(str(c["id"]))]
    if not ids:
        return []
    found = {
        str(oid): (slug, name)
        for oid, slug, name in session.execute(
            select(Organisation.id, Organisation.slug, Organisation.name).where(Organisation.id.in_(ids))
        ).all()
    }
    return [
        {"id": found[c["id"]][0], "label": found[c["id"]][1] or found[c["id"]][0], "count": c["count"]}
        for c in counts
        if c["id"] in found
    ]
