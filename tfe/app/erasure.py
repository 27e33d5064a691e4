"""Erasure (GDPR), composed: a document or an organisation erased across the GED, the watch and the index.

The GED never imports the watch, so this module (at the runtime's level) gives ``ged.erasure`` what it
cannot reach itself: the watch-side cleanup (``veille.alerts.erasure.forget_targets``), the operator's
receipt signer (``Vault.signer()``) and the installation's name. The CLI (``tfe erase``), the admin API
(``/api/admin/erasures``), the admin page (``/admin/effacements``) and the trash purge job call:

- ``erase_document(runtime, doc_id, *, actor, reason)`` -> the signed receipt document;
- ``erase_organisation(runtime, ref, *, actor, reason)`` (slug or id) -> one receipt for all of it;
- ``verify(runtime, document)`` -> the checks of a receipt against the stores (``tfe erase verify``);
- ``authorize_document`` / ``authorize_organisation``: who may erase what (administrators only).

After the rows are deleted, an SQLite database is checkpointed (``PRAGMA wal_checkpoint(TRUNCATE)``):
with ``PRAGMA secure_delete`` (``tfe.core.db``) the deleted cells are zeroed in the database file, and
the write-ahead log that still held their old pages is emptied.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from ged import erasure as ged_erasure
from ged import receipts
from ged.models import Document
from tfe.app import rollups, survey
from tfe.core.crypto.columns import sealer_of
from tfe.core.db import session_scope, utcnow
from tfe.core.errors import ConfigurationError, NotFoundError, ValidationError
from tfe.core.models import ApiToken, Organisation, User
from tfe.core.security import administration
from tfe.core.security.audit import Actor
from veille.alerts.erasure import forget_targets, forget_users
from veille.erasure import forget_organisation, organisation_items

if TYPE_CHECKING:
    from tfe.app.runtime import Runtime

__all__ = [
    "authorize_document",
    "authorize_organisation",
    "erase_document",
    "erase_organisation",
    "find_organisation",
    "installation",
    "signer",
    "verify",
]

log = logging.getLogger(__name__)

ERASED_DOMAIN = "erased.invalid"


def signer(runtime: Runtime) -> receipts.Signer:
    """The operator's receipt signer (the vault's Ed25519 key)."""
    vault = getattr(runtime, "vault", None) or sealer_of(runtime.engine.dialect)
    if vault is None or not hasattr(vault, "signer"):
        raise ConfigurationError("no vault: erasure receipts cannot be signed")
    return vault.signer()  # type: ignore[no-any-return]


def installation(runtime: Runtime) -> dict[str, Any]:
    """What names the installation in a receipt (its public address; the signer adds its key)."""
    return {"public_url": runtime.settings.public_url}


def _sum_into(counts: dict[str, int], more: dict[str, int]) -> None:
    for key, value in more.items():
        counts[key] = counts.get(key, 0) + int(value)


def scrub_database(runtime: Runtime) -> str | None:
    """Empty SQLite's write-ahead log into the (secure-delete) database file; its result, or ``None``."""
    engine = runtime.engine
    if engine.dialect.name != "sqlite":
        return None
    try:
        with engine.connect() as conn:
            busy, _log, _done = conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)")).one()
            conn.commit()
    except Exception as exc:  # a checkpoint is best effort: the next one empties the log
        log.warning("erasure: WAL checkpoint failed error=%s", type(exc).__name__)
        return "failed"
    return "busy" if busy else "truncated"


# -- who may erase what ---------------------------------------------------------------------------


def authorize_document(session: Session, user: User, doc_id: str) -> None:
    """Administrators erase documents of the organisations they manage; others: 403, elsewhere: 404."""
    administration.require_admin(user)
    if administration.manages_every_organisation(session, user):
        return
    document = session.get(Document, doc_id)
    if document is not None:
        if document.org_id != user.org_id:
            raise NotFoundError(f"document inconnu : {doc_id}")
        return
    done = receipts.find_erased(session, "document", doc_id)
    if done is not None and done.receipt.get("org_id") != user.org_id:  # never say another org erased it
        raise NotFoundError(f"document inconnu : {doc_id}")


def find_organisation(session: Session, ref: str | int) -> Organisation:
    """An organisation by slug or id; 404 (``déjà effacée`` when a receipt says so)."""
    org: Organisation | None = None
    raw = str(ref).strip()
    if raw.isdigit():
        org = session.get(Organisation, int(raw))
    if org is None:
        org = session.scalar(select(Organisation).where(Organisation.slug == raw))
    done = receipts.find_erased(session, "organisation", str(org.id) if org else raw)
    if done is not None:
        raise NotFoundError(f"organisation {raw} déjà effacée (reçu {done.id})")
    if org is None:
        raise NotFoundError(f"organisation inconnue : {raw}")
    return org


def authorize_organisation(session: Session, user: User, org: Organisation) -> None:
    """Only the national agency's administrators erase an organisation, never the agency nor their own."""
    administration.require_national_admin(
        session, user, "seuls les administrateurs de l'agence nationale effacent une organisation"
    )
    if org.id == user.org_id:
        raise ValidationError("votre propre organisation ne peut pas être effacée")


# -- erasing --------------------------------------------------------------------------------------


def erase_document(runtime: Runtime, doc_id: str, *, actor: Actor, reason: str) -> dict[str, Any]:
    """Erase one document everywhere; the signed receipt (``NotFoundError``: unknown or déjà effacé)."""
    with runtime.session() as session:
        document = session.get(Document, doc_id)
        org_id = document.org_id if document is not None else None
    result = ged_erasure.erase_documents(
        runtime.session_factory,
        runtime.backend,
        runtime.blob_store,
        [doc_id],
        actor=actor,
        reason=reason,
        signer=signer(runtime),
        forget=forget_targets,
        target={"kind": "document", "id": doc_id, "org_id": org_id},
        installation=installation(runtime),
    )
    scrub_database(runtime)
    return result


def _anonymise_accounts(session: Session, org_id: int) -> dict[str, int]:
    users = list(session.scalars(select(User).where(User.org_id == org_id)))
    for user in users:
        user.email = f"erased-{user.id}@{ERASED_DOMAIN}"
        user.name = ""
        user.password_hash = None
        user.active = False
    ids = [u.id for u in users]
    revoked = 0
    if ids:
        revoked = int(
            session.execute(  # type: ignore[attr-defined]
                update(ApiToken)
                .where(ApiToken.user_id.in_(ids), ApiToken.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            ).rowcount
            or 0
        )
    session.flush()
    return {"users_anonymised": len(users), "api_tokens_revoked": revoked}


def erase_organisation(runtime: Runtime, ref: str | int, *, actor: Actor, reason: str) -> dict[str, Any]:
    """Erase an organisation: its documents, private sources and items, accounts, alerts; one receipt.

    The organisation row stays as a tombstone (renamed ``erased-<id>``): audit events and other
    organisations' records keep pointing at a valid id.
    """
    with runtime.session() as session:
        org = find_organisation(session, ref)
        if org.slug == administration.NATIONAL_AGENCY_SLUG:
            raise ValidationError("l'agence nationale ne peut pas être effacée")
        org_id, slug = org.id, org.slug
        doc_ids = sorted(session.scalars(select(Document.id).where(Document.org_id == org_id)))
        item_ids = organisation_items(session, org_id)
        user_ids = list(session.scalars(select(User.id).where(User.org_id == org_id)))

    def extra(session: Session) -> dict[str, int]:
        counts: dict[str, int] = {}
        _sum_into(counts, forget_organisation(session, org_id, item_ids))
        _sum_into(counts, forget_users(session, user_ids))
        _sum_into(counts, rollups.forget_users(session, user_ids))
        _sum_into(counts, survey.forget_users(session, user_ids))
        _sum_into(counts, _anonymise_accounts(session, org_id))
        tomb = session.get(Organisation, org_id)
        if tomb is not None:
            tomb.slug = f"erased-{org_id}"
            tomb.name = f"Organisation effacée {org_id}"
        counts["organisations"] = 1
        return counts

    result = ged_erasure.erase_documents(
        runtime.session_factory,
        runtime.backend,
        runtime.blob_store,
        doc_ids,
        actor=actor,
        reason=reason,
        signer=signer(runtime),
        forget=forget_targets,
        target={"kind": "organisation", "id": str(org_id), "org_id": org_id, "slug_sha256": _sha(slug)},
        installation=installation(runtime),
        extra=extra,
        item_ids=item_ids,
        user_ids=user_ids,
    )
    scrub_database(runtime)
    return result


def _sha(value: str) -> str:
    import hashlib

    return hashlib.sha256(value.encode()).hexdigest()


# -- verifying ------------------------------------------------------------------------------------


def verify(runtime: Runtime, document: dict[str, Any]) -> list[dict[str, Any]]:
    """Each check of a receipt: ``{"check", "ok", "detail"}``; the signature first."""
    from tfe.app.erasure_checks import store_checks

    ok, why = receipts.verify_signature(document, signer(runtime))
    checks = [{"check": "signature", "ok": ok, "detail": why}]
    if not ok:
        return checks
    with session_scope(runtime.session_factory) as session:
        checks += store_checks(session, runtime.backend, runtime.blob_store, document["receipt"])
    return checks
