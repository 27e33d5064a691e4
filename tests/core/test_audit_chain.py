"""The audit chain: serialised appends under concurrency (SQLite and PostgreSQL), keyed MACs that catch an
edited and re-chained row, gaps, legacy events and their sealing (``tfe.core.security.audit``)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import make_settings
from tfe.core.db import Base, make_engine, make_session_factory, migrate, session_scope
from tfe.core.errors import ConflictError
from tfe.core.models import AuditEvent
from tfe.core.security import audit, audit_key
from tfe.core.security.models import AuditHead
from tfe.core.settings import Settings

THREADS = 8
PER_THREAD = 40  # 320 events, 8 writers at once


def _record_many(factory: sessionmaker[Session], n: int, action: str = "search") -> None:
    for i in range(n):
        with session_scope(factory) as session:
            audit.record(session, action, audit.Actor(1, 1, "api"), target_kind="document", detail={"q": i})


def test_concurrent_appends_never_fork_the_chain(db_settings: Settings) -> None:
    """The bug: 8 concurrent writers left events sharing one prev_hash on both databases."""
    engine = make_engine(db_settings)
    migrate(engine)
    factory = make_session_factory(engine)
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        start.wait()
        try:
            for i in range(PER_THREAD):
                with session_scope(factory) as session:
                    audit.record(session, "search", audit.Actor(None, None, "api"), detail={"q": f"{n}-{i}"})
        except BaseException as exc:  # reported below
            errors.append(exc)

    began = time.monotonic()
    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert time.monotonic() - began < 10
    with factory() as session:
        prevs = Counter(session.scalars(select(AuditEvent.prev_hash)))
        assert sum(n - 1 for n in prevs.values() if n > 1) == 0  # no fork
        seqs = sorted(session.scalars(select(AuditEvent.seq)))
        assert seqs == list(range(1, THREADS * PER_THREAD + 1))
        report = audit.verify(session)
        assert report.ok, report.message
        assert (report.events, report.keyed, report.unkeyed, report.head_seq) == (320, True, 0, 320)
    engine.dispose()


@pytest.fixture
def keyed(tmp_path: Path) -> Iterator[tuple[Engine, sessionmaker[Session]]]:
    engine = make_engine(make_settings(tmp_path))
    migrate(engine)
    yield engine, make_session_factory(engine)
    engine.dispose()


def _events(session: Session) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))


def test_a_clean_chain_verifies_and_every_event_has_a_mac(
    keyed: tuple[Engine, sessionmaker[Session]],
) -> None:
    engine, factory = keyed
    _record_many(factory, 5)
    with factory() as session:
        events = _events(session)
        key = audit_key.key_of(audit_key.vault_of(session))
        assert key is not None and len(key) == 32
        for previous, event in zip([None, *events], events, strict=False):
            assert event.prev_hash == (previous.hash if previous else "")
            assert event.hash == audit.chain_hash(event.prev_hash, audit.content_of(event))
            assert event.mac == audit_key.mac_of(key, event.hash)
        report = audit.verify(session)
        assert report.ok and report.keyed and report.events == 5 and report.legacy == 0
        assert audit.verify_chain(session) is None
    assert (Path(engine.url.database or "").parent / "keys" / "audit.json").exists()


def test_an_edited_and_rechained_row_is_caught_by_the_mac(
    keyed: tuple[Engine, sessionmaker[Session]],
) -> None:
    """Edit a row's detail and recompute every later hash (all public): only the MAC tells."""
    _engine, factory = keyed
    _record_many(factory, 6)
    with session_scope(factory) as session:
        events = _events(session)
        events[2].detail = {"q": "edited", "channel": "api"}
        prev = events[1].hash
        for event in events[2:]:
            event.prev_hash = prev
            event.hash = audit.chain_hash(prev, audit.content_of(event))
            prev = event.hash
        session.execute(update(AuditHead).values(head_hash=prev))
        edited_id = events[2].id
    with factory() as session:
        report = audit.verify(session)
        assert not report.ok and report.reason == "mac"
        assert (report.first_broken_seq, report.first_broken_id) == (3, edited_id)
        assert "seq 3" in report.message and "MAC" in report.message
        assert audit.verify_chain(session) == edited_id


def test_edits_without_rechaining_gaps_and_missing_macs_are_named(
    keyed: tuple[Engine, sessionmaker[Session]],
) -> None:
    _engine, factory = keyed
    _record_many(factory, 6)
    with session_scope(factory) as session:
        session.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(detail={"q": "x"}))
    with factory() as session:
        assert (audit.verify(session).reason, audit.verify(session).first_broken_seq) == ("hash", 2)
    with session_scope(factory) as session:
        first = _events(session)[1]
        first.detail = {"q": 1, "channel": "api"}  # restored
        session.execute(update(AuditEvent).where(AuditEvent.seq == 4).values(mac=""))
    with factory() as session:
        report = audit.verify(session)
        assert (report.reason, report.first_broken_seq) == ("mac", 4) and "no MAC" in report.message
    with session_scope(factory) as session:
        session.execute(delete(AuditEvent).where(AuditEvent.seq == 3))
    with factory() as session:
        report = audit.verify(session)
        assert (report.reason, report.first_broken_seq) == ("gap", 3)


def test_a_bare_engine_writes_an_unkeyed_chain_and_makes_its_head(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'bare.sqlite3'}")
    Base.metadata.create_all(engine)  # no migration: no head row yet
    factory = make_session_factory(engine)
    _record_many(factory, 3)
    with factory() as session:
        assert [e.mac for e in _events(session)] == ["", "", ""]
        report = audit.verify(session)
        assert report.ok and not report.keyed and report.unkeyed == 3 and report.head_seq == 3
        assert "unkeyed" in report.message
    with session_scope(factory) as session:
        session.execute(delete(AuditHead))
    _record_many(factory, 1)  # the head is made again from the last event
    with factory() as session:
        assert audit.verify(session).ok and audit.verify(session).head_seq == 4
    engine.dispose()


def _legacy_events(factory: sessionmaker[Session], n: int, forks: tuple[int, ...] = ()) -> None:
    """Events as the code before the keyed chain wrote them (seq numbered by the migration, no MAC);
    at the ``forks`` seqs, an event links to the same event as its predecessor (the old concurrency bug)."""
    with session_scope(factory) as session:
        prev, before = "", ""
        for i in range(n):
            if i + 1 in forks:
                prev = before
            event = AuditEvent(
                seq=i + 1, at=audit.utcnow(), action="search", detail={"q": f"vieux {i}", "channel": "web"}
            )
            event.prev_hash, event.hash = prev, ""
            event.hash = audit.legacy_hash(prev, event)
            session.add(event)
            session.flush()
            before, prev = prev, event.hash
        session.execute(update(AuditHead).values(seq=n, head_hash=prev))


def test_legacy_events_verify_unkeyed_then_seal(keyed: tuple[Engine, sessionmaker[Session]]) -> None:
    _engine, factory = keyed
    _legacy_events(factory, 4)
    _record_many(factory, 3)
    with factory() as session:
        report = audit.verify(session)
        assert report.ok, report.message
        assert (report.legacy, report.unkeyed, report.events) == (4, 4, 7)
    with session_scope(factory) as session:  # a legacy event after a keyed one is not accepted
        session.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(detail={"q": "modifié"}))
    with factory() as session:
        assert audit.verify(session).reason == "hash"
        with pytest.raises(ConflictError):
            audit.seal_legacy(session, audit.Actor.system("cli"))
    with session_scope(factory) as session:
        session.execute(
            update(AuditEvent).where(AuditEvent.seq == 2).values(detail={"q": "vieux 1", "channel": "web"})
        )
    with session_scope(factory) as session:
        assert audit.seal_legacy(session, audit.Actor.system("cli")) == audit.SealReport(4, [])
    with factory() as session:
        report = audit.verify(session)
        assert report.ok and (report.legacy, report.unkeyed) == (4, 0)
        assert all(e.mac for e in _events(session))
    with session_scope(factory) as session:  # sealed: an edit of a legacy event rechained is caught too
        events = _events(session)
        events[0].detail = {"q": "falsifié", "channel": "web"}
        prev = ""
        for event in events:
            event.prev_hash = prev
            event.hash = (
                audit.legacy_hash(prev, event)
                if event.seq <= 4
                else audit.chain_hash(prev, audit.content_of(event))
            )
            prev = event.hash
    with factory() as session:
        report = audit.verify(session)
        assert (report.reason, report.first_broken_seq) == ("mac", 1)


def test_field_value_fingerprints_are_keyed(keyed: tuple[Engine, sessionmaker[Session]]) -> None:
    _engine, factory = keyed
    with factory() as session:
        key = audit_key.key_of(audit_key.vault_of(session))
    assert audit_key.fingerprint(key, None) is None
    keyed_print = audit_key.fingerprint(key, "1500")
    assert keyed_print is not None and keyed_print.startswith("hmac-sha256:")
    assert keyed_print == audit_key.fingerprint(key, "1500") != audit_key.fingerprint(key, "1501")
    assert str(audit_key.fingerprint(None, "1500")).startswith("sha256:")


def test_legacy_forks_of_the_old_bug_are_sealed_only_when_accepted(
    keyed: tuple[Engine, sessionmaker[Session]],
) -> None:
    _engine, factory = keyed
    _legacy_events(factory, 6, forks=(3, 5))
    _record_many(factory, 2)
    actor = audit.Actor.system("cli")
    with factory() as session:
        assert (audit.verify(session).reason, audit.verify(session).first_broken_seq) == ("link", 3)
        with pytest.raises(ConflictError, match="accept-forks"):
            audit.seal_legacy(session, actor)
    with session_scope(factory) as session:
        assert audit.seal_legacy(session, actor, accept_forks=True) == audit.SealReport(6, [3, 5])
    with factory() as session:
        report = audit.verify(session)
        assert report.ok and report.forks == [3, 5] and report.legacy == 6 and report.unkeyed == 0
    with session_scope(factory) as session:  # a fork elsewhere is still a broken link
        session.execute(update(AuditEvent).where(AuditEvent.seq == 8).values(prev_hash="0" * 64))
    with factory() as session:
        assert (audit.verify(session).reason, audit.verify(session).first_broken_seq) == ("link", 8)
