"""The one error hierarchy of tfe. ``tfe.app.web.errors`` maps it to HTTP; the CLI to one-line messages.

Every class carries a stable machine-readable ``code`` (the ``error.code`` of an API answer) and the
``http_status`` it is answered with; the status is the class's, never chosen at the raise site::

    TfeError                       error               500  base; never raised itself
    ├── ConfigurationError         configuration       500  settings or environment unusable
    ├── ValidationError            invalid             400  bad input from a user (parameter, body, file)
    │   └── UnsupportedInputError  unsupported         415  file type or content we do not take
    ├── ExtractionError            extraction_failed   422  a file was accepted but no text could be read
    ├── TooLargeError              too_large           413  over a configured size cap
    ├── AuthenticationError        unauthenticated     401  no or bad credentials
    ├── PermissionDeniedError      forbidden           403  authenticated but role too low, CSRF missing
    │   └── SuspendedError         suspended           403  token or session suspended by the guard
    ├── RateLimitedError           rate_limited        429  too many attempts or reads; Retry-After says when
    ├── NotFoundError              not_found           404  unknown id, or one outside the caller's scope
    ├── ConflictError              conflict            409  duplicate or state clash
    │   └── TamperedContentError   tampered            409  stored content failed its GCM integrity check
    └── BackendError               backend_unavailable 503  search backend or other adapter failed
        └── KeyRevokedError        key_revoked         503  the operator revoked the encryption key

Packages may refine a class here for their own use; ``ingest.errors.IngestError`` is such a refinement
of ``ExtractionError``: the ingestion runner catches it and records the reason per input (an upload
that fails answers 422 ``extraction_failed``).
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "BackendError",
    "ConfigurationError",
    "ConflictError",
    "ExtractionError",
    "KeyRevokedError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "SuspendedError",
    "TamperedContentError",
    "TfeError",
    "TooLargeError",
    "UnsupportedInputError",
    "ValidationError",
]


class TfeError(Exception):
    """Base of every error tfe raises on purpose: a readable ``message``, a stable ``code``, a status."""

    code = "error"
    http_status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigurationError(TfeError):
    """Settings or environment unusable (missing file, bad URL, default secret in production)."""

    code = "configuration"
    http_status = 500


class ValidationError(TfeError):
    """Bad input from a user: a parameter out of range, an unknown facet value, a malformed body."""

    code = "invalid"
    http_status = 400


class UnsupportedInputError(ValidationError):
    """A file we do not take: empty, executable, archive, or a type outside the upload allow-list."""

    code = "unsupported"
    http_status = 415


class ExtractionError(TfeError):
    """A file passed screening but no text could be read from it (corrupt, encrypted, image only)."""

    code = "extraction_failed"
    http_status = 422


class TooLargeError(TfeError):
    """Over a configured size cap (upload, feed, file)."""

    code = "too_large"
    http_status = 413


class AuthenticationError(TfeError):
    """No or bad credentials (token, session, password)."""

    code = "unauthenticated"
    http_status = 401


class PermissionDeniedError(TfeError):
    """Authenticated, but the role is too low or the CSRF token of a cookie session is missing."""

    code = "forbidden"
    http_status = 403


class SuspendedError(PermissionDeniedError):
    """The token or session was suspended by the exfiltration guard (or an admin) pending review."""

    code = "suspended"
    http_status = 403


class RateLimitedError(TfeError):
    """Too many requests (sign-in failures, bad tokens, reads over the budget): retry after a delay."""

    code = "rate_limited"
    http_status = 429

    def __init__(self, message: str, retry_after_s: float = 60.0) -> None:
        super().__init__(message)
        self.retry_after_s = max(1, int(retry_after_s + 0.999))


class NotFoundError(TfeError):
    """Unknown id, or one outside the caller's scope (reported alike so that ids do not leak)."""

    code = "not_found"
    http_status = 404


class ConflictError(TfeError):
    """Duplicate or state clash (a user with that e-mail already exists)."""

    code = "conflict"
    http_status = 409


class BackendError(TfeError):
    """The search backend or another adapter failed (index locked, service unreachable)."""

    code = "backend_unavailable"
    http_status = 503


class TamperedContentError(ConflictError):
    """Stored content (a blob, a sealed column, a wrapped data key) failed its integrity check: it was
    altered on disk, or sealed under a key this installation does not hold. It is never served."""

    code = "tampered"
    http_status = 409


class KeyRevokedError(BackendError):
    """The operator revoked the key-encryption key (``tfe keys revoke``): nothing stored can be read."""

    code = "key_revoked"
    http_status = 503

    @classmethod
    def since(cls, revoked_on: str) -> KeyRevokedError:
        """The one wording, with the revocation date."""
        return cls(
            f"the encryption key was revoked by the operator on {revoked_on}: "
            "stored content can no longer be read"
        )
