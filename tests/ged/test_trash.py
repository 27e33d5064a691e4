"""``ged.trash``: deleting moves a document to the trash (out of every search and read), the trash lists what
the user may restore, a restore brings the document back into the index, and the purge erases documents
past the delay (``ged.erasure``) while younger ones stay restorable."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from ged import trash
from ged.documents import get_document
from ged.models import Document, DocumentVersion
from ged.sink import DocumentSink
from ingest.item import IngestItem
from search.types import SearchQuery
from tests.web.conftest import Seed, make_installation
from tfe.app.runtime import Runtime
from tfe.core.errors import NotFoundError, PermissionDeniedError
from tfe.core.models import AuditEvent, User
from tfe.core.security import identity
from tfe.core.security.scope import AccessScope
from tfe.core.settings import Settings

DAYS = 30


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, Seed]]:
    rt, seed = make_installation(Path(tmp_path_factory.mktemp("trash")))
    with rt.session() as session:
        beta = identity.find_org(session, "beta")
        admin = identity.create_user(
            session, email="bea@beta.fr", org=beta, role="admin", name="Bea", password="x" * 16
        )
        other = identity.create_user(
            session, email="bill@beta.fr", org=beta, role="contributor", name="Bill", password="x" * 16
        )
        seed.users.update(bea=admin.id, bill=other.id)
    yield rt, seed
    rt.close()


def _user(session: object, who: int) -> User:
    user = session.get(User, who)  # type: ignore[attr-defined]
    assert user is not None
    return user


def _trash(rt: Runtime, who: int, doc_id: str, now: dt.datetime | None = None) -> trash.TrashEntry:
    with rt.session() as session:
        return trash.trash_document(
            session, rt.backend, _user(session, who), doc_id, retention_days=DAYS, channel="cli", now=now
        )


def _restore(rt: Runtime, who: int, doc_id: str) -> None:
    with rt.session() as session:
        trash.restore_document(
            session, rt.backend, rt.referential, _user(session, who), doc_id, channel="cli"
        )


def _listed(rt: Runtime, who: int) -> set[str]:
    with rt.session() as session:
        return {e.id for e in trash.trash_list(session, _user(session, who), retention_days=DAYS)}


def _duplicate_for(rt: Runtime, seed: Seed, org: str, doc_id: str) -> str | None:
    """What an upload of ``doc_id``'s bytes by a member of ``org`` is reported a duplicate of."""
    with rt.session() as session:
        digest = session.scalar(
            select(DocumentVersion.content_hash).where(DocumentVersion.document_id == doc_id)
        )
    assert digest is not None
    item = IngestItem(key="upload:x", kind="document", filename="x.txt", org_id=seed.orgs[org])
    return DocumentSink(rt.session_factory, rt.blob_store).find_duplicate(item, digest)


def _found(rt: Runtime, scope: AccessScope, text: str = "") -> set[str]:
    query = SearchQuery(text=text, scope=scope, limit=50, mode="bm25")
    return {h.parent_id for h in rt.backend.search(query).hits}


def test_trash_and_restore(seeded: tuple[Runtime, Seed]) -> None:
    rt, seed = seeded
    u = seed.users
    doc_id = seed.ids["doc-vins-de"]  # alpha, network, validated, owner alice
    bob = AccessScope(user_id=u["bob"], org_id=seed.orgs["beta"], roles=frozenset({"contributor"}))
    assert doc_id in _found(rt, bob, "ProWein")
    assert _duplicate_for(rt, seed, "beta", doc_id) == doc_id  # validated and network: beta sees it
    with pytest.raises(PermissionDeniedError):  # bob sees it but is not of alpha
        _trash(rt, u["bob"], doc_id)
    with pytest.raises(PermissionDeniedError):  # readers never delete
        _trash(rt, u["reader"], doc_id)
    entry = _trash(rt, u["alice"], doc_id)
    assert entry.purge_at - entry.deleted_at == dt.timedelta(days=DAYS) and entry.deleted_by == "Alice"

    # in no search (not even the system's: the passages left the index) and no read
    assert doc_id not in _found(rt, bob, "ProWein")
    assert doc_id not in _found(rt, AccessScope.everything(), "ProWein")
    with rt.session() as session, pytest.raises(NotFoundError):
        get_document(session, doc_id, identity.scope_for(_user(session, u["alice"])))
    assert _duplicate_for(rt, seed, "alpha", doc_id) is None  # a trashed document is nobody's duplicate
    with pytest.raises(NotFoundError):  # deleting twice: it is not there any more
        _trash(rt, u["alice"], doc_id)

    assert doc_id in _listed(rt, u["alice"]) and doc_id in _listed(rt, u["carol"])  # alpha
    assert doc_id not in _listed(rt, u["bob"]) and doc_id not in _listed(rt, u["reader"])
    with pytest.raises(NotFoundError):  # bob may not even learn it is in alpha's trash
        _restore(rt, u["bob"], doc_id)

    _restore(rt, u["carol"], doc_id)
    assert doc_id in _found(rt, bob, "ProWein")  # rebuilt from the stored text
    with rt.session() as session:
        view = get_document(session, doc_id, bob)
        assert view.status == "validated" and view.title.startswith("Le marché des vins")
        actions = list(
            session.scalars(
                select(AuditEvent.action)
                .where(
                    AuditEvent.target_id == doc_id,
                    AuditEvent.action.in_(("document.trash", "document.restore")),
                )
                .order_by(AuditEvent.id)
            )
        )
    assert actions == ["document.trash", "document.restore"]
    assert doc_id not in _listed(rt, u["alice"])
    with pytest.raises(NotFoundError):  # restoring what is not in the trash
        _restore(rt, u["alice"], doc_id)


def test_private_documents_in_the_trash_are_for_their_owner_and_admins(seeded: tuple[Runtime, Seed]) -> None:
    rt, seed = seeded
    u = seed.users
    doc_id = seed.ids["doc-beta-secret"]  # beta, private, owner bob
    _trash(rt, u["bob"], doc_id)
    assert doc_id in _listed(rt, u["bob"]) and doc_id in _listed(rt, u["bea"])  # owner, beta's admin
    assert doc_id not in _listed(rt, u["bill"])  # another contributor of beta
    with pytest.raises(NotFoundError):
        _restore(rt, u["bill"], doc_id)
    _restore(rt, u["bea"], doc_id)
    assert doc_id in _found(rt, AccessScope(user_id=u["bob"], org_id=seed.orgs["beta"]), "confidentielle")


def test_restore_window_and_purge(seeded: tuple[Runtime, Seed]) -> None:
    rt, seed = seeded
    u = seed.users
    old_id, young_id = seed.ids["doc-vins-it"], seed.ids["doc-beta-org"]
    now = dt.datetime(2026, 12, 2, 12, 0)
    _trash(rt, u["alice"], old_id, now=now - dt.timedelta(days=DAYS + 1))
    _trash(rt, u["bob"], young_id, now=now - dt.timedelta(days=DAYS - 1))
    report = trash.purge_expired(
        rt.session_factory,
        trash.eraser(rt.session_factory, rt.backend, rt.blob_store),
        retention_days=DAYS,
        now=now,
    )
    assert report.purged == [old_id] and report.failed == {}
    with rt.session() as session:
        assert session.get(Document, old_id) is None  # erased for good
        assert session.get(Document, young_id) is not None
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "erasure"))
        assert event is not None and old_id in event.detail["documents"]
    assert young_id in _listed(rt, u["bob"])
    _restore(rt, u["bob"], young_id)  # a day left: still restorable
    assert young_id not in _listed(rt, u["bob"])


def test_trash_review_and_expiry_queries_on_sqlite_and_postgresql(db_settings: Settings) -> None:
    """The SQL of the trash list, the review list, the due reminders and the transition history, on both
    databases (rows made directly: no ingest needed)."""
    from ged import expiry, lifecycle, retention
    from tfe.app.install import init_installation

    rt = Runtime(db_settings)
    try:
        init_installation(rt)
        with rt.session() as session:
            alpha = identity.get_or_create_org(session, "alpha", "CCI Alpha", "regional_chamber")
            beta = identity.get_or_create_org(session, "beta", "Banque Beta", "bank")
            ana = identity.create_user(session, email="ana@alpha.fr", org=alpha, role="curator", name="Ana")
            ben = identity.create_user(session, email="ben@beta.fr", org=beta, role="contributor", name="Ben")
            ana_id, ben_id = ana.id, ben.id
            now = dt.datetime(2026, 12, 2, 12, 0)
            for doc_id, org, owner, status in (
                ("d-alpha", alpha.id, ana_id, "draft"),
                ("d-beta", beta.id, ben_id, "validated"),
            ):
                session.add(
                    Document(
                        id=doc_id,
                        title=f"Note {doc_id}",
                        doc_type="doctype:country_note",
                        org_id=org,
                        owner_user_id=owner,
                        visibility="network",
                        status=status,
                        valid_until=now + dt.timedelta(days=5),
                    )
                )
        with rt.session() as session:
            ana, ben = _user(session, ana_id), _user(session, ben_id)
            lifecycle.transition(
                session, rt.backend, rt.referential, ana, "d-alpha", "validated", "ok", channel="cli"
            )
            assert [(t.to_status, t.user_name) for t in lifecycle.history(session, ana, "d-alpha")] == [
                ("validated", "Ana")
            ]
            trash.trash_document(
                session, rt.backend, ben, "d-beta", retention_days=DAYS, channel="cli", now=now
            )
        with rt.session() as session:
            ana, ben = _user(session, ana_id), _user(session, ben_id)
            assert [e.id for e in trash.trash_list(session, ben, retention_days=DAYS)] == ["d-beta"]
            assert trash.trash_list(session, ana, retention_days=DAYS) == []
            later = now + dt.timedelta(days=400)
            assert [e.id for e in retention.review_list(session, ana, now=later)] == ["d-alpha"]
            assert retention.review_list(session, ben, now=later) == []  # d-beta is in the trash
            assert expiry._due(session, rt.settings, now) == ["d-alpha"]
            assert expiry.expired_ids(session, ["d-alpha", "d-beta"], now + dt.timedelta(days=6)) == {
                "d-alpha",
                "d-beta",
            }
        report = trash.purge_expired(
            rt.session_factory,
            lambda doc_id: doc_id,  # the eraser is tested above; here: which ids the SQL picks
            retention_days=DAYS,
            now=now + dt.timedelta(days=DAYS),
        )
        assert report.purged == ["d-beta"]
    finally:
        rt.close()
