"""Taxonomy classification: sectors (NAF), countries and document type, each with score and evidence.

The referential comes from a ``taxonomy.live.ReferentialSource`` asked once per item, and the
``TaxonomyClassifier`` is rebuilt only when the source answers a different referential, so a curator's
taxonomy edit applies to the next item without a restart. An explicit ``doc_type`` on the item (chosen
by the uploader or the CLI's ``--type``) always wins over the classifier's guess; feed entries are news
unless told otherwise. A long text is classified through the same bounded sample as the analyser's
(``ingest.sampling``), so its cost stays flat however long the document.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from haystack import component

from ingest.item import IngestItem
from ingest.sampling import DEFAULT_SAMPLE_CHARS, sample_text
from taxonomy.classifier import QueryEmbedder, Scored, TaxonomyClassifier
from taxonomy.learned import load as load_model
from taxonomy.live import ReferentialSource, StaticReferential
from taxonomy.referential import Referential

__all__ = ["NEWS_DOCTYPE", "TaxonomyClassifierComponent"]

NEWS_DOCTYPE = "doctype:news"


@component
class TaxonomyClassifierComponent:
    """Sectors, countries and document type of one item with the shared taxonomy classifier."""

    def __init__(
        self,
        referential_source: ReferentialSource | None = None,
        embed_query: QueryEmbedder | None = None,
        sample_chars: int = DEFAULT_SAMPLE_CHARS,
        model_file: Path | None = None,
    ) -> None:
        self.referential_source = referential_source or StaticReferential()
        self.sample_chars = sample_chars
        self._embed_query = embed_query  # text -> e5 query vector; None = lexical matching only
        self._classifier: TaxonomyClassifier | None = None
        self._built_for: Referential | None = None
        self.model_file = model_file  # the NAF model trained on decisions (``tfe taxonomy train``), if any
        self._model_stamp: float | None = None

    def warm_up(self) -> None:
        """Build the classifier for the current referential."""
        self._current()

    def _current(self) -> TaxonomyClassifier:
        """The classifier for the referential in force, rebuilt only when the source answers a new one."""
        referential = self.referential_source.current()
        stamp = _mtime(self.model_file) if self._embed_query is not None else None
        if self._classifier is None or referential is not self._built_for or stamp != self._model_stamp:
            model = load_model(self.model_file) if stamp is not None and self.model_file else None
            self._classifier = TaxonomyClassifier(referential, embed_query=self._embed_query, model=model)
            self._built_for = referential
            self._model_stamp = stamp
        return self._classifier

    @component.output_types(
        sectors=list[Scored], countries=list[Scored], doc_type=Scored | None, filieres=list[Scored],
        signals=list[Scored],
    )
    def run(
        self, item: IngestItem, text: str, title: str, lemmas: list[str], entities: list[tuple[str, str]]
    ) -> dict[str, Any]:
        """Classify the normalised ``text`` (a sample of it when long) and ``title`` with their ``lemmas``
        and ``entities``; ``item`` gives the file name, the kind and an explicit document type."""
        result = self._current().classify(
            sample_text(text, self.sample_chars),
            lemmas=lemmas,
            entities=entities,
            title=title or item.title,
            filename=item.filename,
        )
        doc_type: Scored | None
        if item.doc_type:
            given = item.doc_type if ":" in item.doc_type else f"doctype:{item.doc_type}"
            doc_type = Scored(given, 1.0, ["indiqué à l'ingestion"])
        elif item.kind == "item":
            doc_type = Scored(NEWS_DOCTYPE, 1.0, ["entrée de flux de veille"])
        else:
            doc_type = result.doc_type
        return {"sectors": result.sectors, "countries": result.countries, "doc_type": doc_type,
                "filieres": result.filieres, "signals": result.signals}


def _mtime(path: Path | None) -> float | None:
    """When the model file last changed (a retrained model applies to the next item), None if absent."""
    try:
        return path.stat().st_mtime if path is not None else None
    except OSError:
        return None
