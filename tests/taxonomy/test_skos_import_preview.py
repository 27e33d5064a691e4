"""SKOS import preview and apply (issue 10): every new column round-trips, a release exports its snapshot,
the plan lists what an import changes, refused files write nothing, an applied import is one change that
reverts."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import SKOS, Graph, Literal, URIRef
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from taxonomy.loader import load_taxonomy
from taxonomy.models import Concept, TaxonomyChange
from taxonomy.releases import create_release, ensure_initial_release, get_release, list_releases
from taxonomy.skos import TFE, export_turtle
from taxonomy.skos_diff import apply_import, preview_import
from taxonomy.version import current_version
from tfe.core.db import session_scope
from tfe.core.errors import ConflictError, NotFoundError, ValidationError

RULES = [{"kind": "phrase", "pattern": "vin de bordeaux", "language": "fr", "negative": [], "weight": 1.0,
          "threshold": 85}]


@pytest.fixture
def loaded(db: sessionmaker[Session]) -> sessionmaker[Session]:
    with session_scope(db) as s:
        load_taxonomy(s)
        wine = s.get(Concept, "naf:11.02")
        assert wine is not None
        wine.scope_note_fr = "Vins tranquilles et effervescents"
        wine.related = ["naf:01.21"]
        wine.mappings = [{"relation": "closeMatch", "target": "naf:46.34"}]
        wine.rules = RULES
        old = s.get(Concept, "naf:01.11")
        assert old is not None
        old.deprecated, old.replaced_by_id = True, "naf:01.13"
    return db


def _node(g: Graph, cid: str) -> URIRef:
    node = g.value(predicate=TFE.conceptId, object=Literal(cid))
    assert isinstance(node, URIRef), cid
    return node


def _count(s: Session, model: type) -> int:
    return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_new_columns_round_trip_and_release_export(loaded: sessionmaker[Session], tmp_path: Path) -> None:
    path = tmp_path / "t.ttl"
    with session_scope(loaded) as s:
        export_turtle(s, path)
        plan = preview_import(s, path)
        assert plan.concepts == [] and plan.unchanged == plan.total > 2000  # nothing to change
        release = create_release(s, "v1", note="avant")
        with pytest.raises(ConflictError, match="existe déjà"):
            create_release(s, "v1")
        wine = s.get(Concept, "naf:11.02")
        assert wine is not None
        wine.pref_label_fr = "Vins, après la version"
        s.flush()
        export_turtle(s, tmp_path / "r.ttl", release=release)
    text = (tmp_path / "r.ttl").read_text(encoding="utf-8")
    assert "Vins tranquilles et effervescents" in text and "vin de bordeaux" in text
    assert "Vins, après la version" not in text  # the release, not the live rows
    g = Graph().parse(path, format="turtle")
    wine_node = _node(g, "naf:11.02")
    assert (wine_node, SKOS.related, _node(g, "naf:01.21")) in g
    assert (wine_node, SKOS.closeMatch, _node(g, "naf:46.34")) in g
    assert "Vins tranquilles et effervescents" in {str(o) for o in g.objects(wine_node, SKOS.scopeNote)}
    with session_scope(loaded) as s:
        assert [r.name for r in list_releases(s)] == ["v1"]
        assert get_release(s, "v1").snapshot["concepts"]
        with pytest.raises(NotFoundError):
            get_release(s, "absente")
        assert ensure_initial_release(s) is True and ensure_initial_release(s) is False


def _edited_file(loaded: sessionmaker[Session], tmp_path: Path) -> Path:
    path = tmp_path / "t.ttl"
    with session_scope(loaded) as s:
        export_turtle(s, path)
    g = Graph().parse(path, format="turtle")
    wine = _node(g, "naf:11.02")
    g.set((wine, SKOS.prefLabel, Literal("Vinification", lang="fr")))
    for o in list(g.objects(wine, SKOS.prefLabel)):
        if getattr(o, "language", None) == "en":
            g.remove((wine, SKOS.prefLabel, o))
    g.add((wine, SKOS.prefLabel, Literal("Winemaking", lang="en")))
    beer = _node(g, "naf:11.05")
    g.set((beer, SKOS.broader, _node(g, "naf:10.5")))
    g.set((beer, TFE.deprecated, Literal(True)))  # also deprecated
    new = URIRef(str(wine) + "-bio")
    scheme = g.value(wine, SKOS.inScheme)
    assert isinstance(scheme, URIRef)
    for p, o in ((SKOS.inScheme, scheme), (SKOS.notation, Literal("11.02b")),
                 (SKOS.prefLabel, Literal("Vins biologiques", lang="fr")), (SKOS.broader, wine)):
        g.add((new, p, o))
    g.add((new, URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), SKOS.Concept))
    g.set((_node(g, "naf:11.03"), SKOS.scopeNote, Literal("Cidre et poiré", lang="fr")))
    g.serialize(path, format="turtle")
    return path


def test_preview_lists_then_apply_is_one_change_that_reverts(
    loaded: sessionmaker[Session], tmp_path: Path
) -> None:
    path = _edited_file(loaded, tmp_path)
    with session_scope(loaded) as s:
        version = current_version(s)
        plan = preview_import(s, path).as_dict()
        assert current_version(s) == version and _count(s, TaxonomyChange) == 0  # nothing written
    assert [c["label"] for c in plan["added"]] == ["Vins biologiques"]
    assert [(c["id"], c["after"]) for c in plan["relabelled"]] == [("naf:11.02", "Vinification")]
    assert [c["id"] for c in plan["moved"]] == ["naf:11.05"] and [c["id"] for c in plan["deprecated"]] == [
        "naf:11.05"]
    assert [c["id"] for c in plan["changed"]] == ["naf:11.03"] and plan["new_schemes"] == []
    assert plan["counts"]["unchanged"] == plan["total"] - 4
    with session_scope(loaded) as s:
        change = apply_import(s, path, user_id=None, reason="révision annuelle")
        assert change is not None and change.action == "import"
        assert sorted(change.after) == sorted(["naf:11.02", "naf:11.03", "naf:11.05", "naf:11.02b"])
        change_id = change.id
    with session_scope(loaded) as s:
        assert _count(s, TaxonomyChange) == 1
        wine = s.get(Concept, "naf:11.02")
        assert wine is not None and wine.pref_label_fr == "Vinification" and wine.rules == RULES
        assert s.get(Concept, "naf:11.02b") is not None
        assert preview_import(s, path).concepts == []  # applied: a second preview has nothing to do
    from taxonomy.editing import revert_change

    with session_scope(loaded) as s:
        revert_change(s, change_id, user_id=None, reason="erreur")
    with session_scope(loaded) as s:
        wine = s.get(Concept, "naf:11.02")
        assert wine is not None and wine.pref_label_fr == "Production de vin (de raisin)"
        assert s.get(Concept, "naf:11.02b") is None
        beer = s.get(Concept, "naf:11.05")
        assert beer is not None and not beer.deprecated


def _turtle(body: str) -> str:
    return ("@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
            "@prefix tfe: <https://tfe.example.org/ns#> .\n" + body)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("ceci n'est pas du turtle {", "n'est pas un fichier Turtle valide"),
        (_turtle("<http://x/s> a skos:ConceptScheme .\n"), "ne contient aucun concept SKOS"),
        (_turtle("<http://x/a> a skos:Concept ; skos:inScheme <http://x/nope> .\n"), "schéma inconnu"),
        (_turtle("<http://x/s> a skos:ConceptScheme .\n<http://x/s/a> a skos:Concept ; skos:inScheme "
                 "<http://x/s> ; skos:broader <http://x/s/zz> .\n"), "concept générique inconnu"),
        (_turtle("<http://x/s> a skos:ConceptScheme .\n"
                 "<http://x/s/a> a skos:Concept ; skos:inScheme <http://x/s> ;"
                 " skos:broader <http://x/s/b> .\n"
                 "<http://x/s/b> a skos:Concept ; skos:inScheme <http://x/s> ;"
                 " skos:broader <http://x/s/a> .\n"),
         "cycle de skos:broader"),
        (_turtle("<http://x/s> a skos:ConceptScheme .\n<http://x/s/a> a skos:Concept ; skos:inScheme "
                 "<http://x/s> ; tfe:rules '[{\"kind\": \"regex\", \"pattern\": \"(\"}]' .\n"),
         "règle invalide"),
    ],
)
def test_refused_files_write_nothing(
    loaded: sessionmaker[Session], tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.ttl"
    path.write_text(content, encoding="utf-8")
    with session_scope(loaded) as s:
        before = (_count(s, Concept), current_version(s))
        with pytest.raises(ValidationError, match=message) as caught:
            apply_import(s, path, user_id=None, reason="")
        assert "\n" not in caught.value.message
    with session_scope(loaded) as s:
        assert (_count(s, Concept), current_version(s)) == before and _count(s, TaxonomyChange) == 0
