from __future__ import annotations

from pathlib import Path

from rdflib import SKOS, Graph, Literal, URIRef
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from taxonomy.live import DatabaseReferential
from taxonomy.loader import load_taxonomy
from taxonomy.models import Concept, ConceptScheme
from taxonomy.referential import SCHEMES, Referential
from taxonomy.skos import export_turtle, import_turtle
from taxonomy.version import current_version
from tests.taxonomy.conftest import Opener
from tfe.core.db import session_scope

# NAF, countries, M49 zones and document types (2016) plus the curated filière and signal schemes
SHIPPED = 2016 + sum(len(Referential.load().concepts(s)) for s in ("filiere", "signal"))


def _count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Concept)) or 0)


def test_loader_is_idempotent(db: sessionmaker[Session]) -> None:
    with session_scope(db) as s:
        first = load_taxonomy(s)
    assert first["naf"] == 1728 and first["country"] == 249 and first["doctype"] == 10
    assert first["created"] == 1728 + 249 + first["region"] + 10 + SHIPPED - 2016
    with session_scope(db) as s:
        n = _count(s)
        second = load_taxonomy(s)
    assert second["created"] == 0 and second["updated"] == 0
    with session_scope(db) as s:
        assert _count(s) == n
        assert s.scalar(select(func.count()).select_from(ConceptScheme)) == len(SCHEMES)
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
    assert counts["concepts"] == n and counts["created"] == n and counts["schemes"] == len(SCHEMES)
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


def _rows(session: Session) -> dict[str, dict[str, object]]:
    cols = [c.key for c in Concept.__table__.columns]
    return {r.id: {k: getattr(r, k) for k in cols} for r in session.scalars(select(Concept))}


def test_export_import_init_is_stable(seeded: Opener, tmp_path: Path) -> None:
    """Issue 12, defect 4: the round trip changes nothing (label order included) and says so."""
    path = tmp_path / "taxonomy.ttl"
    factory = seeded()
    with factory() as s:
        before, version = _rows(s), current_version(s)
    emirates = ["Émirats arabes unis", "Abou Dhabi", "Dubaï", "Emirats"]
    assert before["country:AE"]["alt_labels"] == {"fr": emirates, "en": ["United Arab Emirates", "Abu Dhabi",
                                                                        "Dubai", "Emirates"]}
    with session_scope(factory) as s:
        export_turtle(s, path)
    with session_scope(factory) as s:
        counts = import_turtle(s, path)
    expected = {"schemes": len(SCHEMES), "concepts": SHIPPED, "created": 0, "updated": 0,
                "unchanged": SHIPPED}
    assert counts == expected
    with factory() as s:
        assert _rows(s) == before and current_version(s) == version
    with session_scope(factory) as s:
        init = load_taxonomy(s)
    assert init["created"] == 0 and init["updated"] == 0
    with factory() as s:
        assert _rows(s) == before and current_version(s) == version


def test_import_into_an_empty_database_then_init_changes_nothing(
    db: sessionmaker[Session], other_db: sessionmaker[Session], tmp_path: Path
) -> None:
    path = tmp_path / "taxonomy.ttl"
    with session_scope(db) as s:
        load_taxonomy(s)
        export_turtle(s, path)
    with session_scope(other_db) as s:
        assert import_turtle(s, path)["created"] == SHIPPED
    with session_scope(other_db) as s:
        init = load_taxonomy(s)
        assert init["created"] == 0 and init["updated"] == 0
        de = s.get(Concept, "country:DE")
        assert de is not None and de.extra["alpha3"] == "DEU"  # tfe:extra travels


def test_import_counts_and_bumps_only_real_changes(seeded: Opener, tmp_path: Path) -> None:
    path = tmp_path / "taxonomy.ttl"
    factory = seeded()
    serving = DatabaseReferential(seeded(), check_interval=0)  # a running `tfe serve`
    assert serving.current().label("naf:01.15") == "Culture du tabac"
    with session_scope(factory) as s:
        export_turtle(s, path)
        version = current_version(s)
    g = Graph()
    g.parse(str(path), format="turtle")
    tobacco = URIRef("https://tfe.example.org/taxonomy/naf/01.15")
    emirates = URIRef("https://tfe.example.org/taxonomy/country/AE")
    g.remove((tobacco, SKOS.prefLabel, Literal("Culture du tabac", lang="fr")))
    g.add((tobacco, SKOS.prefLabel, Literal("Culture de la truffe", lang="fr")))
    g.add((emirates, SKOS.altLabel, Literal("États de la Trêve", lang="fr")))
    path.write_text(g.serialize(format="turtle"), encoding="utf-8")
    with session_scope(factory) as s:
        counts = import_turtle(s, path)
    assert counts["updated"] == 2 and counts["unchanged"] == SHIPPED - 2 and counts["created"] == 0
    with factory() as s:
        assert current_version(s) == (version or 0) + 1
        tobacco_row, ae = s.get(Concept, "naf:01.15"), s.get(Concept, "country:AE")
        assert tobacco_row is not None and tobacco_row.pref_label_fr == "Culture de la truffe"
        assert ae is not None  # the stored order is kept, the new label comes last
        assert ae.alt_labels["fr"] == ["Émirats arabes unis", "Abou Dhabi", "Dubaï", "Emirats",
                                       "États de la Trêve"]
    assert serving.current().label("naf:01.15") == "Culture de la truffe"
