"""Watch signals (scheme ``signal``): tenders, investments, regulation, events, financing, M&A, country risk.

``SignalDetector(ref).detect(text, language, lemmas)`` runs the rules of the signal concepts
(``data/signals.json``, curatable like any concept's rules, see ``taxonomy.rules``) and scores each
signal from its hits: ``raw = Σ weight × (1 + ln count)`` (hits in the title count double), score
``raw / (raw + 1.5)``; a signal needs ``min_score`` (0.4: one ordinary rule, or two weak ones). Each
signal keeps its evidence, the rules that matched and the words they matched.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from taxonomy.referential import Referential
from taxonomy.rules import RuleHit, rules_for

if TYPE_CHECKING:
    from taxonomy.classifier import Scored

__all__ = ["MIN_SCORE", "SignalDetector"]

MIN_SCORE = 0.4
TITLE_FACTOR = 2.0
SCALE = 1.5


class SignalDetector:
    """Signals of a text from the rules of the ``signal`` scheme of ``ref``."""

    def __init__(self, ref: Referential, *, min_score: float = MIN_SCORE, limit: int = 4) -> None:
        self.ref = ref
        self.rules = rules_for(ref, "signal")
        self.min_score = min_score
        self.limit = limit

    def detect(
        self, text: str, language: str = "", lemmas: Sequence[str] = (), *, title: str = ""
    ) -> list[Scored]:
        """The signals of ``text`` (and ``title``), best first, each with the rules that matched."""
        from taxonomy.classifier import Scored

        raw: dict[str, float] = defaultdict(float)
        evidence: dict[str, list[str]] = defaultdict(list)
        found: list[tuple[RuleHit, float]] = [(h, 1.0) for h in self.rules.match(text, language, lemmas)]
        if title:
            found += [(h, TITLE_FACTOR) for h in self.rules.match(title, language)]
        for hit, factor in found:
            raw[hit.concept_id] += factor * hit.weight * (1 + math.log(hit.count))
            label = ("titre : " if factor > 1 else "") + hit.label()
            if label not in evidence[hit.concept_id]:
                evidence[hit.concept_id].append(label)
        out = [
            Scored(cid, round(v / (v + SCALE), 4), evidence[cid][:6])
            for cid, v in raw.items()
            if v / (v + SCALE) >= self.min_score
        ]
        return sorted(out, key=lambda s: (-s.score, s.concept_id))[: self.limit]
