"""``/compte``: a user lists, creates and revokes their API tokens and ends their sessions (French page,
CSRF on every form, the clear token shown once)."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.web.conftest import PASSWORD, Installation
from tests.web.signin import browser_of, new_reader
from tfe.core.models import ApiToken, AuditEvent

HTML = {"Accept": "text/html"}


def test_tokens_created_once_listed_and_revoked(installation: Installation) -> None:
    email = new_reader(installation, "c")
    browser, csrf = browser_of(installation, email)
    page = browser.get("/compte", headers=HTML)
    assert page.status_code == 200 and "Mon compte" in page.text and "Aucun jeton d'API." in page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert 'name="scopes" value="admin"' not in page.text  # a reader is offered read and write only
    # every form needs the session's CSRF token
    refused = browser.post("/compte/jetons", data={"name": "script", "scopes": ["read"]}, headers=HTML)
    assert refused.status_code == 403 and "Accès refusé" in refused.text
    created = browser.post(
        "/compte/jetons",
        data={"csrf": csrf, "name": "script", "scopes": ["read"], "expires_days": "30"},
        headers=HTML,
    )
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    secret = re.search(r'id="token-secret">(tfe_[^<]+)<', created.text)
    assert secret and "n'est affiché qu'une seule fois" in created.text
    raw = secret.group(1)
    assert browser.get("/api/me", headers={"Authorization": f"Bearer {raw}"}).json()["scopes"] == ["read"]
    listing = browser.get("/compte", headers=HTML).text
    prefix = raw.split("_")[1]
    assert f"tfe_{prefix}…" in listing and raw not in listing and "Lecture" in listing
    with installation.rt.session() as s:
        token = s.scalars(select(ApiToken).where(ApiToken.prefix == prefix)).one()
        created_event = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "token.create", AuditEvent.target_id == prefix)
        ).one()
    assert created_event.detail["scopes"] == "read" and created_event.detail["channel"] == "web"
    assert raw not in str(created_event.detail)
    bad = browser.post(
        "/compte/jetons",
        data={"csrf": csrf, "name": "x", "scopes": ["read"], "expires_days": "0"},
        headers=HTML,
    )
    assert bad.status_code == 400 and "de 1 à 3650 jours" in bad.text
    revoked = browser.post(f"/compte/jetons/{token.id}/revoquer", data={"csrf": csrf}, headers=HTML)
    assert revoked.status_code == 200 and f"Le jeton tfe_{prefix}… est révoqué" in revoked.text
    assert browser.get("/api/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 401
    with installation.rt.session() as s:  # someone else's token is not found, and stays as it was
        alice = s.scalars(select(ApiToken).where(ApiToken.user_id == installation.users["alice"])).first()
        assert alice is not None and alice.revoked_at is None
    refused = browser.post(f"/compte/jetons/{alice.id}/revoquer", data={"csrf": csrf}, headers=HTML)
    assert refused.status_code == 404
    with installation.rt.session() as s:
        assert s.get(ApiToken, alice.id).revoked_at is None  # type: ignore[union-attr]


def test_sessions_listed_current_marked_and_ended(installation: Installation) -> None:
    email = new_reader(installation, "c")
    first, csrf = browser_of(installation, email)
    second, _ = browser_of(installation, email)
    third, _ = browser_of(installation, email)
    page = first.get("/compte", headers=HTML).text
    assert page.count("data-session=") == 3 and page.count("Session actuelle") == 1
    assert "Navigateur de test/1.0" in page and "Mot de passe" in page
    second_id = second.get("/api/me/sessions").json()
    current = next(s["id"] for s in second_id["sessions"] if s["current"])
    ended = first.post(f"/compte/sessions/{current}/fermer", data={"csrf": csrf}, headers=HTML)
    assert ended.status_code == 200 and "La session est fermée" in ended.text
    assert second.get("/api/me").status_code == 401
    others = first.post("/compte/sessions/fermer-autres", data={"csrf": csrf}, headers=HTML)
    assert "1 autre(s) session(s) fermée(s)." in others.text
    assert third.get("/api/me").status_code == 401 and first.get("/api/me").status_code == 200
    mine = next(s["id"] for s in first.get("/api/me/sessions").json()["sessions"] if s["current"])
    out = first.post(f"/compte/sessions/{mine}/fermer", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert first.get("/api/me").status_code == 401


def test_wrong_current_password_is_refused(installation: Installation) -> None:
    email = new_reader(installation, "c")
    browser, csrf = browser_of(installation, email)
    data = {
        "csrf": csrf,
        "current": "pas-le-bon-mot",
        "password": "nouveau-secret-1",
        "confirm": "nouveau-secret-1",
    }
    answer = browser.post("/compte/mot-de-passe", data=data, headers=HTML)
    assert answer.status_code == 400 and "Le mot de passe actuel est incorrect." in answer.text
    data = {"csrf": csrf, "current": PASSWORD, "password": "nouveau-secret-1", "confirm": "autre-secret-22"}
    answer = browser.post("/compte/mot-de-passe", data=data, headers=HTML)
    assert answer.status_code == 400 and "être saisi deux fois" in answer.text
    assert browser.get("/api/me").status_code == 200
