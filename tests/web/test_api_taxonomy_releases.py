"""Releases and SKOS import over the API on a real installation: list, create (curators; a taken name 409),
a release's Turtle, an upload previewed then applied as one change, refusals (type, size, bad Turtle,
roles) with nothing written, and the audit rows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rdflib import SKOS, Graph, Literal, URIRef
from sqlalchemy import func, select

from taxonomy.models import Concept, TaxonomyChange
from taxonomy.skos import TFE
from tests.web.conftest import Site, serve_site
from tfe.core.models import AuditEvent

IMPORT = "/api/taxonomy/import"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    yield from serve_site(tmp_path_factory.mktemp("taxonomy-releases"))


def _changes(site: Site) -> int:
    with site.rt.session() as s:
        return int(s.scalar(select(func.count()).select_from(TaxonomyChange)) or 0)


def _relabelled(turtle: bytes) -> bytes:
    """One concept of the release, relabelled (a partial file: its scheme and links are known)."""
    g = Graph().parse(data=turtle.decode(), format="turtle")
    node = g.value(predicate=TFE.conceptId, object=Literal("naf:11.02"))
    assert isinstance(node, URIRef)
    one = Graph()
    for triple in g.triples((node, None, None)):
        one.add(triple)
    one.set((node, SKOS.prefLabel, Literal("Vinification", lang="fr")))
    return one.serialize(format="turtle").encode()


def test_releases_skos_and_import(site: Site) -> None:
    carol, alice = site.auth("carol"), site.auth("alice")
    listed = site.client.get("/api/taxonomy/releases", headers=alice)
    assert listed.status_code == 200 and [r["name"] for r in listed.json()] == ["initial"]
    assert site.client.post("/api/taxonomy/releases", json={"name": "v1"}, headers=alice).status_code == 403
    made = site.client.post("/api/taxonomy/releases", json={"name": "v1", "note": "essai"}, headers=carol)
    assert made.status_code == 201 and made.json()["concepts"] > 2000
    again = site.client.post("/api/taxonomy/releases", json={"name": "v1"}, headers=carol)
    assert again.status_code == 409 and "existe déjà" in again.text
    skos = site.client.get("/api/taxonomy/releases/v1/skos", headers=alice)
    assert skos.status_code == 200 and skos.headers["content-type"].startswith("text/turtle")
    assert site.client.get("/api/taxonomy/releases/absente/skos", headers=alice).status_code == 404

    edited = _relabelled(skos.content)
    upload = {"file": ("taxonomie.ttl", edited, "text/turtle")}
    assert site.client.post(IMPORT, files=upload, headers=alice).status_code == 403
    refused = [
        ({"file": ("taxonomie.ttl", skos.content, "text/turtle")}, 413),  # over the upload cap
        ({"file": ("taxonomie.pdf", edited, "application/pdf")}, 415),
        ({"file": ("vide.ttl", b"@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n", "text/turtle")},
         400),
        ({"file": ("bad.ttl", b"ceci n'est pas du turtle {", "text/turtle")}, 400),
    ]
    for files, status in refused:
        answer = site.client.post(IMPORT, files=files, headers=carol)
        assert answer.status_code == status, answer.text
        assert "Traceback" not in answer.text
    preview = site.client.post(IMPORT, files=upload, headers=carol)
    assert preview.status_code == 200, preview.text
    plan = preview.json()["plan"]
    assert [c["id"] for c in plan["relabelled"]] == ["naf:11.02"] and preview.json()["change"] is None
    assert _changes(site) == 0  # a preview and the refusals wrote nothing
    applied = site.client.post(IMPORT, files=upload, data={"apply": "true", "reason": "essai"}, headers=carol)
    assert applied.status_code == 200, applied.text
    change = applied.json()["change"]
    assert change["action"] == "import" and change["concepts"] == ["naf:11.02"]
    with site.rt.session() as s:
        row = s.get(Concept, "naf:11.02")
        assert row is not None and row.pref_label_fr == "Vinification"
        actions = set(s.scalars(select(AuditEvent.action).where(AuditEvent.action.like("taxonomy.%"))))
    assert {"taxonomy.release", "taxonomy.export", "taxonomy.import", "taxonomy.import_preview"} <= actions
    assert _changes(site) == 1
