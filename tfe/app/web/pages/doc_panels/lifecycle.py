"""The document page's lifecycle section (template ``doc/_lifecycle.html``): status badge, « expiré »
badge, the moves the user may make (``ged.lifecycle.allowed_moves``), the history of moves, the
« Supprimer » button (to the trash) and the retention review date; plus the notice of the last form."""

from __future__ import annotations

from typing import Any

from ged import lifecycle
from ged.editing import may_edit
from ged.expiry import is_expired
from ged.models import Document
from tfe.app.web.pages.doc_panels import PanelInput
from tfe.app.web.pages.forms import pop_flash


def context(panel: PanelInput) -> dict[str, Any]:
    """Keys for ``doc/_lifecycle.html`` (prefixed ``lifecycle_``)."""
    document = panel.session.get(Document, panel.doc.id)
    if document is None:  # the page read it a moment ago; nothing to offer
        return {"lifecycle_moves": [], "lifecycle_history": [], "lifecycle_can_delete": False}
    return {
        "lifecycle_status": document.status,
        "lifecycle_expired": is_expired(document.valid_until),
        "lifecycle_moves": lifecycle.allowed_moves(panel.user, document),
        "lifecycle_history": lifecycle.history(panel.session, panel.user, document.id),
        "lifecycle_can_delete": may_edit(panel.user, document),
        "lifecycle_review_due_at": document.review_due_at,
        "lifecycle_notice": pop_flash(panel.request),
    }
