"""``/api/admin/erasures`` bodies and answers: erasure requests, signed receipts, their checks."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tfe.app.web.deps import ID_PATTERN

__all__ = ["CheckPublic", "ErasureRequest", "ReceiptListPublic", "ReceiptPublic", "VerificationPublic"]


class ErasureRequest(BaseModel):
    """What to erase: exactly one of ``document`` (id) and ``organisation`` (slug or id)."""

    model_config = ConfigDict(extra="forbid")

    document: str | None = Field(default=None, min_length=1, max_length=64, pattern=ID_PATTERN)
    organisation: str | None = Field(default=None, min_length=1, max_length=64, pattern=ID_PATTERN)
    reason: str = Field(default="", max_length=500, description="Why (e.g. the GDPR request's number)")


class ReceiptPublic(BaseModel):
    """A signed erasure receipt: ``receipt`` (ids, hashes, counts; no content) and its Ed25519 signature
    (base64) over the receipt's canonical JSON, with the signing public key (hex)."""

    receipt: dict[str, Any]
    signature: str | None
    algorithm: str
    public_key: str | None


class ReceiptListPublic(BaseModel):
    receipts: list[ReceiptPublic]


class CheckPublic(BaseModel):
    """One check of a receipt: ``signature``, then one per store (``documents``, ``blobs``, ``index``...)."""

    check: str
    ok: bool
    detail: str


class VerificationPublic(BaseModel):
    ok: bool
    checks: list[CheckPublic]
