"""« Actualités » pages through the test client: cards, Paris times, pagination, scope, story page, item link,
and the search page's « Regrouper la veille par actualité » toggle."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import PASSWORD
from tests.web.test_stories_api import SECRET, StorySite, make_story_site
from tfe.app.web.pages import stories as story_pages


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StorySite]:
    yield from make_story_site(tmp_path_factory.mktemp("stories-pages"))


EMAILS = {"bob": "bob@beta.fr", "reader": "reader@alpha.fr", "carla": "carla@alpha.fr"}


def _login(client: TestClient, who: str) -> None:
    client.cookies.clear()
    csrf = client.get("/login").text.split('name="csrf" value="')[1].split('"')[0]
    answer = client.post(
        "/login", data={"email": EMAILS[who], "password": PASSWORD, "csrf": csrf, "next": "/"}
    )
    assert answer.status_code == 200 and "Se déconnecter" in answer.text


def _cards(html: str) -> list[str]:
    return re.findall(r'data-story="([^"]+)"', html)


def test_the_list_shows_cards_in_the_users_scope(site: StorySite) -> None:
    client = site.client
    _login(client, "bob")
    page = client.get("/veille/actualites")
    assert page.status_code == 200
    assert 'href="/veille/actualites">Actualités</a>' in page.text  # the nav link
    assert "3 actualités" in page.text
    assert _cards(page.text) == ["story-greve", "story-vins", "story-havre"]
    assert "2 articles de 2 sources" in page.text and "1 article de 1 source" in page.text
    assert "Le Quotidien, Shipping Weekly" in page.text
    # collected 07:00 and 08:00 UTC on 10 March 2025: 08:00 and 09:00 in Paris (CET)
    assert "Première parution le 10/03/2025 à 08:00 · dernière le 10/03/2025 à 09:00" in page.text
    assert "Résumé : Port du Havre : record de conteneurs au trimestre." in page.text  # the newest item's
    assert SECRET not in page.text and "Veille Alpha" not in page.text and "confidentiels" not in page.text
    assert 'href="/veille/actualites/story-havre"' in page.text
    _login(client, "reader")
    mine = client.get("/veille/actualites")
    assert "4 actualités" in mine.text and "3 articles de 3 sources" in mine.text


def test_pagination_and_filters(site: StorySite, monkeypatch: pytest.MonkeyPatch) -> None:
    client = site.client
    _login(client, "bob")
    monkeypatch.setattr(story_pages, "PAGE_SIZE", 2)
    first = client.get("/veille/actualites")
    assert _cards(first.text) == ["story-greve", "story-vins"]
    assert 'href="/veille/actualites?page=2" rel="next"' in first.text
    second = client.get("/veille/actualites?page=2")
    assert _cards(second.text) == ["story-havre"] and 'rel="prev"' in second.text
    beyond = client.get("/veille/actualites?page=9")
    assert _cards(beyond.text) == [] and "revenir à la première page" in beyond.text
    filtered = client.get("/veille/actualites?sector=11")
    assert _cards(filtered.text) == ["story-vins"] and "1 actualité" in filtered.text
    unknown = client.get("/veille/actualites?country=Atlantide")
    assert unknown.status_code == 200 and "Pays ou zone inconnu : « Atlantide »" in unknown.text
    assert client.get("/veille/actualites?page=0").status_code == 400


def test_the_story_page_lists_visible_items_in_time_order(site: StorySite) -> None:
    client = site.client
    _login(client, "bob")
    page = client.get("/veille/actualites/story-havre")
    assert page.status_code == 200 and "2 articles de 2 sources" in page.text
    links = re.findall(r'<h3><a href="/items/([0-9a-f]+)">', page.text)
    assert links == [site.items["havre-1"], site.items["havre-2"]]  # oldest first
    assert 'href="https://quotidien.example.org/havre-1"' in page.text and "Lire à la source" in page.text
    assert "Publié le 10/03/2025 à 07:55" in page.text  # 06:55 UTC
    assert SECRET not in page.text and site.items["havre-alpha"] not in page.text
    assert site.items["havre-rejected"] not in page.text
    hidden = client.get("/veille/actualites/story-secret", headers={"accept": "text/html"})
    assert (
        hidden.status_code == 404 and "Page introuvable" in hidden.text and "confidentiels" not in hidden.text
    )
    _login(client, "reader")
    mine = client.get("/veille/actualites/story-havre")
    assert SECRET in mine.text and "3 articles de 3 sources" in mine.text


def test_the_item_page_links_to_its_story(site: StorySite) -> None:
    client = site.client
    _login(client, "bob")
    page = client.get(f"/items/{site.items['havre-1']}")
    assert "Cet article fait partie d'une" in page.text
    assert '<a href="/veille/actualites/story-havre">actualité suivie par 2 sources</a>' in page.text
    _login(client, "reader")
    assert "actualité suivie par 3 sources" in client.get(f"/items/{site.items['havre-1']}").text
    lone = client.get(f"/items/{site.items['solo']}")
    assert lone.status_code == 200 and "Cet article fait partie" not in lone.text
    single = client.get(f"/items/{site.items['greve']}")  # a story of one item: nothing to follow
    assert "Cet article fait partie" not in single.text


def test_the_search_page_groups_watch_hits_by_story(site: StorySite) -> None:
    client = site.client
    _login(client, "bob")
    plain = client.get("/recherche?q=Havre+conteneurs")
    assert "Regrouper la veille par actualité" in plain.text and 'value="stories" checked' not in plain.text
    havre = [site.items["havre-1"], site.items["havre-2"]]
    assert all(f'href="/items/{i}"' in plain.text for i in havre)
    assert "articles sur ce sujet" not in plain.text
    grouped = client.get("/recherche?q=Havre+conteneurs&group=stories")
    assert grouped.status_code == 200 and 'value="stories" checked' in grouped.text
    assert sum(f'href="/items/{i}"' in grouped.text for i in havre) == 1
    assert '<a href="/veille/actualites/story-havre">Actualité : 2 articles sur ce sujet</a>' in grouped.text
    facet = re.search(r'href="(/recherche\?[^"]*sector=[^"]*)"', grouped.text)
    assert facet is not None and "group=stories" in facet.group(1)  # the toggle survives refinements
    assert client.get("/recherche?q=vins&group=topics").status_code == 400
