"""Sectors of a text from a learned model (``taxonomy.learned``) plus the lexical evidence, as the
classifier's ``Scored`` lists: method ``model`` for a model trained on people's decisions, ``similarity``
for the shipped seed model (the taxonomy's own words: zero-shot).

The class probability blends the model's calibrated probability with the lexical score of the class
(labels, keywords; ``LEXICAL_WEIGHT``); the matched terms and the concept's rule hits go into the
explanation with the nearest labelled examples.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from taxonomy.learned import Assigned, LearnedModel
from taxonomy.rules import rules_for
from taxonomy.sectors import SectorScore

if TYPE_CHECKING:
    from taxonomy.classifier import Scored, TaxonomyClassifier

__all__ = ["MODEL", "SIMILARITY", "with_model"]

log = logging.getLogger(__name__)

MODEL = "model"
SIMILARITY = "similarity"
MAX_RULE_HITS = 5
LEXICAL_WEIGHT = 0.0  # lexical class score (0..1) added to the model's logits


def _class_of(classifier: TaxonomyClassifier, concept_id: str) -> str:
    concept = classifier.ref.get(concept_id)
    return concept.broader if concept is not None and concept.level == "subclass" and concept.broader \
        else concept_id


def _rule_hits(
    classifier: TaxonomyClassifier, text: str, lemmas: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    """Rule hits (C1) of the NAF concepts on the text, by class (a sous-classe's for its class)."""
    out: dict[str, list[dict[str, Any]]] = {}
    try:
        hits = rules_for(classifier.ref, "naf").match(text, "", lemmas)
    except Exception as e:  # a broken rule must not stop classification
        log.warning("naf rules failed: %s", e)
        return {}
    for hit in hits:
        out.setdefault(_class_of(classifier, hit.concept_id), []).append(hit.to_dict())
    return {k: v[:MAX_RULE_HITS] for k, v in out.items()}


def with_model(
    classifier: TaxonomyClassifier,
    model: LearnedModel,
    candidates: list[SectorScore],
    head: str,
    *,
    lemmas: Sequence[str] = (),
    method: str = MODEL,
) -> tuple[list[Scored], list[Scored]]:
    """Assigned sectors and ranked divisions of one text (its ``head`` is what e5 reads)."""
    from taxonomy.classifier import Scored

    assert classifier.embed_query is not None
    vector = classifier.embed_query(head)
    terms: dict[str, list[str]] = {}
    lexical: dict[str, float] = {}
    for cand in candidates:  # sous-classes count for their class, the best-scored one first
        cid = _class_of(classifier, cand.concept_id)
        terms.setdefault(cid, []).extend(e for e in cand.evidence if e not in terms.get(cid, []))
        lexical[cid] = max(lexical.get(cid, 0.0), cand.score)
    rules = _rule_hits(classifier, head, lemmas)
    limit = classifier.max_sectors
    sectors, divisions = model.assign(classifier.ref, vector, terms=terms, rules=rules, lexical=lexical,
                                      lexical_weight=LEXICAL_WEIGHT, max_classes=limit, max_divisions=limit)

    def scored(a: Assigned) -> Scored:
        ex = a.explanation
        evidence = [f"similarité {ex.get('similarity', 0.0):.2f}", f"probabilité {a.probability:.2f}",
                    *list(ex.get("terms", []))[:4]]
        evidence += [f"exemple : {n['title'][:60]} ({n['similarity']:.2f})"
                     for n in ex.get("neighbours", [])[:1]]
        return Scored(a.concept_id, a.probability, evidence, method=method, explanation=ex)

    return [scored(a) for a in sectors], [scored(a) for a in divisions]
