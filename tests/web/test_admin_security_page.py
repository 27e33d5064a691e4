"""``/admin/securite``: who sees which alert, CSRF on every form, lift and confirm, the budgets form.

The shared installation's seeded users stay untouched: these tests add their own organisations
(``sec-a``, ``sec-b``) and accounts, and alerts recorded directly (the loop that trips the guard is in
test_exfiltration_guard.py); the national administrator is ``tfe init``'s.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.web.conftest import PASSWORD, Installation
from tests.web.signin import csrf_of, sign_in
from tfe.core.db import utcnow
from tfe.core.models import ApiToken, AuditEvent, User
from tfe.core.security import identity, security_alerts
from tfe.core.security.guard_policy import default_policy, list_budgets
from tfe.core.security.models import GuardBudget, SecurityAlert

HTML = {"Accept": "text/html"}
NATIONAL = ("admin@tfe.local", "admin-password-123")


@dataclass
class Scene:
    a_admin: str
    a_alert: int  # a suspension of sec-a's member's token
    a_notified: int  # a notice about the same member
    b_alert: int
    a_token: int
    a_member: int


@pytest.fixture(scope="module")
def scene(installation: Installation) -> Scene:
    with installation.rt.session() as s:
        org_a = identity.get_or_create_org(s, "sec-a", "CCI Sécurité A", "regional_chamber")
        org_b = identity.get_or_create_org(s, "sec-b", "CCI Sécurité B", "regional_chamber")
        identity.create_user(s, email="admin@sec-a.fr", org=org_a, role="admin", password=PASSWORD)
        member = identity.create_user(s, email="membre@sec-a.fr", org=org_a, role="reader", password=PASSWORD)
        other = identity.create_user(s, email="membre@sec-b.fr", org=org_b, role="reader", password=PASSWORD)
        token = identity.create_token(s, member, name="script")[0]
        token.suspended_at = utcnow()
        detail = {
            "explanation": "20 requêtes en une minute",
            "counts": {"token": {"minute": 20, "hour": 20, "day": 20}},
        }
        a = security_alerts.raise_alert(
            s,
            user=member,
            token_id=token.id,
            session_id=None,
            rule="budget_minute",
            response="suspended",
            detail=detail,
        )
        notified = security_alerts.raise_alert(
            s,
            user=member,
            token_id=None,
            session_id=None,
            rule="off_hours",
            response="notified",
            detail=detail,
        )
        b = security_alerts.raise_alert(
            s,
            user=other,
            token_id=None,
            session_id=None,
            rule="new_network",
            response="notified",
            detail=detail,
        )
        return Scene("admin@sec-a.fr", a.id, notified.id, b.id, token.id, member.id)


def _sign_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    sign_in(client, email, password)
    page = client.get("/admin/securite", headers=HTML)
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


def test_only_admins_see_the_page(client: TestClient, scene: Scene) -> None:
    assert client.get("/admin/securite", headers=HTML, follow_redirects=False).status_code == 303  # to /login
    token = csrf_of(client.get("/login").text)
    client.post("/login", data={"email": "membre@sec-a.fr", "password": PASSWORD, "csrf": token})
    refused = client.get("/admin/securite", headers=HTML)
    assert refused.status_code == 403 and "Accès refusé" in refused.text


def test_an_admin_sees_the_alerts_of_their_organisation_only(client: TestClient, scene: Scene) -> None:
    _sign_in(client, scene.a_admin)
    page = client.get("/admin/securite", headers=HTML).text
    assert f'data-alert="{scene.a_alert}"' in page and f'data-alert="{scene.a_notified}"' in page
    assert f'data-alert="{scene.b_alert}"' not in page and "membre@sec-b.fr" not in page
    assert "Budget par minute dépassé à répétition" in page and "20 requêtes en une minute" in page
    assert "Lever" in page and "Confirmer" in page and "Désactiver aussi le compte" in page
    assert 'action="/admin/securite/budgets"' not in page  # budgets are read-only for them
    assert page.count('name="csrf"') >= 4  # two forms per alert
    refused = client.post(
        f"/admin/securite/alertes/{scene.b_alert}/lever", data={"csrf": csrf_of(page)}, headers=HTML
    )
    assert refused.status_code == 404  # another organisation's alert does not exist for them


def test_national_admins_see_every_organisation(client: TestClient, scene: Scene) -> None:
    _sign_in(client, *NATIONAL)
    page = client.get("/admin/securite", headers=HTML).text
    assert f'data-alert="{scene.a_alert}"' in page and f'data-alert="{scene.b_alert}"' in page
    assert 'action="/admin/securite/budgets"' in page


def test_lifting_needs_the_csrf_token_and_unsuspends(
    client: TestClient, scene: Scene, installation: Installation
) -> None:
    csrf = _sign_in(client, scene.a_admin)
    forged = client.post(
        f"/admin/securite/alertes/{scene.a_alert}/lever", data={"csrf": "forged"}, headers=HTML
    )
    assert forged.status_code == 403
    done = client.post(
        f"/admin/securite/alertes/{scene.a_alert}/lever",
        data={"csrf": csrf, "note": "sauvegarde prévue"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/admin/securite"
    page = client.get("/admin/securite", headers=HTML).text
    assert f"Alerte n° {scene.a_alert} levée" in page and "sauvegarde prévue" in page
    again = client.post(f"/admin/securite/alertes/{scene.a_alert}/lever", data={"csrf": csrf})
    assert "déjà été examinée" in again.text
    with installation.rt.session() as s:
        token = s.get(ApiToken, scene.a_token)
        alert = s.get(SecurityAlert, scene.a_alert)
        assert token is not None and token.suspended_at is None and token.revoked_at is None
        assert alert is not None and alert.status == "lifted" and alert.reviewed_by is not None
        event = s.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "guard.alert_lifted", AuditEvent.target_id == str(scene.a_alert)
            )
        ).one()
        assert event.detail["unsuspended"] == "api_key"


def test_confirming_with_deactivation(client: TestClient, scene: Scene, installation: Installation) -> None:
    csrf = _sign_in(client, scene.a_admin)
    done = client.post(
        f"/admin/securite/alertes/{scene.a_notified}/confirmer",
        data={"csrf": csrf, "note": "compte compromis", "deactivate": "1"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    with installation.rt.session() as s:
        member = s.get(User, scene.a_member)
        alert = s.get(SecurityAlert, scene.a_notified)
        assert member is not None and not member.active
        assert alert is not None and alert.status == "confirmed" and alert.review_note == "compte compromis"
        actions = set(
            s.scalars(
                select(AuditEvent.action).where(
                    AuditEvent.target_id.in_([str(scene.a_notified), str(scene.a_member)])
                )
            )
        )
        assert {"guard.alert_confirmed", "user.deactivate"} <= actions


def test_budgets_form(client: TestClient, scene: Scene, installation: Installation) -> None:
    csrf = _sign_in(client, scene.a_admin)
    refused = client.post(
        "/admin/securite/budgets",
        data={"csrf": csrf, "role": "curator", "per_minute": 1, "per_hour": 1, "per_day": 1},
        headers=HTML,
    )
    assert refused.status_code == 403
    client.cookies.clear()
    csrf = _sign_in(client, *NATIONAL)
    wanted = {"role": "curator", "per_minute": 250, "per_hour": 3100, "per_day": 10100}
    try:
        bad = client.post("/admin/securite/budgets", data={**wanted, "per_minute": 5000, "csrf": csrf})
        assert "par minute ≤ par heure ≤ par jour" in bad.text
        assert (
            client.post("/admin/securite/budgets", data={**wanted, "csrf": "x"}, headers=HTML).status_code
            == 403
        )
        done = client.post("/admin/securite/budgets", data={**wanted, "csrf": csrf}, follow_redirects=False)
        assert done.status_code == 303
        page = client.get("/admin/securite", headers=HTML).text
        assert "Budgets du rôle « Curateur » enregistrés." in page and 'value="3100"' in page
        with installation.rt.session() as s:
            assert next(b for b in list_budgets(s) if b.role == "curator").per_hour == 3100
            event = s.scalars(select(AuditEvent).where(AuditEvent.action == "guard.budget_changed")).all()[-1]
            assert event.detail["to"]["per_hour"] == 3100 and event.target_id == "curator"
    finally:
        with installation.rt.session() as s:  # the other modules' tests run under the default budgets
            row = s.get(GuardBudget, "curator")
            if row is not None:
                s.delete(row)
        installation.client.app.state.guard.budgets.invalidate()  # type: ignore[attr-defined]
    assert default_policy().budgets["curator"].per_hour == 3000
