"""``tfe search`` on bad input (issue 11 « Bad input »): odd query text is a result (exit 0, one JSON
document with ``--json``), bad options one line on stderr and exit code 2, never a traceback; an
organisation the user may not see is refused exactly as one that does not exist.

One data dir for the module: ``alpha`` owns two documents (wines in Germany, wines in Japan), ``beta`` one;
``alice`` is a reader of alpha, ``bob`` of beta, and each sees their own organisation's drafts only (what
the command line ingests); the administrator (the default ``--as``) is the national agency's.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.cli.runner import invoke

pytestmark = pytest.mark.slow  # the data dir (init, three ingests) takes ~20 s


def env_for(data_dir: Path) -> dict[str, str | None]:
    return {
        "TFE_DATA_DIR": str(data_dir),
        "TFE_ADMIN_PASSWORD": "admin-password-123",
        "TFE_DATABASE_URL": None,
    }


def run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return invoke(env_for(data_dir), *args)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli-search")
    path = root / "data"
    assert run(path, "init", "--json").returncode == 0
    docs = {
        "alpha-de": "Le marché des vins français en Allemagne : cavistes, grande distribution, ProWein.",
        "alpha-jp": "Les vins français au Japon : importateurs, prix et marges, salon Foodex.",
        "beta": "Note beta : les vins français en Chine, prix et marges des importateurs.",
    }
    for slug in ("alpha", "beta"):
        out = run(path, "org", "add", slug, "--name", slug.capitalize(), "--kind", "regional_chamber")
        assert out.returncode == 0, out.stderr
    for key, text in docs.items():
        (root / f"{key}.txt").write_text(text, encoding="utf-8")
        org = key.split("-")[0]
        out = run(path, "ingest", str(root / f"{key}.txt"), "--org", org, "--no-progress", "--json")
        assert out.returncode == 0 and json.loads(out.stdout)["ok"] == 1, out.stderr
    for email, slug in (("alice@alpha.fr", "alpha"), ("bob@beta.fr", "beta")):
        out = run(path, "user", "add", email, "--org", slug, "--role", "reader")
        assert out.returncode == 0, out.stderr
    return path


def _json(data_dir: Path, *args: str) -> dict:
    out = run(data_dir, "search", "--json", *args)
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    return dict(json.loads(out.stdout))


@pytest.mark.parametrize(
    ("query", "total"),
    [
        ("le la les", None),
        ("!!!", 0),
        ("vins " * 100, "some"),  # 500 characters of one word
        ('"vins', "some"),
        ('"vins français"', "some"),
        ("AND", 0),
        ("vins AND", "some"),
        ("-", 0),
        ("*", 0),
        ("vins~2 title:vins", "some"),
        ("(vins", "some"),
        ("vins\x00Allemagne", "some"),
        ("\x01\x02", None),
        ("vins -Japon", "some"),
    ],
)
def test_odd_query_text_is_a_result(data_dir: Path, query: str, total: int | str | None) -> None:
    result = _json(data_dir, "--as", "alice@alpha.fr", "--", query)
    assert isinstance(result["total"], int) and len(result["hits"]) <= result["total"]
    if total == "some":
        assert result["total"] > 0
    elif total is not None:
        assert result["total"] == total


def test_exclusion_and_plain_output(data_dir: Path) -> None:
    alice = ("--as", "alice@alpha.fr")
    assert _json(data_dir, "vins", *alice)["total"] == 2
    assert _json(data_dir, *alice, "--", "vins -Japon")["total"] == 1
    assert _json(data_dir, *alice, "--", "-Japon")["total"] == 1  # everything but
    out = run(data_dir, "search", *alice, "--", "vins NOT Japon")
    assert out.returncode == 0 and out.stdout.startswith("1 résultat(s)")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("x" * 501,), "at most 500 characters"),
        (("vins", "--limit", "0"), "limit"),
        (("vins", "--limit", "1000"), "limit"),
        (("vins", "--offset", "-1"), "offset"),
        (("vins", "--offset", "10001"), "offset"),
        (("vins", "--mode", "fuzzy"), "mode"),
        (("vins", "--sort", "hasard"), "sort"),
        (("vins", "--sector", "nowhere"), "unknown sector"),
        (("vins", "--country", "Atlantide"), "unknown country"),
        (("vins", "--type", "grimoire"), "unknown type"),
        (("vins", "--org", "nowhere"), "unknown organisation 'nowhere'"),
        (("vins", "--org", "\x00"), "unknown organisation"),
        (("vins", "--language", "français"), "unknown language"),
        (("vins", "--status", "published"), "unknown status"),
        (("vins", "--since", "2024-02-30"), "date_from"),
        (("vins", "--as", "personne@nulle.part"), "personne@nulle.part"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(data_dir: Path, args: tuple[str, ...], needle: str) -> None:
    out = run(data_dir, "search", *args, "--json")
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert out.stdout == "" and "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tfe: error:") and needle in lines[0], out.stderr


def test_hidden_organisation_is_as_unknown_as_a_missing_one(data_dir: Path) -> None:
    alice = ("--as", "alice@alpha.fr")
    missing = run(data_dir, "search", "vins", "--org", "nowhere", *alice)
    hidden = run(data_dir, "search", "vins", "--org", "beta", *alice)
    assert missing.returncode == hidden.returncode == 2
    assert hidden.stderr.replace("'beta'", "<org>") == missing.stderr.replace("'nowhere'", "<org>")
    assert _json(data_dir, "vins", "--org", "alpha", *alice)["total"] == 2  # her own organisation
    assert _json(data_dir, "vins", "--org", "beta", "--as", "bob@beta.fr")["total"] == 1  # his
    assert _json(data_dir, "vins", "--org", "beta")["total"] == 0  # the national agency names any
