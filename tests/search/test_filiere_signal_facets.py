"""The ``filiere`` and ``signal`` facets on the embedded backend: counted per parent, filtered (a filière
selects its sous-filières through the ancestors in ``meta.filieres``), combined with other facets."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.embedded import EmbeddedBackend
from search.testdata import SYSTEM, file_store, parents, run
from search.types import FACET_FIELDS, Passage
from tfe.core.errors import ValidationError

AGRI, VINS, SANTE = "filiere:agri-agro", "filiere:agri-agro.vins", "filiere:sante"
DOCS = {
    "vin": ("Vins en Chine", "Appel d'offres sur les marchés des vins français en Chine.",
            [VINS, AGRI], ["signal:tender"]),
    "lait": ("Fromages au Japon", "Les fromages français sur les marchés japonais.",
             [AGRI], ["signal:investment"]),
    "pharma": ("Pharmacie au Brésil", "Appel d'offres des hôpitaux brésiliens pour des marchés de santé.",
               [SANTE], ["signal:tender"]),
    "rien": ("Note interne", "Une note sans filière ni signal sur les marchés.", [], []),
}


def _backend(tmp_path: Path) -> EmbeddedBackend:
    backend = EmbeddedBackend(tmp_path / "index", file_store(tmp_path / "texts.sqlite3"))
    backend.write([
        Passage(f"{pid}:0", pid, title, text, 0,
                {"visibility": "public", "date": "2024-01-02", "filieres": fil, "signals": sig})
        for pid, (title, text, fil, sig) in DOCS.items()
    ])
    backend.commit()
    return backend


def test_filiere_and_signal_are_facets(tmp_path: Path) -> None:
    assert FACET_FIELDS["filiere"] == "filieres" and FACET_FIELDS["signal"] == "signals"
    backend = _backend(tmp_path)
    result = run(backend, "marchés", SYSTEM, mode="bm25")
    assert set(parents(result)) == set(DOCS)
    assert dict(result.facets["filiere"]) == {AGRI: 2, VINS: 1, SANTE: 1}
    assert dict(result.facets["signal"]) == {"signal:tender": 2, "signal:investment": 1}


def test_filiere_and_signal_filter(tmp_path: Path) -> None:
    backend = _backend(tmp_path)
    assert set(parents(run(backend, "", SYSTEM, mode="bm25", filters={"filiere": [AGRI]}))) == {"vin", "lait"}
    assert parents(run(backend, "", SYSTEM, mode="bm25", filters={"filiere": [VINS]})) == ["vin"]
    tenders = run(backend, "", SYSTEM, mode="bm25", filters={"signal": ["signal:tender"]})
    assert set(parents(tenders)) == {"vin", "pharma"}
    both = run(backend, "", SYSTEM, mode="bm25", filters={"signal": ["signal:tender"], "filiere": [AGRI]})
    assert parents(both) == ["vin"]
    assert run(backend, "", SYSTEM, mode="bm25", filters={"signal": ["signal:mna"]}).hits == []


def test_the_service_resolves_names_and_labels_the_facets_in_french(tmp_path: Path) -> None:
    from search.service import SearchService
    from taxonomy.referential import Referential

    ref = Referential.load()
    service = SearchService(_backend(tmp_path), None, ref.label, ref.resolve)
    out = service.search("", SYSTEM, filiere=["Vins et spiritueux"], signal=["signal:tender"])
    assert [h["id"] for h in out["hits"]] == ["vin"]
    labels = {f["id"]: f["label"] for f in out["facets"]["filiere"]}
    assert labels[VINS] == "Vins et spiritueux" and labels[AGRI] == "Agriculture et agroalimentaire"
    assert {f["label"] for f in out["facets"]["signal"]} == {ref.label("signal:tender")}
    with pytest.raises(ValidationError):
        service.search("", SYSTEM, filiere=["pas une filière"])
