"""OPML 2.0: folders and categories become tags, export gives them back, hostile XML is refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.veille.test_catalogue import Catalogue, _catalogue
from tfe.core.errors import PermissionDeniedError, ValidationError
from tfe.core.settings import Settings
from veille.opml import parse_opml, write_opml

OPML = """<?xml version="1.0" encoding="utf-8"?>
<opml version="2.0">
  <head><title>Veille</title></head>
  <body>
    <outline text="Secteurs">
      <outline text="Vins">
        <outline type="rss" text="Vitisphere" title="Vitisphère" xmlUrl="https://example.org/vins.xml"
                 category="/Agro/Boissons,export" language="fr"/>
      </outline>
      <outline type="rss" text="Aero" xmlUrl="https://example.org/aero.xml"/>
    </outline>
    <outline type="rss" text="Sans dossier" xmlUrl="https://example.org/top.xml"/>
    <outline type="rss" text="Mauvais" xmlUrl="ftp://example.org/x"/>
    <outline type="rss" text="Doublon" xmlUrl="https://EXAMPLE.org/top.xml"/>
  </body>
</opml>
""".encode()


@pytest.fixture
def cat(db_settings: Settings) -> Iterator[Catalogue]:
    yield from _catalogue(db_settings)


def test_parse_folders_and_categories() -> None:
    feeds = {f.url: f for f in parse_opml(OPML)}
    assert feeds["https://example.org/vins.xml"].tags == ["Secteurs", "Vins", "/Agro/Boissons", "export"]
    assert feeds["https://example.org/vins.xml"].title == "Vitisphère"
    assert feeds["https://example.org/vins.xml"].language == "fr"
    assert feeds["https://example.org/aero.xml"].tags == ["Secteurs"]
    assert feeds["https://example.org/top.xml"].tags == []


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"<opml><body><outline", "mal formé"),
        (b"<rss/>", "racine"),
        (b"<opml version='2.0'><head/></opml>", "body"),
        (b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaa">]><opml><body/></opml>', "DOCTYPE"),
        (b'<!DOCTYPE opml SYSTEM "http://127.0.0.1/x.dtd"><opml><body/></opml>', "DOCTYPE"),
        ("<!DOCTYPE opml><opml><body/></opml>".encode("utf-16"), "DOCTYPE"),
    ],
)
def test_bad_or_hostile_xml_is_one_line(data: bytes, needle: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_opml(data)
    assert needle in err.value.message and "\n" not in err.value.message


def test_write_then_parse_keeps_urls_titles_and_tags() -> None:
    feeds = parse_opml(OPML)
    again = parse_opml(write_opml(feeds))
    assert [(f.url, f.title, f.tags) for f in sorted(again, key=lambda f: f.url)] == [
        (f.url, f.title, f.tags) for f in sorted(feeds, key=lambda f: f.url)
    ]


def test_import_reports_added_existing_failed_and_round_trips(cat: Catalogue) -> None:
    curator = cat.curator("alpha")
    with pytest.raises(PermissionDeniedError):
        cat.service.import_opml(cat.reader("alpha"), OPML, "cli")
    report = cat.service.import_opml(curator, OPML, "cli", visibility="organisation")
    assert sorted(a["url"] for a in report.added) == [
        "https://example.org/aero.xml",
        "https://example.org/top.xml",
        "https://example.org/vins.xml",
    ]
    assert report.existing == [{"id": report.added[-1]["id"], "url": "https://example.org/top.xml"}]
    assert [f["url"] for f in report.failed] == ["ftp://example.org/x"] and report.failed[0]["reason"]
    views = {v.url: v for v in cat.service.list(curator)}
    vins = views["https://example.org/vins.xml"]
    assert vins.tags == ["Secteurs", "Vins", "/Agro/Boissons", "export"] and vins.language == "fr"
    assert vins.org_slug == "alpha" and vins.visibility == "organisation"
    assert cat.service.list(cat.reader("beta")) == []  # organisation sources stay in alpha
    second = cat.service.import_opml(curator, OPML, "cli")
    assert second.added == [] and len(second.existing) == 4
    exported = cat.service.export_opml(curator)
    back = {f.url: f for f in parse_opml(exported)}
    assert set(back) == set(views)
    for url, view in views.items():
        assert (back[url].title, back[url].tags) == (view.title, view.tags)
    assert parse_opml(cat.service.export_opml(cat.reader("beta"))) == []
