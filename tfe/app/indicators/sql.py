"""The SQL that differs between SQLite and PostgreSQL: an instant's bucket (the Monday of its ISO week, the
first day of its month, as ``YYYY-MM-DD`` text) and a duration in seconds."""

from __future__ import annotations

from typing import Any

from sqlalchemy import extract, func
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

__all__ = ["bucket_of", "dialect_of", "seconds_between"]


def dialect_of(session: Session) -> str:
    return session.get_bind().dialect.name


def bucket_of(dialect: str, column: Any, grain: str) -> ColumnElement[str]:
    """The first day (UTC) of the day, week (Monday) or month that holds ``column``, as ``YYYY-MM-DD``."""
    if dialect == "postgresql":
        trunc = func.date_trunc(grain, func.timezone("UTC", column))
        return func.to_char(trunc, "YYYY-MM-DD")
    if grain == "day":
        return func.date(column)
    if grain == "week":  # the Sunday on or after the day, less six days: the Monday on or before it
        return func.date(column, "weekday 0", "-6 days")
    return func.strftime("%Y-%m-01", column)


def seconds_between(dialect: str, start: Any, end: Any) -> Any:
    if dialect == "postgresql":
        return extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0
