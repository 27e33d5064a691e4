"""Checks of matching rules (contract C1): every rule a curator, an import or the shipped data writes.

``validate_rules`` answers a normalised copy (kinds, trimmed patterns, language, negatives, weight and,
for fuzzy rules, threshold) or raises ``ValidationError`` with a French message naming the rule (1-based)
and the problem. Regular expressions are compiled as they will run (on folded, lowercase text, see
``fold_regex``); over-long ones, ones that accept the empty text and the classic catastrophic shape
(a quantified group made of a single quantified atom, ``(a+)+``, ``(\\w*)*``) are refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from taxonomy.text import fold_char
from tfe.core.errors import ValidationError

__all__ = [
    "DEFAULT_THRESHOLD",
    "LANGUAGES",
    "MAX_NEGATIVES",
    "MAX_PATTERN",
    "MAX_RULES",
    "RULE_KINDS",
    "compile_regex",
    "fold_regex",
    "validate_rule",
    "validate_rules",
]

RULE_KINDS = ("any", "all", "phrase", "regex", "fuzzy")
LANGUAGES = ("", "fr", "en")
MAX_PATTERN = 500
MAX_NEGATIVES = 50
MAX_RULES = 200
MAX_WEIGHT = 10.0
DEFAULT_THRESHOLD = 85
_KEYS = {"kind", "pattern", "language", "negative", "weight", "threshold"}
_WORD = re.compile(r"\w", re.UNICODE)
# A group holding one quantified atom, itself quantified: exponential backtracking on a near miss.
_NESTED = re.compile(r"\((?:\?:)?(?:\\.|\[[^\]]*\]|[^()\\\[])[+*]\)(?:[+*]|\{\d*,)")


def fold_regex(pattern: str) -> str:
    """The pattern as it runs on folded (lowercase) text: non-ASCII characters folded (``é`` → ``e``,
    ``’`` → ``'``), ASCII letters lowercased, but never the character after a backslash, so that escapes
    (``\\W``, ``\\D``) and ranges (``a-z``) keep their meaning. Matching then needs no IGNORECASE,
    which makes Python's engine several times faster on alternations."""
    out: list[str] = []
    escaped = False
    for c in pattern:
        if escaped:
            out.append(c)
            escaped = False
        elif c == "\\":
            out.append(c)
            escaped = True
        else:
            out.append(fold_char(c) if ord(c) > 127 else c.lower())
    return "".join(out)


def _top_level_branch(pattern: str) -> bool:
    """Whether ``pattern`` has a ``|`` outside every group and character class."""
    depth, i, in_class = 0, 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if pattern[i + 1:i + 2] == "]":
                i += 1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            return True
        i += 1
    return False


def compile_regex(pattern: str) -> tuple[re.Pattern[str], bool]:
    """The compiled form used for matching (``re.error`` when invalid) and whether the caller must check
    a word boundary at the start of each match: a leading ``\\b`` is taken off the pattern (it stops the
    engine from skipping ahead to the first possible character, ten times slower)."""
    folded = fold_regex(pattern)
    if folded.startswith("\\b") and not _top_level_branch(folded[2:]) and folded[2:]:
        return re.compile(folded[2:]), True
    return re.compile(folded), False


def _fail(n: int, problem: str) -> ValidationError:
    return ValidationError(f"règle {n} : {problem}")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _negatives(n: int, value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or len(value) > MAX_NEGATIVES:
        raise _fail(n, f"les termes négatifs : attendu une liste d'au plus {MAX_NEGATIVES} termes")
    out: list[str] = []
    for term in value:
        if not isinstance(term, str) or len(term) > MAX_PATTERN:
            raise _fail(n, f"terme négatif invalide (texte d'au plus {MAX_PATTERN} caractères attendu)")
        term = " ".join(term.split())
        if term and _WORD.search(term) and term not in out:
            out.append(term)
    return out


def _check_regex(n: int, pattern: str) -> None:
    try:
        compiled = re.compile(fold_regex(pattern))
    except re.error as exc:
        raise _fail(n, f"expression régulière invalide ({exc})") from exc
    except (RecursionError, OverflowError) as exc:
        raise _fail(n, "expression régulière trop complexe") from exc
    if _NESTED.search(pattern):
        raise _fail(n, "expression régulière refusée : quantificateurs imbriqués (risque de blocage)")
    if compiled.fullmatch("") is not None:
        raise _fail(n, "l'expression régulière accepte le texte vide")


def validate_rule(n: int, rule: Any) -> dict[str, Any]:
    """One rule checked and normalised; ``n`` is its 1-based number for the message."""
    if not isinstance(rule, Mapping):
        raise _fail(n, "attendu un objet {kind, pattern, ...}")
    unknown = sorted(str(k) for k in rule if k not in _KEYS)
    if unknown:
        raise _fail(n, f"champ inconnu « {unknown[0]} » ({', '.join(sorted(_KEYS))})")
    kind = rule.get("kind")
    if kind not in RULE_KINDS:
        raise _fail(n, f"type inconnu {kind!r} (attendu : {', '.join(RULE_KINDS)})")
    pattern = rule.get("pattern")
    if not isinstance(pattern, str) or not pattern.strip():
        raise _fail(n, "le motif ne peut pas être vide")
    if len(pattern) > MAX_PATTERN:
        raise _fail(n, f"motif trop long ({len(pattern)} caractères, au plus {MAX_PATTERN})")
    if kind == "regex":
        _check_regex(n, pattern)
    else:
        pattern = " ".join(pattern.split())
        if not _WORD.search(pattern):
            raise _fail(n, "le motif doit contenir au moins un mot")
    language = rule.get("language") or ""
    if not isinstance(language, str) or language.lower() not in LANGUAGES:
        raise _fail(n, f"langue inconnue {language!r} (attendu : fr, en ou vide pour toutes)")
    weight = _number(rule.get("weight", 1.0))
    if weight is None or not 0 < weight <= MAX_WEIGHT:
        raise _fail(n, f"le poids doit être un nombre strictement positif et au plus {MAX_WEIGHT:g}")
    out: dict[str, Any] = {
        "kind": kind,
        "pattern": pattern,
        "language": language.lower(),
        "negative": _negatives(n, rule.get("negative")),
        "weight": weight,
    }
    if kind == "fuzzy":
        threshold = _number(rule.get("threshold", DEFAULT_THRESHOLD))
        if threshold is None or threshold != int(threshold) or not 0 <= threshold <= 100:
            raise _fail(n, "le seuil de similarité doit être un entier entre 0 et 100")
        out["threshold"] = int(threshold)
    return out  # a threshold on another kind means nothing and is dropped


def validate_rules(rules: Any) -> list[dict[str, Any]]:
    """A normalised copy of ``rules``; ``ValidationError`` (French, naming the rule) on the first problem."""
    if not isinstance(rules, list | tuple):
        raise ValidationError("les règles : attendu une liste")
    if len(rules) > MAX_RULES:
        raise ValidationError(f"trop de règles ({len(rules)}, au plus {MAX_RULES})")
    return [validate_rule(n, rule) for n, rule in enumerate(rules, 1)]
