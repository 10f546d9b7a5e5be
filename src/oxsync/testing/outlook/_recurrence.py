"""Recurrence patterns and exceptions of the fake object model (reference §12).

A pattern lives in its item as a dict of the ``RecurrencePattern`` properties; the
exceptions of an appointment series as a list of ``{"original", "deleted", "props"}``.
Outlook's coupling is reproduced: setting ``PatternEndDate`` or ``Occurrences`` ends the
series (``NoEndDate`` False) and computes the other; ``Instance`` > 5 fails; monthly and
yearly patterns on day 29–31 fall on the month's last day when it is shorter; invalid
patterns fail at ``Save``. ``GetOccurrence`` needs a saved master and an occurrence on
that day.

A weekly pattern every N > 1 weeks counts its weeks from the week (starting on the first
day of the week) that holds ``PatternStartDate``: MS-OXOCAL keeps that day in the
pattern (``FirstDOW`` of ``PidLidAppointmentRecur``), from the calendar options when the
pattern is made. The fake records ``Application.first_day_of_week`` in the pattern when
it is created (a hidden entry: the object model has no such property), so every other
week on Saturday and Sunday groups Saturday with the Sunday after it in a Monday-start
Outlook and with the Sunday before it in a Sunday-start one.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from dateutil import rrule

from oxsync.testing.outlook._base import OomObject
from oxsync.testing.outlook._com import E_FAIL, E_INVALIDARG, NO_DATE, com_error, labelled_utc
from oxsync.testing.outlook.constants import constants

if TYPE_CHECKING:
    from oxsync.testing.outlook._calendar import AppointmentItem

__all__ = ["Exception_", "Exceptions", "RecurrencePattern", "occurrence_starts", "validate_pattern"]

COM_TIME_BASE = datetime(1899, 12, 30)
"""Date part of a COM time-only value (StartTime / EndTime)."""

_TYPES = {
    constants.olRecursDaily,
    constants.olRecursWeekly,
    constants.olRecursMonthly,
    constants.olRecursMonthNth,
    constants.olRecursYearly,
    constants.olRecursYearNth,
}
_RR_DAYS = [rrule.SU, rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA]
_SCAN_LIMIT = 5000
FIRST_DOW = "_FirstDOW"
"""Hidden pattern entry: the OlDaysOfWeek day its weeks start on (not an OOM property)."""


class RecurrencePattern(OomObject):
    """``item.GetRecurrencePattern()`` of an appointment or a task."""

    _PROPS: ClassVar[dict[str, Any]] = {
        "RecurrenceType": constants.olRecursWeekly,
        "Interval": 1,
        "DayOfWeekMask": 0,
        "DayOfMonth": 0,
        "MonthOfYear": 0,
        "Instance": 0,
        "PatternStartDate": NO_DATE,
        "PatternEndDate": NO_DATE,
        "NoEndDate": True,
        "Occurrences": 0,
        "StartTime": COM_TIME_BASE,
        "EndTime": COM_TIME_BASE,
        "Duration": 0,
        "Regenerate": False,
    }
    _DATES = frozenset({"PatternStartDate", "PatternEndDate", "StartTime", "EndTime"})

    def __init__(self, owner: Any) -> None:
        super().__init__(owner._app)
        self._owner = owner
        object.__setattr__(self, "_p", owner._pattern)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # the hidden FirstDOW is no property
            raise AttributeError(f"'RecurrencePattern' object has no attribute {name!r}")
        return super().__getattr__(name)

    @staticmethod
    def initial(
        start: datetime, minutes: int, first_day_of_week: int = constants.olSunday
    ) -> dict[str, Any]:
        """The pattern Outlook creates: weekly on the start's weekday, no end (its weeks
        starting on the calendar options' ``first_day_of_week``)."""
        pattern = dict(RecurrencePattern._PROPS)
        pattern[FIRST_DOW] = first_day_of_week
        start_time = datetime.combine(COM_TIME_BASE.date(), start.time())
        pattern.update(
            DayOfWeekMask=1 << ((start.weekday() + 1) % 7),
            PatternStartDate=datetime.combine(start.date(), time()),
            StartTime=start_time,
            EndTime=start_time + timedelta(minutes=minutes),
            Duration=minutes,
            DayOfMonth=start.day,
            MonthOfYear=start.month,
        )
        return pattern

    @property
    def Class(self) -> int:
        """olRecurrencePattern."""
        return constants.olRecurrencePattern

    @property
    def Parent(self) -> Any:
        """The master item."""
        return self._owner

    def _set(self, name: str, value: Any) -> None:
        p = self._p
        if name in ("PatternStartDate", "PatternEndDate") and value is not None:
            super()._set(name, value)
            p[name] = datetime.combine(p[name].date(), time())
        elif name in ("StartTime", "EndTime"):
            super()._set(name, value)
            p[name] = datetime.combine(COM_TIME_BASE.date(), p[name].time())
        else:
            super()._set(name, value)
        if name == "RecurrenceType":
            if p[name] not in _TYPES:
                raise com_error(E_INVALIDARG, f"RecurrenceType {p[name]} does not exist")
            _reset_for_type(p)
        if name == "Instance" and not 1 <= p[name] <= 5:
            raise com_error(E_INVALIDARG, "Instance must be within 1..5")
        if name == "Interval" and p[name] < 1:
            raise com_error(E_INVALIDARG, "Interval must be at least 1")
        if name == "PatternEndDate":
            p["NoEndDate"] = p["PatternEndDate"] == NO_DATE
            p["Occurrences"] = 0 if p["NoEndDate"] else _count_until(p)
        elif name == "Occurrences":
            if p["Occurrences"] < 1:
                raise com_error(E_INVALIDARG, "Occurrences must be at least 1")
            p["NoEndDate"] = False
            starts = list(occurrence_starts(p))
            p["PatternEndDate"] = (
                datetime.combine(starts[-1].date(), time()) if starts else p["PatternStartDate"]
            )
        elif name == "NoEndDate" and p["NoEndDate"]:
            p["PatternEndDate"] = NO_DATE
            p["Occurrences"] = 0
        elif name == "Duration":
            p["EndTime"] = p["StartTime"] + timedelta(minutes=p["Duration"])
        elif name in ("StartTime", "EndTime"):
            minutes = int((p["EndTime"] - p["StartTime"]).total_seconds() // 60)
            if minutes < 0:
                minutes += 24 * 60
            p["Duration"] = minutes
        self._owner._dirty = True

    @property
    def Exceptions(self) -> Exceptions:
        """Deleted and changed occurrences of the series (read-only)."""
        return Exceptions(self._owner)

    def GetOccurrence(self, StartDate: datetime) -> AppointmentItem:
        """The occurrence starting on ``StartDate``'s day (the master must be saved)."""
        from oxsync.testing.outlook._calendar import AppointmentItem
        from oxsync.testing.outlook._com import wall_clock

        self._touch()
        master = self._owner
        if not isinstance(master, AppointmentItem):
            raise com_error(E_FAIL, "GetOccurrence is only available on appointments")
        if not master._p["EntryID"] or master._dirty:
            raise com_error(E_FAIL, "save the series before opening one of its occurrences")
        wanted = wall_clock(StartDate)
        for exc in master._exceptions:
            if exc["original"].date() == wanted.date():
                if exc["deleted"]:
                    raise com_error(
                        E_FAIL,
                        "You changed one of the recurrences of this "
                        "item, and this instance no longer exists.",
                    )
                return AppointmentItem._occurrence(master, exc["original"])
        for start in master._local_starts(last_day=wanted.date()):
            if start.date() == wanted.date():
                return AppointmentItem._occurrence(master, start)
        raise com_error(
            E_FAIL,
            "Cannot find this instance of the recurring appointment "
            f"on {wanted.date().isoformat()}",
        )


def _reset_for_type(p: dict[str, Any]) -> None:
    """What Outlook does when RecurrenceType is set: the other fields get the values of
    that type for the pattern's start (irrelevant ones read 0)."""
    start: date = p["PatternStartDate"].date()
    weekday_bit = 1 << ((start.weekday() + 1) % 7)
    kind = p["RecurrenceType"]
    p.update(DayOfWeekMask=0, DayOfMonth=0, MonthOfYear=0, Instance=0)
    if kind == constants.olRecursWeekly:
        p["DayOfWeekMask"] = weekday_bit
    elif kind in (constants.olRecursMonthly, constants.olRecursYearly):
        p["DayOfMonth"] = start.day
    elif kind in (constants.olRecursMonthNth, constants.olRecursYearNth):
        p.update(DayOfWeekMask=weekday_bit, Instance=min(5, (start.day - 1) // 7 + 1))
    if kind in (constants.olRecursYearly, constants.olRecursYearNth):
        p["MonthOfYear"] = start.month


def validate_pattern(p: dict[str, Any]) -> None:
    """Raise what Outlook raises at Save for an invalid pattern."""
    kind = p["RecurrenceType"]
    if (
        kind in (constants.olRecursWeekly, constants.olRecursMonthNth, constants.olRecursYearNth)
        and not 0 < p["DayOfWeekMask"] < 128
    ):
        raise com_error(E_INVALIDARG, "the pattern needs at least one weekday")
    if kind in (constants.olRecursMonthly, constants.olRecursYearly) and not (
        1 <= p["DayOfMonth"] <= 31
    ):
        raise com_error(E_INVALIDARG, "DayOfMonth must be within 1..31")
    if kind in (constants.olRecursYearly, constants.olRecursYearNth) and not (
        1 <= p["MonthOfYear"] <= 12
    ):
        raise com_error(E_INVALIDARG, "MonthOfYear must be within 1..12")
    if kind in (constants.olRecursMonthNth, constants.olRecursYearNth) and not (
        1 <= p["Instance"] <= 5
    ):
        raise com_error(E_INVALIDARG, "Instance must be within 1..5")
    if not p["NoEndDate"] and p["PatternEndDate"] < p["PatternStartDate"]:
        raise com_error(E_INVALIDARG, "the series ends before it starts")


def _clamped(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _raw_days(p: dict[str, Any]) -> Iterator[date]:
    """Occurrence days of the pattern from PatternStartDate on, without an end."""
    first: date = p["PatternStartDate"].date()
    kind, interval, mask = p["RecurrenceType"], max(1, p["Interval"]), p["DayOfWeekMask"]
    if kind == constants.olRecursMonthly or kind == constants.olRecursYearly:
        step = interval if kind == constants.olRecursMonthly else 12 * interval
        year, month = (
            first.year,
            first.month if kind == constants.olRecursMonthly else (p["MonthOfYear"] or first.month),
        )
        if kind == constants.olRecursYearly and month < first.month:
            year += 1
        while True:
            day = _clamped(year, month, p["DayOfMonth"] or first.day)
            if day >= first:
                yield day
            month += step
            year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    days = [_RR_DAYS[i] for i in range(7) if mask & (1 << i)]
    if kind == constants.olRecursDaily:  # a mask here means "every weekday"
        rule = rrule.rrule(rrule.DAILY, interval=interval, byweekday=days or None, dtstart=first)
    elif kind == constants.olRecursWeekly:
        week_start = _RR_DAYS[int(p.get(FIRST_DOW, constants.olSunday)).bit_length() - 1]
        rule = rrule.rrule(
            rrule.WEEKLY, interval=interval, byweekday=days or None, dtstart=first, wkst=week_start
        )
    else:
        nth = -1 if p["Instance"] == 5 else p["Instance"]
        freq = rrule.MONTHLY if kind == constants.olRecursMonthNth else rrule.YEARLY
        extra = {"bymonth": p["MonthOfYear"]} if freq == rrule.YEARLY else {}
        rule = rrule.rrule(
            freq, interval=interval, byweekday=days, bysetpos=nth, dtstart=first, **extra
        )
    for value in rule:
        yield value.date()


def occurrence_starts(p: dict[str, Any], last_day: date | None = None) -> Iterator[datetime]:
    """Local start of every occurrence (deleted ones included), in order.

    Stops at the series end, or after ``last_day`` for series without an end.
    """
    count = 0 if p["NoEndDate"] else p["Occurrences"]
    end = None if p["NoEndDate"] else p["PatternEndDate"].date()
    at = p["StartTime"].time()
    for n, day in enumerate(_raw_days(p)):
        if (end is not None and day > end) or (count and n >= count):
            return
        if last_day is not None and day > last_day:
            return
        if end is None and last_day is None and n >= _SCAN_LIMIT:
            return
        yield datetime.combine(day, at)


def _count_until(p: dict[str, Any]) -> int:
    end = p["PatternEndDate"].date()
    return sum(1 for d in _raw_days_until(p, end))


def _raw_days_until(p: dict[str, Any], end: date) -> Iterator[date]:
    for day in _raw_days(p):
        if day > end:
            return
        yield day


class Exception_(OomObject):
    """One exception of a series: ``OriginalDate``, ``Deleted``, ``AppointmentItem``."""

    def __init__(self, master: AppointmentItem, record: dict[str, Any]) -> None:
        super().__init__(master._app)
        self._master = master
        self._record = record

    @property
    def Class(self) -> int:
        """olException."""
        return constants.olException

    @property
    def OriginalDate(self) -> datetime:
        """Original start of the occurrence (for deleted ones only the date is reliable)."""
        original: datetime = self._record["original"]
        if self._record["deleted"]:
            original = datetime.combine(original.date(), time())
        return labelled_utc(original)

    @property
    def Deleted(self) -> bool:
        """Whether the occurrence was deleted."""
        return bool(self._record["deleted"])

    @property
    def AppointmentItem(self) -> AppointmentItem:
        """The changed occurrence (an error for deleted ones)."""
        from oxsync.testing.outlook._calendar import AppointmentItem

        if self._record["deleted"]:
            raise com_error(
                E_FAIL,
                "You changed one of the recurrences of this item, and "
                "this instance no longer exists.",
            )
        return AppointmentItem._occurrence(self._master, self._record["original"])


class Exceptions(OomObject):
    """``pattern.Exceptions`` (1-based, read-only)."""

    def __init__(self, master: Any) -> None:
        super().__init__(master._app)
        self._master = master
        self._records: list[dict[str, Any]] = getattr(master, "_exceptions", [])

    @property
    def Count(self) -> int:
        """Number of exceptions."""
        return len(self._records)

    def Item(self, Index: int) -> Exception_:
        """By 1-based index."""
        self._touch()
        if not 1 <= Index <= len(self._records):
            raise com_error(E_INVALIDARG, "array index out of bounds")
        return Exception_(self._master, self._records[Index - 1])

    def __iter__(self) -> Iterator[Exception_]:
        return (Exception_(self._master, r) for r in list(self._records))

    def __len__(self) -> int:
        return len(self._records)
