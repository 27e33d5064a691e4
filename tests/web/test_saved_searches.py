"""Saved searches: save on the search page, list there and on /mes-recherches, rename, delete; owner only."""

from __future__ import annotations

import re
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from search import saved
from search.models import SavedSearch
from tests.web.conftest import PASSWORD, Installation
from tfe.core.errors import ValidationError
from tfe.core.models import AuditEvent

HTML = {"Accept": "text/html"}
QUERY = {"q": "vins Allemagne", "type": ["doctype:sector_analysis"], "country": ["country:DE"]}
SEARCH_URL = "/recherche?q=vins+Allemagne&country=country%3ADE&type=doctype%3Asector_analysis"


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field in the page"
    return match.group(1)


def _sign_in(client: TestClient, email: str) -> str:
    token = _csrf(client.get("/login").text)
    response = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf": token}, follow_redirects=False
    )
    assert response.status_code == 303
    return _csrf(client.get("/mes-recherches").text)


def _save(client: TestClient, csrf: str, name: str) -> None:
    response = client.post(
        "/mes-recherches", data={"csrf": csrf, "name": name, **QUERY}, follow_redirects=False
    )
    assert response.status_code == 303, response.text


def _rows(installation: Installation, user: str) -> list[SavedSearch]:
    with installation.rt.session() as s:
        query = select(SavedSearch).where(SavedSearch.user_id == installation.users[user])
        return list(s.scalars(query.order_by(SavedSearch.id)))


def _last_event_id(installation: Installation) -> int:
    with installation.rt.session() as s:
        return int(s.scalar(select(func.max(AuditEvent.id))) or 0)


def _actions(installation: Installation, after: int) -> list[AuditEvent]:
    """The saved-search events recorded after event ``after``."""
    with installation.rt.session() as s:
        query = select(AuditEvent).where(AuditEvent.id > after, AuditEvent.action.like("saved_search.%"))
        return list(s.scalars(query.order_by(AuditEvent.id)))


def _clear(installation: Installation) -> None:
    with installation.rt.session() as s:
        for row in s.scalars(select(SavedSearch)):
            s.delete(row)


@pytest.fixture(autouse=True)
def no_saved_searches(installation: Installation) -> None:
    _clear(installation)


def test_search_page_offers_to_save_the_current_search(client: TestClient) -> None:
    _sign_in(client, "alice@alpha.fr")
    home = client.get("/", headers=HTML).text
    assert "Mes recherches" in home and "Enregistrer cette recherche" not in home  # nothing to save yet
    page = client.get(SEARCH_URL, headers=HTML).text
    form = page[page.index('action="/mes-recherches"') :]
    form = form[: form.index("</form>")]
    assert 'name="q" value="vins Allemagne"' in form
    assert (
        'name="type" value="doctype:sector_analysis"' in form and 'name="country" value="country:DE"' in form
    )
    assert "Enregistrer cette recherche" in form


def test_save_lists_and_reruns(installation: Installation, client: TestClient) -> None:
    csrf = _sign_in(client, "alice@alpha.fr")
    before = _last_event_id(installation)
    response = client.post(
        "/mes-recherches",
        data={"csrf": csrf, "name": "  Vins  en Allemagne ", **QUERY},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == SEARCH_URL
    [row] = _rows(installation, "alice")
    assert (row.name, row.query) == ("Vins en Allemagne", "vins Allemagne")
    assert row.filters == {"country": ["country:DE"], "type": ["doctype:sector_analysis"]}

    page = client.get(response.headers["location"], headers=HTML).text
    assert "Recherche « Vins en Allemagne » enregistrée." in page  # shown once...
    assert f'href="{SEARCH_URL.replace("&", "&amp;")}">Vins en Allemagne</a>' in page
    assert "enregistrée." not in client.get(SEARCH_URL, headers=HTML).text  # ...not twice

    listing = client.get("/mes-recherches", headers=HTML).text
    assert "Vins en Allemagne" in listing and "« vins Allemagne »" in listing
    assert "Pays : Allemagne" in listing and "Type : Analyse sectorielle" in listing
    assert unescape(listing).count(SEARCH_URL) == 2  # the name and "Relancer"
    rerun = client.get(SEARCH_URL, headers=HTML).text
    assert "Le marché des vins français en Allemagne" in rerun

    [event] = _actions(installation, before)
    assert event.action == "saved_search.create" and event.target_id == str(row.id)
    assert event.actor_user_id == installation.users["alice"] and event.detail["q"] == "vins Allemagne"


def test_rename_and_delete(installation: Installation, client: TestClient) -> None:
    csrf = _sign_in(client, "alice@alpha.fr")
    before = _last_event_id(installation)
    _save(client, csrf, "Première")
    [row] = _rows(installation, "alice")
    response = client.post(f"/mes-recherches/{row.id}/renommer", data={"csrf": csrf, "name": "Vins DE"})
    assert response.status_code == 200 and "Recherche renommée en « Vins DE »." in response.text
    blank = client.post(f"/mes-recherches/{row.id}/renommer", data={"csrf": csrf, "name": "   "})
    assert "Donnez un nom" in blank.text
    assert [r.name for r in _rows(installation, "alice")] == ["Vins DE"]

    response = client.post(f"/mes-recherches/{row.id}/supprimer", data={"csrf": csrf}, headers=HTML)
    assert response.status_code == 200 and "Recherche « Vins DE » supprimée." in response.text
    assert "Aucune recherche enregistrée" in response.text
    assert _rows(installation, "alice") == []
    actions = [(e.action, e.target_id) for e in _actions(installation, before)]
    assert actions == [
        ("saved_search.create", str(row.id)),
        ("saved_search.rename", str(row.id)),
        ("saved_search.delete", str(row.id)),
    ]


def test_only_the_owner_sees_and_changes_them(installation: Installation, client: TestClient) -> None:
    csrf = _sign_in(client, "alice@alpha.fr")
    _save(client, csrf, "Secret d'Alice")
    [row] = _rows(installation, "alice")
    client.cookies.clear()
    csrf = _sign_in(client, "bob@beta.fr")
    assert "Secret d" not in client.get("/mes-recherches", headers=HTML).text
    assert "Secret d" not in client.get(SEARCH_URL, headers=HTML).text
    for action, data in (("renommer", {"name": "volé"}), ("supprimer", {})):
        response = client.post(
            f"/mes-recherches/{row.id}/{action}", data={"csrf": csrf, **data}, headers=HTML
        )
        assert response.status_code == 404
    assert [r.name for r in _rows(installation, "alice")] == ["Secret d'Alice"]


def test_forms_need_csrf_and_a_query(installation: Installation, client: TestClient) -> None:
    csrf = _sign_in(client, "alice@alpha.fr")
    assert client.post("/mes-recherches", data={"name": "x", **QUERY}).status_code == 403
    assert client.post("/mes-recherches", data={"csrf": "forged", "name": "x", **QUERY}).status_code == 403
    _save(client, csrf, "Gardée")
    [row] = _rows(installation, "alice")
    for action in ("renommer", "supprimer"):
        response = client.post(f"/mes-recherches/{row.id}/{action}", data={"csrf": "forged", "name": "y"})
        assert response.status_code == 403
    empty = client.post("/mes-recherches", data={"csrf": csrf, "name": "vide", "q": "  "})
    assert "Lancez d'abord une recherche" in unescape(empty.text)
    assert [r.name for r in _rows(installation, "alice")] == ["Gardée"]
    client.cookies.clear()
    assert client.get("/mes-recherches", headers=HTML, follow_redirects=False).status_code == 303


def test_saved_query_validation() -> None:
    query = saved.SavedQuery.of(" vins ", {"sector": ["naf:11", "naf:11", " "], "country": []})
    assert query == saved.SavedQuery(
        "vins", {"sector": ("naf:11",), "country": (), "type": (), "filiere": (), "signal": ()}
    )
    assert query.params() == [("q", "vins"), ("sector", "naf:11")]
    assert saved.SavedQuery.of("", {"type": ["doctype:quote_template"]}).q == ""
    for q, filters in (
        ("", {}),
        ("vins", {"colour": ["rouge"]}),
        ("vins", {"sector": ["x" * 65]}),
        ("vins", {"sector": [str(i) for i in range(21)]}),
        ("x" * 501, {}),
    ):
        with pytest.raises(ValidationError):
            saved.SavedQuery.of(q, filters)
