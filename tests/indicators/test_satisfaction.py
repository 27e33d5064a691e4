"""The quarterly satisfaction survey (``tfe.app.survey``) on SQLite and PostgreSQL: who is asked, one answer
or refusal per quarter, validation, audit without the comment; and its indicators (``satisfaction``):
suppressed under five respondents, values from five, comments never shown."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import tfe.core.crypto.models  # noqa: F401  (tables)
from tests.conftest import tables
from tfe.app import survey
from tfe.app.indicators.context import Context
from tfe.app.indicators.periods import parse_period
from tfe.app.indicators.satisfaction import satisfaction
from tfe.app.indicators.scopes import resolve
from tfe.app.indicators.service import compute
from tfe.core.errors import ConflictError, ValidationError
from tfe.core.models import AuditEvent, Organisation, SurveyResponse, User
from tfe.core.security.models import UserSession
from tfe.core.settings import Settings

NOW = dt.datetime(2026, 12, 3, 12, tzinfo=dt.UTC)
SECRET = "Mon chef est pénible"


@pytest.fixture
def factory(db_settings: Settings) -> Iterator[sessionmaker[Session]]:
    with tables(db_settings) as made:
        with made.begin() as s:
            s.add_all(
                [
                    Organisation(id=1, slug="cci-na", name="CCI NA", kind="regional_chamber", region="75"),
                    Organisation(id=2, slug="cci-ara", name="CCI ARA", kind="regional_chamber", region="84"),
                ]
            )
            s.flush()
            s.add_all([User(id=10 + n, email=f"u{n}@na.fr", org_id=1) for n in range(6)])
            s.add_all([User(id=20 + n, email=f"u{n}@ara.fr", org_id=2) for n in range(3)])
            s.add(User(id=99, email="dormant@na.fr", org_id=1))
            s.flush()
            for uid in [*range(10, 16), *range(20, 23)]:
                s.add(_session_row(uid, NOW - dt.timedelta(days=2)))
            s.add(_session_row(99, NOW - dt.timedelta(days=120)))  # last seen four months ago
        yield made


def _session_row(user_id: int, seen: dt.datetime) -> UserSession:
    return UserSession(
        id=f"{user_id:064d}", user_id=user_id, last_seen_at=seen, expires_at=seen + dt.timedelta(days=1)
    )


def _user(s: Session, uid: int) -> User:
    user = s.get(User, uid)
    assert user is not None
    return user


def test_who_is_asked_and_once_a_quarter(factory: sessionmaker[Session]) -> None:
    with factory.begin() as s:
        u, v = _user(s, 10), _user(s, 11)
        assert survey.quarter_of(NOW) == "2026-Q4"
        assert survey.due(s, u, NOW) and survey.due(s, v, NOW)
        assert not survey.due(s, _user(s, 99), NOW)  # inactive: not seen for 90 days
        survey.answer(s, u, 9, "  Très utile  ", NOW, channel="web")
        survey.decline(s, v, NOW, channel="web")
        assert not survey.due(s, u, NOW) and not survey.due(s, v, NOW)
        with pytest.raises(ConflictError):
            survey.answer(s, u, 3, None, NOW + dt.timedelta(days=1), channel="web")
        with pytest.raises(ConflictError):
            survey.answer(s, v, 3, None, NOW, channel="web")  # declined counts as this quarter's reply
        row = survey.response_of(s, u, NOW)
        assert row is not None and (row.score, row.comment, row.declined) == (9, "Très utile", False)
        next_quarter = dt.datetime(2027, 1, 4, tzinfo=dt.UTC)
        for uid in (10, 11):
            row_of = s.get(UserSession, f"{uid:064d}")
            assert row_of is not None
            row_of.last_seen_at = next_quarter
        assert survey.due(s, u, next_quarter) and survey.due(s, v, next_quarter)
        _user(s, 13).active = False
        assert not survey.due(s, _user(s, 13), NOW)  # a disabled account


@pytest.mark.parametrize(
    "score, comment",
    [(11, None), (-1, None), ("8", None), (True, None), (7.5, None), (None, None), (5, "x" * 2001)],
)
def test_bad_answers_are_refused(factory: sessionmaker[Session], score: object, comment: str | None) -> None:
    with factory.begin() as s:
        with pytest.raises(ValidationError):
            survey.answer(s, _user(s, 10), score, comment, NOW, channel="api")
        assert s.scalar(select(SurveyResponse.id)) is None


def test_audit_keeps_the_score_not_the_comment(factory: sessionmaker[Session]) -> None:
    with factory.begin() as s:
        survey.answer(s, _user(s, 10), 4, SECRET, NOW, channel="web")
        survey.decline(s, _user(s, 11), NOW, channel="api")
    with factory() as s:
        events = {e.action: e for e in s.scalars(select(AuditEvent))}
    assert set(events) == {"survey.answer", "survey.decline"}
    assert events["survey.answer"].detail == {"quarter": "2026-Q4", "score": 4, "channel": "web"}
    assert events["survey.decline"].detail == {"quarter": "2026-Q4", "channel": "api"}
    assert all(SECRET not in json.dumps(e.detail) for e in events.values())


def _cells(s: Session, scope: str) -> list[dict]:
    ctx = Context(s, s.get_bind().dialect.name, resolve(s, scope), parse_period("2026-Q4"), NOW)
    return [c.as_dict() for c in satisfaction(ctx)]


def _value(cells: list[dict], metric: str, **dims: str) -> dict:
    (cell,) = [c for c in cells if c["metric"] == metric and c["dims"] == dims]
    return cell


def test_indicator_suppressed_under_five_and_shown_from_five(factory: sessionmaker[Session]) -> None:
    with factory.begin() as s:
        for uid, score in zip(range(10, 15), (10, 9, 8, 6, 2), strict=True):  # five at cci-na
            survey.answer(s, _user(s, uid), score, SECRET, NOW, channel="web")
        survey.decline(s, _user(s, 15), NOW, channel="web")
        for uid, score in zip(range(20, 23), (10, 9, 7), strict=True):  # three at cci-ara
            survey.answer(s, _user(s, uid), score, SECRET, NOW, channel="web")
    with factory() as s:
        na = _cells(s, "org:cci-na")
        ara = _cells(s, "org:cci-ara")
        network = _cells(s, "network")
        full = compute(s, resolve(s, "network"), parse_period("2026-Q4"), now=NOW).as_dict()
    assert _value(na, "responses")["value"] == 5
    assert _value(na, "score_mean")["value"] == 7.0  # (10 + 9 + 8 + 6 + 2) / 5
    assert _value(na, "nps")["value"] == 0.0  # two promoters, two detractors of five
    assert _value(na, "score_10")["value"] == 1 and _value(na, "score_7")["value"] == 0
    assert _value(na, "declined") == {**_value(na, "declined"), "value": None, "suppressed": True}
    for metric in ("responses", "score_mean", "nps", "score_10"):
        assert _value(ara, metric)["suppressed"] and _value(ara, metric)["value"] is None
    assert _value(network, "responses")["value"] == 8
    assert _value(network, "nps")["value"] == 25.0  # promoters 4, detractors 2, of 8
    assert _value(network, "score_mean", org="cci-na")["value"] == 7.0
    assert _value(network, "score_mean", org="cci-ara")["suppressed"]
    assert _value(network, "responses", region="75")["value"] == 5
    assert _value(network, "responses", region="84")["value"] is None
    assert not [c for c in na if "org" in c["dims"] or "region" in c["dims"]]
    assert full["sections"]["satisfaction"] and SECRET not in json.dumps(full)


def test_indicator_with_no_answer_is_zero(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        cells = _cells(s, "network")
    assert _value(cells, "responses") == {**_value(cells, "responses"), "value": 0, "suppressed": False}
    assert _value(cells, "nps")["value"] is None
