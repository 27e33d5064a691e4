"""The document page's versions section (template ``doc/_versions.html``)."""

from __future__ import annotations

from typing import Any

from tfe.app.web.pages.doc_panels import PanelInput


def context(panel: PanelInput) -> dict[str, Any]:
    """Keys for ``doc/_versions.html`` (prefixed ``versions_``)."""
    return {}
