"""The document page's fields section (template ``doc/_fields.html``)."""

from __future__ import annotations

from typing import Any

from tfe.app.web.pages.doc_panels import PanelInput


def context(panel: PanelInput) -> dict[str, Any]:
    """Keys for ``doc/_fields.html`` (prefixed ``fields_``)."""
    return {}
