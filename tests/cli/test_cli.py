"""The ``tfe`` command line as a user runs it, on a temporary data dir.

The commands run in this process (``tests.cli.runner``: the real entry point, its own stdin, stdout,
stderr and environment; the models load once), except the smoke tests of ``python -m tfe`` itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.runner import invoke
from tfe.app.demo import CORPUS_DIR, FEEDS_DIR

pytestmark = pytest.mark.slow


def env_for(data_dir: Path) -> dict[str, str | None]:
    return {
        "TFE_DATA_DIR": str(data_dir),
        "TFE_ADMIN_PASSWORD": "admin-password-123",
        "TFE_DATABASE_URL": None,
    }


def run(data_dir: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """``tfe ARGS`` in this process."""
    return invoke(env_for(data_dir), *args, stdin=stdin)


def run_process(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m tfe ARGS`` in a real subprocess."""
    env = {**os.environ, "TFE_DATA_DIR": str(data_dir), "TFE_ADMIN_PASSWORD": "admin-password-123"}
    env.pop("TFE_DATABASE_URL", None)
    command = [sys.executable, "-m", "tfe", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "data"
    out = run(path, "init", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["taxonomy"]["naf"] > 1000 and report["taxonomy"]["country"] > 200
    out = run(path, "org", "add", "cci-test", "--name", "CCI Test", "--kind", "regional_chamber")
    assert out.returncode == 0, out.stderr
    return path


def test_help_lists_the_commands(tmp_path: Path) -> None:
    out = run_process(tmp_path, "--help")  # the ``python -m tfe`` entry point itself
    assert out.returncode == 0
    for command in ("init", "demo", "serve", "ingest", "search", "taxonomy", "eval", "user", "token"):
        assert command in out.stdout


def test_uninitialised_installation_is_a_clear_error(tmp_path: Path) -> None:
    process = run_process(tmp_path / "nothing", "search", "vins")  # a real process: one line, exit 2
    assert process.returncode == 2 and process.stderr.strip().splitlines() == [process.stderr.strip()]
    for out in (
        process,
        run(tmp_path / "nothing", "ingest", "README.md"),
        run(tmp_path / "nothing", "token", "create", "a@b.fr"),
    ):
        assert out.returncode == 2 and "Traceback" not in out.stderr
        assert "run `tfe init` first" in out.stderr
    assert not (tmp_path / "nothing").exists()  # nothing created by a failed command


def test_bad_input_is_one_line_and_non_zero(data_dir: Path) -> None:
    out = run(data_dir, "ingest")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip().startswith("tfe: error:")
    out = run(data_dir, "search", "vins", "--limit", "0")
    assert out.returncode == 2 and "Traceback" not in out.stderr and "limit" in out.stderr
    out = run(data_dir, "search", "vins", "--since", "hier")
    assert out.returncode == 2 and "date_from must be an ISO date" in out.stderr
    out = run(data_dir, "search", "vins", "--sort", "hasard")
    assert out.returncode == 2 and "sort must be one of" in out.stderr
    out = run(data_dir, "token", "create", "nobody@example.org")
    assert out.returncode == 2 and "unknown user" in out.stderr
    out = run(data_dir, "ingest", "README.md", "--org", "no-such-org")
    assert out.returncode == 2 and "unknown organisation" in out.stderr


def test_ingest_records_every_input_and_is_idempotent(data_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    good = CORPUS_DIR / "devis-accompagnement-salon-prowein-allemagne.docx"
    (folder / good.name).write_bytes(good.read_bytes())
    (folder / "corrupt.pdf").write_bytes(b"%PDF-1.4\n garbage that is not a pdf")
    (folder / "empty.docx").write_bytes(b"")
    out = run(data_dir, "ingest", str(folder), "--org", "cci-test", "--json")
    assert out.returncode == 1, out.stderr  # something failed
    report = json.loads(out.stdout)
    assert (report["ok"], report["duplicate"], report["failed"]) == (1, 0, 2)
    assert all(item["reason"] for item in report["items"] if item["status"] == "failed")
    again = json.loads(run(data_dir, "ingest", str(folder), "--org", "cci-test", "--json").stdout)
    assert (again["ok"], again["duplicate"], again["failed"]) == (0, 1, 2)


def test_feed_entries_are_watch_items_found_by_search(data_dir: Path) -> None:
    out = run(data_dir, "ingest", "--feed", str(FEEDS_DIR / "veille-marches.rss"), "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    entries = (FEEDS_DIR / "veille-marches.rss").read_text(encoding="utf-8").count("<item>")
    assert entries >= 10 and report["ok"] == entries and report["failed"] == 0
    found = json.loads(run(data_dir, "search", "vin Allemagne", "--json").stdout)
    assert found["total"] >= 1
    assert {"id", "title", "snippet", "score", "type", "sectors", "countries", "url"} <= set(found["hits"][0])
    assert set(found["facets"]) == {"sector", "country", "type", "org", "language", "filiere", "signal"}
    newest = json.loads(run(data_dir, "search", "vin", "--sort", "date", "--language", "fr", "--json").stdout)
    dates = [h["date"] for h in newest["hits"] if h["date"]]
    assert dates and dates == sorted(dates, reverse=True)
    assert json.loads(run(data_dir, "search", "vin", "--since", "2999-01-01", "--json").stdout)["total"] == 0
    explained = run(data_dir, "search", "vin Allemagne", "--explain")
    assert explained.returncode == 0, explained.stderr
    plain = run(data_dir, "search", "vin Allemagne").stdout
    why = [line.strip() for line in explained.stdout.splitlines() if line.strip().startswith("Pourquoi : ")]
    assert why and "Pourquoi" not in plain  # one line per explained hit, only when asked
    assert any("« vin" in line or "« Allemagne »" in line for line in why), why
    assert len(why) <= explained.stdout.count("\n- ")


def test_users_tokens_and_taxonomy_export(data_dir: Path, tmp_path: Path) -> None:
    out = run(
        data_dir,
        "user",
        "add",
        "ana@cci-test.fr",
        "--org",
        "cci-test",
        "--role",
        "contributor",
        "--password-stdin",
        "--json",
        stdin="a long enough password\n",
    )
    assert out.returncode == 0, out.stderr
    token = json.loads(run(data_dir, "token", "create", "ana@cci-test.fr", "--json").stdout)["token"]
    assert token.startswith("tfe_")
    ttl = tmp_path / "taxonomy.ttl"
    out = run(data_dir, "taxonomy", "export", str(ttl))
    assert out.returncode == 0, out.stderr
    text = ttl.read_text(encoding="utf-8")
    assert "skos:Concept" in text and "Production de vin" in text


def test_evaluations_on_small_sets(data_dir: Path, tmp_path: Path) -> None:
    beir = tmp_path / "beir"
    beir.mkdir()
    corpus = [
        {"_id": "d1", "title": "Vin", "text": "Les vins de Bordeaux sont exportés en Allemagne."},
        {"_id": "d2", "title": "Avions", "text": "L'aéronautique française vend des avions au Brésil."},
        {"_id": "d3", "title": "Lait", "text": "Les produits laitiers progressent au Vietnam."},
    ]
    queries = [{"_id": "q1", "text": "exportations de vin"}, {"_id": "q2", "text": "constructeurs d'avions"}]
    (beir / "corpus.jsonl").write_text("\n".join(json.dumps(c) for c in corpus), encoding="utf-8")
    (beir / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in queries), encoding="utf-8")
    (beir / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n", encoding="utf-8")
    out = run(data_dir, "eval", "retrieval", str(beir), "--json")
    assert out.returncode == 0, out.stderr
    report = json.dumps(json.loads(out.stdout))
    assert "ndcg@10" in report.lower() and "hybrid" in report

    labelled = tmp_path / "nace.jsonl"
    rows = [
        {
            "text": "Production de vin de raisin",
            "nace_class": "11.02",
            "nace_division": "11",
            "nace_section": "C",
        },
        {
            "text": "Construction aéronautique et spatiale",
            "nace_class": "30.30",
            "nace_division": "30",
            "nace_section": "C",
        },
    ]
    labelled.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    out = run(data_dir, "eval", "classify", str(labelled), "--json")
    assert out.returncode == 0, out.stderr
    assert "division" in out.stdout
    out = run(data_dir, "eval", "retrieval", str(tmp_path))
    assert out.returncode == 2 and "not a BEIR directory" in out.stderr


def test_deferred_embeddings_are_back_filled(data_dir: Path) -> None:
    source = CORPUS_DIR / "fiche-pays-vietnam.html"
    out = run(data_dir, "ingest", str(source), "--defer-embeddings", "--visibility", "network", "--json")
    assert out.returncode == 0, out.stderr
    doc_id = json.loads(out.stdout)["items"][0]["id"]
    assert json.loads(out.stdout)["passages_without_vectors"] >= 1  # the report says what waits
    before = json.loads(
        run(data_dir, "search", "repères exportateurs Vietnam", "--mode", "vector", "--json").stdout
    )
    assert doc_id not in [h["id"] for h in before["hits"]]  # no vector yet: invisible to vector search
    assert doc_id in [
        h["id"]
        for h in json.loads(run(data_dir, "search", "Vietnam", "--mode", "bm25", "--json").stdout)["hits"]
    ]  # BM25 at once
    out = run(data_dir, "backfill")
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.split()[0]) > 0
    after = json.loads(
        run(data_dir, "search", "repères exportateurs Vietnam", "--mode", "vector", "--json").stdout
    )
    assert doc_id in [h["id"] for h in after["hits"]]
    assert run(data_dir, "backfill").stdout.startswith("0 ")


def test_taxonomy_files_errors_are_one_line(data_dir: Path, tmp_path: Path) -> None:
    """Issue 12 defect 3: a bad path or a bad Turtle file is one line and exit 2, never a traceback."""
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n<a> skos:prefLabel \n", "utf-8")
    cases = {
        ("taxonomy", "export", "/nonexistent/dir/x.ttl"): "no such directory",
        ("taxonomy", "export", str(tmp_path)): "is a directory",
        ("taxonomy", "import", str(bad)): "not valid Turtle",
        ("taxonomy", "import", str(tmp_path / "absent.ttl")): "no such file",
    }
    for args, message in cases.items():
        out = run(data_dir, *args)
        assert out.returncode == 2, (args, out.stderr)
        assert "Traceback" not in out.stderr and message in out.stderr, (args, out.stderr)
        assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    target = tmp_path / "taxonomie.ttl"
    out = run(data_dir, "taxonomy", "export", str(target))
    assert out.returncode == 0 and target.stat().st_size > 100_000
    assert "concepts écrits" in out.stdout
