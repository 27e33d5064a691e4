"""The network's filières (scheme ``filiere``) from NAF scores.

Each filière and sous-filière of ``data/filieres.json`` lists the NAF divisions, groups and classes it
covers as ``narrowMatch`` mappings (``exactMatch``/``closeMatch`` count too; ``relatedMatch`` and
``broadMatch`` only inform). ``filieres_for(ref, naf_scores)`` turns the classifier's NAF scores into
filière scores: a NAF concept inside a covered code (itself, or a descendant: ``naf:11.02Z`` under
``naf:11.02``) gives the filière its full score; a NAF concept broader than a covered code (the division
``naf:11`` for a sous-filière covering ``naf:11.02``) gives ``BROADER_FACTOR`` of it. A sous-filière
implies its filière (the filière scores at least as much). Filières under ``relative_floor`` × the best
score are dropped, as the classifier does for sectors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from taxonomy.referential import Concept, Referential

if TYPE_CHECKING:
    from taxonomy.classifier import Scored

__all__ = ["BROADER_FACTOR", "COVERING_RELATIONS", "UNCOVERED_DIVISIONS", "covered_codes", "filieres_for"]

COVERING_RELATIONS = frozenset({"narrowMatch", "exactMatch", "closeMatch"})
BROADER_FACTOR = 0.5
RELATIVE_FLOOR = 0.6

# NAF divisions that no filière of the network covers (public administration, households, ...): the
# data test checks that every other division is covered by at least one filière.
UNCOVERED_DIVISIONS = frozenset({
    "naf:68",  # activités immobilières
    "naf:84",  # administration publique et défense
    "naf:88",  # action sociale sans hébergement
    "naf:92",  # jeux de hasard et d'argent
    "naf:94",  # organisations associatives
    "naf:97", "naf:98",  # ménages
    "naf:99",  # organisations extraterritoriales
})


def covered_codes(concept: Concept) -> list[str]:
    """The NAF concept ids a filière covers (its covering mappings' targets)."""
    return [m["target"] for m in concept.mappings
            if m.get("relation") in COVERING_RELATIONS and str(m.get("target", "")).startswith("naf:")]


def _match(ref: Referential, naf_id: str, target: str) -> float:
    """How much a score for ``naf_id`` counts for a filière covering ``target`` (0 when unrelated)."""
    if naf_id == target or target in ref.ancestors(naf_id):
        return 1.0
    if naf_id in ref.ancestors(target):
        return BROADER_FACTOR
    return 0.0


def filieres_for(
    ref: Referential, naf_scores: Sequence[Scored], *, relative_floor: float = RELATIVE_FLOOR
) -> list[Scored]:
    """Filières (and sous-filières) of NAF scores, best first, each citing the NAF codes behind it."""
    from taxonomy.classifier import Scored

    best: dict[str, tuple[float, list[str]]] = {}
    for concept in ref.concepts("filiere"):
        if concept.deprecated:
            continue
        score, evidence = 0.0, []
        for naf in naf_scores:
            factor = max((_match(ref, naf.concept_id, t) for t in covered_codes(concept)), default=0.0)
            if factor:
                score = max(score, factor * naf.score)
                note = f"{naf.concept_id} {ref.label(naf.concept_id)}"
                if note not in evidence:
                    evidence.append(note)
        if score > 0:
            best[concept.id] = (score, evidence)
    for cid, (score, evidence) in list(best.items()):  # a sous-filière implies its filière
        for parent in ref.ancestors(cid):
            own, own_evidence = best.get(parent, (0.0, []))
            if score > own:
                best[parent] = (score, own_evidence + [e for e in evidence if e not in own_evidence])
    if not best:
        return []
    floor = relative_floor * max(score for score, _ in best.values())
    out = [Scored(cid, round(score, 4), evidence[:6]) for cid, (score, evidence) in best.items()
           if score >= floor]
    return sorted(out, key=lambda s: (-s.score, s.concept_id))
