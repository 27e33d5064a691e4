"""The document type of an upload or an ingest run, checked against the referential in force.

A type is given by its notation (``quote_template``), its concept id (``doctype:quote_template``) or a
label (``Modèle de devis``, as ``Referential.resolve`` reads it); a
concept of another scheme (``naf:11``) or an unknown value is refused with the accepted types listed, so
that nothing outside the document-type scheme is stored as a document's type.
"""

from __future__ import annotations

from collections.abc import Callable

from ingest.acceptance import clean_text
from taxonomy.referential import Referential
from tfe.core.errors import ValidationError

__all__ = ["ReferentialGetter", "resolve_doc_type"]

ReferentialGetter = Callable[[], Referential]
SCHEME = "doctype"


def resolve_doc_type(referential: Referential, value: str | None) -> str | None:
    """The ``doctype:`` concept id for ``value``; ``None`` when no type is given; ``ValidationError``
    (400 ``invalid``) naming the accepted notations otherwise."""
    value = (value or "").strip()
    if not value:
        return None
    concept_id = referential.resolve(value, SCHEME)
    if concept_id is not None and concept_id.startswith(f"{SCHEME}:"):
        return concept_id
    accepted = ", ".join(sorted(c.notation for c in referential.concepts(SCHEME)))
    shown = clean_text(value[:64])
    raise ValidationError(f"unknown document type {shown!r}; accepted: {accepted}")
