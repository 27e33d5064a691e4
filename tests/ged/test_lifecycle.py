"""``ged.lifecycle``: who may move what, the comment to send back, transitions recorded and audited, the
index and the visibility that follow the status (other organisations see validated documents only;
archived ones leave default searches), and the retention review date set at validation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from ged import lifecycle, retention
from ged.documents import get_document
from ged.editing import DocumentChanges, edit_document
from ged.models import Document, DocumentTransition, DocumentVersion
from ged.reindex import reindex_document
from ged.sink import DocumentSink
from ingest.item import IngestItem
from ingest.reindex import stored_passages
from search.types import SearchQuery
from tests.web.conftest import Seed, make_installation
from tfe.app.runtime import Runtime
from tfe.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from tfe.core.models import AuditEvent, User
from tfe.core.security import identity
from tfe.core.security.scope import AccessScope


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, Seed]]:
    rt, seed = make_installation(Path(tmp_path_factory.mktemp("lifecycle")))
    with rt.session() as session:
        alpha = identity.find_org(session, "alpha")
        admin = identity.create_user(
            session, email="ada@alpha.fr", org=alpha, role="admin", name="Ada", password="x" * 16
        )
        seed.users["ada"] = admin.id
        for key in ("doc-vins-de", "doc-machines-de"):  # seeded validated: start them as drafts here
            document = session.get(Document, seed.ids[key])
            assert document is not None
            document.status = "draft"
            session.flush()
            reindex_document(session, rt.backend, rt.referential, document, status_changed=True)
    yield rt, seed
    rt.close()


def _move(rt: Runtime, who: int, doc_id: str, to: str, comment: str | None = None) -> str:
    with rt.session() as session:
        user = session.get(User, who)
        assert user is not None
        view = lifecycle.transition(
            session, rt.backend, rt.referential, user, doc_id, to, comment, channel="cli"
        )
        return view.status


def _parents(rt: Runtime, scope: AccessScope) -> set[str]:
    query = SearchQuery(text="", scope=scope, limit=50, mode="bm25")
    return {h.parent_id for h in rt.backend.search(query).hits}


def _scope(rt: Runtime, who: int) -> AccessScope:
    with rt.session() as session:
        user = session.get(User, who)
        assert user is not None
        return identity.scope_for(user)


def _statuses(rt: Runtime, doc_id: str) -> set[str]:
    return {p.meta["status"] for p in stored_passages(rt.backend, doc_id)}  # type: ignore[arg-type]


def test_the_full_lifecycle_and_who_sees_it(seeded: tuple[Runtime, Seed]) -> None:
    rt, seed = seeded
    u = seed.users
    doc_id = seed.ids["doc-vins-de"]  # alpha, network, owner alice, a draft as uploaded
    bob, alice = _scope(rt, u["bob"]), _scope(rt, u["alice"])
    anonymous_public = seed.ids["doc-machines-de"]  # alpha, public, a draft: not even anonymous sees it
    assert doc_id in _parents(rt, alice)
    assert doc_id not in _parents(rt, bob)  # another organisation: a network draft stays in alpha
    assert anonymous_public not in _parents(rt, AccessScope.anonymous())
    with rt.session() as session, pytest.raises(NotFoundError):
        get_document(session, doc_id, bob)
    with rt.session() as session:  # nor is it a duplicate for beta's uploads (no existence leak)
        digest = session.scalar(
            select(DocumentVersion.content_hash).where(DocumentVersion.document_id == doc_id)
        )
    upload = IngestItem(key="upload:x", kind="document", filename="x.txt", org_id=seed.orgs["beta"])
    assert DocumentSink(rt.session_factory, rt.blob_store).find_duplicate(upload, digest or "") is None

    with pytest.raises(PermissionDeniedError):  # readers never move a document
        _move(rt, u["reader"], doc_id, "in_review")
    with pytest.raises(PermissionDeniedError):  # a contributor does not validate
        _move(rt, u["alice"], doc_id, "validated")
    with pytest.raises(NotFoundError):  # bob cannot even see it
        _move(rt, u["bob"], doc_id, "in_review")
    assert _move(rt, u["alice"], doc_id, "in_review") == "in_review"
    assert _statuses(rt, doc_id) == {"in_review"}
    assert doc_id not in _parents(rt, bob)

    with pytest.raises(ValidationError, match="comment"):  # sending back needs a comment
        _move(rt, u["carol"], doc_id, "draft", "   ")
    assert _move(rt, u["carol"], doc_id, "draft", "Ajouter les chiffres 2026") == "draft"
    assert _move(rt, u["alice"], doc_id, "in_review") == "in_review"
    assert _move(rt, u["carol"], doc_id, "validated") == "validated"
    assert _statuses(rt, doc_id) == {"validated"}
    assert doc_id in _parents(rt, bob)  # validated: the network sees it now
    with rt.session() as session:
        assert get_document(session, doc_id, bob).status == "validated"

    with pytest.raises(PermissionDeniedError):  # bob sees it but is not of alpha
        _move(rt, u["bob"], doc_id, "archived")
    assert _move(rt, u["alice"], doc_id, "archived") == "archived"  # the owner archives
    assert doc_id not in _parents(rt, bob) and doc_id not in _parents(rt, alice)  # out of default search
    assert doc_id in _parents(rt, bob.with_archived()) and doc_id in _parents(rt, alice.with_archived())
    with rt.session() as session:  # still readable by id
        assert get_document(session, doc_id, bob).status == "archived"
    with pytest.raises(PermissionDeniedError):  # un-archiving is the curators'
        _move(rt, u["alice"], doc_id, "validated")
    assert _move(rt, u["carol"], doc_id, "validated") == "validated"
    assert doc_id in _parents(rt, bob)

    with rt.session() as session:
        user = session.get(User, u["alice"])
        assert user is not None
        moves = lifecycle.history(session, user, doc_id)
        events = list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "document.transition", AuditEvent.target_id == doc_id)
                .order_by(AuditEvent.id)
            )
        )
    expected = [
        ("draft", "in_review"),
        ("in_review", "draft"),
        ("draft", "in_review"),
        ("in_review", "validated"),
        ("validated", "archived"),
        ("archived", "validated"),
    ]
    assert [(m.from_status, m.to_status) for m in moves] == expected
    assert moves[1].comment == "Ajouter les chiffres 2026" and moves[1].user_name == "Carol"
    assert [(e.detail["from"], e.detail["to"]) for e in events] == expected
    assert [e.actor_user_id for e in events] == [u["alice"], u["carol"]] * 3


def test_bad_moves_are_clear_errors(seeded: tuple[Runtime, Seed]) -> None:
    rt, seed = seeded
    doc_id = seed.ids["doc-vins-it"]  # alpha, organisation, draft
    with pytest.raises(ValidationError, match="unknown status"):
        _move(rt, seed.users["carol"], doc_id, "published")
    with pytest.raises(ConflictError, match="cannot go from draft to archived"):
        _move(rt, seed.users["carol"], doc_id, "archived")
    with pytest.raises(ConflictError, match="already draft"):
        _move(rt, seed.users["carol"], doc_id, "draft")
    with pytest.raises(ValidationError, match="at most"):
        _move(rt, seed.users["alice"], doc_id, "in_review", "x" * (lifecycle.MAX_COMMENT + 1))
    with rt.session() as session:  # nothing was recorded by the refused moves
        assert not session.scalars(
            select(DocumentTransition).where(DocumentTransition.document_id == doc_id)
        ).all()
        document = session.get(Document, doc_id)
        assert document is not None and document.status == "draft"


def test_allowed_moves_are_the_buttons(seeded: tuple[Runtime, Seed]) -> None:
    rt, seed = seeded
    with rt.session() as session:
        document = session.get(Document, seed.ids["doc-beta-org"])  # beta, draft, owner bob
        bob, carol = session.get(User, seed.users["bob"]), session.get(User, seed.users["carol"])
        assert document is not None and bob is not None and carol is not None
        assert [m.action for m in lifecycle.allowed_moves(bob, document)] == ["submit"]
        assert lifecycle.allowed_moves(carol, document) == []  # a curator of another organisation
        alpha_doc = session.get(Document, seed.ids["doc-vins-it"])
        assert alpha_doc is not None
        assert [m.action for m in lifecycle.allowed_moves(carol, alpha_doc)] == ["submit", "validate"]


def test_patch_status_goes_through_the_lifecycle(seeded: tuple[Runtime, Seed]) -> None:
    rt, seed = seeded
    doc_id = seed.ids["doc-beta-org"]  # beta, organisation, owner bob
    with rt.session() as session:
        bob = session.get(User, seed.users["bob"])
        assert bob is not None
        changed = edit_document(
            session,
            rt.backend,
            rt.referential,
            bob,
            doc_id,
            DocumentChanges(status="in_review"),
            channel="api",
        ).changed
        assert changed == {"status": ["draft", "in_review"]}
        with pytest.raises(PermissionDeniedError):
            edit_document(
                session,
                rt.backend,
                rt.referential,
                bob,
                doc_id,
                DocumentChanges(status="validated"),
                channel="api",
            )
    with rt.session() as session:
        rows = session.scalars(
            select(DocumentTransition).where(DocumentTransition.document_id == doc_id)
        ).all()
        assert [(r.from_status, r.to_status) for r in rows] == [("draft", "in_review")]
        assert session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "document.transition", AuditEvent.target_id == doc_id
            )
        )
    assert _statuses(rt, doc_id) == {"in_review"}


def test_validation_sets_the_retention_review(seeded: tuple[Runtime, Seed]) -> None:
    rt, seed = seeded
    doc_id = seed.ids["doc-machines-de"]  # alpha, public, market study: reviewed after 24 months
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    _move(rt, seed.users["carol"], doc_id, "validated")
    with rt.session() as session:
        document = session.get(Document, doc_id)
        assert document is not None and document.review_due_at is not None
        months = retention.retention_months("doctype:market_study")
        assert months == 24
        assert document.review_due_at.year == before.year + 2
        assert document.review_due_at.month == before.month
        # not due yet: in nobody's list; due once the date has passed (the list's clock moved on)
        carol = session.get(User, seed.users["carol"])
        alice = session.get(User, seed.users["alice"])
        bob = session.get(User, seed.users["bob"])
        assert carol is not None and alice is not None and bob is not None
        assert doc_id not in {e.id for e in retention.review_list(session, carol)}
        later = document.review_due_at + dt.timedelta(days=1)
        assert doc_id in {e.id for e in retention.review_list(session, carol, now=later)}
        assert doc_id in {e.id for e in retention.review_list(session, alice, now=later)}  # the owner
        assert doc_id not in {e.id for e in retention.review_list(session, bob, now=later)}
        with pytest.raises(PermissionDeniedError):
            retention.confirm_review(session, bob, doc_id, channel="cli", now=later)
        due = retention.confirm_review(session, carol, doc_id, channel="cli", now=later)
        assert due.year == later.year + 2
        assert doc_id not in {e.id for e in retention.review_list(session, carol, now=later)}
        event = session.scalar(
            select(AuditEvent).where(AuditEvent.action == "document.review", AuditEvent.target_id == doc_id)
        )
        assert event is not None and event.detail["review_due_at"][1] == due.isoformat()


def test_an_import_of_reviewed_documents_validates_them(seeded: tuple[Runtime, Seed]) -> None:
    rt, seed = seeded
    doc_id = seed.ids["doc-beta-secret"]  # beta, private, a draft
    with rt.session() as session:
        moved = lifecycle.validate_imported(
            session, rt.backend, rt.referential, [doc_id, doc_id, seed.ids["doc-vins-de"]], channel="demo"
        )
        assert moved == 1  # doc-vins-de is no longer a draft by now; a repeated id moves once
        row = session.scalar(select(DocumentTransition).where(DocumentTransition.document_id == doc_id))
        assert (
            row is not None
            and row.user_id is None
            and (row.from_status, row.to_status) == ("draft", "validated")
        )
        event = session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "document.transition", AuditEvent.target_id == doc_id
            )
        )
        assert event is not None and event.actor_user_id is None and event.detail["channel"] == "demo"
    assert _statuses(rt, doc_id) == {"validated"}
