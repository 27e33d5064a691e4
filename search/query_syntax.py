"""The query text syntax every search backend reads (the user guide's « Syntaxe de recherche »).

What a user may type, and what it means:

- words: short queries (up to three words) need every word, longer ones rank passages with any of them;
- ``"a phrase"``: those words next to each other, in that order;
- ``-word``, ``-"a phrase"`` and ``NOT word``: leave out what contains it (``-word`` alone: everything
  else); ``+word``: required; ``AND`` and ``OR`` (in capitals) between words, and parentheses to group
  them; in lower case, ``and``/``or``/``not`` are plain words;
- a hyphen or an apostrophe inside a word (« e-commerce », « l'export ») is the backend's to split;
- any other sign (``* ? ~ ^ : [ ] { } < > = ! & | / \\`` and backquote) separates words and has no
  meaning: wildcards, fuzziness, boosts, ranges and ``field:value`` are not syntax (typos are corrected by
  the spelling suggestions, and the filters do what ``field:value`` would); control characters (NUL
  included) are spaces;
- a lone quote (an odd one out), an unmatched parenthesis and an operator with nothing to apply to (a ``-``
  before a space, ``NOT`` at the end) are dropped, so the rest still reads as typed.

``normalise`` rewrites the text into that subset of the Lucene-like syntax (Tantivy's query parser, or
OpenSearch's ``query_string``, read it alike); ``has_operators`` says whether the text uses any operator
(the service then answers by keywords alone, so that the vectors' neighbours do not bring back what an
exclusion or a phrase left out); ``plain_words`` is the text's words less the excluded ones.
"""

from __future__ import annotations

import functools
import re

MAX_CHARS = 500  # query text longer than this is refused (400): a question is far shorter
MAX_PASSES = 8  # rewriting passes at most (two or three suffice for any text seen; each one shortens it)

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
_NO_MEANING = re.compile(r"[*?~^:\[\]{}<>=!&|/\\`]|(?<!\w)['’]|['’](?!\w)")
_INNER = re.compile(r"(?<=\w)-(?=\w)")  # « e-commerce »: the backend splits it (search.tantivy_index)
# a sign counts at the start of a term only: after a space, an opening parenthesis or the start, and
# before a word, a quote or a parenthesis; « e-commerce », « 2024-01-01 », « vins - » carry none
_SIGN = re.compile(r"(?<![^\s(])[-+](?=[\w\"(])")
_NOT = re.compile(r"(?:\bAND\s+)?\bNOT\s+(?=[\w\"(])")
_DANGLING = re.compile(r"\b(?:AND|OR|NOT)\s*$|^\s*(?:AND|OR)\b")
_TERM = re.compile(r'([-+]?)("[^"]*"|\([^()]*\)|[^\s"()]+)')
_EMPTY_GROUP = re.compile(r"[-+]?\(\s*\)")
_NEGATED_GROUP = re.compile(r"(?<![^\s(])-\([^()]*\)")
_GROUP = re.compile(r"\(([^()]*)\)")
OPERATOR_WORDS = frozenset({"AND", "OR", "NOT"})


def clean(text: str) -> str:
    """``text`` with control and invisible format characters as spaces, and its ends stripped."""
    return _CONTROL.sub(" ", text or "").strip()


def _signs(text: str) -> str:
    """Every ``-`` and ``+`` that is not a term's sign becomes a space."""
    if "-" not in text and "+" not in text:
        return text
    keep = {m.start() for m in _SIGN.finditer(text)} | {m.start() for m in _INNER.finditer(text)}
    return "".join(" " if c in "-+" and i not in keep else c for i, c in enumerate(text))


def _balanced(text: str) -> str:
    """Quotes and parentheses paired: the last quote of an odd number and unmatched parentheses dropped;
    a phrase's quotes set apart from the words around it, nothing but words inside it; empty phrases go."""
    if '"' not in text and "(" not in text and ")" not in text:
        return text
    if text.count('"') % 2:
        cut = text.rfind('"')
        text = text[:cut] + " " + text[cut + 1 :]
    out: list[str] = []
    phrase: int | None = None  # where the open phrase's quote is in ``out``
    opened: list[int] = []
    for i, ch in enumerate(text):
        if ch == '"' and phrase is not None:
            if "".join(out[phrase + 1 :]).strip():
                out.append('" ')
            else:  # an empty phrase
                out[phrase] = " "
            phrase = None
        elif ch == '"':
            glued = bool(out) and out[-1] not in (" ", "(", "-", "+")
            phrase = len(out)
            out.append(' "' if glued else '"')
        elif phrase is not None and ch in "()+-" and not (ch == "-" and _INNER.match(text, i)):
            out.append(" ")
        elif ch == "(":
            opened.append(len(out))
            out.append("(")
        elif ch == ")" and opened:
            opened.pop()
            out.append(")")
        else:
            out.append(" " if ch == ")" else ch)
    for position in opened:  # still open at the end
        out[position] = " "
    return "".join(out)


@functools.lru_cache(maxsize=1024)  # one search normalises its text several times
def normalise(text: str) -> str:
    """``text`` in the supported syntax (see the module): what a backend's query parser is given.

    The rewriting is repeated until nothing changes (dropping a sign may bring a ``NOT`` next to its word),
    so normalised text normalises to itself."""
    text = clean(text)
    for _ in range(MAX_PASSES):
        done = _pass(text)
        if done == text:
            break
        text = done
    return text


def _pass(text: str) -> str:
    text = _NO_MEANING.sub(" ", text)
    text = _NOT.sub(" -", text)
    text = _DANGLING.sub(" ", _signs(text))
    text = _balanced(text)
    while _EMPTY_GROUP.search(text):
        text = _EMPTY_GROUP.sub(" ", text)
    return " ".join(_signs(text).split())


def has_operators(text: str) -> bool:
    """Whether ``text`` asks for a phrase, an exclusion, a required word or a boolean combination."""
    normalised = normalise(text)
    return (
        '"' in normalised or bool(_SIGN.search(normalised)) or bool(OPERATOR_WORDS & set(normalised.split()))
    )


def has_exclusions(text: str) -> bool:
    """Whether ``text`` leaves something out (``-word``, ``-"phrase"``, ``-(group)``, ``NOT word``)."""
    return any(m.group() == "-" for m in _SIGN.finditer(normalise(text)))


def has_words(text: str) -> bool:
    """Whether ``text`` holds at least one word (letters or digits) to search for once normalised."""
    return any(
        re.search(r"\w", w) and w.strip('()"+-') not in OPERATOR_WORDS for w in normalise(text).split()
    )


def plain_words(text: str) -> str:
    """The words of ``text`` that are not excluded, without any syntax (a parser's fallback)."""
    text = normalise(text)
    while "(" in text:  # innermost groups first: excluded ones dropped, the others opened
        text = _GROUP.sub(r" \1 ", _NEGATED_GROUP.sub(" ", text))
    kept = [body for sign, body in _TERM.findall(text) if sign != "-"]
    words = re.sub(r"[^\w\s]+", " ", " ".join(kept)).split()
    return " ".join(w for w in words if w not in OPERATOR_WORDS)
