"""Signed erasure receipts: what an erasure removed, signed by the operator's key, checkable by a DPO.

A receipt is a JSON document::

    {"receipt": {...}, "signature": "...", "algorithm": "Ed25519", "public_key": "<hex>"}

``receipt`` holds no content, only ids, hashes and counts (``ged.erasure`` builds it); the signature covers
its canonical JSON (``canonical``: sorted keys, no spaces, UTF-8), so a changed byte anywhere in it fails
``verify_signature``. The signer is the operator's (``tfe.core.crypto.vault``'s ``signer()``: Ed25519);
the receipt also names the signing public key, but a check trusts the installation's key, never the one a
receipt brings along (anyone can sign with a key of their own).

Receipts are stored in ``erasure_receipts`` (``ErasureReceipt``): ``store``, ``list_receipts``, ``get``
and ``find_erased`` (whether an id was already erased, by a document or an organisation receipt).
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from ged.models import ErasureReceipt
from tfe.core.errors import NotFoundError, ValidationError

__all__ = [
    "ALGORITHM",
    "Signer",
    "as_document",
    "canonical",
    "find_erased",
    "get",
    "list_receipts",
    "new_receipt_id",
    "parse",
    "sign",
    "store",
    "verify_signature",
]

ALGORITHM = "Ed25519"
FORMAT_VERSION = 1


class Signer(Protocol):
    """The operator's signing key (``Vault.signer()``)."""

    @property
    def public_key_hex(self) -> str: ...

    def sign(self, payload: bytes) -> str: ...

    def verify(self, payload: bytes, signature: str) -> bool: ...


def canonical(receipt: dict[str, Any]) -> bytes:
    """The bytes a signature covers: sorted keys, no spaces, UTF-8 (``ensure_ascii=False``)."""
    return json.dumps(receipt, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def new_receipt_id() -> str:
    return uuid.uuid4().hex


def sign(receipt: dict[str, Any], signer: Signer) -> dict[str, Any]:
    """The signed receipt document (``receipt``, ``signature``, ``algorithm``, ``public_key``)."""
    return {
        "receipt": receipt,
        "signature": signer.sign(canonical(receipt)),
        "algorithm": ALGORITHM,
        "public_key": signer.public_key_hex,
    }


def verify_signature(document: dict[str, Any], signer: Signer) -> tuple[bool, str]:
    """Whether ``document`` was signed by ``signer``'s key, and why not."""
    receipt = document.get("receipt")
    signature = document.get("signature")
    if not isinstance(receipt, dict) or not isinstance(signature, str) or not signature:
        return False, "no receipt or no signature in the document"
    if document.get("algorithm", ALGORITHM) != ALGORITHM:
        return False, f"unsupported signature algorithm {document.get('algorithm')!r}"
    if document.get("public_key") not in (None, signer.public_key_hex):
        return False, "signed by another key than this installation's"
    try:
        ok = signer.verify(canonical(receipt), signature)
    except Exception:  # a malformed signature (bad hex/base64, wrong length) is a bad signature
        ok = False
    return (True, "valid Ed25519 signature") if ok else (False, "the signature does not match the receipt")


def parse(raw: bytes | str) -> dict[str, Any]:
    """A receipt document from its JSON; ``ValidationError`` when it is not one."""
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError(f"not a JSON receipt: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("receipt"), dict):
        raise ValidationError("not an erasure receipt (no 'receipt' object)")
    return document


def store(session: Session, document: dict[str, Any], *, created_by_user_id: int | None) -> ErasureReceipt:
    """Keep a signed receipt (in the caller's transaction)."""
    receipt = document["receipt"]
    row = ErasureReceipt(
        id=receipt["id"],
        kind=receipt["kind"],
        target_id=str(receipt["target"]["id"])[:64],
        receipt=receipt,
        signature=document["signature"],
        created_by_user_id=created_by_user_id,
    )
    session.add(row)
    session.flush()
    return row


def as_document(row: ErasureReceipt, public_key_hex: str | None = None) -> dict[str, Any]:
    """A stored receipt as the signed document it was issued as."""
    return {
        "receipt": row.receipt,
        "signature": row.signature,
        "algorithm": ALGORITHM,
        "public_key": public_key_hex or row.receipt.get("installation", {}).get("public_key"),
    }


def get(session: Session, receipt_id: str, *, org_id: int | None = None) -> ErasureReceipt:
    """One receipt; ``org_id`` limits it to receipts about that organisation (others answer 404)."""
    row = session.get(ErasureReceipt, receipt_id)
    if row is None or (org_id is not None and row.receipt.get("org_id") != org_id):
        raise NotFoundError(f"reçu d'effacement inconnu : {receipt_id}")
    return row


def list_receipts(
    session: Session, *, org_id: int | None = None, limit: int = 100, offset: int = 0
) -> list[ErasureReceipt]:
    """Receipts newest first; ``org_id`` keeps those about one organisation."""
    stmt = select(ErasureReceipt).order_by(ErasureReceipt.created_at.desc(), ErasureReceipt.id)
    rows = list(session.scalars(stmt))
    if org_id is not None:
        rows = [r for r in rows if r.receipt.get("org_id") == org_id]
    return rows[offset : offset + limit]


def find_erased(session: Session, kind: str, target_id: str) -> ErasureReceipt | None:
    """The receipt that erased document or organisation ``target_id``, if any.

    A document erased with its organisation is named in the organisation's receipt, not as a target.
    """
    row = session.scalar(
        select(ErasureReceipt)
        .where(ErasureReceipt.kind == kind, ErasureReceipt.target_id == target_id)
        .limit(1)
    )
    if row is not None or kind != "document":
        return row
    for org_receipt in session.scalars(select(ErasureReceipt).where(ErasureReceipt.kind == "organisation")):
        if any(d.get("id") == target_id for d in org_receipt.receipt.get("documents", [])):
            return org_receipt
    return None
