"""« Mes alertes »: the form prefilled from the search page, creation with secrets shown once, refusals,
pause/resume, delete with confirmation, history; CSRF and owner only."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.web.conftest import PASSWORD, Installation


def _login(client: TestClient, email: str) -> str:
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    r = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf": token.group(1)}, follow_redirects=False
    )
    assert r.status_code in (302, 303), r.text
    return _csrf(client.get("/mes-alertes").text)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_search_page_offers_create_alert_with_query_and_facets(client: TestClient) -> None:
    _login(client, "alice@alpha.fr")
    page = client.get("/recherche", params={"q": "vins", "sector": "naf:11"})
    assert page.status_code == 200
    assert "Créer une alerte" in page.text
    assert "/mes-alertes/nouvelle?q=vins&amp;sector=naf%3A11" in page.text
    form = client.get("/mes-alertes/nouvelle", params={"q": "vins", "sector": "naf:11"})
    assert form.status_code == 200
    assert 'value="vins"' in form.text and 'value="naf:11"' in form.text
    assert "7 derniers jours" in form.text


def test_create_shows_atom_address_once_then_list(client: TestClient) -> None:
    csrf = _login(client, "alice@alpha.fr")
    data = {
        "csrf": csrf,
        "name": "Vins DE",
        "q": "vins",
        "sector": "11",
        "country": "Allemagne",
        "scope": "items",
        "frequency": "daily",
        "send_time": "07:30",
        "channels": ["email", "atom"],
    }
    r = client.post("/mes-alertes", data=data)
    assert r.status_code == 200
    assert "ne seront plus affichées" in r.text and "/alertes/atom/" in r.text
    listing = client.get("/mes-alertes")
    assert "Vins DE" in listing.text and "/alertes/atom/" not in listing.text
    assert "Quotidienne à 07:30" in listing.text and "Régénérer l'adresse" in listing.text


def test_form_refusals_keep_values(client: TestClient) -> None:
    csrf = _login(client, "alice@alpha.fr")
    base = {"csrf": csrf, "q": "vins", "frequency": "daily", "send_time": "08:00", "channels": ["email"]}
    r = client.post("/mes-alertes", data={**base, "sector": "99.99Z"})
    assert r.status_code == 400 and "secteur inconnu" in r.text and 'value="99.99Z"' in r.text
    r = client.post("/mes-alertes", data={**base, "q": "(vins"})
    assert r.status_code == 400 and "requête illisible" in r.text
    r = client.post(
        "/mes-alertes", data={**base, "channels": ["webhook"], "webhook_url": "http://192.168.1.5/h"}
    )
    assert r.status_code == 400
    assert client.post("/mes-alertes", data={**base, "csrf": "wrong"}).status_code == 403


def test_pause_resume_delete_with_confirmation_and_history(
    installation: Installation, client: TestClient
) -> None:
    csrf = _login(client, "bob@beta.fr")
    r = client.post(
        "/mes-alertes",
        data={
            "csrf": csrf,
            "name": "Cosmétiques JP",
            "q": "cosmétiques",
            "frequency": "instant",
            "channels": ["email"],
        },
    )
    assert r.status_code == 200
    sub_id = int(re.findall(r'data-alert="(\d+)"', r.text)[-1])
    assert (
        client.post(f"/mes-alertes/{sub_id}/pause", data={"csrf": csrf}, follow_redirects=False).status_code
        == 303
    )
    assert "En pause" in client.get("/mes-alertes").text
    client.post(f"/mes-alertes/{sub_id}/reprendre", data={"csrf": csrf})
    history = client.get(f"/mes-alertes/{sub_id}/historique")
    assert history.status_code == 200 and "Rien n'a encore été envoyé" in history.text
    edit = client.get(f"/mes-alertes/{sub_id}/modifier")
    assert edit.status_code == 200 and 'value="cosmétiques"' in edit.text
    confirm = client.get("/mes-alertes", params={"supprimer": sub_id})
    assert "Supprimer définitivement" in confirm.text
    done = client.post(f"/mes-alertes/{sub_id}/supprimer", data={"csrf": csrf}, follow_redirects=False)
    assert done.status_code == 303
    assert f'data-alert="{sub_id}"' not in client.get("/mes-alertes").text
    client.cookies.clear()
    _login(client, "alice@alpha.fr")
    assert client.get(f"/mes-alertes/{sub_id}/historique").status_code == 404
