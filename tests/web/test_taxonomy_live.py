"""Issue 5's acceptance check: a label changed by ``tfe taxonomy import`` in another process shows in a
running server's search facets and in the classifier's evidence, without a restart."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from rdflib import SKOS, Graph, Literal

from taxonomy.skos import TFE
from tests.web.conftest import make_installation
from tfe.app.runtime import Runtime
from tfe.app.web.app import create_app

pytestmark = pytest.mark.slow

NEW_DRINKS = "Boissons, vins et spiritueux"
NEW_TOBACCO = "Culture de la truffe"
TRUFFLE_NOTE = (
    "Culture de la truffe en Périgord. Notre exploitation pratique la culture de la truffe noire sur "
    "vingt hectares ; la culture de la truffe fait l'essentiel de nos ventes à l'export vers le Japon."
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, TestClient, dict[str, str]]]:
    rt, seed = make_installation(tmp_path_factory.mktemp("live-taxonomy"))
    with TestClient(create_app(rt)) as client:
        yield rt, client, seed.tokens
    rt.close()


def _tfe(rt: Runtime, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TFE_DATA_DIR": str(rt.settings.resolved_data_dir)}
    env.pop("TFE_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "tfe", *args], env=env, capture_output=True, text=True, timeout=300
    )


def _relabel(path: Path, labels: dict[str, str]) -> None:
    graph = Graph().parse(path, format="turtle")
    for node, concept_id in graph.subject_objects(TFE.conceptId):
        if str(concept_id) in labels:
            french = [o for o in graph.objects(node, SKOS.prefLabel) if getattr(o, "language", None) == "fr"]
            for old in french:
                graph.remove((node, SKOS.prefLabel, old))
            graph.add((node, SKOS.prefLabel, Literal(labels[str(concept_id)], lang="fr")))
    graph.serialize(path, format="turtle")


def test_imported_label_reaches_facets_and_evidence_without_restart(
    served: tuple[Runtime, TestClient, dict[str, str]], tmp_path: Path
) -> None:
    rt, client, tokens = served
    alice = {"Authorization": f"Bearer {tokens['alice']}"}

    def sector_labels() -> dict[str, str]:
        body = client.get("/api/search", params={"q": "vins"}, headers=alice).json()
        return {f["id"]: f["label"] for f in body["facets"]["sector"]}

    assert sector_labels()["naf:11"] == "Fabrication de boissons"
    warm = {"file": ("vins.txt", "Vins de Bordeaux exportés en Allemagne.".encode(), "text/plain")}
    assert client.post("/api/documents", files=warm, headers=alice).status_code == 201  # pipeline built now
    export = tmp_path / "taxonomie.ttl"
    assert _tfe(rt, "taxonomy", "export", str(export)).returncode == 0
    _relabel(export, {"naf:11": NEW_DRINKS, "naf:01.15": NEW_TOBACCO})
    out = _tfe(rt, "taxonomy", "import", str(export), "--apply", "--json")  # another process, as an operator
    assert out.returncode == 0, out.stderr
    assert '"relabelled": 2' in out.stdout

    deadline = time.monotonic() + 10
    while sector_labels()["naf:11"] != NEW_DRINKS and time.monotonic() < deadline:
        time.sleep(0.3)
    assert sector_labels()["naf:11"] == NEW_DRINKS  # the running server's facets, no restart

    files = {"file": ("truffes.txt", TRUFFLE_NOTE.encode(), "text/plain")}
    created = client.post("/api/documents", files=files, data={"visibility": "organisation"}, headers=alice)
    assert created.status_code == 201, created.text
    doc = client.get(f"/api/documents/{created.json()['id']}", headers=alice).json()
    truffle = [c for c in doc["classifications"] if c["id"].startswith("naf:01.1")]
    assert truffle, doc["classifications"]
    assert any("truffe" in " ".join(c["evidence"]) for c in truffle), truffle
    assert any(c["label"] == NEW_TOBACCO for c in truffle)
