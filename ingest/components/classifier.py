"""Taxonomy classification: sectors (NAF), countries and document type, each with score and evidence.

An explicit ``doc_type`` on the item (chosen by the uploader or the CLI's ``--type``) always wins over the
classifier's guess; feed entries are news unless told otherwise.
"""

from __future__ import annotations

from typing import Any

from haystack import component

from ingest.item import Assigned, Processed

__all__ = ["NEWS_DOCTYPE", "TaxonomyClassifierComponent"]

NEWS_DOCTYPE = "doctype:news"


def _assigned(scored: Any) -> Assigned:
    return Assigned(
        concept_id=str(scored.concept_id), score=float(scored.score), evidence=list(scored.evidence)
    )


@component
class TaxonomyClassifierComponent:
    """Fill ``Processed.sectors``, ``countries`` and ``doc_type`` with the shared taxonomy classifier."""

    def __init__(self, referential: Any = None, embed_query: Any = None) -> None:
        self._referential = referential
        self._embed_query = embed_query  # text -> e5 query vector; None = lexical matching only
        self._classifier: Any = None

    def warm_up(self) -> None:
        """Load the referential and build the classifier (once)."""
        if self._classifier is None:
            from taxonomy.classifier import TaxonomyClassifier
            from taxonomy.referential import Referential

            referential = self._referential or Referential.load()
            self._classifier = TaxonomyClassifier(referential, embed_query=self._embed_query)

    @component.output_types(record=Processed)
    def run(self, record: Processed) -> dict[str, Processed]:
        self.warm_up()
        item = record.item
        result = self._classifier.classify(
            record.text,
            lemmas=record.lemmas,
            entities=record.entities,
            title=record.title or item.title,
            filename=item.filename,
        )
        record.sectors = [_assigned(s) for s in result.sectors]
        record.countries = [_assigned(c) for c in result.countries]
        if item.doc_type:
            given = item.doc_type if ":" in item.doc_type else f"doctype:{item.doc_type}"
            record.doc_type = Assigned(given, 1.0, ["indiqué à l'ingestion"])
        elif item.kind == "item":
            record.doc_type = Assigned(NEWS_DOCTYPE, 1.0, ["entrée de flux de veille"])
        elif result.doc_type is not None:
            record.doc_type = _assigned(result.doc_type)
        else:
            record.doc_type = None
        return {"record": record}
