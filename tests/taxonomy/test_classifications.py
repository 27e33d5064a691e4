"""Classification rows: written by ``save_classifications``, read back with the database's labels."""

from __future__ import annotations

from sqlalchemy import func, select

from taxonomy.classifications import classifications_of, save_classifications
from taxonomy.classifier import Scored
from taxonomy.models import Classification
from taxonomy.models import Concept as ConceptRow
from tests.taxonomy.conftest import Opener
from tfe.core.db import session_scope


def test_save_and_read(seeded: Opener) -> None:
    factory = seeded()
    scored = [Scored("naf:11.02", 0.8, ["vin"]), Scored("country:DE", 0.5, ["Allemagne×2"]),
              Scored("naf:99.99", 0.9, []), Scored("naf:11.02", 0.1, [])]
    with session_scope(factory) as s:
        assert save_classifications(s, "document", "d1", scored) == 2  # unknown and repeated skipped
    with factory() as s:
        views = classifications_of(s, "document", "d1")
    assert [(v.concept_id, v.scheme, v.method, v.evidence) for v in views] == [
        ("naf:11.02", "naf", "rule", ["vin"]), ("country:DE", "country", "rule", ["Allemagne×2"])]
    assert views[0].label == "Production de vin (de raisin)"
    with session_scope(factory) as s:  # a curator relabels: the read side shows it at once
        row = s.get(ConceptRow, "naf:11.02")
        assert row is not None
        row.pref_label_fr = "Vins tranquilles"
    with factory() as s:
        assert classifications_of(s, "document", "d1")[0].label == "Vins tranquilles"


def test_replace_rewrites_one_method(seeded: Opener) -> None:
    factory = seeded()
    with session_scope(factory) as s:
        save_classifications(s, "item", "i1", [Scored("naf:11.02", 0.8)])
        save_classifications(s, "item", "i1", [Scored("country:JP", 1.0)], method="curator")
    with session_scope(factory) as s:
        assert save_classifications(s, "item", "i1", [Scored("naf:10.11", 0.6)], replace=True) == 1
    with factory() as s:
        kept = sorted(v.concept_id for v in classifications_of(s, "item", "i1"))
        assert kept == ["country:JP", "naf:10.11"]
        assert save_classifications(s, "item", "i2", []) == 0
        assert s.scalar(select(func.count()).select_from(Classification)) == 2
