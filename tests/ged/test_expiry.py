"""``ged.expiry``: the owner is e-mailed once before a document's validity ends (a real SMTP server on
loopback, aiosmtpd), again only when the date changes; a refused message is retried; the hourly
housekeeping job sends the reminders and purges the trash (``tfe.app.jobs``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from ged import expiry, trash
from ged.editing import DocumentChanges, edit_document
from ged.models import Document
from tests.veille.smtpserver import Collecting, Refusing, closed_port, smtp_server
from tests.web.conftest import Seed, make_installation
from tfe.app.jobs.queue import make_queue
from tfe.app.jobs.tasks import Jobs
from tfe.app.runtime import Runtime
from tfe.core.models import AuditEvent, User
from tfe.core.security import anchors
from tfe.core.security.models import AuditAnchor

PUBLIC = "https://tfe.example.fr"
TODAY = dt.date.today()


@dataclass
class Env:
    rt: Runtime
    seed: Seed
    inbox: Collecting
    port: int


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    rt, seed = make_installation(Path(tmp_path_factory.mktemp("expiry")))
    inbox = Collecting()
    with smtp_server(inbox) as port:
        rt.settings = rt.settings.model_copy(
            update={"smtp_url": f"smtp://127.0.0.1:{port}", "public_url": PUBLIC, "expiry_reminder_days": 30}
        )
        yield Env(rt, seed, inbox, port)
    rt.close()


def _valid_until(env: Env, who: str, key: str, until: dt.date | None) -> dict[str, object]:
    with env.rt.session() as session:
        user = session.get(User, env.seed.users[who])
        assert user is not None
        changes = DocumentChanges(valid_until=until, clear_valid_until=until is None)
        return edit_document(
            session, env.rt.backend, env.rt.referential, user, env.seed.ids[key], changes, channel="cli"
        ).changed


def _run(env: Env, settings: object | None = None) -> expiry.ReminderReport:
    return expiry.send_expiry_reminders(env.rt.session_factory, settings or env.rt.settings)  # type: ignore[arg-type]


def test_reminders_are_sent_once_and_rearmed_by_a_new_date(env: Env) -> None:
    ids = env.seed.ids
    soon, later, past = (
        TODAY + dt.timedelta(days=10),
        TODAY + dt.timedelta(days=90),
        TODAY - dt.timedelta(days=3),
    )
    changed = _valid_until(env, "alice", "doc-vins-de", soon)
    assert changed == {"valid_until": [None, soon.isoformat()]}
    _valid_until(env, "alice", "doc-vins-it", later)  # beyond the 30 days: not yet
    _valid_until(env, "bob", "doc-beta-org", past)  # already expired and never reminded: told so

    report = _run(env)
    assert sorted(report.sent) == sorted([ids["doc-vins-de"], ids["doc-beta-org"]]) and not report.failed
    by_to = {str(m["To"]): m for m in env.inbox.messages}
    assert set(by_to) == {"alice@alpha.fr", "bob@beta.fr"}
    alice = by_to["alice@alpha.fr"]
    body = alice.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert "Le marché des vins français en Allemagne" in str(alice["Subject"])
    assert f"{PUBLIC}/documents/{ids['doc-vins-de']}" in text
    assert "dans 10 jours" in text and "Bonjour Alice" in text
    bob_text = by_to["bob@beta.fr"].get_body(preferencelist=("plain",))
    assert bob_text is not None and "a expiré le" in bob_text.get_content()

    assert _run(env).sent == []  # sent once
    assert len(env.inbox.messages) == 2
    newer = soon + dt.timedelta(days=5)
    _valid_until(env, "alice", "doc-vins-de", newer)  # a new date re-arms the reminder
    assert _run(env).sent == [ids["doc-vins-de"]]
    assert len(env.inbox.messages) == 3 and "dans 15 jours" in str(
        env.inbox.messages[-1].get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    )
    with env.rt.session() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "document.expiry_reminder")
        ).all()
        assert len(events) == 3
        assert {e.target_id for e in events} == {ids["doc-vins-de"], ids["doc-beta-org"]}
        assert expiry.expired_ids(session, list(ids.values())) == {ids["doc-beta-org"]}


def test_a_refused_or_unreachable_relay_is_retried(env: Env) -> None:
    doc_id = env.seed.ids["doc-machines-de"]  # alpha, owner alice
    _valid_until(env, "alice", "doc-machines-de", TODAY + dt.timedelta(days=1))
    refusing = Refusing("451 4.3.0 Try again later")
    with smtp_server(refusing) as port:
        settings = env.rt.settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{port}"})
        report = _run(env, settings)
    assert report.sent == [] and doc_id in report.failed and refusing.messages == []
    down = env.rt.settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{closed_port()}"})
    assert doc_id in _run(env, down).failed
    unset = env.rt.settings.model_copy(update={"smtp_url": None})
    assert _run(env, unset).not_configured
    with env.rt.session() as session:
        document = session.get(Document, doc_id)
        assert document is not None and document.expiry_reminded_at is None  # still to send
    assert _run(env).sent == [doc_id]


def test_housekeeping_job_runs_at_most_hourly_and_purges_the_trash(env: Env) -> None:
    rt, seed = env.rt, env.seed
    doc_id = seed.ids["doc-beta-secret"]  # beta, private, owner bob
    with rt.session() as session:
        bob = session.get(User, seed.users["bob"])
        assert bob is not None
        long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=rt.settings.trash_retention_days + 2)
        trash.trash_document(session, rt.backend, bob, doc_id, retention_days=30, channel="cli", now=long_ago)
    _valid_until(env, "alice", "doc-vins-it", TODAY + dt.timedelta(days=2))
    jobs = Jobs(rt, queue=make_queue(rt.settings.model_copy(update={"jobs_backend": "memory"})))
    assert jobs.enqueue_housekeeping() is True
    assert jobs.enqueue_housekeeping() is False  # within the hour: not again
    task = jobs.huey.dequeue()
    assert task is not None and task.name == "housekeeping"
    jobs.huey.execute(task)
    with rt.session() as session:
        assert session.get(Document, doc_id) is None  # purged: erased with a signed receipt
        receipt = session.scalar(select(AuditEvent).where(AuditEvent.action == "erasure"))
        assert receipt is not None and doc_id in receipt.detail["documents"]
        reminded = session.get(Document, seed.ids["doc-vins-it"])
        assert reminded is not None and reminded.expiry_reminded_at is not None
        assert session.scalar(select(AuditAnchor.day)) == anchors.today()  # the chain's daily anchor
    assert any(
        seed.ids["doc-vins-it"] in m.get_body(preferencelist=("plain",)).get_content()
        for m in env.inbox.messages
    )  # type: ignore[union-attr]
