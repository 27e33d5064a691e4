"""Erasure (GDPR): a marker word nowhere in the data dir afterwards, signed receipts, organisations, rights.

One installation per module (SQLite, embedded index, the vault's development key file). Documents are
uploaded through the runtime (``DocumentService.upload``: the real ingestion, Tika, classifier, index);
the alert rows quoting them, an organisation's source and item are inserted as the watch writes them.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import tantivy
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ged.models import Document, DocumentVersion, ErasureReceipt
from search.models import PassageText, SavedSearch
from search.types import Passage, SearchQuery
from taxonomy.models import Classification
from tfe.app import erasure
from tfe.app.install import init_installation
from tfe.app.runtime import Runtime
from tfe.app.web.app import create_app
from tfe.core.crypto.models import DataKey
from tfe.core.errors import NotFoundError, PermissionDeniedError, ValidationError
from tfe.core.models import ApiToken, AuditEvent, Organisation, SurveyResponse, User
from tfe.core.security import audit, identity
from tfe.core.security.audit import Actor
from tfe.core.security.scope import AccessScope
from tfe.core.settings import Settings
from veille.alerts.models import AlertMessage, Delivery, Subscription
from veille.models import Item, Source

PASSWORD = "motdepasse-solide-42"
CONSONANTS = "bcdfghjklmnpqrtvwxz"  # no "s": the French stemmer strips a final s


def marker() -> str:
    """A word no corpus holds (consonants only: the French stemmer leaves it whole)."""
    return "zq" + "".join(secrets.choice(CONSONANTS) for _ in range(12))


def note(word: str) -> bytes:
    return (
        "Note pays : exportations de machines agricoles vers le Canada.\n\n"
        f"Le distributeur {word} à Montréal représente nos adhérents depuis 2019 ; contact commercial "
        f"{word}, conditions de paiement à soixante jours, salon annuel en novembre.\n"
    ).encode()


@dataclass
class Env:
    rt: Runtime
    client: TestClient
    users: dict[str, int]
    tokens: dict[str, str]
    orgs: dict[str, int]

    def user(self, key: str) -> User:
        with self.rt.session() as session:
            user = session.get(User, self.users[key])
            assert user is not None
            return user

    def auth(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[key]}"}

    def upload(self, who: str, data: bytes, filename: str = "note-canada.txt") -> str:
        result = self.rt.documents.upload(
            self.user(who), filename=filename, data=data, visibility="organisation", doc_type=None
        )
        assert result.status == "ok" and result.id, result
        return result.id


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("erasure") / "data",
        environment="test",
        admin_password="admin-password-123",
        secret_key="test-secret-key",
    )
    rt = Runtime(settings)
    init_installation(rt)
    users: dict[str, int] = {}
    tokens: dict[str, str] = {}
    with rt.session() as session:
        national = session.scalar(select(User).where(User.email == "admin@tfe.local"))
        assert national is not None
        alpha = identity.get_or_create_org(session, "alpha", "CCI Alpha", "regional_chamber")
        beta = identity.get_or_create_org(session, "beta", "Banque Beta", "bank")
        orgs = {"alpha": alpha.id, "beta": beta.id, "national": national.org_id}
        for key, org, role in (
            ("alice", alpha, "contributor"),
            ("alpha_admin", alpha, "admin"),
            ("bob", beta, "contributor"),
        ):
            user = identity.create_user(
                session, email=f"{key}@{org.slug}.fr", org=org, role=role, name=key, password=PASSWORD
            )
            users[key] = user.id
            # administrators' tokens carry the admin scope /api/admin needs
            scopes = "read,write,admin" if role == "admin" else "read,write"
            tokens[key] = identity.create_token(session, user, name="tests", scopes=scopes)[1]
        users["national"] = national.id
        tokens["national"] = identity.create_token(
            session, national, name="tests", scopes="read,write,admin"
        )[1]
    with TestClient(create_app(rt)) as client:
        yield Env(rt, client, users, tokens, orgs)
    rt.close()


def files_holding(root: Path, needle: bytes) -> list[str]:
    """Every file under ``root`` whose raw bytes contain ``needle`` (``grep -rl``), relative paths."""
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()
    )


def indexed_terms(rt: Runtime, word: str) -> list[tuple[str, int]]:
    """The on-disk text index's postings of ``word``: its document frequency per field (which counts
    deleted, not yet merged passages too) and the dictionary's terms starting with it."""
    searcher = tantivy.Index.open(str(rt.settings.index_dir / "tantivy")).searcher()
    found = [(f"{name}:{word}", searcher.doc_freq(name, word)) for name in ("text", "title")]
    found = [entry for entry in found if entry[1]]
    return found + [t for name in ("text", "title") for t in searcher.terms_with_prefix(name, word)]


def bm25_hits(rt: Runtime, word: str) -> list[str]:
    query = SearchQuery(text=word, scope=AccessScope.everything(), mode="bm25", limit=10)
    return [h.parent_id for h in rt.backend.search(query).hits]


def _alert_rows(env: Env, doc_id: str, other_id: str) -> tuple[int, int]:
    """A subscription of alice that was sent ``doc_id`` and ``other_id`` in one digest (ledger + message)."""
    with env.rt.session() as session:
        saved = SavedSearch(user_id=env.users["alice"], name="Canada", query="machines", filters={})
        session.add(saved)
        session.flush()
        sub = Subscription(
            user_id=env.users["alice"], saved_search_id=saved.id, scope="documents", channels=["email"]
        )
        session.add(sub)
        session.flush()
        for target in (doc_id, other_id):
            session.add(Delivery(subscription_id=sub.id, target_kind="document", target_id=target))
        entries = [
            {"kind": "document", "id": doc_id, "title": "Note Canada", "url": f"/documents/{doc_id}"},
            {"kind": "document", "id": other_id, "title": "Autre note", "url": f"/documents/{other_id}"},
        ]
        payload = {"subscription_id": sub.id, "name": "Canada", "frequency": "daily", "entries": entries}
        message = AlertMessage(
            subscription_id=sub.id,
            channel="email",
            status="sent",
            subject="s",
            body_text="Note Canada",
            payload=payload,
        )
        session.add(message)
        session.flush()
        return sub.id, message.id


def test_erased_document_leaves_no_trace_and_its_receipt_verifies(env: Env) -> None:
    word = marker()
    data = note(word)
    doc_id = env.upload("alice", data)
    other_id = env.upload("alice", note(marker()), filename="autre-note.txt")
    sub_id, message_id = _alert_rows(env, doc_id, other_id)
    data_dir = env.rt.settings.resolved_data_dir

    assert bm25_hits(env.rt, word) == [doc_id]
    assert indexed_terms(env.rt, word), "the marker is an index term before the erasure"
    outside_index = [p for p in files_holding(data_dir, word.encode()) if not p.startswith("index/")]
    assert outside_index == [], "the marker is stored in clear outside the index"
    with env.rt.session() as session:  # classifier evidence is plain JSON: the word in clear in the database
        session.add(
            Classification(
                target_kind="document",
                target_id=doc_id,
                concept_id="country:CA",
                score=0.5,
                explanation={"evidence": [word]},
            )
        )
    assert files_holding(data_dir, word.encode()), "the clear evidence should be in the database files"
    with env.rt.session() as session:
        key_ids = sorted(session.scalars(select(DataKey.id).where(DataKey.owner_id == doc_id)))
        blob_keys = sorted(
            session.scalars(select(DocumentVersion.blob_key).where(DocumentVersion.document_id == doc_id))
        )

    document = erasure.erase_document(
        env.rt, doc_id, actor=Actor.of_user(env.user("national"), "cli"), reason="test"
    )

    receipt = document["receipt"]
    assert receipt["kind"] == "document" and receipt["target"]["id"] == doc_id
    [erased] = receipt["documents"]
    assert erased["content_hashes"] == [hashlib.sha256(data).hexdigest()]
    assert erased["version_count"] == 1 and erased["blob_keys"] == blob_keys
    assert erased["data_key_ids"] == key_ids
    assert receipt["counts"]["documents"] == 1 and receipt["counts"]["versions"] == 1
    assert receipt["counts"]["classifications"] >= 1 and receipt["counts"]["deliveries"] == 1
    assert receipt["erased_by"] == {
        "user_id": env.users["national"],
        "org_id": env.orgs["national"],
        "channel": "cli",
    }
    assert word not in json.dumps(document)

    assert files_holding(data_dir, word.encode()) == [], "the marker survived the erasure"
    assert indexed_terms(env.rt, word) == [], "the marker is still a term of the index (segments not merged)"
    assert bm25_hits(env.rt, word) == []
    with env.rt.session() as session:
        assert session.get(Document, doc_id) is None
        assert (
            session.scalar(select(func.count()).select_from(DataKey).where(DataKey.owner_id == doc_id)) == 0
        )
        assert session.scalar(select(func.count()).where(Classification.target_id == doc_id)) == 0
        assert session.scalar(select(func.count()).where(PassageText.parent_id == doc_id)) == 0
        assert [
            d.target_id for d in session.scalars(select(Delivery).where(Delivery.subscription_id == sub_id))
        ] == [other_id]
        message = session.get(AlertMessage, message_id)
        assert message is not None and [e["id"] for e in message.payload["entries"]] == [other_id]
        assert "Note Canada" not in message.body_text and "Autre note" in message.body_text
        tombstone = session.scalars(select(AuditEvent).where(AuditEvent.action == "erasure")).all()[-1]
        assert tombstone.target_id == doc_id and tombstone.detail["receipt"] == receipt["id"]
        assert audit.verify_chain(session) is None  # past events untouched: the chain still verifies
        assert session.get(ErasureReceipt, receipt["id"]) is not None
    for key in blob_keys:
        assert not any(key in p for p in (str(q) for q in env.rt.settings.blob_dir.rglob("*")))

    checks = erasure.verify(env.rt, document)
    assert [c["check"] for c in checks if not c["ok"]] == [], checks
    assert {"signature", "documents", "versions", "blobs", "data_keys", "index", "passages"} <= {
        c["check"] for c in checks
    }
    tampered = copy.deepcopy(document)
    tampered["receipt"]["counts"]["versions"] = 2
    assert [(c["check"], c["ok"]) for c in erasure.verify(env.rt, tampered)] == [("signature", False)]

    with pytest.raises(NotFoundError, match="déjà effacé"):
        erasure.erase_document(env.rt, doc_id, actor=Actor.system("cli"), reason="again")
    with pytest.raises(NotFoundError, match="inconnu"):
        erasure.erase_document(env.rt, "0" * 32, actor=Actor.system("cli"), reason="unknown")
    assert bm25_hits(env.rt, "Canada") == [other_id]  # the other document is untouched


def test_verify_names_what_is_left(env: Env) -> None:
    doc_id = env.upload("alice", note(marker()), filename="note-reste.txt")
    document = erasure.erase_document(env.rt, doc_id, actor=Actor.system("cli"), reason="test")
    with env.rt.session() as session:  # a row naming the erased id appears again (a bad restore)
        session.add(
            Classification(target_kind="document", target_id=doc_id, concept_id="country:CA", score=1.0)
        )
    failing = [c for c in erasure.verify(env.rt, document) if not c["ok"]]
    assert [c["check"] for c in failing] == ["classifications"] and "1 classifications" in failing[0][
        "detail"
    ]
    with env.rt.session() as session:
        session.execute(Classification.__table__.delete().where(Classification.target_id == doc_id))


def _beta_watch_rows(env: Env) -> tuple[int, str, int]:
    with env.rt.session() as session:
        source = Source(
            url="https://beta.example.org/interne.xml",
            title="Flux interne beta",
            org_id=env.orgs["beta"],
            visibility="organisation",
        )
        shared = Source(
            url="https://beta.example.org/public.xml",
            title="Flux public",
            org_id=env.orgs["beta"],
            visibility="network",
        )
        session.add_all([source, shared])
        session.flush()
        item = Item(
            id=secrets.token_hex(16),
            source_id=source.id,
            guid="g1",
            title="Marché interne",
            content_hash="0" * 64,
            org_id=env.orgs["beta"],
            visibility="organisation",
        )
        session.add(item)
        saved = SavedSearch(user_id=env.users["bob"], name="Japon", query="japon", filters={})
        session.add(saved)
        session.flush()
        session.add(Subscription(user_id=env.users["bob"], saved_search_id=saved.id, channels=["email"]))
        source_id, item_id, shared_id = source.id, item.id, shared.id
    env.rt.backend.write(
        [
            Passage(
                id=f"{item_id}:0",
                parent_id=item_id,
                title="Marché interne",
                text="marché interne beta",
                meta={"kind": "item", "org_id": env.orgs["beta"], "visibility": "organisation"},
            )
        ]
    )
    env.rt.backend.commit()
    return source_id, item_id, shared_id


def test_organisation_erasure_covers_documents_accounts_and_private_watch(env: Env) -> None:
    doc_id = env.upload("bob", note(marker()), filename="note-beta.txt")
    source_id, item_id, shared_id = _beta_watch_rows(env)
    assert env.client.get("/api/search?q=machines", headers=env.auth("bob")).status_code == 200
    survey = env.client.post("/api/survey", json={"score": 6, "comment": "perso"}, headers=env.auth("bob"))
    assert survey.status_code == 201

    with pytest.raises(PermissionDeniedError), env.rt.session() as session:
        org = erasure.find_organisation(session, "beta")
        erasure.authorize_organisation(session, env.user("alpha_admin"), org)
    document = erasure.erase_organisation(
        env.rt, "beta", actor=Actor.of_user(env.user("national"), "api"), reason="fin de convention"
    )

    receipt = document["receipt"]
    assert receipt["kind"] == "organisation" and receipt["target"]["id"] == str(env.orgs["beta"])
    assert [d["id"] for d in receipt["documents"]] == [doc_id] and receipt["item_ids"] == [item_id]
    assert receipt["counts"]["users_anonymised"] == 1 and receipt["counts"]["api_tokens_revoked"] == 1
    assert receipt["counts"]["sources"] == 1 and receipt["counts"]["saved_searches"] == 1
    assert receipt["counts"]["survey_responses"] == 1  # the answer and its comment go with the account
    with env.rt.session() as session:
        bob = session.get(User, env.users["bob"])
        assert (
            bob is not None
            and not bob.active
            and bob.email.endswith("@erased.invalid")
            and bob.password_hash is None
        )
        assert all(
            t.revoked_at is not None
            for t in session.scalars(select(ApiToken).where(ApiToken.user_id == bob.id))
        )
        assert session.get(Source, source_id) is None and session.get(Item, item_id) is None
        kept = session.get(Source, shared_id)
        assert kept is not None and kept.org_id is None  # the shared catalogue keeps its feed
        tomb = session.get(Organisation, env.orgs["beta"])
        assert tomb is not None and tomb.slug == f"erased-{tomb.id}"
        assert session.scalar(select(func.count()).where(Subscription.user_id == bob.id)) == 0
        assert session.scalar(select(func.count()).where(SurveyResponse.user_id == bob.id)) == 0
    assert env.client.get("/api/search?q=machines", headers=env.auth("bob")).status_code == 401
    assert bm25_hits(env.rt, "interne") == []
    assert [c["check"] for c in erasure.verify(env.rt, document) if not c["ok"]] == []
    with pytest.raises(NotFoundError, match="déjà effacée"), env.rt.session() as session:
        erasure.find_organisation(session, str(env.orgs["beta"]))
    with pytest.raises(ValidationError, match="agence nationale"):
        erasure.erase_organisation(env.rt, "business-france", actor=Actor.system("cli"), reason="no")


def test_api_is_for_administrators(env: Env) -> None:
    doc_id = env.upload("alice", note(marker()), filename="note-api.txt")
    client = env.client
    client.cookies.clear()
    url = "/api/admin/erasures"
    assert client.post(url, json={"document": doc_id}).status_code == 401
    assert client.post(url, json={"document": doc_id}, headers=env.auth("alice")).status_code == 403
    assert client.get(url, headers=env.auth("alice")).status_code == 403
    assert (
        client.post(
            url, json={"document": doc_id, "organisation": "alpha"}, headers=env.auth("national")
        ).status_code
        == 400
    )
    assert client.post(url, json={"nothing": 1}, headers=env.auth("national")).status_code in (400, 422)
    answer = client.post(url, json={"organisation": "alpha"}, headers=env.auth("alpha_admin"))
    assert answer.status_code == 403, answer.text
    unknown = client.post(url, json={"document": "f" * 32}, headers=env.auth("national"))
    assert unknown.status_code == 404 and "inconnu" in unknown.json()["error"]["message"]

    answer = client.post(
        url, json={"document": doc_id, "reason": "demande RGPD 42"}, headers=env.auth("alpha_admin")
    )
    assert answer.status_code == 201, answer.text
    document = answer.json()
    receipt_id = document["receipt"]["id"]
    assert document["algorithm"] == "Ed25519" and document["receipt"]["reason"] == "demande RGPD 42"
    again = client.post(url, json={"document": doc_id}, headers=env.auth("national"))
    assert again.status_code == 404 and "déjà effacé" in again.json()["error"]["message"]

    listed = client.get(url, headers=env.auth("national")).json()["receipts"]
    assert receipt_id in [r["receipt"]["id"] for r in listed]
    own = client.get(url, headers=env.auth("alpha_admin")).json()["receipts"]
    assert {r["receipt"]["org_id"] for r in own} == {env.orgs["alpha"]}
    assert client.get(f"{url}/{receipt_id}", headers=env.auth("national")).json() == document
    assert client.get(f"{url}/{'e' * 32}", headers=env.auth("national")).status_code == 404
    verified = client.post(f"{url}/verify", json=document, headers=env.auth("national")).json()
    assert verified["ok"] is True
    document["receipt"]["reason"] = "autre"
    verified = client.post(f"{url}/verify", json=document, headers=env.auth("national")).json()
    assert verified["ok"] is False and verified["checks"][0]["check"] == "signature"


def _sign_in(client: TestClient, email: str, password: str) -> None:
    client.cookies.clear()
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert csrf
    answer = client.post(
        "/login", data={"email": email, "password": password, "csrf": csrf.group(1)}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text


def test_admin_page_erases_after_confirmation(env: Env) -> None:
    doc_id = env.upload("alice", note(marker()), filename="note-page.txt")
    client = env.client
    _sign_in(client, "alice@alpha.fr", PASSWORD)
    assert client.get("/admin/effacements").status_code == 403
    _sign_in(client, "admin@tfe.local", "admin-password-123")
    page = "/admin/effacements"
    assert f'href="{page}"' in client.get("/admin/organisations").text
    listing = client.get(page)
    assert listing.status_code == 200
    found = re.search(r'name="csrf" value="([^"]+)"', listing.text)
    assert found
    csrf = found.group(1)
    assert client.post(f"{page}/confirmer", data={"document": doc_id, "csrf": "wrong"}).status_code == 403
    confirm = client.post(f"{page}/confirmer", data={"document": doc_id, "csrf": csrf, "reason": "demande 7"})
    assert confirm.status_code == 200 and "irréversible" in confirm.text and doc_id in confirm.text
    with env.rt.session() as session:
        assert session.get(Document, doc_id) is not None  # nothing erased before the confirmation
    unconfirmed = client.post(page, data={"document": doc_id, "csrf": csrf})
    assert unconfirmed.status_code == 400
    done = client.post(
        page,
        data={"document": doc_id, "csrf": csrf, "reason": "demande 7", "confirmed": "oui"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    listing = client.get(page)
    assert "effacé" in listing.text and "demande 7" in listing.text
    with env.rt.session() as session:
        row = session.scalar(select(ErasureReceipt).where(ErasureReceipt.target_id == doc_id))
        assert row is not None and session.get(Document, doc_id) is None
    download = client.get(f"{page}/{row.id}.json")
    assert download.status_code == 200 and download.json()["receipt"]["id"] == row.id
    assert [c["check"] for c in erasure.verify(env.rt, download.json()) if not c["ok"]] == []
    missing = client.post(f"{page}/confirmer", data={"document": doc_id, "csrf": csrf})
    assert missing.status_code == 404 and "déjà effacé" in missing.text


def test_erasure_on_both_databases(db_settings: Settings) -> None:
    """The same erasure and receipt check on SQLite and PostgreSQL (rows, data key, blobs, index)."""
    rt = Runtime(db_settings)
    try:
        init_installation(rt)
        with rt.session() as session:
            admin = session.scalar(select(User).where(User.email == "admin@tfe.local"))
            assert admin is not None
        word = marker()
        result = rt.documents.upload(
            admin, filename="note.txt", data=note(word), visibility="organisation", doc_type=None
        )
        assert result.status == "ok" and result.id
        with rt.session() as session:
            assert session.scalar(select(func.count()).where(DataKey.owner_id == result.id)) == 1
        document = erasure.erase_document(rt, result.id, actor=Actor.of_user(admin, "cli"), reason="test")
        assert document["receipt"]["counts"]["blobs_shredded"] == 1
        assert [c["check"] for c in erasure.verify(rt, document) if not c["ok"]] == []
        assert bm25_hits(rt, word) == []
        with rt.session() as session:
            assert session.scalar(select(func.count()).select_from(Document)) == 0
            assert session.scalar(select(func.count()).where(DataKey.owner_id == result.id)) == 0
            assert receipts_for(session, result.id) == [document["receipt"]["id"]]
        assert not any(rt.settings.blob_dir.rglob(f"*{result.id}*"))
    finally:
        rt.close()


def receipts_for(session: Session, doc_id: str) -> list[str]:
    return list(session.scalars(select(ErasureReceipt.id).where(ErasureReceipt.target_id == doc_id)))
