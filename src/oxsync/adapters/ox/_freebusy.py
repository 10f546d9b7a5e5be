"""Free/busy of OX (``webdav.freebusy``): VFREEBUSY text -> busy intervals.

OX 6 writes ``FBTYPE`` from ``shown_as`` with two values swapped (reference §7):
3 absent -> ``BUSY``, 1 reserved -> ``BUSY-TENTATIVE``, 2 temporary ->
``BUSY-UNAVAILABLE``, 4 free -> ``FREE``. :attr:`BusyInterval.fbtype` keeps the text as
sent; :attr:`BusyInterval.busy_status` reads it the way OX meant it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from attrs import frozen

from oxsync.core.records import BusyStatus
from oxsync.errors import ProtocolError

__all__ = ["BusyInterval", "parse_vfreebusy"]

_OX_MEANING = {
    "FREE": BusyStatus.FREE,
    "BUSY-TENTATIVE": BusyStatus.BUSY,  # OX writes reserved (1) so
    "BUSY-UNAVAILABLE": BusyStatus.TENTATIVE,  # and temporary (2) so
    "BUSY": BusyStatus.OUT_OF_OFFICE,  # absent (3), and anything unknown
}


@frozen
class BusyInterval:
    """One busy period: UTC ``start`` and ``end`` and the FBTYPE as sent."""

    start: datetime
    end: datetime
    fbtype: str = "BUSY"

    @property
    def busy_status(self) -> BusyStatus:
        """What OX meant by :attr:`fbtype` (its writer swaps tentative and reserved)."""
        return _OX_MEANING.get(self.fbtype, BusyStatus.BUSY)


def parse_vfreebusy(text: str) -> list[BusyInterval]:
    """Busy intervals of a VFREEBUSY document, in document order.

    >>> parse_vfreebusy("BEGIN:VFREEBUSY\\r\\nFREEBUSY;FBTYPE=FREE:20260101T100000Z/"
    ...                 "20260101T110000Z\\r\\nEND:VFREEBUSY")[0].fbtype
    'FREE'
    """
    unfolded = text.replace("\r\n ", "").replace("\n ", "").replace("\r\n\t", "")
    if "BEGIN:VFREEBUSY" not in unfolded:
        raise ProtocolError("free/busy answer without VFREEBUSY")
    out = []
    for line in unfolded.splitlines():
        name, _, value = line.partition(":")
        head, *params = name.split(";")
        if head.upper() != "FREEBUSY":
            continue
        fbtype = "BUSY"
        for param in params:
            key, _, val = param.partition("=")
            if key.upper() == "FBTYPE":
                fbtype = val.upper()
        for period in value.split(","):
            out.append(_period(period.strip(), fbtype))
    return out


def _period(text: str, fbtype: str) -> BusyInterval:
    first, _, second = text.partition("/")
    try:
        start = _instant(first)
        end = _duration(start, second) if second.startswith(("P", "+P")) else _instant(second)
    except (ValueError, OverflowError) as exc:  # OverflowError: past year 9999
        raise ProtocolError(f"unreadable FREEBUSY period {text[:60]!r}") from exc
    return BusyInterval(start, end, fbtype)


def _instant(text: str) -> datetime:
    return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def _duration(start: datetime, text: str) -> datetime:
    text = text.lstrip("+").removeprefix("P")
    days = hours = minutes = seconds = 0
    number = ""
    for ch in text:
        if "0" <= ch <= "9":  # not str.isdigit(): "²" is a digit to it, not to int()
            number += ch
        elif ch == "T":
            continue
        else:
            value = int(number or "0")
            number = ""
            if ch == "W":
                days += 7 * value
            elif ch == "D":
                days += value
            elif ch == "H":
                hours += value
            elif ch == "M":
                minutes += value
            elif ch == "S":
                seconds += value
            else:
                raise ValueError(f"bad duration {text!r}")
    if number:
        raise ValueError(f"bad duration {text!r}: a number without its unit")
    return start + timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
