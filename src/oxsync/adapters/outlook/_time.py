"""Outlook time, handled once (reference §6, field-map §4 "Dates and times").

- pywin32 hands back COM dates as ``datetime`` objects **labelled UTC** although they
  hold Outlook's local wall-clock time (pywin32#1760): :func:`from_com` drops the label
  and returns the naive local wall clock.
- When writing, pywin32 either converts an aware value to UTC or ignores its zone,
  depending on the version; a value whose wall clock is the local time *and* whose label
  is UTC survives both, so :func:`to_com` writes that.
- Outlook's "no date" is 4501-01-01 (any date in or after 4501 reads as none).
- All-day appointments and task dates are local midnights: :func:`local_midnight`.
- ``LastModificationTime`` is turned into an opaque version string by :func:`version_of`
  — the same function for table cells and opened items, so they always agree.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

__all__ = [
    "NO_DATE",
    "WINDOWS_TO_IANA",
    "from_com",
    "local_midnight",
    "local_to_utc",
    "to_com",
    "utc_to_local",
    "version_of",
    "zone_from_windows",
]

NO_DATE = datetime(4501, 1, 1)
"""Outlook's empty date."""

WINDOWS_TO_IANA = {
    "UTC": "UTC",
    "GMT Standard Time": "Europe/London",
    "Greenwich Standard Time": "Atlantic/Reykjavik",
    "Romance Standard Time": "Europe/Paris",
    "W. Europe Standard Time": "Europe/Berlin",
    "Central Europe Standard Time": "Europe/Budapest",
    "Central European Standard Time": "Europe/Warsaw",
    "E. Europe Standard Time": "Europe/Chisinau",
    "FLE Standard Time": "Europe/Kiev",
    "GTB Standard Time": "Europe/Bucharest",
    "Russian Standard Time": "Europe/Moscow",
    "Eastern Standard Time": "America/New_York",
    "Central Standard Time": "America/Chicago",
    "Mountain Standard Time": "America/Denver",
    "Pacific Standard Time": "America/Los_Angeles",
    "Tokyo Standard Time": "Asia/Tokyo",
    "China Standard Time": "Asia/Shanghai",
    "India Standard Time": "Asia/Kolkata",
    "AUS Eastern Standard Time": "Australia/Sydney",
    "Fiji Standard Time": "Pacific/Fiji",
    "New Zealand Standard Time": "Pacific/Auckland",
    "SA Pacific Standard Time": "America/Bogota",
    "E. South America Standard Time": "America/Sao_Paulo",
    "Arabian Standard Time": "Asia/Dubai",
    "Singapore Standard Time": "Asia/Singapore",
}
"""Windows time-zone ids and their IANA names (the common ones; unknown ids fall back to UTC)."""


def zone_from_windows(zone_id: str) -> ZoneInfo:
    """The IANA zone for a Windows zone id (UTC when unknown)."""
    return ZoneInfo(WINDOWS_TO_IANA.get(zone_id, "UTC"))


def from_com(value: Any) -> Any:
    """A value read from COM: dates become naive local wall clock, or None for "no date"."""
    if isinstance(value, datetime):
        naive = value.replace(tzinfo=None)
        return None if naive.year >= NO_DATE.year else naive
    return value


def to_com(value: datetime | date | None) -> datetime:
    """The value to hand pywin32 for a local wall-clock date (None -> 4501-01-01)."""
    if value is None:
        return NO_DATE.replace(tzinfo=UTC)
    if not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if value.tzinfo is not None:
        raise ValueError("to_com wants a naive local wall-clock time")
    return value.replace(tzinfo=UTC)


def local_midnight(day: date) -> datetime:
    """Naive local midnight starting ``day`` (all-day starts and ends, task dates)."""
    return datetime.combine(day, time())


def local_to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """Aware UTC instant of a naive local wall-clock time."""
    return local.replace(tzinfo=zone).astimezone(UTC)


def utc_to_local(instant: datetime, zone: ZoneInfo) -> datetime:
    """Naive local wall clock of an aware instant."""
    return instant.astimezone(zone).replace(tzinfo=None)


def version_of(last_modification: Any) -> str:
    """Version string of an item from its ``LastModificationTime`` as COM returns it."""
    if not isinstance(last_modification, datetime):
        return str(last_modification)
    # the label (pywin32 says UTC for local times) is kept as is: only equality matters
    return last_modification.isoformat(timespec="microseconds")
