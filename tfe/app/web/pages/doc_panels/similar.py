"""The document page's similar section (template ``doc/_similar.html``): near-duplicates, both ways.

« Ressemble à » lists what this document resembled when it (or its current version) was uploaded;
« Ressemblent à ce document » lists later uploads that resembled it. Only documents the reader may see.
"""

from __future__ import annotations

from typing import Any

from ged import neardup
from tfe.app.web.pages.doc_panels import PanelInput


def context(panel: PanelInput) -> dict[str, Any]:
    """Keys for ``doc/_similar.html`` (prefixed ``similar_``)."""
    resembles, resembled = neardup.similar_to(panel.session, panel.doc.id, panel.scope)
    return {"similar_resembles": resembles, "similar_resembled": resembled}
