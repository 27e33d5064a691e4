"""``tfe source``: add (with discovery), list, pause/resume, remove, import and export OPML."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tests.cli.runner import invoke
from tests.veille.feedserver import FeedServer, Route, feed_server, rss
from tests.veille.test_opml import OPML
from tfe.app.cli import app


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    data = tmp_path_factory.mktemp("cli-sources") / "data"
    values = {
        "TFE_DATA_DIR": str(data),
        "TFE_ADMIN_PASSWORD": "admin-password-123",
        "TFE_FETCH_ALLOW_PRIVATE": "true",
        "TFE_DATABASE_URL": "",
    }
    result = CliRunner().invoke(app, ["init", "--json"], env=values)
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(app, ["org", "add", "cci-test", "--kind", "regional_chamber"], env=values)
    assert result.exit_code == 0, result.output
    return values


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    with feed_server() as running:
        running.routes["/"] = Route(
            body=b'<html><head><link rel="alternate" type="application/rss+xml" href="/rss.xml"></head>',
            content_type="text/html",
        )
        running.routes["/rss.xml"] = Route(body=rss("Flux de test", [("a", "Un", "Texte")]))
        yield running


def tfe(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def test_add_list_pause_remove(env: dict[str, str], server: FeedServer) -> None:
    added = tfe(env, "source", "add", server.url + "/", "--tag", "test", "--org", "cci-test", "--json")
    assert added.exit_code == 0, added.output
    view = json.loads(added.stdout)
    assert view["url"] == server.url + "/rss.xml" and view["title"] == "Flux de test"
    assert view["org"]["slug"] == "cci-test" and view["tags"] == ["test"] and view["discovery"]
    page = tfe(
        env, "source", "add", server.url + "/list", "--kind", "page",
        "--selector", "links=article a::attr(href)", "--selector", "title=h1", "--json",
    )  # fmt: skip
    assert page.exit_code == 0, page.output
    assert json.loads(page.stdout)["config"]["links"] == "article a::attr(href)"
    listed = tfe(env, "source", "list", "--json")
    doc = json.loads(listed.stdout)
    assert doc["total"] == 2 and {s["kind"] for s in doc["sources"]} == {"feed", "page"}
    table = tfe(env, "source", "list")
    assert "Flux de test" in table.stdout and "jamais" in table.stdout and "2 source(s)" in table.stdout
    assert json.loads(tfe(env, "source", "pause", str(view["id"]), "--json").stdout)["paused"] is True
    assert "reprise" in tfe(env, "source", "resume", str(view["id"])).stdout
    removed = tfe(env, "source", "remove", str(view["id"]), "--json")
    assert json.loads(removed.stdout)["removed"] is True
    assert json.loads(tfe(env, "source", "list", "--json").stdout)["total"] == 1


def test_import_and_export(env: dict[str, str], tmp_path: Path) -> None:
    source = tmp_path / "in.opml"
    source.write_bytes(OPML)
    imported = tfe(env, "source", "import", str(source), "--json")
    assert imported.exit_code == 0, imported.output
    report = json.loads(imported.stdout)
    assert len(report["added"]) == 3 and len(report["existing"]) == 1 and len(report["failed"]) == 1
    out = tmp_path / "out.opml"
    exported = tfe(env, "source", "export", str(out))
    assert exported.exit_code == 0 and out.read_bytes().count(b"xmlUrl=") >= 3
    assert b"https://example.org/vins.xml" in out.read_bytes()


def test_option_errors_exit_2_with_one_line(env: dict[str, str]) -> None:
    cases = [
        (["add", "https://example.org/w", "--kind", "watch"], "--selector"),
        (["add", "https://example.org/w", "--kind", "page", "--selector", "nope=a"], "NOM=SÉLECTEUR"),
        (["import", "/no/such.opml"], "lecture impossible"),
    ]
    for args, needle in cases:
        result = tfe(env, "source", *args)
        assert result.exit_code == 2 and needle in result.stderr, (args, result.output)
        assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_service_errors_are_one_line_and_non_zero(env: dict[str, str]) -> None:
    command = [sys.executable, "-m", "tfe", "source"]
    process = subprocess.run(  # one real ``python -m tfe``: the entry point's line and exit code
        [*command, "add", "ftp://example.org/x", "--no-discover"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    cases = [
        (["add", "ftp://example.org/x", "--no-discover"], "http(s)", process),
        (["remove", "99999"], "source inconnue", invoke(env, "source", "remove", "99999")),  # in this process
    ]
    for args, needle, out in cases:
        assert out.returncode == 2, (args, out.stderr)
        assert "Traceback" not in out.stderr and needle in out.stderr, (args, out.stderr)
        assert len(out.stderr.strip().splitlines()) == 1 and out.stderr.startswith("tfe: error:")
