"""The document page's preview section (template ``doc/_preview.html``): thumbnail and extracted text.

The thumbnail (or, when none can be drawn, the first lines of the text) comes from ``ged.previews``; the
image itself is served by ``GET /api/documents/{id}/preview``. Below it, the extracted text of the
current version, with the words of the search that led here (``?q=``) marked: every piece of the text
is HTML-escaped, then the matching words are wrapped in ``<mark>``; words match without regard to case or
accents (Unicode folding), and a query word also marks its inflections (« vin » marks « vins »).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import select

from ged.models import DocumentVersion
from tfe.app.web.pages.doc_panels import PanelInput

SHOWN_CHARS = 20_000  # text shown by default
FULL_CHARS = 1_000_000  # « Afficher tout » (the rest: download the document)
MAX_TERMS = 20
SUFFIX_CHARS = 3  # a query word marks the words it begins with up to this many more letters
_WORD = re.compile(r"\w+")
_STOPWORDS = frozenset(
    {"le", "la", "les", "un", "une", "des", "du", "de", "d", "l", "et", "ou", "en", "au", "aux", "a"}
    | {"pour", "par", "sur", "dans", "avec", "sans", "ce", "ces", "son", "sa", "ses", "qui", "que"}
    | {"est", "sont", "the", "and", "of", "in", "for", "to", "on", "with"}
)


def fold(text: str) -> str:
    """Lower case without accents (``Marché`` → ``marche``)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def query_terms(q: str) -> list[str]:
    """The folded words of a query worth marking (no stop words, two letters or more, at most 20)."""
    terms: list[str] = []
    for word in _WORD.findall(fold(q)):
        if (len(word) > 1 or word.isdigit()) and word not in _STOPWORDS and word not in terms:
            terms.append(word)
    return terms[:MAX_TERMS]


def _matches(word: str, terms: list[str]) -> bool:
    folded = fold(word)
    return any(
        folded == t or (len(t) >= 3 and folded.startswith(t) and len(folded) - len(t) <= SUFFIX_CHARS)
        for t in terms
    )


def highlight(text: str, terms: list[str]) -> tuple[Markup, int]:
    """``text`` escaped, its words matching ``terms`` in ``<mark>``; and the number of marks."""
    if not terms:
        return Markup(escape(text)), 0
    parts: list[str] = []
    marks = 0
    last = 0
    for match in _WORD.finditer(text):
        if _matches(match.group(), terms):
            parts.append(str(escape(text[last : match.start()])))
            parts.append(f"<mark>{escape(match.group())}</mark>")
            marks += 1
            last = match.end()
    parts.append(str(escape(text[last:])))
    return Markup("".join(parts)), marks


def context(panel: PanelInput) -> dict[str, Any]:
    """Keys for ``doc/_preview.html`` (prefixed ``preview_``)."""
    if panel.doc.latest is None:
        return {"preview_kind": None}
    # no drawing here: the page has written its audit event (SQLite's write lock); the image route draws
    shown = panel.runtime.previewer.preview(panel.session, panel.doc.id, panel.scope, draw=False)
    row = panel.session.scalar(
        select(DocumentVersion).where(
            DocumentVersion.document_id == panel.doc.id, DocumentVersion.number == shown.version
        )
    )
    text = (row.text if row is not None else "") or ""
    q = panel.request.query_params.get("q", "")[:500]
    full = panel.request.query_params.get("texte") == "tout"
    cap = FULL_CHARS if full else SHOWN_CHARS
    body, marks = highlight(text[:cap], query_terms(q))
    return {
        "preview_kind": shown.kind,
        "preview_version": shown.version,
        "preview_width": shown.width,
        "preview_height": shown.height,
        "preview_text": shown.text,
        "preview_body": body,
        "preview_marks": marks,
        "preview_q": q,
        "preview_truncated": len(text) > cap,
        "preview_full": full,
        "preview_length": len(text),
    }
