"""When a subscription's next digest is due: pure functions over (frequency, time, weekday, timezone).

- ``instant``: due at once (the instant run matches whatever arrived since the watermark).
- ``daily``: the next occurrence of ``send_time`` in the subscriber's time zone, strictly after ``after``.
- ``weekly``: the next ``weekday`` (0 = Monday) at ``send_time``, strictly after ``after``.

Wall-clock times follow the time zone across daylight-saving changes: 08:00 Paris stays 08:00 local in
winter and summer. A time that does not exist on a spring-forward day (02:30 in Paris on the last
Sunday of March) is sent at the same offset it had before the change (03:30 local); a time that occurs
twice on a fall-back day is sent at its first occurrence. Results are aware datetimes in UTC.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

from tfe.core.errors import ValidationError

__all__ = ["DEFAULT_TIMEZONE", "next_run", "parse_send_time", "parse_timezone"]

DEFAULT_TIMEZONE = "Europe/Paris"
_TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_send_time(send_time: str) -> dt.time:
    """``"HH:MM"`` (24-hour clock) → a time; anything else is a ValidationError."""
    match = _TIME_RE.match(send_time.strip()) if isinstance(send_time, str) else None
    if match is None:
        raise ValidationError(f"Heure d'envoi invalide : {send_time!r} (format attendu HH:MM, ex. 08:00).")
    return dt.time(int(match.group(1)), int(match.group(2)))


def parse_timezone(name: str) -> zoneinfo.ZoneInfo:
    """An IANA time zone name (``Europe/Paris``) → ZoneInfo; an unknown name is a ValidationError."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValidationError(f"Fuseau horaire inconnu : {name!r} (par ex. Europe/Paris).") from exc


def next_run(
    frequency: str,
    send_time: str,
    weekday: int | None,
    timezone: str,
    after: dt.datetime,
) -> dt.datetime:
    """The first instant strictly after ``after`` (or ``after`` itself for instant alerts) when it is due.

    ``after`` may be naive (read as UTC, as SQLite returns stored datetimes) or aware.
    """
    if after.tzinfo is None:
        after = after.replace(tzinfo=dt.UTC)
    after = after.astimezone(dt.UTC)
    if frequency == "instant":
        return after
    if frequency not in ("daily", "weekly"):
        raise ValidationError(f"Fréquence inconnue : {frequency!r} (instant, daily ou weekly).")
    at = parse_send_time(send_time)
    tz = parse_timezone(timezone)
    if frequency == "weekly" and (weekday is None or not 0 <= weekday <= 6):
        raise ValidationError("Un envoi hebdomadaire demande un jour de 0 (lundi) à 6 (dimanche).")
    start = after.astimezone(tz).date()
    for offset in range(9):
        day = start + dt.timedelta(days=offset)
        if frequency == "weekly" and day.weekday() != weekday:
            continue
        # fold=0: a repeated local time is its first occurrence, a missing one keeps the earlier offset.
        candidate = dt.datetime.combine(day, at, tzinfo=tz).astimezone(dt.UTC)
        if candidate > after:
            return candidate
    raise AssertionError("unreachable: a daily or weekly time always occurs within 8 days")
