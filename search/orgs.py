"""Organisations in search: the ``org`` filter's values (slugs or ids) as ids, and the ``org`` facet's ids as
slugs and names. The facet only ever holds organisations the caller's scoped matches carry, so naming
them reveals nothing the hits would not."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tfe.core.errors import ValidationError
from tfe.core.models import Organisation

MAX_VALUES = 50


def _is_id(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) < 18


def org_ids(session: Session, values: Iterable[str]) -> tuple[str, ...]:
    """Each value (a slug or a numeric id) as the organisation's id; an unknown one is an error."""
    wanted = list(dict.fromkeys(str(v).strip() for v in values if str(v).strip()))
    if not wanted:
        return ()
    if len(wanted) > MAX_VALUES:
        raise ValidationError(f"at most {MAX_VALUES} organisations may be given")
    numbers = [int(v) for v in wanted if _is_id(v)]
    rows = session.execute(
        select(Organisation.id, Organisation.slug).where(
            or_(Organisation.slug.in_(wanted), Organisation.id.in_(numbers))
        )
    ).all()
    by_slug = {slug: oid for oid, slug in rows}
    ids = {str(oid) for oid, _slug in rows}
    out: list[str] = []
    for value in wanted:
        if value in by_slug:
            out.append(str(by_slug[value]))
        elif _is_id(value) and str(int(value)) in ids:
            out.append(str(int(value)))
        else:
            raise ValidationError(f"unknown organisation {value!r}")
    return tuple(dict.fromkeys(out))


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
