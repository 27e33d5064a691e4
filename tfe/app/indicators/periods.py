"""Periods and their buckets: ``2026-Q4``, ``2026-11``, ``2026-W48`` (ISO week), ``2026`` or
``2026-11-02..2026-11-29`` (both days included), split into ISO weeks (Monday first) and calendar months,
all in UTC. A bucket is named by its label (``2026-W48``, ``2026-11``); the SQL that puts an instant in its
bucket is in ``sql.py``."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from tfe.core.errors import ValidationError

__all__ = ["GRAINS", "Period", "month_label", "parse_period", "week_label"]

GRAINS = ("week", "month")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")
MAX_DAYS = 731  # two years: the buckets of a longer period are too many for one answer


@dataclass(frozen=True)
class Period:
    """``[start, end)`` in UTC, with the label the caller gave (normalised)."""

    label: str
    start: dt.datetime
    end: dt.datetime

    def weeks(self, until: dt.datetime | None = None) -> list[str]:
        """Labels of the ISO weeks that meet the period (and begin before ``until``), in order."""
        end = self.end if until is None else min(self.end, until)
        day = self.start.date() - dt.timedelta(days=self.start.weekday())
        out: list[str] = []
        while _utc(day) < end:
            out.append(week_label(day))
            day += dt.timedelta(days=7)
        return out

    def months(self, until: dt.datetime | None = None) -> list[str]:
        """Labels of the calendar months that meet the period (and begin before ``until``), in order."""
        end = self.end if until is None else min(self.end, until)
        year, month = self.start.year, self.start.month
        out: list[str] = []
        while dt.datetime(year, month, 1, tzinfo=dt.UTC) < end:
            out.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out

    def buckets(self, grain: str, until: dt.datetime | None = None) -> list[str]:
        """The weeks or months of the period; with ``until``, only those begun by then (no future ones)."""
        return self.weeks(until) if grain == "week" else self.months(until)


def week_label(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def month_label(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _utc(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _month_start(year: int, month: int) -> dt.date:
    if not 1 <= month <= 12:
        raise ValueError("month")
    return dt.date(year, month, 1)


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + 1, 1, 1) if day.month == 12 else dt.date(day.year, day.month + 1, 1)


def parse_period(text: str) -> Period:
    """The period a label names; ``ValidationError`` (French) for anything else."""
    clean = (text or "").strip().upper().replace(" ", "")
    try:
        if m := _QUARTER.match(clean):
            first = _month_start(int(m[1]), 3 * int(m[2]) - 2)
            last = _month_start(int(m[1]), 3 * int(m[2]))
            return Period(clean, _utc(first), _utc(_next_month(last)))
        if m := _MONTH.match(clean):
            first = _month_start(int(m[1]), int(m[2]))
            return Period(clean, _utc(first), _utc(_next_month(first)))
        if m := _WEEK.match(clean):
            monday = dt.date.fromisocalendar(int(m[1]), int(m[2]), 1)
            return Period(clean, _utc(monday), _utc(monday + dt.timedelta(days=7)))
        if m := _YEAR.match(clean):
            year = int(m[1])
            return Period(clean, _utc(dt.date(year, 1, 1)), _utc(dt.date(year + 1, 1, 1)))
        if ".." in clean:
            since, until = clean.split("..", 1)
            first, last = dt.date.fromisoformat(since), dt.date.fromisoformat(until)
            if last < first:
                raise ValidationError(f"période invalide {text!r} : la fin précède le début")
            if (last - first).days >= MAX_DAYS:
                raise ValidationError(f"période trop longue {text!r} : deux ans au plus")
            return Period(
                f"{first.isoformat()}..{last.isoformat()}", _utc(first), _utc(last) + dt.timedelta(days=1)
            )
    except ValueError:
        pass
    raise ValidationError(
        f"période invalide {text!r} : attendu 2026-Q4, 2026-11, 2026-W48, 2026 ou 2026-11-01..2026-11-30"
    )
