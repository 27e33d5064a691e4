"""``/api/survey`` bodies and answers: the caller's quarterly satisfaction survey (``tfe.app.survey``)."""

from __future__ import annotations

from pydantic import BaseModel, Field, StrictInt

__all__ = ["SurveyAnswer", "SurveyPublic"]


class SurveyAnswer(BaseModel):
    """A score from 0 to 10 and an optional comment; ``declined: true`` (no score) to not answer."""

    score: StrictInt | None = Field(default=None, description="0..10; null with declined")
    comment: str | None = Field(default=None, description="Optional, at most 2000 characters")
    declined: bool = False


class SurveyPublic(BaseModel):
    quarter: str = Field(examples=["2026-Q4"])
    due: bool = Field(description="The caller is asked this quarter (active, no answer or refusal yet)")
    answered: bool
    declined: bool
    score: int | None
    comment: str | None = Field(description="The caller's own comment; never shown to anyone else")
