"""Incremental story clustering of watch items: each item joins the story it reports or starts one.

Pure algorithm, no database (``veille.stories`` stores what it decides). Items arrive one by one in
fetch order; the clusterer keeps a window of recent stories in memory and decides for each item:

1. near-duplicate fast path: a MinHash LSH over the word shingles of the headline and lead finds an
   earlier item of the window whose shingles overlap by ``near_duplicate`` (Jaccard) or more; the item
   joins that item's story (syndicated copies, small edits);
2. otherwise the e5 vector of the item is compared with the stories of the window: the stories whose
   centroid is closest are shortlisted, and each is scored by a blend of the cosine with the story's
   centroid, the mean cosine with its members (average link) and the best member's cosine, mixed with
   the IDF-weighted share of the item's words found in the story's members (IDF learnt from the stream:
   rare names and figures count, common words do not); the best story above ``threshold`` is joined,
   else a story starts.

The defaults were tuned once on development headlines (``tfe eval stories``), one set for all feeds:
e5 vectors of ``query: `` + headline and lead (``Embedder.query``).

A story's id is fixed by its first member (``story_id_for``) and never changes as it grows; the same
items in the same order give the same stories. Stories whose last item is older than ``window`` before
the newest item seen leave the window (items without a date never evict). ``seed`` reloads members
already assigned (the recent window after a restart) without deciding anything.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import unicodedata
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # datasketch is imported on first use: its package import pulls in redis clients
    from datasketch import MinHash

__all__ = [
    "Assignment",
    "ClusterParams",
    "StoryCandidate",
    "StoryClusterer",
    "as_utc",
    "candidate",
    "feature_text",
    "signature",
    "story_id_for",
    "words",
]

_WORD = re.compile(r"\w+")
# the permutation scheme of the stored signatures, named explicitly (datasketch >= 2.0): signatures of
# different schemes cannot be compared, so a change here means recomputing ``Item.story_signature``
MINHASH_SCHEME = "affine32"


def _minhash(num_perm: int, values: np.ndarray | None = None) -> MinHash:
    from datasketch import MinHash

    return MinHash(num_perm=num_perm, seed=1, hashvalues=values, scheme=MINHASH_SCHEME)


@dataclass(frozen=True)
class ClusterParams:
    """One parameter set for every feed (tuned on the development headlines, see ``tfe eval stories``)."""

    threshold: float = 0.736  # score needed to join a story
    best_weight: float = 0.3  # share of the best member's cosine in the vector score
    centroid_weight: float = 0.6  # share of the cosine with the story's centroid (the rest: mean cosine)
    lexical_weight: float = 0.2  # share of the IDF-weighted word overlap in the score (the rest: vectors)
    near_duplicate: float = 0.7  # estimated Jaccard of word shingles that makes a near-duplicate
    shingle: int = 2  # words per shingle
    num_perm: int = 64  # MinHash permutations (the stored signature has this many 64-bit values)
    window: dt.timedelta | None = dt.timedelta(days=3)
    shortlist: int = 16  # stories scored against their members, chosen by centroid similarity
    max_members: int = 64  # most recent members kept per story for scoring
    max_stories: int = 20000  # memory bound of the window (least recently seen leave first)


@dataclass(frozen=True)
class StoryCandidate:
    """What the clusterer needs of an item: its key, e5 vector, MinHash values and date."""

    key: str
    vector: np.ndarray  # L2-normalised float32
    signature: np.ndarray | None = None  # MinHash hash values (uint64), ``signature()``
    at: dt.datetime | None = None
    words: frozenset[str] = frozenset()  # ``words()`` of the feature text, for the lexical overlap


@dataclass(frozen=True)
class Assignment:
    story_id: str
    created: bool
    similarity: float  # the score that decided (1.0 for the first item of a story, Jaccard for a copy)
    near_duplicate_of: str | None = None


def as_utc(at: dt.datetime | None) -> dt.datetime | None:
    """``at`` as an aware UTC datetime (a naive one is taken as UTC, as SQLite returns them)."""
    if at is None:
        return None
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


def candidate(
    key: str,
    text: str,
    vector: np.ndarray,
    at: dt.datetime | None = None,
    params: ClusterParams | None = None,
    *,
    hashes: np.ndarray | None = None,
) -> StoryCandidate:
    """The candidate for an item whose feature text is ``text`` (``hashes``: its stored signature)."""
    return StoryCandidate(
        key=key,
        vector=vector,
        signature=hashes if hashes is not None else signature(text, params),
        at=at,
        words=words(text),
    )


def story_id_for(first_key: str) -> str:
    """The id of the story started by the item ``first_key`` (32 hex characters, stable)."""
    return hashlib.sha256(f"story:{first_key}".encode()).hexdigest()[:32]


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in text if not unicodedata.combining(c))


def feature_text(title: str, lead: str = "", *, words: int = 40) -> str:
    """The text the story features are computed from: the headline and the first words of the lead."""
    title = " ".join(title.split())
    lead_words = lead.split()[:words]
    if lead_words and " ".join(lead_words[:8]).lower().startswith(title.lower()[:40]):
        lead_words = lead_words[len(title.split()) :]  # a lead that repeats the headline
    return " ".join([title, *lead_words]).strip()


def words(text: str) -> frozenset[str]:
    """The folded words of ``text`` (two characters or more) that the lexical overlap compares."""
    return frozenset(w for w in _WORD.findall(_fold(text)) if len(w) > 1 or w.isdigit())


def signature(text: str, params: ClusterParams | None = None) -> np.ndarray:
    """MinHash hash values (uint64) of the word shingles of ``text`` (case and accents folded)."""
    params = params or ClusterParams()
    tokens = _WORD.findall(_fold(text))
    n = params.shingle
    shingles = {" ".join(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1))} or {""}
    mh = _minhash(params.num_perm)
    mh.update_batch([s.encode() for s in sorted(shingles)])
    return np.asarray(mh.hashvalues, dtype=np.uint64)


@dataclass
class _Story:
    id: str
    last_at: dt.datetime | None
    members: list[np.ndarray] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    total: np.ndarray | None = None  # sum of all member vectors (the centroid's direction)
    size: int = 0
    word_counts: Counter[str] = field(default_factory=Counter)  # members containing each word


class StoryClusterer:
    """Assigns items to stories incrementally over a window of recent stories (see the module doc)."""

    def __init__(self, params: ClusterParams | None = None) -> None:
        self.params = params or ClusterParams()
        self._stories: OrderedDict[str, _Story] = OrderedDict()  # least recently seen first
        from datasketch import MinHashLSH

        self._lsh = MinHashLSH(threshold=self.params.near_duplicate, num_perm=self.params.num_perm)
        self._hashes: dict[str, np.ndarray] = {}  # item key -> MinHash values, items of the window
        self._item_story: dict[str, str] = {}
        self._now: dt.datetime | None = None
        self._df: Counter[str] = Counter()  # items seen containing each word (the stream's IDF)
        self._seen = 0

    def __len__(self) -> int:
        return len(self._stories)

    def story_of(self, key: str) -> str | None:
        """The story of an item still in the window."""
        return self._item_story.get(key)

    # -- window -------------------------------------------------------------------------------------

    def _advance(self, at: dt.datetime | None) -> None:
        at = as_utc(at)
        if at is not None and (self._now is None or at > self._now):
            self._now = at
        window = self.params.window
        while self._stories:
            oldest = next(iter(self._stories.values()))
            too_old = (
                window is not None
                and self._now is not None
                and oldest.last_at is not None
                and oldest.last_at < self._now - window
            )
            if not too_old and len(self._stories) <= self.params.max_stories:
                break
            self._evict(oldest)

    def _evict(self, story: _Story) -> None:
        del self._stories[story.id]
        for key in story.keys:
            self._item_story.pop(key, None)
            if self._hashes.pop(key, None) is not None:
                self._lsh.remove(key)

    def _add(self, story: _Story, item: StoryCandidate) -> None:
        vec = np.asarray(item.vector, dtype=np.float32)
        at = as_utc(item.at)
        story.members.append(vec)
        if len(story.members) > self.params.max_members:
            story.members.pop(0)
        story.total = vec.copy() if story.total is None else story.total + vec
        story.size += 1
        story.word_counts.update(item.words)
        self._df.update(item.words)
        self._seen += 1
        story.keys.append(item.key)
        if at is not None and (story.last_at is None or at > story.last_at):
            story.last_at = at
        self._stories.move_to_end(story.id)
        self._item_story[item.key] = story.id
        if item.signature is not None and item.key not in self._hashes:
            values = np.asarray(item.signature, dtype=np.uint64)
            self._hashes[item.key] = values
            self._lsh.insert(item.key, _minhash(self.params.num_perm, values))

    # -- decisions ----------------------------------------------------------------------------------

    def seed(self, story_id: str, items: Iterable[StoryCandidate]) -> None:
        """Reload members already assigned to ``story_id`` (oldest first), deciding nothing."""
        for item in items:
            if item.key in self._item_story:
                continue  # already in the window (reloaded, then seen again)
            story = self._stories.get(story_id)
            if story is None:
                story = _Story(id=story_id, last_at=as_utc(item.at))
                self._stories[story_id] = story
            self._add(story, item)
            self._advance(item.at)

    def _near_duplicate(self, item: StoryCandidate) -> tuple[str, float] | None:
        if item.signature is None or not self._hashes:
            return None
        values = np.asarray(item.signature, dtype=np.uint64)
        query = _minhash(self.params.num_perm, values)
        best: tuple[str, float] | None = None
        for key in sorted(self._lsh.query(query)):
            jaccard = float(np.mean(self._hashes[key] == values))
            if jaccard >= self.params.near_duplicate and (best is None or jaccard > best[1]):
                best = (key, jaccard)
        return best

    def _idf(self, item_words: frozenset[str]) -> dict[str, float]:
        n = self._seen + 1
        return {w: math.log((n + 1) / (self._df.get(w, 0) + 1)) for w in item_words}

    def score(self, item: StoryCandidate) -> list[tuple[str, float]]:
        """The shortlisted stories of the window with the item's score, best first."""
        if not self._stories:
            return []
        stories = list(self._stories.values())
        vec = np.asarray(item.vector, dtype=np.float32)
        lam = self.params.lexical_weight
        idf = self._idf(item.words) if lam and item.words else {}
        idf_total = sum(idf.values())
        totals = np.vstack([s.total for s in stories if s.total is not None])
        norms = np.linalg.norm(totals, axis=1)
        centroid = totals @ vec / np.maximum(norms, 1e-9)
        k = min(self.params.shortlist, len(stories))
        top = np.argpartition(-centroid, k - 1)[:k] if k < len(stories) else np.arange(len(stories))
        w = self.params.best_weight
        scored = []
        c = self.params.centroid_weight
        for i in top:
            story = stories[i]
            sims = np.vstack(story.members) @ vec
            value = (1 - w - c) * float(sims.mean()) + w * float(sims.max()) + c * float(centroid[i])
            if idf_total > 0:
                overlap = sum(weight * story.word_counts[t] for t, weight in idf.items()) / story.size
                value = (1 - lam) * value + lam * overlap / idf_total
            scored.append((story.id, value))
        scored.sort(key=lambda pair: (-pair[1], pair[0]))
        return scored

    def assign(self, item: StoryCandidate) -> Assignment:
        """Join the item to its story or start one; the decision is final for this item."""
        self._advance(item.at)
        known = self._item_story.get(item.key)
        if known is not None:
            return Assignment(known, created=False, similarity=1.0)
        duplicate = self._near_duplicate(item)
        if duplicate is not None:
            story = self._stories[self._item_story[duplicate[0]]]
            self._add(story, item)
            return Assignment(story.id, False, duplicate[1], near_duplicate_of=duplicate[0])
        scored = self.score(item)
        if scored and scored[0][1] >= self.params.threshold:
            story = self._stories[scored[0][0]]
            self._add(story, item)
            return Assignment(story.id, created=False, similarity=scored[0][1])
        story = _Story(id=story_id_for(item.key), last_at=as_utc(item.at))
        self._stories[story.id] = story
        self._add(story, item)
        return Assignment(story.id, created=True, similarity=1.0)
