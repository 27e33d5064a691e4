"""``tfe taxonomy export|import|release|releases|history|revert`` on a real installation (own data dir)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import SKOS, Graph, Literal, URIRef

from taxonomy.skos import TFE
from tests.cli.runner import invoke
from tfe.app.install import init_installation
from tfe.app.runtime import Runtime
from tfe.core.settings import Settings

Env = dict[str, str | None]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Env:
    data = tmp_path_factory.mktemp("taxonomy-cli") / "data"
    rt = Runtime(Settings(data_dir=data, environment="test", secret_key="test-secret-key",
                          admin_password="admin-password-123"))
    init_installation(rt)
    init_installation(rt)  # idempotent: still one release « initial »
    rt.close()
    return {"TFE_DATA_DIR": str(data), "TFE_ENVIRONMENT": "test", "TFE_SECRET_KEY": "test-secret-key",
            "TFE_DATABASE_URL": None}


def _node(g: Graph, cid: str) -> URIRef:
    node = g.value(predicate=TFE.conceptId, object=Literal(cid))
    assert isinstance(node, URIRef)
    return node


def _ok(env: Env, *args: str) -> str:
    out = invoke(env, *args)
    assert out.returncode == 0, out.stderr
    return out.stdout


def _error(env: Env, *args: str) -> str:
    out = invoke(env, *args)
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    return out.stderr


def test_release_export_import_history_revert(env: Env, tmp_path: Path) -> None:
    releases = json.loads(_ok(env, "taxonomy", "releases", "--json"))
    assert [r["name"] for r in releases] == ["initial"] and releases[0]["concepts"] > 2000
    path = tmp_path / "t.ttl"
    assert "concepts écrits" in _ok(env, "taxonomy", "export", str(path), "--release", "initial")
    g = Graph().parse(path, format="turtle")
    wine = _node(g, "naf:11.02")
    g.set((wine, SKOS.prefLabel, Literal("Vinification", lang="fr")))
    new = URIRef(str(wine) + "-bio")
    g.add((new, URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), SKOS.Concept))
    for p, o in ((SKOS.inScheme, g.value(wine, SKOS.inScheme)), (SKOS.notation, Literal("11.02b")),
                 (SKOS.prefLabel, Literal("Vins biologiques", lang="fr")), (SKOS.broader, wine)):
        assert o is not None
        g.add((new, p, o))
    g.serialize(path, format="turtle")

    preview = _ok(env, "taxonomy", "import", str(path))
    assert preview.startswith("1 ajoutés, 1 renommés, 0 déplacés, 0 dépréciés"), preview
    assert "« Vinification »" in preview and "naf:11.02b" in preview and "--apply" in preview
    assert json.loads(_ok(env, "taxonomy", "history", "--json")) == []  # a preview writes nothing
    applied = json.loads(_ok(env, "taxonomy", "import", str(path), "--apply", "--reason", "essai", "--json"))
    change_id = applied["change"]["id"]
    assert applied["applied"] and applied["change"]["action"] == "import"
    assert "naf:11.02b" in applied["change"]["concepts"]
    history = json.loads(_ok(env, "taxonomy", "history", "--concept", "naf:11.02", "--json"))
    assert [h["id"] for h in history] == [change_id] and history[0]["reason"] == "essai"
    assert "Rien à importer" in _ok(env, "taxonomy", "import", str(path), "--apply")

    assert f"Modification n° {change_id} annulée" in _ok(env, "taxonomy", "revert", str(change_id))
    again = _ok(env, "taxonomy", "import", str(path))
    assert again.startswith("1 ajoutés, 1 renommés"), again  # the revert restored the release's rows
    _error(env, "taxonomy", "revert", str(change_id))

    assert "enregistrée" in _ok(env, "taxonomy", "release", "v2", "--note", "après essai")
    assert "existe déjà" in _error(env, "taxonomy", "release", "v2")
    assert "inconnue" in _error(env, "taxonomy", "export", str(path), "--release", "absente")
    names = [r["name"] for r in json.loads(_ok(env, "taxonomy", "releases", "--json"))]
    assert names == ["v2", "initial"]
    empty = tmp_path / "vide.ttl"
    empty.write_text("@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n", encoding="utf-8")
    assert "aucun concept SKOS" in _error(env, "taxonomy", "import", str(empty), "--apply")
