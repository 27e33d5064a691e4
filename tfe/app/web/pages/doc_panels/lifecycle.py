"""The document page's lifecycle section (template ``doc/_lifecycle.html``)."""

from __future__ import annotations

from typing import Any

from tfe.app.web.pages.doc_panels import PanelInput


def context(panel: PanelInput) -> dict[str, Any]:
    """Keys for ``doc/_lifecycle.html`` (prefixed ``lifecycle_``)."""
    return {}
