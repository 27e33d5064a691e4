"""The quarterly satisfaction survey in the pages and the API: the banner while due, its form (CSRF, French
notices), ``/api/survey`` (400 on a bad score or comment, 409 on a second answer), the comment never in
the audit trail."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from tests.web.browser import BROWSER_MARKS, browser_page, live_server, sign_in_page, watch_console
from tests.web.conftest import PASSWORD, Installation
from tests.web.signin import browser_of, new_reader
from tfe.app.web.app import create_app
from tfe.core.models import AuditEvent, SurveyResponse, User
from tfe.core.security import identity

HTML = {"Accept": "text/html"}
QUESTION = "recommanderiez-vous tfe à un collègue"
SECRET = "Mon voisin de bureau ronfle"


def _bearer(installation: Installation, email: str) -> dict[str, str]:
    with installation.rt.session() as s:
        user = identity.find_user(s, email)
        assert user is not None
        _, raw = identity.create_token(s, user, "enquête")
        s.commit()
    return {"Authorization": f"Bearer {raw}"}


def _details(installation: Installation, user_email: str) -> list[tuple[str, dict]]:
    with installation.rt.session() as s:
        user = identity.find_user(s, user_email)
        assert user is not None
        rows = s.scalars(
            select(AuditEvent).where(AuditEvent.actor_user_id == user.id, AuditEvent.action.like("survey.%"))
        )
        return [(e.action, dict(e.detail)) for e in rows]


def test_banner_form_csrf_and_thanks(installation: Installation) -> None:
    email = new_reader(installation, "s")
    browser, csrf = browser_of(installation, email)
    page = browser.get("/compte", headers=HTML)
    assert QUESTION in page.text and "Plus tard / Ne pas répondre" in page.text
    assert (
        'name="score" value="10"' in page.text and "style=" not in page.text.split("survey-banner")[1][:3000]
    )
    # without the session's CSRF token: 403
    refused = browser.post("/enquete-satisfaction", data={"score": "8", "back": "/compte"}, headers=HTML)
    assert refused.status_code == 403
    # no score chosen: an error notice, still asked
    empty = browser.post("/enquete-satisfaction", data={"csrf": csrf, "back": "/compte"}, headers=HTML)
    assert "Choisissez une note de 0 à 10" in empty.text and QUESTION in empty.text
    sent = browser.post(
        "/enquete-satisfaction",
        data={"csrf": csrf, "score": "8", "comment": SECRET, "back": "//ailleurs.example/x"},
        follow_redirects=False,
    )
    assert sent.status_code == 303 and sent.headers["location"] == "/"  # never off-site
    after = browser.get("/compte", headers=HTML).text
    assert "Merci pour votre réponse" in after and QUESTION not in after
    again = browser.get("/compte", headers=HTML).text
    assert QUESTION not in again and "Merci pour votre réponse" not in again  # the notice is shown once
    ((action, detail),) = _details(installation, email)
    assert action == "survey.answer" and detail == {
        "quarter": detail["quarter"],
        "score": 8,
        "channel": "web",
    }
    with installation.rt.session() as s:
        user = identity.find_user(s, email)
        assert user is not None
        row = s.scalar(select(SurveyResponse).where(SurveyResponse.user_id == user.id))
        assert row is not None and (row.score, row.comment) == (8, SECRET)
        stored = s.execute(text("SELECT comment FROM survey_responses WHERE id = :i"), {"i": row.id}).scalar()
    assert str(stored).startswith("tfe1:") and SECRET not in str(stored)  # sealed at rest


def test_decline_from_the_banner(installation: Installation) -> None:
    email = new_reader(installation, "s")
    browser, csrf = browser_of(installation, email)
    browser.post("/enquete-satisfaction", data={"csrf": csrf, "action": "decline", "back": "/compte"})
    page = browser.get("/compte", headers=HTML).text
    assert QUESTION not in page
    assert [a for a, _ in _details(installation, email)] == ["survey.decline"]


def test_api_answer_validation_and_conflict(installation: Installation, client: TestClient) -> None:
    email = new_reader(installation, "s")
    auth = _bearer(installation, email)  # ``client`` carries no earlier test's session cookie
    first = client.get("/api/survey", headers=auth).json()
    assert first["answered"] is False and first["declined"] is False and first["score"] is None
    bodies: list[dict[str, object]] = [
        {"score": 11},
        {"score": -1},
        {"score": "8"},
        {"score": 7.5},
        {},
        {"score": 5, "comment": "x" * 2001},
        {"declined": True, "score": 4},
    ]
    for body in bodies:
        bad = client.post("/api/survey", json=body, headers=auth)
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid", (body, bad.text)
    ok = client.post("/api/survey", json={"score": 10, "comment": SECRET}, headers=auth)
    assert ok.status_code == 201 and ok.json()["answered"] and ok.json()["score"] == 10
    assert ok.json()["due"] is False and ok.json()["comment"] == SECRET  # the caller's own comment
    again = client.post("/api/survey", json={"declined": True}, headers=auth)
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    assert client.get("/api/survey", headers=auth).json()["due"] is False
    assert client.post("/api/survey", json={"score": 3}).status_code == 401
    details = _details(installation, email)
    assert [a for a, _ in details] == ["survey.read", "survey.answer", "survey.read"]
    assert SECRET not in json.dumps([d for _, d in details])


def test_due_needs_recent_activity(installation: Installation) -> None:
    email = new_reader(installation, "s")
    auth = _bearer(installation, email)
    with installation.rt.session() as s:  # a token just made, never used before this call: now used
        assert s.scalar(select(User.active).where(User.email == email)) is True
    assert installation.client.get("/api/survey", headers=auth).json()["due"] is True


@pytest.mark.parametrize("_", [0], ids=["chromium"])
@BROWSER_MARKS[0]
@BROWSER_MARKS[1]
def test_the_banner_is_answered_in_chromium(installation: Installation, _: int) -> None:
    """A new reader sees the banner on their first page, picks a score, writes a comment and sends it: the
    thank-you replaces the banner, which does not come back on the next page; no CSP violation."""
    from playwright.sync_api import expect

    email = new_reader(installation, "nav")
    external: list[str] = []
    with (
        live_server(create_app(installation.rt)) as url,
        browser_page(url, external, timeout_ms=30_000) as page,
    ):
        console = watch_console(page)
        sign_in_page(page, url, email, PASSWORD)
        banner = page.locator("aside.survey-banner")
        expect(banner).to_be_visible()
        expect(banner).to_contain_text(QUESTION)
        banner.get_by_label("7", exact=True).check()
        banner.get_by_label("Un commentaire").fill("Les alertes sont utiles.")
        banner.get_by_role("button", name="Envoyer").click()
        expect(page.locator(".survey-notice")).to_contain_text("Merci pour votre réponse")
        expect(page.locator("aside.survey-banner")).to_have_count(0)
        page.goto(f"{url}/compte")
        expect(page.locator("h1")).to_be_visible()
        expect(page.locator("aside.survey-banner")).to_have_count(0)
    assert not [m for m in console if m.startswith("CSP ")], console
    assert external == []
    with installation.rt.session() as s:
        user = identity.find_user(s, email)
        assert user is not None
        row = s.scalar(select(SurveyResponse).where(SurveyResponse.user_id == user.id))
        assert row is not None and (row.score, row.comment) == (7, "Les alertes sont utiles.")
