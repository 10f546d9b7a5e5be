"""The first day of the week, which an every-N-weeks Outlook pattern counts weeks from.

Outlook groups the weeks of a weekly pattern from the pattern's first day of the week
(MS-OXOCAL ``FirstDOW`` in ``PidLidAppointmentRecur``, taken from the calendar options
when the pattern is saved); the object model's ``RecurrencePattern`` does not expose it.
The canonical expansion groups weeks from Monday (RFC 5545's default ``WKST``). For a
weekly rule every 2 or more weeks whose days the two week starts group otherwise (every
other Saturday and Sunday: Saturday goes with the Sunday after it from Monday, with the
Sunday before it from Sunday), the two sides put occurrences on other days. The store
refuses to write such a rule and does not read such a pattern, unless it is told the
week starts on Monday (``OutlookStore(first_day_of_week=...)``); unknown, it allows for
the first days Windows' locales use (:data:`LOCALE_STARTS`).
"""

from __future__ import annotations

from typing import Literal

from oxsync.core.records import Frequency, Recurrence, Weekday
from oxsync.mappings.recurrence import regroups

__all__ = ["LOCALE_STARTS", "DayName", "refusal", "week_start"]

DayName = Literal["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
"""A day's name, as the configuration file gives ``first_day_of_week``."""

_NAMES = {day.name.lower(): day for day in Weekday}  # type: ignore[union-attr]


LOCALE_STARTS = (Weekday.SATURDAY, Weekday.SUNDAY, Weekday.MONDAY)
"""The first days of the week Outlook takes from Windows' regional settings (Monday in
most of Europe, Sunday in the Americas, Saturday in much of the Middle East): what the
store allows for when it is not told the day. Rules on weekdays only (every other Monday
and Wednesday) fall on the same days from all three; rules mixing a weekend day with
other days do not and are refused until ``first_day_of_week`` says which."""


def week_start(value: Weekday | str | None) -> Weekday | None:
    """The option's day (None: unknown); ``ValueError`` for anything but one day."""
    if value is None:
        return None
    if isinstance(value, str):
        day = _NAMES.get(value.strip().lower())
        if day is None:
            raise ValueError(
                f"first_day_of_week must name a day ({', '.join(_NAMES)}), not {value[:40]!r}"
            )
        return day
    if isinstance(value, int) and not isinstance(value, bool) and value in set(Weekday):
        return Weekday(value)
    raise ValueError(f"first_day_of_week must be one Weekday, not {value!r}")


def refusal(rule: Recurrence | None, start: Weekday | None) -> str | None:
    """Why the store can neither write nor read ``rule`` (None: it can).

    A weekly rule every 2 or more weeks is refused when its days group otherwise from
    ``start`` than from Monday (from one of :data:`LOCALE_STARTS`, when ``start`` is
    None). A regenerating rule (a task due N weeks after the last one is done) has no
    days to group.
    """
    if rule is None or rule.frequency is not Frequency.WEEKLY or rule.interval < 2:
        return None
    if rule.regenerate or start is Weekday.MONDAY:
        return None
    mask = int(rule.weekdays) or 127
    if not any(regroups(mask, day) for day in ((start,) if start else LOCALE_STARTS)):
        return None
    days = ", ".join(day.name.capitalize() for day in _MONDAY_FIRST if mask & day)  # type: ignore[union-attr]
    what = f"a weekly series every {rule.interval} weeks on {days}"
    if start is None:
        why = (
            "Outlook counts its weeks from the first day of the week of its calendar "
            "options, which this store is not told (first_day_of_week), and a Saturday or "
            "Sunday there puts occurrences on other days than the rule (weeks from "
            "Monday); set first_day_of_week"
        )
    else:
        why = (
            f"Outlook counts its weeks from {start.name.capitalize()} "  # type: ignore[union-attr]
            "(first_day_of_week), which puts occurrences on other days than the rule "
            "(weeks from Monday)"
        )
    return f"{what} cannot be synced with Outlook: {why}"


_MONDAY_FIRST = (
    Weekday.MONDAY,
    Weekday.TUESDAY,
    Weekday.WEDNESDAY,
    Weekday.THURSDAY,
    Weekday.FRIDAY,
    Weekday.SATURDAY,
    Weekday.SUNDAY,
)
