"""Signed anchors of the audit chain (``tfe.core.security.anchors``): a truncated tail, a forged anchor and
a rewritten history are caught; the daily anchor is signed once a day; the audit key survives a rotation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import make_settings
from tfe.core.crypto.signing import verify_signature
from tfe.core.db import make_engine, make_session_factory, migrate, session_scope
from tfe.core.models import AuditEvent
from tfe.core.security import anchors, audit, audit_key
from tfe.core.security.models import AuditAnchor, AuditHead
from tfe.core.settings import Settings


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[tuple[Engine, sessionmaker[Session]]]:
    engine = make_engine(make_settings(tmp_path))
    migrate(engine)
    factory = make_session_factory(engine)
    for i in range(8):
        with session_scope(factory) as session:
            audit.record(
                session, "document.read", audit.Actor(1, 1, "web"), target_kind="document", target_id=str(i)
            )
    yield engine, factory
    engine.dispose()


def _vault(session: Session):  # type: ignore[no-untyped-def]
    vault = audit_key.vault_of(session)
    assert vault is not None
    return vault


def test_an_anchor_signs_the_head_and_verifies(chain: tuple[Engine, sessionmaker[Session]]) -> None:
    _engine, factory = chain
    with session_scope(factory) as session:
        anchor = anchors.sign_head(session, _vault(session), day="2026-12-01")
        assert anchor.seq == 9  # the audit.anchor event itself is covered
    with factory() as session:
        vault = _vault(session)
        public = vault.signer().public_key_hex
        stored = session.scalars(select(AuditAnchor)).one()
        head = session.get(AuditHead, 1)
        assert head is not None and (stored.seq, stored.head_hash) == (head.seq, head.head_hash)
        assert stored.key_id == anchors.key_id_of(public)
        assert verify_signature(
            public, anchors.statement("2026-12-01", 9, stored.head_hash), stored.signature
        )
        report = audit.verify(session)
        assert report.ok and report.anchors == 1, report.message


def test_a_truncated_tail_is_caught_by_the_anchor(chain: tuple[Engine, sessionmaker[Session]]) -> None:
    """Delete the last events and move the head back: the head agrees, the signed anchor does not."""
    _engine, factory = chain
    with session_scope(factory) as session:
        anchors.sign_head(session, _vault(session))
    with session_scope(factory) as session:
        session.execute(delete(AuditEvent).where(AuditEvent.seq > 6))
        last = session.scalars(select(AuditEvent).where(AuditEvent.seq == 6)).one()
        session.execute(update(AuditHead).values(seq=6, head_hash=last.hash))
    with factory() as session:
        report = audit.verify(session)
        assert not report.ok and report.reason == "truncated" and report.first_broken_seq == 9
        assert "anchor" in report.message


def test_a_deleted_tail_without_moving_the_head_is_caught_by_the_head(
    chain: tuple[Engine, sessionmaker[Session]],
) -> None:
    _engine, factory = chain
    with session_scope(factory) as session:
        session.execute(delete(AuditEvent).where(AuditEvent.seq > 5))
    with factory() as session:
        report = audit.verify(session)
        assert (report.reason, report.first_broken_seq) == ("truncated", 6)


def test_a_forged_anchor_or_a_rewritten_history_is_caught(
    chain: tuple[Engine, sessionmaker[Session]],
) -> None:
    _engine, factory = chain
    with session_scope(factory) as session:
        anchors.sign_head(session, _vault(session))
    with session_scope(factory) as session:
        session.execute(update(AuditAnchor).values(day="2020-01-01"))  # the statement no longer matches
    with factory() as session:
        report = audit.verify(session)
        assert report.reason == "anchor" and "signature" in report.message
    with session_scope(factory) as session:
        session.execute(update(AuditAnchor).values(day=anchors.today()))
    with factory() as session:
        assert audit.verify(session).ok
    with session_scope(factory) as session:  # rewrite everything as unkeyed legacy events: the anchor tells
        prev = ""
        for event in session.scalars(select(AuditEvent).order_by(AuditEvent.seq)):
            if event.seq == 2:
                event.target_id = "autre"
            event.prev_hash, event.mac = prev, ""
            event.hash = audit.legacy_hash(prev, event)
            prev = event.hash
        session.execute(update(AuditHead).values(head_hash=prev))
    with factory() as session:
        report = audit.verify(session)
        assert (report.reason, report.first_broken_seq) == ("anchor", 9), report.message


def test_the_daily_anchor_is_signed_once_a_day(chain: tuple[Engine, sessionmaker[Session]]) -> None:
    _engine, factory = chain
    with session_scope(factory) as session:
        assert anchors.sign_daily(session, _vault(session), day="2026-12-01") is not None
    with session_scope(factory) as session:
        assert anchors.sign_daily(session, _vault(session), day="2026-12-01") is None
        assert anchors.sign_daily(session, _vault(session), day="2026-12-02") is not None
    with factory() as session:
        report = audit.verify(session)
        assert report.ok and report.anchors == 2


def test_the_audit_key_survives_a_rotation(db_settings: Settings) -> None:
    engine = make_engine(db_settings)
    migrate(engine)
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        audit.record(session, "search", audit.Actor.system("cli"))
        vault = _vault(session)
        before = audit_key.key_of(vault)
    report = vault.rotate(grace_s=0)
    assert report.failed == 0 and report.retired
    fresh = make_engine(db_settings)  # a new process: the key unwrapped under the new KEK alone
    with make_session_factory(fresh)() as session:
        assert audit_key.key_of(_vault(session)) == before
        assert audit.verify(session).ok
    fresh.dispose()
    engine.dispose()


def test_the_daily_job_signs_once(tmp_path: Path) -> None:
    from tfe.app.jobs.anchor import anchor_daily
    from tfe.app.runtime import Runtime

    rt = Runtime(make_settings(tmp_path))
    migrate(rt.engine)
    first = anchor_daily(rt)
    assert first == 1  # the audit.anchor event is the first of this chain
    assert anchor_daily(rt) is None
    assert anchor_daily(rt, day="2099-01-01") == 2
    with rt.session() as session:
        assert audit.verify(session).anchors == 2
    rt.close()
