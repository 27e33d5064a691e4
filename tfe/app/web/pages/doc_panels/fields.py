"""The document page's fields section (template ``doc/_fields.html``): the typed fields of the document's
type with French labels, the pending proposals with « Accepter » buttons, a link to the edit form, the
values a type change removed, and the notice of the last fields form (``pages.doc_fields``).

The proposals are computed here when the document has none for its current version and type
(``ged.fields.read_fields``): the first view of a new document or version fills them, so nothing in the
upload path has to call ``ged.proposals.propose_fields``. Besides the page's ``document.read``, the fields
shown are recorded (``document.fields_read`` with their names): reads of individual fields are events.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from ged.fields import read_fields
from tfe.app.web.pages.doc_panels import PanelInput

NOTICE_KEY = "fields_notice"


def pop_notice(panel: PanelInput) -> dict[str, str] | None:
    value = panel.request.session.pop(NOTICE_KEY, None)
    return value if isinstance(value, dict) and isinstance(value.get("text"), str) else None


def context(panel: PanelInput) -> dict[str, Any]:
    """Keys for ``doc/_fields.html`` (prefixed ``fields_``)."""
    referential = panel.runtime.referential
    view = read_fields(panel.session, panel.doc.id, panel.scope, referential, user=panel.user, channel="web")
    rows = view.rows()
    keywords = view.schema.index_values(view.values)
    for row in rows:  # a filterable single value links to the search of its type with that value
        word = keywords.get(row["name"])
        row["search_href"] = (
            "/recherche?" + urlencode({"type": view.doc_type or "", f"field.{row['name']}": word})
            if isinstance(word, str)
            else None
        )
    missing = set(view.missing)
    return {
        "fields_has_schema": bool(view.schema.fields),
        "fields_rows": rows,
        "fields_missing": [r["label"] for r in rows if r["name"] in missing],
        "fields_proposals": [r for r in rows if r["proposal"]],
        "fields_editable": view.editable,
        "fields_dropped": view.dropped_rows(),
        "fields_notice": pop_notice(panel),
    }
