"""The one error hierarchy of tfe. ``tfe.app.web.errors`` maps it to HTTP; the CLI to one-line messages.

::

    TfeError                      base; ``code`` is a stable machine-readable string
    ├── ConfigurationError        settings or environment unusable
    ├── NotFoundError             unknown id (HTTP 404)
    ├── ValidationError           bad input from a user (HTTP 400/422)
    │   └── UnsupportedInputError file type or content we cannot take (HTTP 415)
    ├── TooLargeError             over a configured size cap (HTTP 413)
    ├── AuthenticationError       no or bad credentials (HTTP 401)
    ├── PermissionDeniedError     authenticated but out of scope (HTTP 403)
    ├── ConflictError             duplicate or state clash (HTTP 409)
    ├── ExtractionError           the extractor could not read a file (recorded as failed)
    └── BackendError              search backend or other adapter failed (HTTP 503)
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "BackendError",
    "ConfigurationError",
    "ConflictError",
    "ExtractionError",
    "NotFoundError",
    "PermissionDeniedError",
    "TfeError",
    "TooLargeError",
    "UnsupportedInputError",
    "ValidationError",
]


class TfeError(Exception):
    """Base of every error tfe raises on purpose."""

    code = "error"
    http_status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigurationError(TfeError):
    code = "configuration"
    http_status = 500


class NotFoundError(TfeError):
    code = "not_found"
    http_status = 404


class ValidationError(TfeError):
    code = "invalid"
    http_status = 400


class UnsupportedInputError(ValidationError):
    code = "unsupported"
    http_status = 415


class TooLargeError(TfeError):
    code = "too_large"
    http_status = 413


class AuthenticationError(TfeError):
    code = "unauthenticated"
    http_status = 401


class PermissionDeniedError(TfeError):
    code = "forbidden"
    http_status = 403


class ConflictError(TfeError):
    code = "conflict"
    http_status = 409


class ExtractionError(TfeError):
    code = "extraction_failed"
    http_status = 422


class BackendError(TfeError):
    code = "backend_unavailable"
    http_status = 503
