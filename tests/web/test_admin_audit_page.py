"""``/admin/journal`` and ``GET /api/admin/audit``: administrators search the audit trail by user, action,
target and date; an organisation's administrator sees only its actors' events; others get 403."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.web.conftest import PASSWORD, Installation
from tests.web.signin import sign_in
from tfe.core.models import AuditEvent, User
from tfe.core.security import audit, identity

HTML = {"Accept": "text/html"}
NATIONAL = ("admin@tfe.local", "admin-password-123")


@dataclass
class Journal:
    delta_admin_token: str
    national_token: str
    delta_user: int


@pytest.fixture(scope="module")
def journal(installation: Installation) -> Journal:
    with installation.rt.session() as s:
        delta = identity.get_or_create_org(s, "delta", "CCI Delta", "regional_chamber")
        admin = identity.create_user(s, email="admin@delta.fr", org=delta, role="admin", password=PASSWORD)
        member = identity.create_user(s, email="membre@delta.fr", org=delta, role="reader", password=PASSWORD)
        national = s.scalars(select(User).where(User.email == "admin@tfe.local")).one()
        tokens = (
            identity.create_token(s, admin, name="journal", scopes="read,admin")[1],
            identity.create_token(s, national, name="journal", scopes="read,admin")[1],
        )
        for i in range(60):  # more than a page of the delta member's reads
            audit.record(
                s,
                "document.read",
                audit.Actor.of_user(member, "web"),
                target_kind="document",
                target_id=f"delta-{i}",
            )
        audit.record(s, "search", audit.Actor.of_user(member, "api"), detail={"q": "vins"})
        return Journal(tokens[0], tokens[1], member.id)


def test_the_national_admin_searches_every_event_by_user_action_and_target(
    client: TestClient, installation: Installation, journal: Journal
) -> None:
    sign_in(client, *NATIONAL)
    assert "/admin/journal" in client.get("/admin/organisations", headers=HTML).text
    page = client.get("/admin/journal", params={"utilisateur": "membre@delta"}, headers=HTML)
    assert page.status_code == 200 and "61 événements" in page.text
    assert "Page 1 sur 2" in page.text and 'rel="next"' in page.text and "membre@delta.fr" in page.text
    second = client.get("/admin/journal", params={"utilisateur": "membre@delta", "page": 2}, headers=HTML)
    assert second.status_code == 200 and "Page 2 sur 2" in second.text and 'rel="prev"' in second.text
    one = client.get("/admin/journal", params={"cible": "document", "id": "delta-7"}, headers=HTML)
    assert "1 événement<" in one.text and "delta-7" in one.text
    searches = client.get(
        "/admin/journal", params={"utilisateur": "delta.fr", "action": "search"}, headers=HTML
    )
    assert "1 événement<" in searches.text and "q : vins" in searches.text
    today = dt.date.today().isoformat()
    dated = client.get("/admin/journal", params={"utilisateur": "membre@delta", "du": today, "au": today})
    assert "61 événements" in dated.text
    past = client.get("/admin/journal", params={"utilisateur": "membre@delta", "au": "2000-01-01"})
    assert "0 événement" in past.text and "Aucun événement ne correspond." in past.text
    bad = client.get("/admin/journal", params={"du": "hier"}, headers=HTML)
    assert bad.status_code == 400 and "AAAA-MM-JJ" in bad.text
    with installation.rt.session() as s:
        last = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "audit.search").order_by(AuditEvent.id.desc())
        ).first()
        assert last is not None and last.detail["user"] == "membre@delta" and last.detail["channel"] == "web"


def test_an_organisation_admin_sees_only_its_actors_events(client: TestClient, journal: Journal) -> None:
    sign_in(client, "admin@delta.fr")
    page = client.get("/admin/journal", headers=HTML)
    assert page.status_code == 200 and "membre@delta.fr" in page.text
    assert "alice@alpha.fr" not in page.text and "admin@tfe.local" not in page.text
    alice = client.get("/admin/journal", params={"utilisateur": "alice@alpha.fr"}, headers=HTML)
    assert "0 événement" in alice.text
    api = client.get(
        "/api/admin/audit",
        params={"limit": 200},
        headers={"Authorization": f"Bearer {journal.delta_admin_token}"},
    )
    assert api.status_code == 200
    assert {e["actor_org_id"] for e in api.json()["events"]} == {
        api.json()["events"][0]["actor_org_id"]
    }  # one organisation: delta's


def test_the_api_filters_paginates_and_refuses_non_admins(
    client: TestClient, installation: Installation, journal: Journal
) -> None:
    auth = {"Authorization": f"Bearer {journal.national_token}"}
    body = client.get(
        "/api/admin/audit",
        params={"user": "membre@delta", "action": "document", "limit": 10, "offset": 5},
        headers=auth,
    ).json()
    assert body["total"] == 60 and body["limit"] == 10 and body["offset"] == 5 and len(body["events"]) == 10
    event = body["events"][0]
    assert event["action"] == "document.read" and event["actor_email"] == "membre@delta.fr"
    assert event["actor_user_id"] == journal.delta_user and event["detail"]["channel"] == "web"
    assert event["seq"] >= 1 and event["target_kind"] == "document" and event["at"].endswith("+00:00")
    since = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    later = client.get("/api/admin/audit", params={"since": since.isoformat()}, headers=auth).json()
    assert later["total"] == 0
    assert client.get("/api/admin/audit", params={"since": "demain"}, headers=auth).status_code == 400
    assert client.get("/api/admin/audit", params={"limit": 1000}, headers=auth).status_code == 400
    reader = client.get("/api/admin/audit", headers=installation.auth("reader"))
    assert reader.status_code == 403 and reader.json()["error"]["code"]
    sign_in(client, "reader@alpha.fr")
    assert client.get("/admin/journal", headers=HTML).status_code == 403


def test_reads_of_a_documents_fields_are_events(client: TestClient, installation: Installation) -> None:
    doc_id = installation.ids["doc-vins-de"]
    with installation.rt.session() as s:  # only this test's reads (other files share the installation)
        before = s.scalar(select(func.max(AuditEvent.id))) or 0
    assert (
        client.get(f"/api/documents/{doc_id}/fields", headers=installation.auth("alice")).status_code == 200
    )
    sign_in(client, "alice@alpha.fr")
    assert client.get(f"/documents/{doc_id}", headers=HTML).status_code == 200
    assert client.get(f"/documents/{doc_id}/champs", headers=HTML).status_code == 200
    with installation.rt.session() as s:
        reads = s.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "document.fields_read",
                AuditEvent.target_id == doc_id,
                AuditEvent.id > before,
            )
        ).all()
    assert [e.detail["channel"] for e in reads] == ["api", "web", "web"]
    assert all(isinstance(e.detail["fields"], list) for e in reads) and reads[-1].detail["form"] is True
    assert {e.actor_user_id for e in reads} == {installation.users["alice"]}
