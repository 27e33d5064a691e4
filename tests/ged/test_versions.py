"""Versions of a document (``ged.versions``): a new version through the real pipeline replaces the
document's passages and automatic classifications (curator rows kept), history, restore, diff, the
check-out lock, and every refusal recorded. SQLite and PostgreSQL, one installation per database."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from ged.blobs import BlobStore
from ged.diff import CONTEXT, text_diff
from ged.documents import document_content, get_document
from ged.models import Document, DocumentVersion
from ged.sink import DocumentSink
from ged.versions import DocumentLockedError, diff_versions, family_of, restore_comment
from ingest.item import IngestItem, Processed
from ingest.models import IngestRecord, IngestRun
from taxonomy.classifications import REJECTED, record_curator_decision
from taxonomy.classifier import Scored
from taxonomy.models import Classification
from tests.conftest import make_settings, pg_schema
from tfe.app.install import init_installation
from tfe.app.runtime import Runtime
from tfe.core.errors import (
    ConflictError,
    ExtractionError,
    NotFoundError,
    PermissionDeniedError,
    TooLargeError,
    UnsupportedInputError,
)
from tfe.core.models import AuditEvent, User
from tfe.core.security import identity

V1 = (
    "Note pays Allemagne : le marché allemand des vins français, ornithorynque, salon ProWein à "
    "Düsseldorf, importateurs et cavistes en Allemagne.\nDeuxième paragraphe inchangé sur la logistique.\n"
).encode()
V2 = (
    "Note pays Japon : le marché japonais des cosmétiques, quokka, distributeurs à Tokyo et Osaka, "
    "réglementation japonaise.\nDeuxième paragraphe inchangé sur la logistique.\n"
).encode()


@dataclass
class Env:
    rt: Runtime
    users: dict[str, User]
    doc_id: str


def _user(rt: Runtime, email: str) -> User:
    with rt.session() as session:
        user = identity.find_user(session, email)
        session.expunge(user)
        return user


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = Path(tmp_path_factory.mktemp(f"versions-{request.param}"))
    with pg_schema() if request.param == "postgres" else _no_schema() as url:
        settings = make_settings(tmp, max_file_bytes=64 * 1024, **({"database_url": url} if url else {}))
        rt = Runtime(settings)
        init_installation(rt)
        with rt.session() as session:
            alpha = identity.get_or_create_org(session, "alpha", "CCI Alpha", "regional_chamber")
            beta = identity.get_or_create_org(session, "beta", "Banque Beta", "bank")
            for key, org, role in (
                ("alice", alpha, "contributor"),
                ("carol", alpha, "curator"),
                ("adam", alpha, "admin"),
                ("rita", alpha, "reader"),
                ("bob", beta, "contributor"),
            ):
                identity.create_user(
                    session, email=f"{key}@{org.slug}.fr", org=org, role=role, name=key.capitalize()
                )
        users = {
            k: _user(rt, f"{k}@{o}.fr")
            for k, o in (
                ("alice", "alpha"),
                ("carol", "alpha"),
                ("adam", "alpha"),
                ("rita", "alpha"),
                ("bob", "beta"),
            )
        }
        uploaded = rt.documents.upload(
            users["alice"], filename="note-allemagne.txt", data=V1, visibility="organisation", doc_type=None
        )
        assert uploaded.status == "ok" and uploaded.id, uploaded
        try:
            yield Env(rt, users, uploaded.id)
        finally:
            rt.close()


class _no_schema:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _hits(env: Env, q: str, who: str = "alice") -> list[str]:
    scope = identity.scope_for(env.users[who])
    result = env.rt.search_service.search(q, scope, mode="bm25")
    return [h["id"] for h in result["hits"]]


def _concepts(env: Env) -> dict[str, tuple[str, bool]]:
    with env.rt.session() as session:
        rows = session.scalars(
            select(Classification).where(
                Classification.target_kind == "document", Classification.target_id == env.doc_id
            )
        )
        return {r.concept_id: (r.method, bool((r.explanation or {}).get(REJECTED))) for r in rows}


def _records(env: Env) -> list[IngestRecord]:
    with env.rt.session() as session:
        rows = list(
            session.scalars(
                select(IngestRecord)
                .join(IngestRun, IngestRun.id == IngestRecord.run_id)
                .where(IngestRun.kind == "version")
                .order_by(IngestRecord.id)
            )
        )
        session.expunge_all()
        return rows


def _count_versions(env: Env) -> int:
    with env.rt.session() as session:
        return len(
            list(session.scalars(select(DocumentVersion.id).where(DocumentVersion.document_id == env.doc_id)))
        )


def _audits(env: Env, action: str) -> list[AuditEvent]:
    with env.rt.session() as session:
        rows = list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action, AuditEvent.target_id == env.doc_id)
            )
        )
        session.expunge_all()
        return rows


def test_a_new_version_replaces_passages_and_automatic_classifications(env: Env) -> None:
    rt, users, doc_id = env.rt, env.users, env.doc_id
    assert _hits(env, "ornithorynque") == [doc_id]
    before = _concepts(env)
    assert "country:DE" in before and before["country:DE"][0] != "curator"
    with rt.session() as session:  # a curator keeps Germany and rejects Italy: both decisions survive
        record_curator_decision(
            session, "document", doc_id, ["country:DE"], keep=True, user_id=users["carol"].id
        )
        record_curator_decision(
            session, "document", doc_id, ["country:IT"], keep=False, user_id=users["carol"].id
        )

    result = rt.versions.add_version(
        users["alice"], doc_id, filename="note-japon.txt", data=V2, comment="Japon"
    )
    assert result.number == 2 and result.version.comment == "Japon" and result.version.author == "Alice"
    assert result.version.content_hash == hashlib.sha256(V2).hexdigest()

    assert _hits(env, "quokka") == [doc_id]
    assert _hits(env, "ornithorynque") == []  # the old version's text is out of the index
    after = _concepts(env)
    assert after["country:JP"][0] == "rule"  # the new text's automatic classification
    assert after["country:DE"] == ("curator", False)  # the curator's rows stay
    assert after["country:IT"] == ("curator", True)
    with rt.session() as session:
        view = get_document(session, doc_id, identity.scope_for(users["rita"]))  # a reader sees the history
        assert [v.number for v in view.versions] == [1, 2]
        assert view.title == "note-allemagne.txt"  # the document keeps its title
        old, _mime, name = document_content(
            session, rt.blob_store, doc_id, identity.scope_for(users["rita"]), 1
        )
        assert old == V1 and name == "note-allemagne.txt"
    assert _records(env)[-1].status == "ok" and _records(env)[-1].target_id == doc_id
    (event,) = [e for e in _audits(env, "document.version.add") if e.detail.get("status") == "ok"]
    assert event.detail["number"] == 2 and event.detail["sha256"] == hashlib.sha256(V2).hexdigest()


def test_refusals_are_recorded_and_store_nothing(env: Env) -> None:
    rt, users, doc_id = env.rt, env.users, env.doc_id
    count = _count_versions(env)
    current = V2 if count >= 2 else V1
    with pytest.raises(ConflictError, match="identique à la version courante"):
        rt.versions.add_version(users["alice"], doc_id, filename="copie.txt", data=current)
    with pytest.raises(UnsupportedInputError, match="même type"):
        rt.versions.add_version(
            users["alice"], doc_id, filename="chiffres.xlsx", data=b"PK\x03\x04" + b"\0" * 64
        )
    with pytest.raises(UnsupportedInputError):
        rt.versions.add_version(users["alice"], doc_id, filename="outil.exe", data=b"MZ\x90\x00\x03")
    with pytest.raises(TooLargeError):
        rt.versions.add_version(users["alice"], doc_id, filename="gros.txt", data=b"a" * (64 * 1024 + 1))
    with pytest.raises(ExtractionError):
        rt.versions.add_version(
            users["alice"], doc_id, filename="faux.pdf", data=b"%PDF-1.4\nnot a pdf at all"
        )
    assert _count_versions(env) == count
    reasons = [r.reason or "" for r in _records(env) if r.status == "failed"]
    assert any("identique" in r for r in reasons) and any("même type" in r for r in reasons)
    assert any("too large" in r for r in reasons)
    refused = [e for e in _audits(env, "document.version.add") if e.detail.get("status") == "refused"]
    assert len(refused) >= 4
    with pytest.raises(PermissionDeniedError):
        rt.versions.add_version(users["rita"], doc_id, filename="x.txt", data=b"texte du lecteur")
    with pytest.raises(NotFoundError):
        rt.versions.add_version(users["bob"], doc_id, filename="x.txt", data=b"texte d'un autre")
    with pytest.raises(NotFoundError):
        rt.versions.add_version(users["alice"], "f" * 32, filename="x.txt", data=b"texte")

    with rt.session() as session:  # in the trash: no new version, no lock, nothing recorded as stored
        document = session.get(Document, doc_id)
        assert document is not None
        document.deleted_at = dt.datetime.now(dt.UTC)
    try:
        with pytest.raises((NotFoundError, ConflictError)):
            rt.versions.add_version(users["alice"], doc_id, filename="x.txt", data=b"texte dans la corbeille")
        with pytest.raises((NotFoundError, ConflictError)):
            rt.versions.lock(users["alice"], doc_id)
    finally:
        with rt.session() as session:
            document = session.get(Document, doc_id)
            assert document is not None
            document.deleted_at = None
    assert _count_versions(env) == count


def test_lock_blocks_others_until_released_or_expired(env: Env) -> None:
    rt, users, doc_id = env.rt, env.users, env.doc_id
    held = rt.versions.lock(users["alice"], doc_id, minutes=30)
    assert held.user == "Alice" and dt.timedelta(minutes=29) < held.until - dt.datetime.now(dt.UTC)
    with pytest.raises(DocumentLockedError, match="Alice") as refused:
        rt.versions.add_version(users["carol"], doc_id, filename="c.txt", data=b"version de Carol, refusee")
    assert refused.value.lock.user_id == users["alice"].id and refused.value.http_status == 409
    assert held.until.isoformat() in refused.value.message
    with pytest.raises(DocumentLockedError):
        rt.versions.lock(users["carol"], doc_id)
    with pytest.raises(PermissionDeniedError):
        rt.versions.unlock(users["carol"], doc_id)  # neither the holder nor an admin
    assert rt.versions.unlock(users["adam"], doc_id) is not None  # an admin of the organisation may

    rt.versions.lock(users["alice"], doc_id)  # default length: the setting
    with rt.session() as session:
        document = session.get(Document, doc_id)
        assert document is not None and document.locked_until is not None
        until = (
            document.locked_until.replace(tzinfo=dt.UTC)
            if document.locked_until.tzinfo is None
            else document.locked_until
        )
        minutes = (until - dt.datetime.now(dt.UTC)).total_seconds() / 60
        assert rt.settings.version_lock_minutes - 2 < minutes <= rt.settings.version_lock_minutes
        document.locked_until = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)  # expired
    result = rt.versions.add_version(
        users["carol"], doc_id, filename="carol.txt", data=b"Version de Carol apres expiration du verrou.\n"
    )
    assert result.version.author == "Carol"

    rt.versions.lock(users["alice"], doc_id)
    rt.versions.add_version(
        users["alice"], doc_id, filename="alice.txt", data=b"Version d'Alice qui libere son verrou.\n"
    )
    with rt.session() as session:
        document = session.get(Document, doc_id)
        assert document is not None and document.locked_by_user_id is None  # the holder's upload released it
    assert {e.action for e in _audits(env, "document.lock") + _audits(env, "document.unlock")} == {
        "document.lock",
        "document.unlock",
    }


def test_restore_and_diff(env: Env) -> None:
    rt, users, doc_id = env.rt, env.users, env.doc_id
    result = rt.versions.restore(users["alice"], doc_id, 1)
    assert result.restored_from == 1 and result.version.comment == restore_comment(1)
    assert result.version.comment == "Restauration de la version 1"
    assert result.version.content_hash == hashlib.sha256(V1).hexdigest()
    assert _hits(env, "ornithorynque") == [doc_id] and _hits(env, "quokka") == []
    with pytest.raises(ConflictError, match="identique"):
        rt.versions.restore(users["alice"], doc_id, 1)  # it is the current version's content now
    with pytest.raises(NotFoundError):
        rt.versions.restore(users["alice"], doc_id, 99)
    assert _audits(env, "document.version.restore")[-1].detail["restored_from"] == 1

    with rt.session() as session:
        diff = diff_versions(session, doc_id, identity.scope_for(users["rita"]), 2, 1, channel="cli")
    assert (diff.left.number, diff.right.number) == (1, 2)
    first = diff.diff.rows[0]
    assert first.kind == "replace"
    assert "ornithorynque" in "".join(s.text for s in first.left if s.changed)
    assert "quokka" in "".join(s.text for s in first.right if s.changed)
    assert "Note pays" in "".join(s.text for s in first.left if not s.changed)
    assert any(r.kind == "equal" and "inchangé" in r.left[0].text for r in diff.diff.rows)
    detail = _audits(env, "document.diff")[-1].detail
    assert [detail[k] for k in ("a", "b", "added", "removed")] == [1, 2, 1, 1]
    with rt.session() as session, pytest.raises(NotFoundError):
        diff_versions(session, doc_id, identity.scope_for(users["bob"]), 1, 2, channel="cli")


def test_text_diff_folds_long_unchanged_runs_and_marks_words() -> None:
    left = "\n".join(f"ligne {i}" for i in range(20)) + "\nle prix est de 100 euros"
    right = "\n".join(f"ligne {i}" for i in range(20)) + "\nle prix est de 120 euros"
    diff = text_diff(left, right)
    assert diff.rows[0].kind == "skip" and diff.rows[0].skipped == 20 - CONTEXT
    last = diff.rows[-1]
    assert [(s.text, s.changed) for s in last.left] == [
        ("le prix est de ", False),
        ("100", True),
        (" euros", False),
    ]
    assert [(s.text, s.changed) for s in last.right][1] == ("120", True)
    assert text_diff("même texte", "même texte").identical and text_diff("a", "a").rows == []
    assert (
        text_diff("<b>x</b>", "<b>y</b>").rows[0].left[0].text == "<b>x</b>"
    )  # raw text: the page escapes it


def test_families() -> None:
    assert family_of("a.pdf") == family_of("b.docx") == family_of("c.txt") == "document"
    assert family_of("a.xlsx") == family_of("b.csv") == "spreadsheet"
    assert family_of("sans-extension", "application/pdf") == "document"
    assert family_of("sans-extension") is None


def test_discard_of_a_version_removes_that_version_only(env: Env, tmp_path: Path) -> None:
    """The writer's undo after a failed index write: the version goes, the document and its old
    automatic classifications stay."""
    rt, doc_id = env.rt, env.doc_id
    sink = DocumentSink(rt.session_factory, BlobStore(tmp_path / "blobs"))
    count = _count_versions(env)
    before = _concepts(env)
    data = b"Version jamais indexee sur le Bresil.\n"
    item = IngestItem(key="k", filename="bresil.txt", data=data, meta={"version_of": doc_id, "comment": "x"})
    processed = Processed(
        item=item,
        content_hash=hashlib.sha256(data).hexdigest(),
        mime="text/plain",
        size=len(data),
        text=data.decode(),
        countries=[Scored("country:BR", 0.9, ["Bresil"])],
    )
    assert sink.save(item, processed) == doc_id
    assert _count_versions(env) == count + 1 and "country:BR" in _concepts(env)
    sink.discard(doc_id)
    assert _count_versions(env) == count
    assert _concepts(env) == before
