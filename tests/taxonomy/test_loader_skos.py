from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from taxonomy.loader import load_taxonomy
from taxonomy.models import Concept, ConceptScheme
from taxonomy.skos import export_turtle, import_turtle
from tfe.core.db import session_scope


def _count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Concept)) or 0)


def test_loader_is_idempotent(db: sessionmaker[Session]) -> None:
    with session_scope(db) as s:
        first = load_taxonomy(s)
    assert first["naf"] == 1728 and first["country"] == 249 and first["doctype"] == 10
    assert first["created"] == 1728 + 249 + first["region"] + 10
    with session_scope(db) as s:
        n = _count(s)
        second = load_taxonomy(s)
    assert second["created"] == 0 and second["updated"] == 0
    with session_scope(db) as s:
        assert _count(s) == n
        assert s.scalar(select(func.count()).select_from(ConceptScheme)) == 4
        wine = s.get(Concept, "naf:11.02B")
        assert wine is not None and wine.broader_id == "naf:11.02"
        de = s.get(Concept, "country:DE")
        assert de is not None and de.broader_id == "region:155" and "allemande" in de.hidden_labels["fr"]


def test_skos_round_trip(db: sessionmaker[Session], other_db: sessionmaker[Session], tmp_path: Path) -> None:
    path = tmp_path / "taxonomy.ttl"
    with session_scope(db) as s:
        load_taxonomy(s)
        n = export_turtle(s, path)
    text = path.read_text(encoding="utf-8")
    assert "skos:ConceptScheme" in text and "skos:topConceptOf" in text and '"Allemagne"@fr' in text
    with session_scope(other_db) as s:
        counts = import_turtle(s, path)
    assert counts["concepts"] == n and counts["created"] == n and counts["schemes"] == 4
    with session_scope(db) as a, session_scope(other_db) as b:
        for cid in ("naf:11.02B", "country:VN", "region:150", "doctype:tender"):
            x, y = a.get(Concept, cid), b.get(Concept, cid)
            assert x is not None and y is not None
            for field in ("scheme_id", "notation", "level", "pref_label_fr", "pref_label_en", "broader_id",
                          "definition_en"):
                assert getattr(x, field) == getattr(y, field), (cid, field)
            assert {k: sorted(v) for k, v in x.alt_labels.items()} == y.alt_labels
    # importing again changes nothing
    with session_scope(other_db) as s:
        again = import_turtle(s, path)
    assert again["created"] == 0 and again["updated"] == 0
