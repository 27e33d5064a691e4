"""The OpenSearch backend's own behaviour on a real server process (osmem-server, or the cluster of
``TFE_OPENSEARCH_URL``): the index template, no text in the index, bad input, erasure, an unreachable
cluster (503 with a French message, ``/healthz`` says so), the factory, and ``tfe reindex --backend
opensearch`` moving an installation over (resumable)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from search.embedded import EmbeddedBackend
from search.factory import make_backend as factory_backend
from search.opensearch import OpenSearchBackend
from search.opensearch_maintenance import generations
from search.opensearch_mapping import ANALYZER, index_template
from search.opensearch_migrate import migrate
from search.testdata import ANONYMOUS, MODES, SYSTEM, corpus_passages, file_store, parents, run
from search.types import SearchQuery
from tests.conftest import make_settings
from tests.search import test_opensearch_conformance as conformance
from tests.web.conftest import PASSWORD
from tests.web.signin import sign_in
from tfe.core.errors import BackendError, ConfigurationError

cluster = conformance.cluster  # the same session fixtures: osmem-server, or TFE_OPENSEARCH_URL
knn_supported = conformance.knn_supported
make_backend = conformance.make_backend

SYNTAX = ['"vins', "vin:", "(vin", "AND", "vin OR", "title:vin", "a:b:c ))", "+-!^~*", "\\", "[1 TO 5", "'"]
BAD_INPUT = ["le la les de", "?!;,.", "vin " * 125, 'vins "Allemagne', "-vins", "vins AND", "OR OR", '""']


@pytest.fixture
def backend(cluster: tuple[str, str], knn_supported: bool, tmp_path: Path) -> Iterator[OpenSearchBackend]:
    b = make_backend(cluster, tmp_path, knn_supported)
    b.write([replace(p) for p in corpus_passages()])
    b.commit()
    yield b
    b.drop()
    b.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_template_french_analysis_keywords_and_knn_vector() -> None:
    template = index_template("tfe-passages", ANALYZER)["template"]
    analysis = template["settings"]["analysis"]
    chain = analysis["analyzer"][ANALYZER]["filter"]
    types = [analysis["filter"].get(f, {"type": f})["type"] for f in chain]
    assert types == ["elision", "lowercase", "stop", "asciifolding", "stemmer"]
    assert analysis["filter"]["tfe_french_stemmer"]["language"] == "light_french"
    assert analysis["filter"]["tfe_french_stop"]["stopwords"] == "_french_"
    props = template["mappings"]["properties"]
    assert props["embedding"]["type"] == "knn_vector" and props["embedding"]["dimension"] == 384
    for facet in ("f_sector_facet", "f_countries", "f_doc_type", "f_org_id", "f_language"):
        assert props[facet] == {"type": "keyword"}
    assert {"title", "text"} <= set(template["mappings"]["_source"]["excludes"])


def test_production_template_is_accepted_and_stored(cluster: tuple[str, str], tmp_path: Path) -> None:
    b = OpenSearchBackend(cluster[0], file_store(tmp_path / "t.sqlite3"), index=f"tfe-tpl-{time.time_ns()}")
    try:
        b.ensure_index()
        stored = b.client.indices.get_index_template(name=f"tfe-passages-{b.index}")["index_templates"][0]
        assert stored["index_template"]["index_patterns"] == [f"{b.index}-*"]
        (mapping,) = b.client.indices.get_mapping(index=b.index).values()
        assert mapping["mappings"]["properties"]["text"]["analyzer"] == ANALYZER
    finally:
        b.drop()
        b.close()


def test_the_index_stores_no_text(backend: OpenSearchBackend) -> None:
    raw = backend.client.search(index=backend.index, body={"query": {"match_all": {}}, "size": 50})
    sources = json.dumps([h["_source"] for h in raw["hits"]["hits"]], ensure_ascii=False)
    assert len(raw["hits"]["hits"]) == len(corpus_passages())
    for p in corpus_passages():
        assert p.text not in sources and p.title not in sources
    assert "doc-vin" in parents(run(backend, "vins", mode="bm25"))  # the text is indexed all the same


@pytest.mark.parametrize("text", SYNTAX + BAD_INPUT)
def test_user_syntax_never_raises_bm25(backend: OpenSearchBackend, text: str) -> None:
    result = run(backend, text, mode="bm25")
    assert result.total >= len(result.hits) and all(h.parent_id for h in result.hits)


@pytest.mark.parametrize("mode", MODES)
def test_bad_input_gives_a_result(backend: OpenSearchBackend, mode: str) -> None:
    for text in BAD_INPUT:
        result = run(backend, text, mode=mode)  # type: ignore[arg-type]
        assert result.total >= len(result.hits)
    assert run(backend, "vins", mode=mode, filters={"sector": ["naf:99.99"]}).total == 0  # type: ignore[arg-type]


def test_scope_inside_the_aggregations(backend: OpenSearchBackend) -> None:
    everything = run(backend, "", scope=SYSTEM, limit=1)
    public = run(backend, "", scope=ANONYMOUS, limit=1)
    assert everything.total == 9 and public.total == 4
    assert dict(everything.facets["sector"])["naf:11"] == 6 and dict(public.facets["sector"])["naf:11"] == 2


def test_exclude_parents_and_parent_vector(backend: OpenSearchBackend) -> None:
    found = run(backend, "vins", mode="bm25", limit=50, exclude_parents=("doc-vin",))
    assert "doc-vin" not in parents(found) and "item-chine" in parents(found)
    vec = backend.parent_vector("doc-vin")
    assert vec is not None and vec.shape == (384,) and abs(float((vec * vec).sum()) - 1.0) < 1e-4
    assert backend.parent_vector("doc-nothing") is None


def test_erase_parents_leaves_nothing(backend: OpenSearchBackend) -> None:
    stats = backend.erase_parents(["doc-vin", "doc-nothing"])
    assert stats["parents"] == 2 and stats["passages"] == 2
    assert stats["passages_left"] == len(corpus_passages()) - 2 == backend.count()
    assert "doc-vin" not in parents(run(backend, "vins Allemagne", mode="bm25", limit=50))
    assert backend.texts.ids_of_parents(["doc-vin"]) == []


def test_rebuild_keeps_vectors(backend: OpenSearchBackend) -> None:
    (before,) = generations(backend)
    stats = backend.rebuild(keep_vectors=True)
    (after,) = generations(backend)
    assert after != before and not backend.client.indices.exists(index=before)
    assert stats["passages"] == len(corpus_passages()) == stats["vectors_kept"]
    assert backend.count_missing_embeddings() == 0
    assert parents(run(backend, "énergie", mode="bm25"))[0] == "doc-energie"


def test_unreachable_cluster_is_a_503_in_french(tmp_path: Path) -> None:
    b = OpenSearchBackend(f"http://127.0.0.1:{_free_port()}", file_store(tmp_path / "t.sqlite3"), timeout_s=1)
    t0 = time.monotonic()
    with pytest.raises(BackendError) as caught:
        b.search(SearchQuery(text="vins", scope=SYSTEM, mode="bm25"))
    assert caught.value.http_status == 503 and "indisponible" in caught.value.message
    assert time.monotonic() - t0 < 10
    assert b.health()["state"] == "error"
    b.write([replace(p) for p in corpus_passages()[:1]])
    with pytest.raises(BackendError):
        b.commit()
    b.close()


def test_factory(tmp_path: Path, cluster: tuple[str, str]) -> None:
    settings = make_settings(tmp_path, search_backend="opensearch", opensearch_url=cluster[0])
    b = factory_backend(settings)
    assert isinstance(b, OpenSearchBackend) and b.index == "tfe-passages" and b.timeout_s == 5.0
    b.close()
    with pytest.raises(ConfigurationError):
        factory_backend(make_settings(tmp_path, search_backend="opensearch"))


def test_migrate_from_embedded_is_resumable(
    cluster: tuple[str, str], knn_supported: bool, tmp_path: Path
) -> None:
    texts = file_store(tmp_path / "texts.sqlite3")
    source = EmbeddedBackend(tmp_path / "index", texts)
    source.write([replace(p) for p in corpus_passages()])
    source.commit()
    target = make_backend(cluster, tmp_path, knn_supported)
    target.texts = texts
    try:
        seen: list[int] = []
        first = migrate(source, target, batch=4, progress=seen.append)
        assert first["passages"] == first["written"] == len(corpus_passages()) == sum(seen)
        assert first["vectors"] == len(corpus_passages()) and target.count_missing_embeddings() == 0
        again = migrate(source, target, batch=4)
        assert again["written"] == 0 and again["skipped"] == len(corpus_passages())
        for mode in MODES:
            assert parents(run(target, "vins Allemagne", scope=ANONYMOUS, mode=mode)) == parents(
                run(source, "vins Allemagne", scope=ANONYMOUS, mode=mode)
            )
    finally:
        target.drop()
        target.close()
        source.close()


def test_cli_reindex_backend_opensearch(
    cluster: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tfe.app.cli import app

    data = tmp_path / "data"
    index = f"tfe-cli-{time.time_ns()}"
    for key, value in {
        "TFE_DATA_DIR": str(data),
        "TFE_ENVIRONMENT": "test",
        "TFE_ADMIN_PASSWORD": "admin-password-123",
        "TFE_OPENSEARCH_URL": cluster[0],
        "TFE_OPENSEARCH_INDEX": index,
        "TFE_OPENSEARCH_REPLICAS": "0",
    }.items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()
    assert runner.invoke(app, ["init"]).exit_code == 0
    from tfe.app.runtime import Runtime
    from tfe.core.settings import Settings

    rt = Runtime(Settings())
    rt.backend.write([replace(p) for p in corpus_passages()])
    rt.backend.commit()
    rt.close()
    result = runner.invoke(app, ["reindex", "--backend", "opensearch", "--no-progress", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["passages"] == summary["vectors"] == len(corpus_passages())
    assert summary["missing_vectors"] == 0 and summary["index"] == index
    again = json.loads(
        runner.invoke(app, ["reindex", "--backend", "opensearch", "--no-progress", "--json"]).stdout
    )
    assert again["written"] == 0 and again["skipped"] == len(corpus_passages())
    monkeypatch.setenv("TFE_OPENSEARCH_URL", f"http://127.0.0.1:{_free_port()}")
    monkeypatch.setenv("TFE_OPENSEARCH_TIMEOUT_S", "1")
    down = runner.invoke(app, ["reindex", "--backend", "opensearch", "--no-progress"])
    assert down.exit_code != 0 and "indisponible" in down.stderr and "Traceback" not in down.output
    bad = runner.invoke(app, ["reindex", "--backend", "solr"])
    assert bad.exit_code != 0 and "unknown backend" in bad.stderr
    OpenSearchBackend(cluster[0], index=index).drop()


def test_web_503_and_healthz_when_the_cluster_is_down(tmp_path: Path) -> None:
    from tfe.app.install import init_installation
    from tfe.app.runtime import Runtime
    from tfe.app.web.app import create_app
    from tfe.core.security import identity

    settings = make_settings(
        tmp_path,
        search_backend="opensearch",
        opensearch_url=f"http://127.0.0.1:{_free_port()}",
        opensearch_timeout_s=1,
        secret_key="test-secret-key",
    )
    rt = Runtime(settings)
    init_installation(rt)
    with rt.session() as session:
        org = identity.get_or_create_org(session, "alpha", "CCI Alpha", "regional_chamber")
        user = identity.create_user(
            session, email="a@alpha.fr", org=org, role="reader", name="A", password=PASSWORD
        )
        token = identity.create_token(session, user, name="tests")[1]
    with TestClient(create_app(rt)) as client:
        health = client.get("/healthz")
        assert health.status_code == 503
        assert health.json()["search"] == "error" and health.json()["search_backend"] == "opensearch"
        assert health.json()["db"] == "ok"
        found = client.get("/api/search", params={"q": "vins"}, headers={"Authorization": f"Bearer {token}"})
        assert found.status_code == 503, found.text
        error = found.json()["error"]
        assert error["code"] == "backend_unavailable" and "indisponible" in error["message"]
        sign_in(client, "a@alpha.fr")
        page = client.get("/recherche", params={"q": "vins"}, headers={"Accept": "text/html"})
        assert page.status_code == 503 and "Service momentanément indisponible" in page.text
        assert "Traceback" not in page.text
    rt.close()
