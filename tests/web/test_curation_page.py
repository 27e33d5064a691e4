"""The « File de validation » page through the test client: rendering, roles, decisions, CSRF."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.veille.test_curation import PASSWORD
from tests.web.test_curation_api import Site, make_site
from veille.models import Item


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    yield from make_site(tmp_path_factory.mktemp("curation-page"))


def _login(client: TestClient, who: str) -> str:
    """Sign in as ``who`` (an email local part of the alpha/beta world); the session's CSRF token."""
    client.cookies.clear()
    csrf = client.get("/login").text.split('name="csrf" value="')[1].split('"')[0]
    email = {"curator": "curator@alpha.fr", "reader": "reader@alpha.fr", "admin": "admin@alpha.fr"}[who]
    client.post("/login", data={"email": email, "password": PASSWORD, "csrf": csrf, "next": "/"})
    page = client.get("/veille/validation")
    return page.text.split('name="csrf" value="')[1].split('"')[0] if 'name="csrf"' in page.text else csrf


def _status(site: Site, key: str) -> str:
    with site.world.rt.session() as session:
        item = session.get(Item, site.item(key))
        assert item is not None
        return item.curator_status


def test_page_renders_the_queue(site: Site) -> None:
    client = site.client
    _login(client, "curator")
    page = client.get("/veille/validation")
    assert page.status_code == 200
    assert "File de validation" in page.text and 'href="/veille/validation">Validation</a>' in page.text
    assert "3 éléments" in page.text and "Veille réseau" in page.text
    assert f'href="/items/{site.item("vin-de")}"' in page.text and "0,92" in page.text
    assert "Accepter" in page.text and "Rejeter" in page.text and "Corriger" in page.text
    assert site.item("beta-banque") not in page.text
    filtered = client.get("/veille/validation?sector=11")
    assert "1 élément" in filtered.text and site.item("bois-jp") not in filtered.text
    wrong = client.get("/veille/validation?min_confidence=beaucoup")
    assert wrong.status_code == 400 and "un nombre entre 0 et 1" in wrong.text
    unknown = client.get("/veille/validation?sector=zzz-inconnu")
    assert unknown.status_code == 400 and "Secteur inconnu" in unknown.text


def test_reader_gets_the_french_refusal(site: Site) -> None:
    client = site.client
    _login(client, "reader")
    page = client.get("/veille/validation", headers={"accept": "text/html"})
    assert page.status_code == 403 and "Accès refusé" in page.text and "réservée aux curateurs" in page.text
    assert 'href="/veille/validation">Validation</a>' not in client.get("/mes-recherches").text
    client.cookies.clear()
    assert client.get("/veille/validation", follow_redirects=False).status_code in (302, 303, 307)


def test_decide_correct_and_bulk_from_the_page(site: Site) -> None:
    client = site.client
    csrf = _login(client, "curator")
    item = site.item("vin-de")
    forged = client.post(f"/veille/validation/{item}/decision", data={"decision": "accept", "csrf": "x"})
    assert forged.status_code == 403 and _status(site, "vin-de") == "new"
    back = "/veille/validation?status=new"
    done = client.post(
        f"/veille/validation/{item}/decision",
        data={"decision": "accept", "csrf": csrf, "back": back},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == back
    assert _status(site, "vin-de") == "accepted"
    after = client.get(back)
    assert (
        "accepté" in after.text and f'href="/items/{item}"' not in after.text and "2 éléments" in after.text
    )
    outside = client.post(
        f"/veille/validation/{item}/decision",
        data={"decision": "reject", "csrf": csrf, "back": "https://evil.example/"},
        follow_redirects=False,
    )
    assert outside.headers["location"] == "/veille/validation"
    fixed = client.post(
        f"/veille/validation/{site.item('bois-jp')}/corriger",
        data={"sectors": "16", "countries": "Japon", "csrf": csrf, "back": back},
    )
    assert (
        fixed.status_code == 200
        and "corrigé et accepté" in fixed.text
        and _status(site, "bois-jp") == "accepted"
    )
    bad = client.post(
        f"/veille/validation/{site.item('alpha-cosm')}/corriger",
        data={"sectors": "pas un secteur", "csrf": csrf},
    )
    assert "Secteur inconnu" in bad.text and _status(site, "alpha-cosm") == "new"
    bulk = client.post(
        "/veille/validation/lot",
        data={
            "bulk": "reject",
            "item_ids": [site.item("alpha-cosm"), site.item("beta-banque")],
            "csrf": csrf,
        },
    )
    assert "1 élément(s) rejetés" in bulk.text and "1 en échec" in bulk.text
    assert _status(site, "alpha-cosm") == "rejected" and _status(site, "beta-banque") == "new"
    assert "la file est à jour" in bulk.text
