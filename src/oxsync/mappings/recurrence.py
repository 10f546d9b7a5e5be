"""Recurrence rules: canonical :class:`~oxsync.core.records.Recurrence` in three native forms.

- **OX**: a dict keyed by the WebDAV/XML element names (``recurrence_type`` as a word,
  ``days`` weekday mask, ``day_in_month``, ``month`` **0-based**, ``interval``, ``until``
  as a ``date``, ``occurrences``, ``deleteexceptions`` as dates). Values are Python
  values; :mod:`oxsync.mappings.ox_xml` turns them into element text.
- **Outlook**: a dict of RecurrencePattern property names (``RecurrenceType``,
  ``Interval``, ``DayOfWeekMask``, ``DayOfMonth``, ``Instance``, ``MonthOfYear``,
  ``PatternStartDate``, ``PatternEndDate``, ``Occurrences``, ``NoEndDate``,
  ``Regenerate``). Deleted occurrences travel as Outlook exceptions (see
  :mod:`oxsync.mappings.outlook`).
- **RRULE** text (RFC 5545), for the iCalendar mapping; :func:`exdates` gives EXDATE
  values.

:func:`occurrences` expands a rule with python-dateutil in the event's own zone, so a
09:00 meeting stays at 09:00 wall-clock across DST changes.

    >>> from oxsync.core.records import Recurrence, Frequency, Weekday
    >>> rule = Recurrence(frequency=Frequency.MONTHLY, weekdays=Weekday.FRIDAY, nth=5)
    >>> to_rrule(rule)
    'FREQ=MONTHLY;BYDAY=FR;BYSETPOS=-1'
    >>> to_ox(rule)["day_in_month"], from_rrule("FREQ=MONTHLY;BYDAY=-1FR") == rule
    (5, True)

Lossy spots: OX accepts only ``interval`` 1 for yearly rules, so "every N years" is
written as monthly every 12·N months (same dates; it reads back as monthly). Outlook
and OX cannot say "monthly on day 31" for short months the RFC way (they use the last
day; RRULE skips them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
from dateutil import rrule as du

from oxsync.core.records import Event, Frequency, Recurrence, Weekday
from oxsync.errors import FieldError, MappingError
from oxsync.mappings.values import UNKNOWN_ZONE

__all__ = [
    "OUTLOOK_RECURRENCE_TYPES",
    "OX_RECURRENCE_TYPES",
    "event_occurrences",
    "exdates",
    "first_occurrence",
    "from_outlook",
    "from_ox",
    "from_rrule",
    "occurrences",
    "regroups",
    "to_outlook",
    "to_ox",
    "to_rrule",
]

OX_RECURRENCE_TYPES = {
    Frequency.DAILY: "daily",
    Frequency.WEEKLY: "weekly",
    Frequency.MONTHLY: "monthly",
    Frequency.YEARLY: "yearly",
}
"""Canonical frequency -> OX ``recurrence_type`` word (``none`` = not recurring)."""

OUTLOOK_RECURRENCE_TYPES = {
    "daily": 0,
    "weekly": 1,
    "monthly": 2,
    "month_nth": 3,
    "yearly": 5,
    "year_nth": 6,
}
"""OlRecurrenceType values by pattern shape."""

_WEEKDAY_CODES = (
    (Weekday.SUNDAY, "SU", du.SU),
    (Weekday.MONDAY, "MO", du.MO),
    (Weekday.TUESDAY, "TU", du.TU),
    (Weekday.WEDNESDAY, "WE", du.WE),
    (Weekday.THURSDAY, "TH", du.TH),
    (Weekday.FRIDAY, "FR", du.FR),
    (Weekday.SATURDAY, "SA", du.SA),
)
_ALL_DAYS = 127
LAST = 5
"""``nth`` value meaning "last" (Outlook Instance 5, OX day_in_month 5, BYSETPOS=-1)."""


def _fail(path: str, message: str) -> MappingError:
    return MappingError("bad recurrence", [FieldError(path, message)])


def _check(rule: Recurrence) -> None:
    errors = []
    if not isinstance(rule.frequency, Frequency):
        errors.append(FieldError("recurrence.frequency", f"not a Frequency: {rule.frequency!r}"))
    if not isinstance(rule.interval, int) or rule.interval < 1:
        errors.append(FieldError("recurrence.interval", f"must be >= 1, got {rule.interval!r}"))
    if not isinstance(rule.weekdays, int) or not 0 <= rule.weekdays <= _ALL_DAYS:
        errors.append(FieldError("recurrence.weekdays", f"not a weekday mask: {rule.weekdays!r}"))
    if rule.nth is not None and not 1 <= rule.nth <= LAST:
        errors.append(FieldError("recurrence.nth", f"must be 1-5, got {rule.nth!r}"))
    if rule.day_of_month is not None and not 1 <= rule.day_of_month <= 31:
        errors.append(FieldError("recurrence.day_of_month", f"out of range: {rule.day_of_month}"))
    if rule.month is not None and not 1 <= rule.month <= 12:
        errors.append(FieldError("recurrence.month", f"must be 1-12, got {rule.month!r}"))
    if rule.count is not None and rule.count < 1:
        errors.append(FieldError("recurrence.count", f"must be >= 1, got {rule.count!r}"))
    if rule.count is not None and rule.until is not None:
        errors.append(FieldError("recurrence.count", "both count and until are set"))
    if rule.frequency in (Frequency.MONTHLY, Frequency.YEARLY) and (
        rule.day_of_month is None and (rule.nth is None or not rule.weekdays)
    ):
        errors.append(
            FieldError("recurrence.day_of_month", "monthly/yearly needs a day or nth weekday")
        )
    if rule.frequency is Frequency.YEARLY and rule.month is None:
        errors.append(FieldError("recurrence.month", "yearly needs a month"))
    if errors:
        raise MappingError("bad recurrence", errors)


# --------------------------------------------------------------------------- OX


def to_ox(rule: Recurrence | None) -> dict[str, Any]:
    """OX recurrence fields (element name -> value) for a rule; ``None`` -> type ``none``."""
    if rule is None:
        return {"recurrence_type": "none"}
    _check(rule)
    freq, interval = rule.frequency, rule.interval
    if freq is Frequency.YEARLY and interval > 1:
        # OX refuses yearly intervals; every 12·N months gives the same dates.
        freq, interval = Frequency.MONTHLY, 12 * interval
    out: dict[str, Any] = {"recurrence_type": OX_RECURRENCE_TYPES[freq], "interval": interval}
    if freq is Frequency.WEEKLY:
        out["days"] = int(rule.weekdays) or _ALL_DAYS
    elif freq in (Frequency.MONTHLY, Frequency.YEARLY):
        if rule.nth is not None and rule.weekdays:
            out["days"] = int(rule.weekdays)
            out["day_in_month"] = rule.nth
        else:
            out["day_in_month"] = rule.day_of_month
        if freq is Frequency.YEARLY:
            out["month"] = (rule.month or 1) - 1
    if rule.until is not None:
        out["until"] = rule.until
    if rule.count is not None:
        out["occurrences"] = rule.count
    if rule.deleted:
        out["deleteexceptions"] = tuple(sorted(set(rule.deleted)))
    return out


def from_ox(fields: Mapping[str, Any]) -> Recurrence | None:
    """A rule from OX recurrence fields (as :func:`to_ox` returns; missing keys allowed)."""
    kind = fields.get("recurrence_type") or "none"
    if kind == "none":
        return None
    by_word = {word: freq for freq, word in OX_RECURRENCE_TYPES.items()}
    if kind not in by_word:
        raise _fail("recurrence.frequency", f"unknown OX recurrence_type {kind!r}")
    freq = by_word[kind]
    days = fields.get("days")
    day_in_month = fields.get("day_in_month")
    month = fields.get("month")
    values: dict[str, Any] = {
        "frequency": freq,
        "interval": fields.get("interval") or 1,
        "until": fields.get("until"),
        "count": fields.get("occurrences") or None,
        "deleted": tuple(sorted(set(fields.get("deleteexceptions") or ()))),
    }
    if freq is Frequency.WEEKLY:
        values["weekdays"] = days if days else _ALL_DAYS
    elif freq in (Frequency.MONTHLY, Frequency.YEARLY):
        if days:
            values["weekdays"] = days
            values["nth"] = day_in_month
        else:
            values["day_of_month"] = day_in_month
        if freq is Frequency.YEARLY:
            if month is None or not 0 <= month <= 11:
                raise _fail("recurrence.month", f"OX month must be 0-11, got {month!r}")
            values["month"] = month + 1
    rule = Recurrence(**values)
    _check(rule)
    return rule


# --------------------------------------------------------------------------- Outlook


def to_outlook(rule: Recurrence, start: date | None = None) -> dict[str, Any]:
    """Outlook RecurrencePattern properties for a rule (write them in dict order).

    ``start`` (the item's local start date) becomes ``PatternStartDate``. Deleted
    occurrences are not part of the pattern; they are Outlook exceptions.
    """
    _check(rule)
    freq = rule.frequency
    out: dict[str, Any] = {}
    if freq is Frequency.DAILY:
        out["RecurrenceType"] = OUTLOOK_RECURRENCE_TYPES["daily"]
    elif freq is Frequency.WEEKLY:
        out["RecurrenceType"] = OUTLOOK_RECURRENCE_TYPES["weekly"]
        out["DayOfWeekMask"] = int(rule.weekdays) or _ALL_DAYS
    else:
        nth = rule.nth is not None and bool(rule.weekdays)
        yearly = freq is Frequency.YEARLY
        shape = ("year" if yearly else "month") + ("_nth" if nth else "ly")
        out["RecurrenceType"] = OUTLOOK_RECURRENCE_TYPES[shape]
        if nth:
            out["DayOfWeekMask"] = int(rule.weekdays)
            out["Instance"] = rule.nth
        else:
            out["DayOfMonth"] = rule.day_of_month
        if yearly:
            out["MonthOfYear"] = rule.month
    out["Interval"] = rule.interval
    if start is not None:
        out["PatternStartDate"] = datetime(start.year, start.month, start.day)
    if rule.until is not None:
        out["PatternEndDate"] = datetime(rule.until.year, rule.until.month, rule.until.day)
        out["NoEndDate"] = False
    elif rule.count is not None:
        out["Occurrences"] = rule.count
        out["NoEndDate"] = False
    else:
        out["NoEndDate"] = True
    out["Regenerate"] = rule.regenerate
    return out


def from_outlook(pattern: Mapping[str, Any], deleted: Iterable[date] = ()) -> Recurrence:
    """A rule from RecurrencePattern properties (plus the deleted occurrence dates)."""
    errors: list[FieldError] = []

    def get_int(name: str, path: str, default: int | None = None) -> int | None:
        value = pattern.get(name, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(FieldError(path, f"{name} must be an integer, got {value!r}"))
            return None
        return value

    kind = get_int("RecurrenceType", "recurrence.frequency")
    shapes = {v: k for k, v in OUTLOOK_RECURRENCE_TYPES.items()}
    if kind is not None and kind not in shapes:
        errors.append(FieldError("recurrence.frequency", f"unknown RecurrenceType {kind}"))
    mask = get_int("DayOfWeekMask", "recurrence.weekdays", 0) or 0
    day = get_int("DayOfMonth", "recurrence.day_of_month")
    instance = get_int("Instance", "recurrence.nth")
    month = get_int("MonthOfYear", "recurrence.month")
    interval = get_int("Interval", "recurrence.interval", 1) or 1
    count = get_int("Occurrences", "recurrence.count")
    end = pattern.get("PatternEndDate")
    if errors or kind is None or kind not in shapes:
        raise MappingError(
            "bad Outlook recurrence pattern",
            errors or [FieldError("recurrence.frequency", "RecurrenceType missing")],
        )
    shape = shapes[kind]
    values: dict[str, Any] = {"interval": interval, "regenerate": bool(pattern.get("Regenerate"))}
    if shape == "daily":
        # A weekday-only daily pattern is a weekly mask.
        values.update(frequency=Frequency.WEEKLY if mask else Frequency.DAILY, weekdays=mask)
    elif shape == "weekly":
        values.update(frequency=Frequency.WEEKLY, weekdays=mask or _ALL_DAYS)
    else:
        values["frequency"] = Frequency.YEARLY if shape.startswith("year") else Frequency.MONTHLY
        if shape.endswith("_nth"):
            values.update(weekdays=mask, nth=instance)
        else:
            values["day_of_month"] = day
        if shape.startswith("year"):
            values["month"] = month
    no_end = pattern.get("NoEndDate")
    if not no_end:
        if isinstance(end, datetime | date) and (end.year < 4501):
            values["until"] = end.date() if isinstance(end, datetime) else end
        elif count:
            values["count"] = count
    values["deleted"] = tuple(sorted(set(deleted)))
    rule = Recurrence(**values)
    _check(rule)
    return rule


# --------------------------------------------------------------------------- RRULE


def _byday(mask: int) -> list[str]:
    return [code for flag, code, _ in _WEEKDAY_CODES if mask & flag]


def _until_text(until: date, start: date | datetime | None) -> str:
    if isinstance(start, datetime):
        local = datetime.combine(until, time(23, 59, 59))
        if start.tzinfo is None:
            return local.strftime("%Y%m%dT%H%M%S")
        return local.replace(tzinfo=start.tzinfo).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return until.strftime("%Y%m%d")


def to_rrule(rule: Recurrence, start: date | datetime | None = None) -> str:
    """RRULE value text for a rule (without the ``RRULE:`` name).

    ``start`` is the DTSTART: with a timed start, UNTIL is written as a UTC date-time at
    the end of the ``until`` day in the start's zone (RFC 5545 wants the types to match).
    """
    _check(rule)
    parts = [f"FREQ={rule.frequency.name}"]
    if rule.interval != 1:
        parts.append(f"INTERVAL={rule.interval}")
    if rule.frequency in (Frequency.DAILY, Frequency.WEEKLY) and rule.weekdays:
        parts.append("BYDAY=" + ",".join(_byday(rule.weekdays)))
    if rule.frequency in (Frequency.MONTHLY, Frequency.YEARLY):
        if rule.frequency is Frequency.YEARLY:
            parts.append(f"BYMONTH={rule.month}")
        if rule.nth is not None and rule.weekdays:
            parts.append("BYDAY=" + ",".join(_byday(rule.weekdays)))
            parts.append(f"BYSETPOS={-1 if rule.nth == LAST else rule.nth}")
        else:
            parts.append(f"BYMONTHDAY={rule.day_of_month}")
    if rule.count is not None:
        parts.append(f"COUNT={rule.count}")
    if rule.until is not None:
        parts.append("UNTIL=" + _until_text(rule.until, start))
    return ";".join(parts)


def _parse_until(text: str, start: date | datetime | None) -> date:
    """The inclusive ``until`` date of an UNTIL value.

    A date-time UNTIL (UTC, or on the wall clock of the start's zone) ends the series
    with the last occurrence that starts no later: that of its day when the series' time
    of day is not after it, else that of the day before.
    """
    text = text.strip()
    if "T" not in text:
        return datetime.strptime(text, "%Y%m%d").date()
    utc = text.endswith("Z")
    moment = datetime.strptime(text.rstrip("Z"), "%Y%m%dT%H%M%S")
    if not isinstance(start, datetime):
        return moment.date()
    tz = start.tzinfo
    if tz is None:
        limit, day = moment, moment.date()
    elif utc:
        limit = moment.replace(tzinfo=UTC)
        day = limit.astimezone(tz).date()
    else:
        limit, day = _localize(moment, tz), moment.date()
    last = _localize(datetime.combine(day, start.time()), tz)
    if last > limit and day > date.min:
        return day - timedelta(days=1)
    return day


def from_rrule(text: str, start: date | datetime | None = None) -> Recurrence:
    """A rule from RRULE text (``RRULE:`` prefix optional).

    ``start`` fills what the RFC takes from DTSTART (the weekday of a bare weekly rule,
    the day of a bare monthly rule, the month of a bare yearly rule). Rules the canonical
    model cannot hold (hourly, several month days, ``BYDAY=-2MO`` …) raise
    :class:`MappingError` naming each unsupported part.
    """
    errors: list[FieldError] = []
    body = text.strip().removeprefix("RRULE:")
    parts: dict[str, str] = {}
    for item in filter(None, body.split(";")):
        key, sep, value = item.partition("=")
        if not sep:
            errors.append(FieldError("recurrence", f"malformed part {item!r}"))
            continue
        parts[key.strip().upper()] = value.strip()
    freq_name = parts.pop("FREQ", "")
    try:
        freq = Frequency[freq_name.upper()]
    except KeyError:
        raise _fail("recurrence.frequency", f"unsupported FREQ {freq_name!r}") from None
    values: dict[str, Any] = {"frequency": freq}

    def integer(key: str, path: str) -> int | None:
        raw = parts.pop(key, None)
        if raw is None:
            return None
        try:
            return int(raw)
        except ValueError:
            errors.append(FieldError(path, f"{key}={raw!r} is not an integer"))
            return None

    values["interval"] = integer("INTERVAL", "recurrence.interval") or 1
    count = integer("COUNT", "recurrence.count")
    if count is not None:
        values["count"] = count
    if "UNTIL" in parts:
        raw = parts.pop("UNTIL")
        try:
            values["until"] = _parse_until(raw, start)
        except ValueError:
            errors.append(FieldError("recurrence.until", f"bad UNTIL {raw!r}"))
    setpos = integer("BYSETPOS", "recurrence.nth")
    mask, ordinal = 0, None
    codes = {code: flag for flag, code, _ in _WEEKDAY_CODES}
    for item in filter(None, parts.pop("BYDAY", "").split(",")):
        item = item.strip().upper()
        prefix, code = item[:-2], item[-2:]
        if code not in codes:
            errors.append(FieldError("recurrence.weekdays", f"bad BYDAY {item!r}"))
            continue
        mask |= codes[code]
        if prefix:
            try:
                ordinal = int(prefix)
            except ValueError:
                errors.append(FieldError("recurrence.nth", f"bad BYDAY ordinal {item!r}"))
    monthday = integer("BYMONTHDAY", "recurrence.day_of_month")
    month = integer("BYMONTH", "recurrence.month")
    week_start = parts.pop("WKST", "MO").strip().upper()
    for key in parts:
        errors.append(FieldError("recurrence", f"unsupported RRULE part {key}"))
    position = ordinal if ordinal is not None else setpos
    if position is not None:
        if position == -1:
            values["nth"] = LAST
        elif 1 <= position <= 4:
            values["nth"] = position
        else:
            errors.append(FieldError("recurrence.nth", f"unsupported position {position}"))
    if freq in (Frequency.DAILY, Frequency.WEEKLY) and values["interval"] > 1:
        # The canonical weekly rule counts weeks from Monday (the RFC's default WKST).
        if freq is Frequency.DAILY and mask and mask != _ALL_DAYS:
            errors.append(
                FieldError("recurrence", "FREQ=DAILY with BYDAY and INTERVAL > 1 is unsupported")
            )
        elif freq is Frequency.WEEKLY and _splits_weeks(mask or _mask_of(start), week_start):
            errors.append(
                FieldError("recurrence", f"WKST={week_start} with INTERVAL > 1 is unsupported")
            )
    if freq in (Frequency.DAILY, Frequency.WEEKLY):
        if freq is Frequency.DAILY and mask:
            values["frequency"] = Frequency.WEEKLY
        if mask:
            values["weekdays"] = mask
        elif freq is Frequency.WEEKLY:
            values["weekdays"] = _mask_of(start) or _ALL_DAYS
    else:
        if mask and "nth" in values:
            values["weekdays"] = mask
        elif mask:
            errors.append(FieldError("recurrence.nth", "BYDAY without a position"))
        else:
            values["day_of_month"] = monthday if monthday is not None else _day_of(start)
            if values["day_of_month"] is None:
                errors.append(FieldError("recurrence.day_of_month", "no BYMONTHDAY nor start"))
        if freq is Frequency.YEARLY:
            values["month"] = month if month is not None else getattr(start, "month", None)
    if errors:
        raise MappingError("unsupported RRULE", errors)
    rule = Recurrence(**values)
    _check(rule)
    return rule


_MONDAY_FIRST = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _splits_weeks(mask: int, week_start: str) -> bool:
    """Whether a week starting on ``week_start`` groups the days of ``mask`` otherwise
    than a week starting on Monday (which changes "every N weeks" for N > 1)."""
    if week_start not in _MONDAY_FIRST:
        return True
    codes = {code: flag for flag, code, _ in _WEEKDAY_CODES}
    cut = _MONDAY_FIRST.index(week_start)
    before = any(mask & codes[code] for code in _MONDAY_FIRST[:cut])
    after = any(mask & codes[code] for code in _MONDAY_FIRST[cut:])
    return before and after


def regroups(mask: int, week_start: Weekday | None) -> bool:
    """Whether weeks starting on ``week_start`` group the days of ``mask`` otherwise than
    weeks starting on Monday, so that "every N weeks" (N > 1) on those days falls on other
    days than the canonical expansion (weeks from Monday, the RFC's default WKST).

    ``week_start`` None means unknown: whether some week start would. Only a mask of one
    day (or none) is safe for every week start.

        >>> regroups(Weekday.SATURDAY | Weekday.SUNDAY, Weekday.SUNDAY)
        True
        >>> regroups(Weekday.MONDAY | Weekday.FRIDAY, Weekday.SUNDAY)
        False
        >>> regroups(Weekday.MONDAY | Weekday.FRIDAY, None), regroups(Weekday.FRIDAY, None)
        (True, False)
    """
    if week_start is None:
        return any(_splits_weeks(mask, code) for code in _MONDAY_FIRST)
    codes = [code for flag, code, _ in _WEEKDAY_CODES if flag == week_start]
    if len(codes) != 1:
        raise ValueError(f"not a single weekday: {week_start!r}")
    return _splits_weeks(mask, codes[0])


def _mask_of(start: date | datetime | None) -> int:
    if start is None:
        return 0
    return int(_WEEKDAY_CODES[(start.weekday() + 1) % 7][0])


def _day_of(start: date | datetime | None) -> int | None:
    return None if start is None else start.day


def exdates(rule: Recurrence, start: date | datetime) -> list[date | datetime]:
    """EXDATE values for the deleted occurrences: dates for all-day series, else the
    series' wall-clock start time on each deleted day, in the start's zone."""
    if not isinstance(start, datetime):
        return list(rule.deleted)
    return [_localize(datetime.combine(d, start.time()), start.tzinfo) for d in rule.deleted]


# --------------------------------------------------------------------------- expansion


def _localize(naive: datetime, tz: Any) -> datetime:
    if tz is None:
        return naive
    aware = naive.replace(tzinfo=tz)
    # A wall-clock time inside a spring-forward gap does not exist: move it forward.
    return aware.astimezone(UTC).astimezone(tz)


def _dateutil_rule(rule: Recurrence, dtstart: datetime) -> du.rrule:
    freq = {
        Frequency.DAILY: du.DAILY,
        Frequency.WEEKLY: du.WEEKLY,
        Frequency.MONTHLY: du.MONTHLY,
        Frequency.YEARLY: du.YEARLY,
    }[rule.frequency]
    kwargs: dict[str, Any] = {"interval": rule.interval, "dtstart": dtstart}
    days = [weekday for flag, _, weekday in _WEEKDAY_CODES if rule.weekdays & flag]
    if rule.frequency in (Frequency.DAILY, Frequency.WEEKLY) and days:
        kwargs["byweekday"] = days
    elif rule.frequency in (Frequency.MONTHLY, Frequency.YEARLY):
        if rule.nth is not None and days:
            kwargs["byweekday"] = days
            kwargs["bysetpos"] = -1 if rule.nth == LAST else rule.nth
        else:
            kwargs["bymonthday"] = rule.day_of_month
        if rule.frequency is Frequency.YEARLY:
            kwargs["bymonth"] = rule.month
    if rule.count is not None:
        kwargs["count"] = rule.count
    if rule.until is not None:
        kwargs["until"] = datetime.combine(rule.until, time(23, 59, 59))
    return du.rrule(freq, **kwargs)


def occurrences(
    event_start: date | datetime,
    recurrence: Recurrence,
    between: tuple[date | datetime, date | datetime] | None = None,
) -> list[date | datetime]:
    """Start of every occurrence of a series, deleted ones left out.

    Expansion runs on the wall clock of ``event_start``'s zone, then each occurrence
    gets that zone's offset for its own day (DST-safe). All-day series (a ``date``
    start) give dates. ``between`` = (first, last) inclusive bounds; a series without
    an end needs it.
    """
    _check(recurrence)
    if recurrence.until is None and recurrence.count is None and between is None:
        raise ValueError("an endless series needs bounds (between=)")
    all_day = not isinstance(event_start, datetime)
    tz: Any = None
    if isinstance(event_start, datetime):
        tz = event_start.tzinfo
        naive_start = event_start.replace(tzinfo=None)
    else:
        naive_start = datetime.combine(event_start, time())
    rule = _dateutil_rule(recurrence, naive_start)
    deleted = set(recurrence.deleted)
    if between is not None:
        low, high = (_naive_in(b, tz) for b in between)
        if isinstance(between[1], date) and not isinstance(between[1], datetime):
            high = high + timedelta(days=1) - timedelta(microseconds=1)
        candidates = rule.between(low, high, inc=True)
    else:
        candidates = list(rule)
    out: list[date | datetime] = []
    for naive in candidates:
        if naive.date() in deleted:
            continue
        out.append(naive.date() if all_day else _localize(naive, tz))
    return out


def _naive_in(bound: date | datetime, tz: Any) -> datetime:
    if isinstance(bound, datetime):
        if bound.tzinfo is not None and tz is not None:
            return bound.astimezone(tz).replace(tzinfo=None)
        return bound.replace(tzinfo=None)
    return datetime.combine(bound, time())


def first_occurrence(event: Event) -> date | datetime | None:
    """The start of a series' first occurrence, deleted or not (``None``: it has none).

    A start that does not fall on the rule is no occurrence (Outlook moves such a
    series' start to its first occurrence). Expanded in the event's zone, as
    :func:`event_occurrences`; a single event gives its start.
    """
    rule = event.recurrence
    start = event.start
    if rule is None:
        return start
    _check(rule)
    tz: Any = None
    if isinstance(start, datetime):
        if event.timezone:
            try:
                tz = ZoneInfo(event.timezone)
            except UNKNOWN_ZONE:
                raise ValueError(f"unknown time zone {event.timezone[:60]!r}") from None
        else:
            tz = start.tzinfo
        naive = start.astimezone(tz).replace(tzinfo=None) if tz is not None else start
    else:
        naive = datetime.combine(start, time())
    first = next(iter(_dateutil_rule(attrs.evolve(rule, deleted=()), naive)), None)
    if first is None:
        return None
    return first.date() if not isinstance(start, datetime) else _localize(first, tz)


def event_occurrences(
    event: Event, between: tuple[date | datetime, date | datetime] | None = None
) -> list[date | datetime]:
    """Occurrences of an event, expanded in the event's own ``timezone``.

    Canonical instants are stored in UTC, so the zone comes from ``event.timezone``
    (UTC when unset); ``recurrence.deleted`` holds dates in that zone. A single event
    gives its start when it falls in ``between`` (or always, without bounds).
    """
    start = event.start
    if isinstance(start, datetime) and event.timezone:
        try:
            zone = ZoneInfo(event.timezone)
        except UNKNOWN_ZONE:
            raise ValueError(f"unknown time zone {event.timezone[:60]!r}") from None
        start = start.astimezone(zone)
    if event.recurrence is None:
        if between is None:
            return [start]
        tz = start.tzinfo if isinstance(start, datetime) else None
        low, here, high = (_naive_in(x, tz) for x in (between[0], start, between[1]))
        inside = low <= here <= high
        return [start] if inside else []
    return occurrences(start, event.recurrence, between)
