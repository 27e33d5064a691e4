"""``tfe eval classify`` on labelled news: zones from countries and named zones, ``--home-country``."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.runner import invoke

NEWS = [
    {"title": "U.S. Sanctions Hit Iranian Oil Exports",
     "description": "Tankers leaving Bandar Abbas were named.", "section": "world/middle-east"},
    {"title": "EU Ministers Back New Tariffs", "description": "The bloc agreed on Monday.",
     "section": "world/europe"},
    {"title": "Wildfires Spread Across Queensland", "description": "Residents near Brisbane fled.",
     "section": "world/oceania"},
    {"title": "Markets Rally", "description": "Stocks rose.", "section": "world/asia"},
]


def _eval(tmp_path: Path, *extra: str) -> dict[str, object]:
    news = tmp_path / "news.jsonl"
    news.write_text("\n".join(json.dumps(r) for r in NEWS), encoding="utf-8")
    env = {"TFE_DATA_DIR": str(tmp_path / "data"), "TFE_DATABASE_URL": None}
    out = invoke(env, "eval", "classify", str(news), "--lexical-only", "--json", *extra)
    assert out.returncode == 0, out.stderr
    report: dict[str, object] = json.loads(out.stdout)
    return report


def test_news_zones_and_home_country(tmp_path: Path) -> None:
    plain = _eval(tmp_path)
    assert (plain["n"], plain["predicted"], plain["correct"]) == (4, 3, 2)  # the US wins the first item
    assert plain["recall"] == 0.5 and plain["home_country"] is None
    only = plain["countries_only"]
    assert isinstance(only, dict) and only["predicted"] == 2  # "EU" is a zone, not a country
    home = _eval(tmp_path, "--home-country", "US")
    assert (home["predicted"], home["correct"], home["home_country"]) == (3, 3, "country:US")
    assert home["precision"] == 1.0


def test_unknown_home_country_is_refused(tmp_path: Path) -> None:
    news = tmp_path / "news.jsonl"
    news.write_text(json.dumps(NEWS[0]), encoding="utf-8")
    env = {"TFE_DATA_DIR": str(tmp_path / "data"), "TFE_DATABASE_URL": None}
    out = invoke(env, "eval", "classify", str(news), "--lexical-only", "--home-country", "ZZ")
    assert out.returncode != 0 and "pays inconnu : ZZ" in out.stderr and "Traceback" not in out.stderr
