"""The error body every failed API call answers: ``{"error": {"code": ..., "message": ...}}``."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["ErrorDetail", "ErrorPublic", "FieldErrorPublic"]


class FieldErrorPublic(BaseModel):
    """One invalid typed field value (``PUT /api/documents/{id}/fields``, ``.../fields/accept``)."""

    field: str = Field(examples=["currency"])
    message: str = Field(description="In French", examples=["valeur non autorisée : XYZ"])


class ErrorDetail(BaseModel):
    """A stable machine-readable ``code`` (see ``tfe.core.errors``) and a readable message."""

    code: str = Field(description="Stable error code", examples=["not_found"])
    message: str = Field(description="What went wrong, for people", examples=["unknown document 'x'"])
    fields: list[FieldErrorPublic] = Field(
        default=[],
        description="Only in a 400 `invalid` for typed field values: one entry per problem (else absent)",
    )


class ErrorPublic(BaseModel):
    """The body of every 4xx and 5xx JSON answer."""

    error: ErrorDetail
