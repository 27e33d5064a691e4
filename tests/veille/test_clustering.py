"""StoryClusterer on hand-made vectors: joins, separations, stable ids, the time window, reseeding."""

from __future__ import annotations

import datetime as dt

import numpy as np

from veille.clustering import (
    ClusterParams,
    StoryCandidate,
    StoryClusterer,
    candidate,
    feature_text,
    signature,
    story_id_for,
)

T0 = dt.datetime(2024, 5, 1, 8, tzinfo=dt.UTC)
DIM = 8


def _unit(*weights: float) -> np.ndarray:
    vec = np.zeros(DIM, dtype=np.float32)
    vec[: len(weights)] = weights
    return vec / np.linalg.norm(vec)


def _item(key: str, vec: np.ndarray, text: str = "", hours: float | None = 0) -> StoryCandidate:
    at = T0 + dt.timedelta(hours=hours) if hours is not None else None
    return StoryCandidate(key=key, vector=vec, signature=signature(text or key), at=at)


def test_similar_vectors_join_and_different_ones_start_a_story() -> None:
    c = StoryClusterer(ClusterParams(threshold=0.9))
    first = c.assign(_item("a", _unit(1, 0.1)))
    assert first.created and first.story_id == story_id_for("a")
    close = c.assign(_item("b", _unit(1, 0.2)))
    assert not close.created and close.story_id == first.story_id and close.similarity > 0.9
    other = c.assign(_item("c", _unit(0, 1)))
    assert other.created and other.story_id != first.story_id
    assert len(c) == 2 and c.story_of("b") == first.story_id


def test_near_duplicate_text_joins_even_with_a_distant_vector() -> None:
    c = StoryClusterer()
    text = "Le port du Havre bat son record de conteneurs au premier trimestre selon HAROPA"
    story = c.assign(_item("a", _unit(1, 0), text)).story_id
    edited = c.assign(_item("b", _unit(0, 1), text + " (mis à jour)"))
    assert edited.story_id == story and edited.near_duplicate_of == "a"
    unrelated = c.assign(_item("c", _unit(0, 0, 1), "Grève des dockers à Marseille ce lundi"))
    assert unrelated.created


def test_story_id_is_stable_as_the_story_grows() -> None:
    c = StoryClusterer(ClusterParams(threshold=0.9))
    ids = {c.assign(_item(f"k{i}", _unit(1, 0.05 * i), hours=i)).story_id for i in range(6)}
    assert ids == {story_id_for("k0")}


def test_average_link_keeps_a_drifting_item_out() -> None:
    # the new item is close to one member only; the mean over members keeps it out
    c = StoryClusterer(ClusterParams(threshold=0.9, best_weight=0.3))
    for i in range(4):
        c.assign(_item(f"s{i}", _unit(1, 0.01 * i)))
    c.assign(_item("edge", _unit(1, 0.45)))  # joins (close enough to the group)
    drift = c.assign(_item("drift", _unit(1, 0.9)))
    assert drift.created


def test_window_evicts_old_stories() -> None:
    c = StoryClusterer(ClusterParams(threshold=0.9, window=dt.timedelta(hours=24)))
    old = c.assign(_item("a", _unit(1, 0), hours=0)).story_id
    assert c.assign(_item("b", _unit(1, 0.05), hours=20)).story_id == old  # within the window
    late = c.assign(_item("c", _unit(1, 0.05), hours=20 + 25))
    assert late.created and late.story_id != old
    assert c.story_of("a") is None  # the old story left the window with its members


def test_undated_items_never_evict() -> None:
    c = StoryClusterer(ClusterParams(threshold=0.9, window=dt.timedelta(hours=1)))
    first = c.assign(_item("a", _unit(1, 0), hours=None)).story_id
    assert c.assign(_item("b", _unit(1, 0.05), hours=None)).story_id == first


def test_same_order_same_stories() -> None:
    rng = np.random.default_rng(7)
    centres = [_unit(*rng.normal(size=DIM)) for _ in range(5)]
    items = []
    for n in range(40):
        vec = centres[n % 5] + rng.normal(scale=0.1, size=DIM).astype(np.float32)
        items.append(_item(f"i{n}", vec / np.linalg.norm(vec), hours=n))

    def run() -> list[str]:
        c = StoryClusterer(ClusterParams(threshold=0.85))
        return [c.assign(i).story_id for i in items]

    first = run()
    assert first == run()
    assert 3 <= len(set(first)) <= 10


def test_seed_restores_the_window() -> None:
    c = StoryClusterer(ClusterParams(threshold=0.9))
    c.seed("story-1", [_item("a", _unit(1, 0)), _item("b", _unit(1, 0.1))])
    joined = c.assign(_item("c", _unit(1, 0.05)))
    assert joined.story_id == "story-1" and not joined.created
    again = c.assign(_item("a", _unit(0, 1)))  # an item already placed keeps its story
    assert again.story_id == "story-1"


def test_feature_text_keeps_the_head_of_the_lead() -> None:
    lead = " ".join(f"mot{i}" for i in range(100))
    text = feature_text("Titre de l'article", lead, words=40)
    assert text.startswith("Titre de l'article mot0") and text.endswith("mot39")
    assert feature_text("Un titre", "Un titre repris puis la suite") == "Un titre repris puis la suite"


def test_shared_rare_words_tip_a_borderline_item_into_the_story() -> None:
    params = ClusterParams(threshold=0.76, lexical_weight=0.2)
    background = [f"actualite generale numero {n} du jour" for n in range(30)]

    def run(text: str) -> bool:
        c = StoryClusterer(params)
        for n, line in enumerate(background):  # the stream's IDF: these words are common
            c.assign(candidate(f"b{n}", line, _unit(0, 0, 0, 1, 0.01 * n), T0))
        story = c.assign(candidate("a", "Airbus livre son A321XLR a Iberia du jour", _unit(1, 0), T0))
        return c.assign(candidate("x", text, _unit(1, 0.6), T0)).story_id == story.story_id

    assert run("Iberia recoit enfin son A321XLR livre par Airbus")  # rare names in common
    assert not run("actualite generale du jour")  # only common words in common
