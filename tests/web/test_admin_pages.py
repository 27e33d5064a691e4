"""Administration pages: who sees which organisation, CSRF on every form, audit events, deactivation.

The shared installation's seeded users stay untouched: these tests add their own organisation (``gamma``)
and accounts, and the national administrator is ``tfe init``'s (``admin@tfe.local``, Business France).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.web.conftest import PASSWORD, Installation
from tests.web.signin import csrf_of, sign_in
from tfe.core.models import ApiToken, AuditEvent, User
from tfe.core.security import identity

HTML = {"Accept": "text/html"}
NATIONAL = ("admin@tfe.local", "admin-password-123")


@dataclass
class Accounts:
    gamma: int  # organisation id
    alpha: int
    gamma_admin: int
    gamma_member: int
    gamma_token: int
    alice_token: int  # a token of alpha's alice (another organisation for gamma's admin)


@pytest.fixture(scope="module")
def accounts(installation: Installation) -> Accounts:
    with installation.rt.session() as s:
        gamma = identity.get_or_create_org(s, "gamma", "CCI Gamma", "regional_chamber")
        admin = identity.create_user(s, email="admin@gamma.fr", org=gamma, role="admin", password=PASSWORD)
        member = identity.create_user(s, email="membre@gamma.fr", org=gamma, role="reader", password=PASSWORD)
        token = identity.create_token(s, member, name="script")[0]
        alice = s.get(User, installation.users["alice"])
        assert alice is not None
        alice_token = identity.create_token(s, alice, name="admin-tests")[0]
        return Accounts(gamma.id, installation.orgs["alpha"], admin.id, member.id, token.id, alice_token.id)


def _sign_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Sign in; returns the session's CSRF token (the one every form carries)."""
    sign_in(client, email, password)
    return csrf_of(client.get("/mes-recherches").text)


def _events(installation: Installation, action: str) -> list[AuditEvent]:
    with installation.rt.session() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def _new_user(installation: Installation, org: str = "gamma", role: str = "reader") -> tuple[int, str]:
    email = f"u{uuid.uuid4().hex[:8]}@{org}.fr"
    with installation.rt.session() as s:
        user = identity.create_user(
            s, email=email, org=identity.find_org(s, org), role=role, password=PASSWORD
        )
        return user.id, email


def test_national_admin_sees_every_organisation(client: TestClient, accounts: Accounts) -> None:
    _sign_in(client, *NATIONAL)
    page = client.get("/admin/organisations", headers=HTML)
    assert page.status_code == 200
    for name in ("Business France", "CCI Alpha", "Banque Beta", "CCI Gamma"):
        assert name in page.text
    assert "agence nationale" in page.text
    assert client.get(f"/admin/organisations/{accounts.alpha}", headers=HTML).status_code == 200
    tokens = client.get(f"/admin/organisations/{accounts.alpha}/jetons", headers=HTML)
    assert tokens.status_code == 200 and "alice@alpha.fr" in tokens.text


def test_organisation_admin_sees_only_theirs(
    installation: Installation, client: TestClient, accounts: Accounts
) -> None:
    csrf = _sign_in(client, "admin@gamma.fr")
    assert 'href="/admin/organisations"' in client.get("/", headers=HTML).text  # the nav link
    page = client.get("/admin/organisations", headers=HTML)
    assert "CCI Gamma" in page.text and "CCI Alpha" not in page.text and "Business France" not in page.text
    users = client.get(f"/admin/organisations/{accounts.gamma}", headers=HTML)
    assert "membre@gamma.fr" in users.text and "alice@alpha.fr" not in users.text
    for path in (f"/admin/organisations/{accounts.alpha}", f"/admin/organisations/{accounts.alpha}/jetons"):
        assert client.get(path, headers=HTML).status_code == 404
    alice = installation.users["alice"]
    for path, data in (
        (f"/admin/organisations/{accounts.alpha}/utilisateurs", {"email": "x@alpha.fr", "role": "admin"}),
        (f"/admin/utilisateurs/{alice}/role", {"role": "reader"}),
        (f"/admin/utilisateurs/{alice}/desactiver", {}),
        (f"/admin/utilisateurs/{alice + 10_000}/role", {"role": "reader"}),
        (f"/admin/jetons/{accounts.alice_token}/revoquer", {}),
    ):
        response = client.post(path, data={"csrf": csrf, **data}, headers=HTML, follow_redirects=False)
        assert response.status_code == 404, path
    with installation.rt.session() as s:
        user = s.get(User, alice)
        assert user is not None and user.active and user.role == "contributor"
        token = s.get(ApiToken, accounts.alice_token)
        assert token is not None and token.revoked_at is None
        assert s.scalar(select(User).where(User.email == "x@alpha.fr")) is None


@pytest.mark.parametrize("email", ["alice@alpha.fr", "reader@alpha.fr"])
def test_non_admins_are_refused(client: TestClient, accounts: Accounts, email: str) -> None:
    csrf = _sign_in(client, email)
    assert "/admin/organisations" not in client.get("/", headers=HTML).text
    for path in ("/admin", "/admin/organisations", f"/admin/organisations/{accounts.alpha}"):
        assert client.get(path, headers=HTML, follow_redirects=False).status_code == 403, path
    response = client.post(
        f"/admin/utilisateurs/{accounts.gamma_member}/desactiver", data={"csrf": csrf}, headers=HTML
    )
    assert response.status_code == 403
    assert "Accès refusé" in response.text


def test_signed_out_visitors_go_to_login(client: TestClient) -> None:
    response = client.get("/admin/organisations", headers=HTML, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")


def test_every_form_needs_the_csrf_token(
    installation: Installation, client: TestClient, accounts: Accounts
) -> None:
    _sign_in(client, "admin@gamma.fr")
    target, _ = _new_user(installation)
    before = len(_events(installation, "user.deactivate"))
    for path, data in (
        (f"/admin/organisations/{accounts.gamma}/utilisateurs", {"email": "csrf@gamma.fr", "role": "reader"}),
        (f"/admin/utilisateurs/{target}/role", {"role": "admin"}),
        (f"/admin/utilisateurs/{target}/desactiver", {}),
        (f"/admin/utilisateurs/{target}/reactiver", {}),
        (f"/admin/jetons/{accounts.gamma_token}/revoquer", {}),
    ):
        for forged in ({}, {"csrf": "forged"}):
            response = client.post(path, data={**data, **forged}, headers=HTML, follow_redirects=False)
            assert response.status_code == 403, (path, forged)
    with installation.rt.session() as s:
        user = s.get(User, target)
        assert user is not None and user.active and user.role == "reader"
        assert s.scalar(select(User).where(User.email == "csrf@gamma.fr")) is None
    assert len(_events(installation, "user.deactivate")) == before


def test_invite_shows_a_one_time_password_that_signs_in(
    installation: Installation, client: TestClient, accounts: Accounts
) -> None:
    csrf = _sign_in(client, "admin@gamma.fr")
    email = f"nouveau-{uuid.uuid4().hex[:6]}@gamma.fr"
    response = client.post(
        f"/admin/organisations/{accounts.gamma}/utilisateurs",
        data={"csrf": csrf, "email": email, "name": "Nouvelle Conseillère", "role": "contributor"},
        headers=HTML,
    )
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    match = re.search(r'id="one-time-password">([^<]+)<', response.text)
    assert match, response.text
    password = match.group(1)
    assert "Compte créé" in response.text and "Contributeur" in response.text
    event = _events(installation, "user.create")[-1]
    assert event.actor_user_id == accounts.gamma_admin and event.detail["email"] == email
    assert event.detail["org"] == "gamma" and event.detail["channel"] == "web"
    assert password not in str(event.detail)
    # the page does not show the password again; the new account signs in with it
    assert password not in client.get(f"/admin/organisations/{accounts.gamma}", headers=HTML).text
    client.cookies.clear()
    _sign_in(client, email, password)


def test_invite_errors_are_shown_in_french(client: TestClient, accounts: Accounts) -> None:
    csrf = _sign_in(client, "admin@gamma.fr")
    url = f"/admin/organisations/{accounts.gamma}/utilisateurs"
    duplicate = client.post(
        url, data={"csrf": csrf, "email": "membre@gamma.fr", "role": "reader"}, headers=HTML
    )
    assert duplicate.status_code == 409 and "existe déjà" in duplicate.text
    invalid = client.post(
        url, data={"csrf": csrf, "email": "pas-une-adresse", "role": "reader"}, headers=HTML
    )
    assert invalid.status_code == 400 and "adresse e-mail valide" in invalid.text
    assert 'value="pas-une-adresse"' in invalid.text  # the form keeps what was typed


def test_change_role_and_deactivate_are_audited(
    installation: Installation, client: TestClient, accounts: Accounts
) -> None:
    csrf = _sign_in(client, "admin@gamma.fr")
    target, email = _new_user(installation)
    _, raw = _token_for(installation, target)
    response = client.post(
        f"/admin/utilisateurs/{target}/role", data={"csrf": csrf, "role": "curator"}, headers=HTML
    )
    assert response.status_code == 200 and f"{email} a désormais le rôle Curateur" in response.text
    event = _events(installation, "user.role")[-1]
    assert (event.target_id, event.detail["from"], event.detail["to"]) == (str(target), "reader", "curator")

    response = client.post(f"/admin/utilisateurs/{target}/desactiver", data={"csrf": csrf}, headers=HTML)
    assert "désactivé" in response.text
    assert _events(installation, "user.deactivate")[-1].target_id == str(target)
    # a deactivated account can neither sign in nor use its tokens
    assert client.get("/api/search?q=vins", headers={"Authorization": f"Bearer {raw}"}).status_code == 401
    other = TestClient(client.app)
    token = csrf_of(other.get("/login").text)
    refused = other.post("/login", data={"email": email, "password": PASSWORD, "csrf": token})
    assert refused.status_code == 401

    response = client.post(f"/admin/utilisateurs/{target}/reactiver", data={"csrf": csrf}, headers=HTML)
    assert "réactivé" in response.text
    assert _events(installation, "user.reactivate")[-1].target_id == str(target)
    assert client.get("/api/search?q=vins", headers={"Authorization": f"Bearer {raw}"}).status_code == 200


def _token_for(installation: Installation, user_id: int) -> tuple[int, str]:
    with installation.rt.session() as s:
        user = s.get(User, user_id)
        assert user is not None
        token, raw = identity.create_token(s, user, name="tests")
        return token.id, raw


def test_tokens_list_and_revoke(installation: Installation, client: TestClient, accounts: Accounts) -> None:
    csrf = _sign_in(client, "admin@gamma.fr")
    token_id, raw = _token_for(installation, accounts.gamma_member)
    with installation.rt.session() as s:
        prefix = s.get(ApiToken, token_id).prefix  # type: ignore[union-attr]
    page = client.get(f"/admin/organisations/{accounts.gamma}/jetons", headers=HTML)
    assert f"tfe_{prefix}…" in page.text and "membre@gamma.fr" in page.text and "Jamais" in page.text
    assert raw not in page.text
    response = client.post(f"/admin/jetons/{token_id}/revoquer", data={"csrf": csrf}, headers=HTML)
    assert response.status_code == 200 and f"Le jeton tfe_{prefix}… est révoqué." in response.text
    assert _events(installation, "token.revoke")[-1].target_id == prefix
    assert client.get("/api/search?q=vins", headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_last_admin_cannot_demote_or_deactivate_themselves(
    installation: Installation, client: TestClient, accounts: Accounts
) -> None:
    csrf = _sign_in(client, "admin@gamma.fr")
    for path, data in (
        (f"/admin/utilisateurs/{accounts.gamma_admin}/role", {"role": "reader"}),
        (f"/admin/utilisateurs/{accounts.gamma_admin}/desactiver", {}),
    ):
        response = client.post(path, data={"csrf": csrf, **data}, headers=HTML)
        assert response.status_code == 200 and "dernier administrateur actif" in response.text
    with installation.rt.session() as s:
        admin = s.get(User, accounts.gamma_admin)
        assert admin is not None and admin.active and admin.role == "admin"
