"""« Documents similaires » on the document and item pages (template ``doc/_more_like_this.html``): a few
documents and watch items nearest by meaning, in the reader's scope (``api.more_like_this``, audited
``document.similar`` / ``item.similar``), each with its similarity; or why there are none yet."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tfe.app.runtime import Runtime
from tfe.app.web.api.more_like_this import Kind, more_like_this
from tfe.app.web.pages.doc_panels import PanelInput
from tfe.core.security.scope import AccessScope

PAGE_LIMIT = 5  # links shown on a page


def section(
    runtime: Runtime, session: Session, scope: AccessScope, kind: Kind, target_id: str
) -> dict[str, Any]:
    """Keys for ``doc/_more_like_this.html`` (prefixed ``more_like_this_``)."""
    result = more_like_this(
        runtime.search_service, session, scope, kind, target_id, limit=PAGE_LIMIT, channel="web"
    )
    links = [
        {
            "title": hit["title"],
            "href": hit["url"],
            "kind": hit["kind"],
            "similarity": (hit.get("explanation") or {}).get("similarity"),
        }
        for hit in result["hits"]
    ]
    return {"more_like_this_hits": links, "more_like_this_reason": result["reason"]}


def context(panel: PanelInput) -> dict[str, Any]:
    return section(panel.runtime, panel.session, panel.scope, "document", panel.doc.id)
