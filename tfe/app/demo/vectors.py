"""The demo's vectors, computed in advance (``search.known_vectors``): ``vectors.npz`` holds the model's
vector of every passage and query a demo load embeds (the corpus, the feeds and crawled pages, the
stories' and classifier's queries, the simulated colleagues' searches), so ``tfe demo`` does not spend
minutes computing what every installation computes alike. Texts it does not hold (anything edited,
uploaded or searched since) go to the model as usual; a model other than the one that made the file
makes it know nothing. ``scripts/build_demo_vectors.py`` rebuilds it after the corpus, the feeds, the
chunking or the model change (``tests/core/test_demo.py`` fails while it is stale).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from search.known_vectors import KnownVectors
from tfe.app.demo import DEMO_DIR

if TYPE_CHECKING:
    from tfe.app.runtime import Runtime

__all__ = ["VECTORS", "demo_vectors", "use_demo_vectors"]

VECTORS = DEMO_DIR / "vectors.npz"


@lru_cache(maxsize=1)
def demo_vectors() -> KnownVectors:
    return KnownVectors.load(VECTORS)


def use_demo_vectors(rt: Runtime) -> None:
    """Let ``rt``'s embedder take the demo's known vectors (kept if it has its own already)."""
    if rt.embedder.known is None:
        rt.embedder.known = demo_vectors()
