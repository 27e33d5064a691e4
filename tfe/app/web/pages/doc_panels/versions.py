"""The document page's versions section (template ``doc/_versions.html``): the history with comments and
authors, download links, « Restaurer » and « Comparer », the check-out lock and the new version form."""

from __future__ import annotations

from typing import Any

from ged.editing import may_edit
from ged.models import Document
from ged.versions import MAX_COMMENT, lock_state, paris_time
from tfe.app.web.pages.doc_panels import PanelInput
from tfe.app.web.pages.versions import pop_notice


def context(panel: PanelInput) -> dict[str, Any]:
    """Keys for ``doc/_versions.html`` (prefixed ``versions_``)."""
    document = panel.session.get(Document, panel.doc.id)
    can_edit = document is not None and may_edit(panel.user, document)
    lock = lock_state(panel.session, document) if document is not None else None
    mine = lock is not None and lock.user_id == panel.user.id
    versions = list(reversed(panel.doc.versions))  # newest first
    return {
        "versions_rows": versions,
        "versions_current": versions[0].number if versions else None,
        "versions_previous": versions[1].number if len(versions) > 1 else None,
        "versions_can_edit": can_edit,
        "versions_lock": lock,
        "versions_lock_until": paris_time(lock.until) if lock else None,
        "versions_lock_mine": mine,
        "versions_locked_out": lock is not None and not mine,
        "versions_can_unlock": lock is not None and can_edit and (mine or panel.user.role == "admin"),
        "versions_lock_minutes": panel.runtime.settings.version_lock_minutes,
        "versions_max_comment": MAX_COMMENT,
        "versions_notice": pop_notice(panel.request),
    }
