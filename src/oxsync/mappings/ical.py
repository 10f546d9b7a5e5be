"""iCalendar (RFC 5545) ⇄ canonical :class:`~oxsync.core.records.Event` / ``Task``.

Built on the ``icalendar`` library, with a fast path in front: :mod:`oxsync.mappings.
ical_fast` reads and writes the common cases straight between content lines and records
(icalendar's object model made reading 10,000 events take 10 s) and declines everything
else, including every error, so this module's icalendar-based functions (the
``_library_*`` ones) decide those cases exactly as before. Writing::

    >>> from datetime import datetime, UTC
    >>> from oxsync.core.records import Event
    >>> ev = Event(uid="u1", summary="Lunch", timezone="Europe/Paris",
    ...            start=datetime(2026, 3, 2, 11, 0, tzinfo=UTC),
    ...            end=datetime(2026, 3, 2, 12, 0, tzinfo=UTC))
    >>> b"DTSTART;TZID=Europe/Paris:20260302T120000" in event_to_ical(ev)
    True
    >>> ical_to_records(event_to_ical(ev)) == [ev]
    True

Conventions (the whole table is in ``docs/adapters/vdir.md``, "File formats"):

- Timed values are written as wall-clock times in the event's ``timezone`` (``TZID``,
  with a ``VTIMEZONE``) and read back as aware **UTC** datetimes with ``timezone`` set to
  the IANA name of the ``TZID`` (Windows names and Mozilla-style prefixes are resolved).
  The instant and the wall-clock time in the zone never move. Floating times (no zone)
  are read as UTC.
- All-day events use ``VALUE=DATE`` with an exclusive ``DTEND``.
- A series and its ``RECURRENCE-ID`` overrides are one :class:`Event` with ``exceptions``;
  an override field equal to the series value reads back as ``None`` ("keep the series").
- Fields without a standard property use project-defined ``X-OXSYNC-*`` properties
  (listed in :data:`X_PROPERTIES`).

Reading never drops an item silently: :func:`ical_to_results` gives one
:class:`~oxsync.errors.MappingError` per broken or unsupported item (listing every bad
field), :func:`ical_to_records` raises one error naming them all.

RRULE text comes from :mod:`oxsync.mappings.recurrence` (given DTSTART in the event's
zone, so ``UNTIL`` and ``EXDATE`` keep the wall-clock time). Text longer than
:data:`~oxsync.mappings.values.MAX_NOTE_CHARS` (notes) or ``MAX_TEXT_CHARS`` (other
text) is a field error. This module is longer than most because it holds the whole
VEVENT/VTODO table and its converters in one place.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import icalendar
from icalendar.cal.component_factory import ComponentFactory
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from oxsync.core import records as r
from oxsync.errors import FieldError, MappingError
from oxsync.mappings import recurrence
from oxsync.mappings.contentline import decode_document, unfold
from oxsync.mappings.values import MAX_NOTE_CHARS, MAX_TEXT_CHARS, UNKNOWN_ZONE, ascii_int

__all__ = [
    "X_PROPERTIES",
    "event_to_ical",
    "ical_to_records",
    "ical_to_results",
    "record_to_ical",
    "task_to_ical",
]

X_PROPERTIES: dict[str, str] = {
    "X-MICROSOFT-CDO-BUSYSTATUS": "busy_status (FREE/TENTATIVE/BUSY/OOF/WORKINGELSEWHERE)",
    "X-ALT-DESC;FMTTYPE=text/html": "note_html (Outlook's HTML body)",
    "X-OXSYNC-SENSITIVITY": "sensitivity PERSONAL (CLASS cannot say it; CLASS:PRIVATE is written)",
    "X-OXSYNC-COLOR-LABEL": "color_label 0-10 (COLOR carries the CSS name of 1-10)",
    "X-OXSYNC-TIMEZONE": "timezone when no TZID can say it (all-day events, UTC)",
    "X-OXSYNC-TASK-STATUS": "task status WAITING (STATUS says NEEDS-ACTION)",
    "X-OXSYNC-TOTAL-WORK": "task total_work, minutes",
    "X-OXSYNC-ACTUAL-WORK": "task actual_work, minutes",
    "X-OXSYNC-COMPANIES": "task companies",
    "X-OXSYNC-MILEAGE": "task mileage",
    "X-OXSYNC-BILLING-INFORMATION": "task billing_information",
    "X-OXSYNC-ACTUAL-COSTS": "task actual_costs (OX)",
    "X-OXSYNC-TARGET-COSTS": "task target_costs (OX)",
    "X-OXSYNC-CURRENCY": "task currency (OX)",
    "X-OXSYNC-OWNER": "task owner (Outlook)",
    "X-OXSYNC-DELEGATION-STATE": "task delegation_state (Outlook)",
    "X-OXSYNC-REGENERATE": "recurrence.regenerate (Outlook regenerating tasks)",
    "X-OXSYNC-VALUE=DATE (parameter of COMPLETED)": "date_completed given as a date",
    "X-OXSYNC-KIND / X-OXSYNC-USER-ID / X-OXSYNC-COMMENT (ATTENDEE parameters)": (
        "attendee kind (external, resource group), store user id and comment"
    ),
}
"""Project-defined and vendor X- names this module writes, with the field each carries."""

PRODID = "-//oxsync//oxsync//EN"
"""The PRODID of every VCALENDAR oxsync writes."""

_TASK_X_TEXT = {
    "companies": "X-OXSYNC-COMPANIES",
    "mileage": "X-OXSYNC-MILEAGE",
    "billing_information": "X-OXSYNC-BILLING-INFORMATION",
    "actual_costs": "X-OXSYNC-ACTUAL-COSTS",
    "target_costs": "X-OXSYNC-TARGET-COSTS",
    "currency": "X-OXSYNC-CURRENCY",
    "owner": "X-OXSYNC-OWNER",
}
_TASK_X_INT = {"total_work": "X-OXSYNC-TOTAL-WORK", "actual_work": "X-OXSYNC-ACTUAL-WORK"}

_CDO = {
    r.BusyStatus.FREE: "FREE",
    r.BusyStatus.TENTATIVE: "TENTATIVE",
    r.BusyStatus.BUSY: "BUSY",
    r.BusyStatus.OUT_OF_OFFICE: "OOF",
    r.BusyStatus.WORKING_ELSEWHERE: "WORKINGELSEWHERE",
}
_CDO_BACK = {v: k for k, v in _CDO.items()}
_CLASS = {
    r.Sensitivity.PERSONAL: "PRIVATE",
    r.Sensitivity.PRIVATE: "PRIVATE",
    r.Sensitivity.CONFIDENTIAL: "CONFIDENTIAL",
}
_PRIORITY = {r.Importance.HIGH: 1, r.Importance.LOW: 9}
_COLORS = ("red", "blue", "green", "grey", "orange", "cyan", "olive", "purple", "teal", "yellow")
_TASK_STATUS = {
    r.TaskStatus.NOT_STARTED: "NEEDS-ACTION",
    r.TaskStatus.IN_PROGRESS: "IN-PROCESS",
    r.TaskStatus.COMPLETED: "COMPLETED",
    r.TaskStatus.WAITING: "NEEDS-ACTION",
    r.TaskStatus.DEFERRED: "CANCELLED",
}
_TASK_STATUS_BACK = {
    "NEEDS-ACTION": r.TaskStatus.NOT_STARTED,
    "IN-PROCESS": r.TaskStatus.IN_PROGRESS,
    "COMPLETED": r.TaskStatus.COMPLETED,
    "CANCELLED": r.TaskStatus.DEFERRED,
}
_CUTYPE = {
    r.AttendeeKind.USER: "INDIVIDUAL",
    r.AttendeeKind.EXTERNAL: "INDIVIDUAL",
    r.AttendeeKind.GROUP: "GROUP",
    r.AttendeeKind.RESOURCE: "RESOURCE",
    r.AttendeeKind.RESOURCE_GROUP: "RESOURCE",
}
_CUTYPE_BACK = {
    "INDIVIDUAL": r.AttendeeKind.USER,
    "GROUP": r.AttendeeKind.GROUP,
    "RESOURCE": r.AttendeeKind.RESOURCE,
    "ROOM": r.AttendeeKind.RESOURCE,
}
_ROLE = {
    r.AttendeeRole.REQUIRED: "REQ-PARTICIPANT",
    r.AttendeeRole.OPTIONAL: "OPT-PARTICIPANT",
    r.AttendeeRole.RESOURCE: "NON-PARTICIPANT",
    r.AttendeeRole.CHAIR: "CHAIR",
}
_ROLE_BACK = {v: k for k, v in _ROLE.items()}
_PARTSTAT = {
    r.ParticipationStatus.NONE: "NEEDS-ACTION",
    r.ParticipationStatus.ACCEPTED: "ACCEPTED",
    r.ParticipationStatus.DECLINED: "DECLINED",
    r.ParticipationStatus.TENTATIVE: "TENTATIVE",
}
_PARTSTAT_BACK = {v: k for k, v in _PARTSTAT.items()}
_DAYS = (
    ("SU", r.Weekday.SUNDAY),
    ("MO", r.Weekday.MONDAY),
    ("TU", r.Weekday.TUESDAY),
    ("WE", r.Weekday.WEDNESDAY),
    ("TH", r.Weekday.THURSDAY),
    ("FR", r.Weekday.FRIDAY),
    ("SA", r.Weekday.SATURDAY),
)
_DAY_BIT = dict(_DAYS)
_NO_MAIL = "invalid:nomail"
_USER_URN = "urn:x-oxsync:user:"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_UNESCAPE = re.compile(r"\\([\\;,nN])")


# =========================================================================== writing


def record_to_ical(record: r.Record) -> bytes:
    """A VCALENDAR holding ``record`` (an :class:`Event` or a :class:`Task`)."""
    if isinstance(record, r.Event):
        return event_to_ical(record)
    if isinstance(record, r.Task):
        return task_to_ical(record)
    raise MappingError(
        f"{type(record).__name__} has no iCalendar form",
        [FieldError("$", "only events and tasks are iCalendar items")],
    )


def event_to_ical(record: r.Event) -> bytes:
    """A VCALENDAR with the event's VEVENT, its overrides and the VTIMEZONE it uses."""
    try:
        return ical_fast.write_event(record)
    except Exception:
        return _library_event_to_ical(record)


def task_to_ical(record: r.Task) -> bytes:
    """A VCALENDAR with the task's VTODO (timed values in UTC)."""
    try:
        return ical_fast.write_task(record)
    except Exception:
        return _library_task_to_ical(record)


def _library_event_to_ical(record: r.Event) -> bytes:
    """:func:`event_to_ical` through ``icalendar`` objects (the reference of the fast path)."""
    errs = _Errors()
    zone = _write_zone(record.timezone, errs, "timezone")
    components = [_event_component(record, zone, errs)]
    for i, exc in enumerate(record.exceptions):
        components.append(_override_component(record, exc, zone, errs, f"exceptions[{i}]"))
    errs.raise_if_any(f"cannot write event {record.uid!r} as iCalendar")
    return _calendar(components, zone, record.start)


def _library_task_to_ical(record: r.Task) -> bytes:
    """:func:`task_to_ical` through ``icalendar`` objects (the reference of the fast path)."""
    errs = _Errors()
    comp = icalendar.Todo()
    _common_out(comp, record, errs)
    _put_when(comp, "DTSTART", record.start, None, errs, "start")
    _put_when(comp, "DUE", record.due, None, errs, "due")
    comp.add("STATUS", _TASK_STATUS[record.status])
    if record.importance in _PRIORITY:
        comp.add("PRIORITY", _PRIORITY[record.importance])
    if record.status is r.TaskStatus.WAITING:
        _put_x(comp, "X-OXSYNC-TASK-STATUS", "WAITING")
    if not 0 <= record.percent_complete <= 100:
        errs.add("percent_complete", f"{record.percent_complete} is not within 0-100")
    elif record.percent_complete:
        comp.add("PERCENT-COMPLETE", record.percent_complete)
    done = record.date_completed
    if isinstance(done, datetime):
        if _aware(done, errs, "date_completed"):
            comp.add("COMPLETED", done.astimezone(UTC))
    elif isinstance(done, date):
        comp.add(
            "COMPLETED", datetime.combine(done, time(), UTC), parameters={"X-OXSYNC-VALUE": "DATE"}
        )
    anchor = record.start if record.start is not None else record.due
    _put_alarm(
        comp, record.alarm, errs, related_end=record.start is None and record.due is not None
    )
    _put_attendees(comp, record.attendees, errs)
    for name, prop in _TASK_X_TEXT.items():
        _put_x(comp, prop, _text_out(getattr(record, name), errs, name))
    for name, prop in _TASK_X_INT.items():
        value = getattr(record, name)
        if value is not None:
            _put_x(comp, prop, str(value))
    if record.delegation_state is not r.DelegationState.NOT_DELEGATED:
        _put_x(comp, "X-OXSYNC-DELEGATION-STATE", record.delegation_state.value.upper())
    if record.recurrence is not None:
        _put_recurrence(comp, record.recurrence, anchor, None, errs)
    errs.raise_if_any(f"cannot write task {record.uid!r} as iCalendar")
    return _calendar([comp], None, None)


def _event_component(ev: r.Event, zone: ZoneInfo | None, errs: _Errors) -> icalendar.Event:
    comp = icalendar.Event()
    _common_out(comp, ev, errs)
    _put_text(comp, "LOCATION", ev.location, errs, "location")
    _check_span(ev.start, ev.end, ev.all_day, errs)
    _put_when(comp, "DTSTART", ev.start, zone, errs, "start")
    _put_when(comp, "DTEND", ev.end, zone, errs, "end")
    if ev.timezone and (ev.all_day or zone is None or zone.key in ("UTC", "Etc/UTC")):
        _put_x(comp, "X-OXSYNC-TIMEZONE", ev.timezone)  # no TZID can say it
    comp.add("TRANSP", "TRANSPARENT" if ev.busy_status is r.BusyStatus.FREE else "OPAQUE")
    comp.add("X-MICROSOFT-CDO-BUSYSTATUS", _CDO[ev.busy_status])
    if ev.importance in _PRIORITY:
        comp.add("PRIORITY", _PRIORITY[ev.importance])
    if ev.sequence is not None:
        comp.add("SEQUENCE", ev.sequence)
    if ev.organizer is not None:
        comp.add("ORGANIZER", _attendee_out(ev.organizer, errs, "organizer", organizer=True))
    _put_attendees(comp, ev.attendees, errs)
    _put_alarm(comp, ev.alarm, errs, related_end=False)
    if ev.recurrence is not None:
        _put_recurrence(comp, ev.recurrence, ev.start, zone, errs)
    elif ev.exceptions:
        errs.add("exceptions", "only a recurring event can have exceptions")
    return comp


def _override_component(
    ev: r.Event, exc: r.EventException, zone: tzinfo | None, errs: _Errors, path: str
) -> icalendar.Event:
    comp = icalendar.Event()
    if ev.uid is not None:
        comp.add("UID", ev.uid)
    _put_when(comp, "RECURRENCE-ID", exc.original_start, zone, errs, f"{path}.original_start")
    start = exc.start if exc.start is not None else exc.original_start
    end = exc.end
    if end is None:
        try:
            end = start + (ev.end - ev.start)
        except TypeError:
            errs.add(f"{path}.start", "mixes a date and a date-time with the series")
            end = start
    _put_when(comp, "DTSTART", start, zone, errs, f"{path}.start")
    _put_when(comp, "DTEND", end, zone, errs, f"{path}.end")
    for prop, own, series in (
        ("SUMMARY", exc.summary, ev.summary),
        ("LOCATION", exc.location, ev.location),
        ("DESCRIPTION", exc.note, ev.note),
    ):
        value = own if own is not None else series
        _put_text(comp, prop, value, errs, f"{path}.{prop.lower()}")
    busy = exc.busy_status or ev.busy_status
    comp.add("TRANSP", "TRANSPARENT" if busy is r.BusyStatus.FREE else "OPAQUE")
    comp.add("X-MICROSOFT-CDO-BUSYSTATUS", _CDO[busy])
    stamp = ev.last_modified or ev.created or datetime(1970, 1, 1, tzinfo=UTC)
    comp.add("DTSTAMP", stamp.astimezone(UTC))
    return comp


def _common_out(comp: icalendar.cal.Component, rec: r.Event | r.Task, errs: _Errors) -> None:
    """Properties shared by VEVENT and VTODO."""
    if rec.uid is not None:
        comp.add("UID", rec.uid)
    stamp = rec.last_modified or rec.created or datetime(1970, 1, 1, tzinfo=UTC)
    comp.add("DTSTAMP", stamp.astimezone(UTC))
    if rec.created is not None:
        comp.add("CREATED", rec.created.astimezone(UTC))
    if rec.last_modified is not None:
        comp.add("LAST-MODIFIED", rec.last_modified.astimezone(UTC))
    _put_text(comp, "SUMMARY", rec.summary, errs, "summary")
    _put_text(comp, "DESCRIPTION", rec.note, errs, "note")
    html = _text_out(rec.note_html, errs, "note_html")
    if html is not None:
        comp.add("X-ALT-DESC", icalendar.vText(html), parameters={"FMTTYPE": "text/html"})
    if rec.categories:
        for i, cat in enumerate(rec.categories):
            _text_out(cat, errs, f"categories[{i}]")
            if not cat:
                errs.add(f"categories[{i}]", "empty category name")
        comp.add("CATEGORIES", list(rec.categories))
    if rec.sensitivity in _CLASS:
        comp.add("CLASS", _CLASS[rec.sensitivity])
        if rec.sensitivity is r.Sensitivity.PERSONAL:
            _put_x(comp, "X-OXSYNC-SENSITIVITY", "PERSONAL")
    if rec.color_label is not None:
        if not 0 <= rec.color_label <= 10:
            errs.add("color_label", f"{rec.color_label} is not within 0-10")
        else:
            _put_x(comp, "X-OXSYNC-COLOR-LABEL", str(rec.color_label))
            if rec.color_label:
                comp.add("COLOR", _COLORS[rec.color_label - 1])
    for i, att in enumerate(rec.attachments):
        _text_out(att.filename, errs, f"attachments[{i}].filename")
        binary = icalendar.vBinary(att.data)
        binary.params["FMTTYPE"] = att.content_type
        binary.params["FILENAME"] = att.filename
        comp.add("ATTACH", binary)


def _put_text(
    comp: icalendar.cal.Component, prop: str, value: str | None, errs: _Errors, path: str
) -> None:
    text = _text_out(value, errs, path)
    if text is not None:
        comp.add(prop, text)


def _put_x(comp: icalendar.cal.Component, prop: str, value: str | None) -> None:
    if value is not None:
        comp.add(prop, icalendar.vText(value))


def _text_out(value: str | None, errs: _Errors, path: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        errs.add(path, f"expected text, got {type(value).__name__}")
        return None
    limit = _limit_of(path)
    if len(value) > limit:
        errs.add(path, f"{len(value)} characters, more than {limit}")
        return None
    if _CONTROL.search(value) or "\r" in value:
        errs.add(path, "contains a control character")
        return None
    return value


def _aware(value: datetime, errs: _Errors, path: str) -> bool:
    if value.tzinfo is None or value.utcoffset() is None:
        errs.add(path, "naive date-time (no timezone)")
        return False
    return True


def _check_span(start: datetime | date, end: datetime | date, all_day: bool, errs: _Errors) -> None:
    is_dt = [isinstance(v, datetime) for v in (start, end)]
    if all_day and any(is_dt):
        errs.add("start", "an all-day event needs dates, not date-times")
    elif not all_day and not all(is_dt):
        errs.add("start", "a timed event needs date-times (or set all_day)")
    elif all(is_dt) and _aware(start, errs, "start") and _aware(end, errs, "end"):  # type: ignore[arg-type]
        if end < start:
            errs.add("end", "ends before it starts")
    elif not any(is_dt) and end <= start:
        errs.add("end", "an all-day event ends (exclusive) after its start date")


def _put_when(
    comp: icalendar.cal.Component,
    prop: str,
    value: datetime | date | None,
    zone: tzinfo | None,
    errs: _Errors,
    path: str,
) -> None:
    if value is None:
        return
    if isinstance(value, datetime):
        if not _aware(value, errs, path):
            return
        comp.add(prop, value.astimezone(zone or UTC))
    else:
        comp.add(prop, value)


def _write_zone(name: str | None, errs: _Errors, path: str) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except UNKNOWN_ZONE:
        errs.add(path, f"unknown IANA time zone {name!r}")
        return None


def _put_alarm(
    comp: icalendar.cal.Component, alarm: r.Alarm | None, errs: _Errors, *, related_end: bool
) -> None:
    if alarm is None:
        return
    if alarm.minutes_before is None and alarm.at is None:
        errs.add("alarm", "an alarm needs minutes_before or at")
    if alarm.minutes_before is not None:
        params = {"RELATED": "END"} if related_end else {}
        _add_valarm(comp, timedelta(minutes=-alarm.minutes_before), params)
    if alarm.at is not None and _aware(alarm.at, errs, "alarm.at"):
        _add_valarm(comp, alarm.at.astimezone(UTC), {"VALUE": "DATE-TIME"})


def _add_valarm(comp: icalendar.cal.Component, trigger: Any, params: dict[str, str]) -> None:
    valarm = icalendar.Alarm()
    valarm.add("ACTION", "DISPLAY")
    valarm.add("DESCRIPTION", "Reminder")
    valarm.add("TRIGGER", trigger, parameters=params)
    comp.add_component(valarm)


def _put_attendees(
    comp: icalendar.cal.Component, attendees: Sequence[r.Attendee], errs: _Errors
) -> None:
    for i, att in enumerate(attendees):
        comp.add("ATTENDEE", _attendee_out(att, errs, f"attendees[{i}]", organizer=False))


class _QuotedParameters(icalendar.Parameters):
    """Parameters whose free-text values are always quoted, so blanks survive."""

    always_quoted = (  # type: ignore[assignment]
        *icalendar.Parameters.always_quoted,
        "CN",
        "X-OXSYNC-COMMENT",
        "X-OXSYNC-USER-ID",
    )


def _attendee_out(
    att: r.Attendee, errs: _Errors, path: str, *, organizer: bool
) -> icalendar.vCalAddress:
    if att.email:
        uri = f"mailto:{att.email}"
    elif att.user_id:
        uri = _USER_URN + att.user_id
    else:
        uri = _NO_MAIL
    params: dict[str, str] = {}
    for key, value, field_name in (
        ("CN", att.name, "name"),
        ("X-OXSYNC-COMMENT", att.comment, "comment"),
        ("X-OXSYNC-USER-ID", att.user_id, "user_id"),
    ):
        text = _text_out(value, errs, f"{path}.{field_name}")
        if text is not None:
            params[key] = text
    if att.email and (_CONTROL.search(att.email) or "\r" in att.email or "\n" in att.email):
        errs.add(f"{path}.email", "contains a control character")
    if not organizer:
        params["CUTYPE"] = _CUTYPE[att.kind]
        params["ROLE"] = _ROLE[att.role]
        params["PARTSTAT"] = _PARTSTAT[att.status]
    if att.kind in (r.AttendeeKind.EXTERNAL, r.AttendeeKind.RESOURCE_GROUP) or (
        organizer and att.kind is not r.AttendeeKind.USER
    ):
        params["X-OXSYNC-KIND"] = att.kind.value
    if organizer and (
        att.role is not r.AttendeeRole.REQUIRED or att.status is not r.ParticipationStatus.NONE
    ):
        params["ROLE"] = _ROLE[att.role]
        params["PARTSTAT"] = _PARTSTAT[att.status]
    address = icalendar.vCalAddress(uri)
    address.params = _QuotedParameters(params)
    return address


def _put_recurrence(
    comp: icalendar.cal.Component,
    rec: r.Recurrence,
    anchor: datetime | date | None,
    zone: tzinfo | None,
    errs: _Errors,
) -> None:
    local = anchor.astimezone(zone or UTC) if isinstance(anchor, datetime) else anchor
    try:
        text = recurrence.to_rrule(rec, local)
    except MappingError as exc:
        errs.items.extend(exc.errors)
        return
    comp.add("RRULE", icalendar.vRecur.from_ical(text))
    if rec.deleted:
        comp.add("EXDATE", recurrence.exdates(rec, local) if local else list(rec.deleted))
    if rec.regenerate:
        _put_x(comp, "X-OXSYNC-REGENERATE", "TRUE")


def _calendar(
    components: Sequence[icalendar.cal.Component],
    zone: ZoneInfo | None,
    start: datetime | date | None,
) -> bytes:
    parts = [b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:" + PRODID.encode() + b"\r\n"]
    if zone is not None and zone.key not in ("UTC", "Etc/UTC"):
        parts.append(_vtimezone(zone.key, start.year if start else 2000))
    parts.extend(c.to_ical() for c in components)
    parts.append(b"END:VCALENDAR\r\n")
    return b"".join(parts)


@functools.lru_cache(maxsize=256)
def _vtimezone(key: str, year: int) -> bytes:
    """The VTIMEZONE of ``key`` from ``year`` on (built once per zone and year: it is slow)."""
    cal = icalendar.Calendar()
    holder = icalendar.Event()
    holder.add("DTSTART", datetime(max(year, 1971), 1, 2, tzinfo=ZoneInfo(key)))
    cal.add_component(holder)
    cal.add_missing_timezones(first_date=date(max(year - 1, 1970), 1, 1))
    return b"".join(tz.to_ical() for tz in cal.walk("VTIMEZONE"))


# =========================================================================== reading


def ical_to_records(data: bytes) -> list[r.Record]:
    """Every event and task in ``data``; raises :class:`MappingError` naming each bad item."""
    results = ical_to_results(data)
    failures = [x for x in results if isinstance(x, MappingError)]
    if failures:
        errors = [e for f in failures for e in f.errors] or [FieldError("$", str(failures[0]))]
        raise MappingError(f"{len(failures)} of {len(results)} iCalendar items unreadable", errors)
    return [x for x in results if not isinstance(x, MappingError)]


def ical_to_results(data: bytes) -> list[r.Record | MappingError]:
    """One result per item of ``data``: its record, or a :class:`MappingError` explaining it.

    An item is a VTODO, or a VEVENT series with its overrides (same UID). Components that
    are no item (VJOURNAL, VFREEBUSY) each give an "unsupported" error; an unreadable file
    gives a single error.
    """
    text = decode_document(data, "iCalendar")
    text = _VTIMEZONE.sub(_drop_known_zone, text)
    if "BEGIN:VTIMEZONE" not in text:  # custom zones: only the library builds them
        with contextlib.suppress(Exception):  # declined or broken: the library path decides
            return ical_fast.read(text)
    return _library_results(text)


def _library_results(text: str) -> list[r.Record | MappingError]:
    """:func:`ical_to_results` through ``icalendar`` (the reference of the fast path)."""
    unclosed = _unclosed(text)
    if unclosed:  # icalendar would drop the component silently, and every item in it
        raise MappingError(
            "not iCalendar data",
            [FieldError("$", f"BEGIN:{name[:40]} without END:{name[:40]}") for name in unclosed],
        )
    try:
        calendars = _TolerantCalendar.from_ical(text, multiple=True)
    except (ValueError, KeyError, IndexError) as exc:
        raise MappingError("not iCalendar data", [FieldError("$", str(exc))]) from exc
    except Exception as exc:  # the library fails in other ways on hostile input: translated
        raise MappingError(
            "not iCalendar data",
            [FieldError("$", f"icalendar cannot read it ({type(exc).__name__}: {exc})")],
        ) from exc
    results: list[r.Record | MappingError] = []
    for cal in calendars:
        if cal.name != "VCALENDAR":
            results.append(_unsupported(cal.name))
            continue
        groups: dict[str, list[icalendar.cal.Component]] = {}
        for comp in cal.subcomponents:
            if comp.name == "VTIMEZONE":
                continue
            if comp.name == "VTODO":
                results.append(_guarded("VTODO", comp, _read_task))
            elif comp.name == "VEVENT":
                groups.setdefault(str(comp.get("UID") or _NO_UID), []).append(comp)
            else:
                results.append(_unsupported(str(comp.name), comp.get("UID")))
        uidless = groups.pop(_NO_UID, [])
        if sum("RECURRENCE-ID" not in c for c in uidless) > 1:
            # several UID-less events: each its own item (overrides cannot be matched)
            groups.update({f"{_NO_UID}{i}": [c] for i, c in enumerate(uidless)})
        elif uidless:
            groups[_NO_UID] = uidless
        for comps in groups.values():
            results.append(_guarded("VEVENT", comps, _read_event_group))
    return results


def _unclosed(text: str) -> list[str]:
    """The components ``text`` begins and never ends, outermost first, split into lines
    as icalendar splits them (it drops such a component and all it holds without a word)."""
    stack: list[str] = []
    for line in unfold(text):
        head, sep, value = line.partition(":")
        if not sep:
            continue
        name = head.split(";", 1)[0].strip().upper()
        if name == "BEGIN":
            stack.append(value.strip().upper())
        elif name == "END" and stack:
            stack.pop()
    return stack


class _TolerantTodo(icalendar.Todo):
    """A VTODO that keeps a bad value as ``vBroken`` (as VEVENT does) instead of failing
    the whole file, so the error is reported for that item only."""

    ignore_exceptions = True


class _TolerantAlarm(icalendar.Alarm):
    """A VALARM that tolerates bad values (reported by the reader)."""

    ignore_exceptions = True


class _TolerantCalendar(icalendar.Calendar):
    """A VCALENDAR parser whose items tolerate bad values."""

    _components_factory = None

    @classmethod
    def _get_component_factory(cls) -> ComponentFactory:
        if cls._components_factory is None:
            factory = ComponentFactory()
            for component in (_TolerantTodo, _TolerantAlarm):
                factory.add_component_class(component)
            cls._components_factory = factory
        return cls._components_factory


_NO_UID = "\x00no-uid"
_VTIMEZONE = re.compile(r"BEGIN:VTIMEZONE\r?\n(.*?)END:VTIMEZONE\r?\n", re.S)
_TZID_LINE = re.compile(r"^TZID:(.*?)\r?$", re.M)


def _drop_known_zone(match: re.Match[str]) -> str:
    """Drop the VTIMEZONE of an IANA zone: zoneinfo knows it, and building a zone from
    VTIMEZONE rules is what makes icalendar slow (5x per item)."""
    tzid = _TZID_LINE.search(match.group(1))
    if tzid and _is_iana(tzid.group(1).strip()):
        return ""
    return match.group(0)


@functools.lru_cache(maxsize=512)
def _is_iana(name: str) -> bool:
    try:
        ZoneInfo(name)
    except UNKNOWN_ZONE:
        return False
    return "/" in name or name in ("UTC", "GMT")


def _unsupported(name: str, uid: object = None) -> MappingError:
    where = f"{name} {str(uid)!r}" if uid else name
    return MappingError(
        f"{where} is not supported", [FieldError(name, "oxsync reads VEVENT and VTODO items only")]
    )


def _guarded(
    what: str, arg: Any, reader: Callable[[Any, _Errors], r.Record]
) -> r.Record | MappingError:
    first = arg[0] if isinstance(arg, list) else arg
    uid = first.get("UID")
    errs = _Errors()
    for comp in arg if isinstance(arg, list) else [arg]:
        for prop, message in comp.errors:
            if prop is None:  # a line that could not be split into name and value
                errs.add("$", message)
    try:
        record = reader(arg, errs)
    except MappingError as exc:
        return exc
    except Exception as exc:  # the library can fail in many ways on hostile input
        errs.add("$", f"{type(exc).__name__}: {exc}")
        record = None
    if errs.items or record is None:
        return MappingError(f"{what} {str(uid) if uid else '(no UID)'!r} unreadable", errs.items)
    return record


def _read_event_group(comps: list[icalendar.cal.Component], errs: _Errors) -> r.Event:
    masters = [c for c in comps if "RECURRENCE-ID" not in c]
    overrides = [c for c in comps if "RECURRENCE-ID" in c]
    if len(masters) != 1:
        what = (
            "several VEVENTs share this UID"
            if masters
            else ("recurrence instances without their series are not supported")
        )
        raise MappingError(
            f"VEVENT {str(comps[0].get('UID'))!r} unsupported",
            [FieldError("RECURRENCE-ID" if not masters else "UID", what)],
        )
    master = masters[0]
    start = _when(master, "DTSTART", errs, "start", required=True)
    all_day = isinstance(start, date) and not isinstance(start, datetime)
    zone_name = _zone_name(master, "DTSTART")
    end = _when(master, "DTEND", errs, "end")
    if end is None and start is not None:
        if master.get("DURATION") is not None:
            end = _plus_duration(start, master, errs, "end")
        elif all_day:
            end = _shifted(start, timedelta(days=1), errs, "end")
        else:
            end = start
    zone_name = _x_text(master, "X-OXSYNC-TIMEZONE", errs, "timezone") or (
        None if all_day else zone_name
    )
    if all_day:
        if isinstance(end, datetime):
            errs.add("end", "DTEND is a date-time but DTSTART a date")
    else:
        end = _as_kind(end, datetime, errs, "end")
    fields = _common_in(master, errs)
    busy = _busy_in(master, errs)
    organizer = None
    if "ORGANIZER" in master:
        organizer = _attendee_in(
            _single(master, "ORGANIZER", errs, "organizer"), errs, "organizer", organizer=True
        )
    zone = _source_zone(master) if not all_day else UTC
    recurrence = None
    if "RRULE" in master:
        recurrence = _recurrence_in(master, start, zone, errs)
    elif "RDATE" in master:
        errs.add("recurrence", "RDATE lists are not supported")
    seq = _int(master, "SEQUENCE", errs, "sequence")
    exceptions = []
    if overrides and recurrence is None:
        errs.add("exceptions", "overrides (RECURRENCE-ID) of an event that does not recur")
    series = {
        "summary": fields["summary"],
        "note": fields["note"],
        "location": _text(master, "LOCATION", errs, "location"),
    }
    for i, ov in enumerate(overrides):
        exceptions.append(_exception_in(ov, start, end, series, busy, errs, f"exceptions[{i}]"))
    values = {
        "location": series["location"],
        "alarm": _alarm_in(master, errs),
        "importance": _importance_in(master, errs),
        "attendees": _attendees_in(master, errs),
    }
    if start is None or end is None or errs.items:
        raise MappingError(f"VEVENT {fields.get('uid')!r} unreadable", errs.items)
    return r.Event(
        **fields,
        **values,
        start=start,
        end=end,
        all_day=all_day,
        timezone=zone_name,
        busy_status=busy,
        organizer=organizer,
        recurrence=recurrence,
        exceptions=tuple(exceptions),
        sequence=seq,
    )


def _exception_in(
    ov: icalendar.cal.Component,
    series_start: Any,
    series_end: Any,
    series: dict[str, Any],
    busy: r.BusyStatus,
    errs: _Errors,
    path: str,
) -> r.EventException:
    rid_prop = _single(ov, "RECURRENCE-ID", errs, f"{path}.original_start")
    if str(getattr(rid_prop, "params", {}).get("RANGE", "")).upper() == "THISANDFUTURE":
        errs.add(f"{path}.original_start", "RANGE=THISANDFUTURE overrides are not supported")
    original = _when(ov, "RECURRENCE-ID", errs, f"{path}.original_start")
    start = _when(ov, "DTSTART", errs, f"{path}.start")
    end = _when(ov, "DTEND", errs, f"{path}.end")
    effective = start if start is not None else original
    if end is None and effective is not None and ov.get("DURATION") is not None:
        end = _plus_duration(effective, ov, errs, f"{path}.end")
    own_busy = (
        _busy_in(ov, errs) if ("TRANSP" in ov or "X-MICROSOFT-CDO-BUSYSTATUS" in ov) else busy
    )
    return _override_exception(
        original if original is not None else series_start,
        start,
        end,
        (series_start, series_end),
        series,
        {
            "summary": _text(ov, "SUMMARY", errs, f"{path}.summary"),
            "location": _text(ov, "LOCATION", errs, f"{path}.location"),
            "note": _text(ov, "DESCRIPTION", errs, f"{path}.note"),
        },
        own_busy,
        busy,
    )


def _override_exception(
    original: Any,
    start: Any,
    end: Any,
    series_span: tuple[Any, Any],
    series: dict[str, Any],
    texts: dict[str, str | None],
    own_busy: r.BusyStatus,
    busy: r.BusyStatus,
) -> r.EventException:
    """The change exception an override (a VEVENT with RECURRENCE-ID) stands for.

    An exception keeps only what differs from its series: a start equal to the original
    one, an end at the series' duration after the (new) start, texts (``summary``,
    ``location``, ``note``) and the busy status equal to the series' are left unset.
    Shared by the icalendar path and the fast path, so both read overrides alike.
    """
    effective = start if start is not None else original
    try:
        natural_end = effective + (series_span[1] - series_span[0])
    except (TypeError, OverflowError):
        natural_end = None
    return r.EventException(
        original_start=original,
        start=None if start == original else start,
        end=None if end is None or end == natural_end else end,
        busy_status=None if own_busy is busy else own_busy,
        **{k: None if v == series[k] else v for k, v in texts.items()},
    )


def _read_task(comp: icalendar.cal.Component, errs: _Errors) -> r.Task:
    if "RECURRENCE-ID" in comp:
        raise MappingError(
            f"VTODO {str(comp.get('UID'))!r} unsupported",
            [FieldError("RECURRENCE-ID", "overrides of recurring tasks are not supported")],
        )
    fields = _common_in(comp, errs)
    start = _when(comp, "DTSTART", errs, "start")
    due = _when(comp, "DUE", errs, "due")
    if due is None and start is not None and comp.get("DURATION") is not None:
        due = _plus_duration(start, comp, errs, "due")
    status_text = _text(comp, "STATUS", errs, "status")
    status = r.TaskStatus.NOT_STARTED
    if status_text is not None:
        if status_text.upper() not in _TASK_STATUS_BACK:
            errs.add("status", f"{status_text!r} is not a VTODO status")
        else:
            status = _TASK_STATUS_BACK[status_text.upper()]
    if (
        _x_text(comp, "X-OXSYNC-TASK-STATUS", errs, "status") == "WAITING"
        and status is r.TaskStatus.NOT_STARTED
    ):
        status = r.TaskStatus.WAITING
    percent = _int(comp, "PERCENT-COMPLETE", errs, "percent_complete") or 0
    if not 0 <= percent <= 100:
        errs.add("percent_complete", f"{percent} is not within 0-100")
    completed: datetime | date | None = _when(comp, "COMPLETED", errs, "date_completed")
    if (
        isinstance(completed, datetime)
        and str(_all(comp, "COMPLETED")[0].params.get("X-OXSYNC-VALUE", "")).upper() == "DATE"
    ):
        completed = completed.date()
    anchor = start if start is not None else due
    recurrence = None
    if "RRULE" in comp:  # an undated recurring task is odd but Outlook can hold it
        recurrence = _recurrence_in(comp, anchor, UTC, errs)
    extra: dict[str, Any] = {}
    for name, prop in _TASK_X_TEXT.items():
        extra[name] = _x_text(comp, prop, errs, name)
    for name, prop in _TASK_X_INT.items():
        raw = _x_text(comp, prop, errs, name)
        if raw is not None:
            try:
                extra[name] = int(raw)
            except ValueError:
                errs.add(name, f"{raw!r} is not a whole number of minutes")
    delegation = _x_text(comp, "X-OXSYNC-DELEGATION-STATE", errs, "delegation_state")
    if delegation is not None:
        try:
            extra["delegation_state"] = r.DelegationState(delegation.lower())
        except ValueError:
            errs.add("delegation_state", f"{delegation!r} is not a delegation state")
    extra["importance"] = _importance_in(comp, errs)
    extra["alarm"] = _alarm_in(comp, errs)
    extra["attendees"] = _attendees_in(comp, errs)
    if errs.items:
        raise MappingError(f"VTODO {fields.get('uid')!r} unreadable", errs.items)
    return r.Task(
        **fields,
        **extra,
        start=start,
        due=due,
        status=status,
        percent_complete=percent,
        date_completed=completed,
        recurrence=recurrence,
    )


def _common_in(comp: icalendar.cal.Component, errs: _Errors) -> dict[str, Any]:
    cls_text = (_text(comp, "CLASS", errs, "sensitivity") or "PUBLIC").upper()
    sensitivity = {
        "PRIVATE": r.Sensitivity.PRIVATE,
        "CONFIDENTIAL": r.Sensitivity.CONFIDENTIAL,
    }.get(cls_text, r.Sensitivity.NORMAL)
    if (
        sensitivity is r.Sensitivity.PRIVATE
        and _x_text(comp, "X-OXSYNC-SENSITIVITY", errs, "sensitivity") == "PERSONAL"
    ):
        sensitivity = r.Sensitivity.PERSONAL
    color: int | None = None
    raw_label = _x_text(comp, "X-OXSYNC-COLOR-LABEL", errs, "color_label")
    if raw_label is not None:
        label = ascii_int(raw_label)
        if label is not None and label <= 10:
            color = label
        else:
            errs.add("color_label", f"{raw_label!r} is not within 0-10")
    elif "COLOR" in comp:
        name = str(comp["COLOR"]).strip().lower()
        color = _COLORS.index(name) + 1 if name in _COLORS else None
    html = None
    if "X-ALT-DESC" in comp:
        alt = _single(comp, "X-ALT-DESC", errs, "note_html")
        if alt is not None and "html" in str(alt.params.get("FMTTYPE", "")).lower():
            html = _limit(_unescape(alt.to_ical().decode("utf-8")), errs, "note_html")
    return {
        "uid": _text(comp, "UID", errs, "uid"),
        "summary": _text(comp, "SUMMARY", errs, "summary"),
        "note": _text(comp, "DESCRIPTION", errs, "note"),
        "note_html": html,
        "categories": _categories_in(comp),
        "sensitivity": sensitivity,
        "color_label": color,
        "attachments": _attachments_in(comp, errs),
        "created": _stamp(comp, "CREATED", errs, "created"),
        "last_modified": _stamp(comp, "LAST-MODIFIED", errs, "last_modified"),
    }


def _categories_in(comp: icalendar.cal.Component) -> tuple[str, ...]:
    out: list[str] = []
    for prop in _all(comp, "CATEGORIES"):
        out.extend(str(c) for c in getattr(prop, "cats", [prop]) if str(c))
    return tuple(out)


def _attachments_in(comp: icalendar.cal.Component, errs: _Errors) -> tuple[r.Attachment, ...]:
    out = []
    for i, prop in enumerate(_all(comp, "ATTACH")):
        params = prop.params
        ctype = str(params.get("FMTTYPE") or "application/octet-stream")
        name = next(
            (
                str(params[k])
                for k in ("FILENAME", "X-FILENAME", "X-APPLE-FILENAME", "X-ORACLE-FILENAME")
                if k in params
            ),
            None,
        )
        raw = prop.to_ical()
        raw = raw if isinstance(raw, bytes) else raw.encode()
        if str(params.get("VALUE", "")).upper() == "BINARY" or "ENCODING" in params:
            try:  # strict: a lenient decode drops what is not base64 and may keep nothing
                data = base64.b64decode(re.sub(rb"\s+", b"", raw), validate=True)
            except ValueError:
                errs.add(f"attachments[{i}]", "invalid base64 data")
                continue
            out.append(r.Attachment(filename=name or "attachment", content_type=ctype, data=data))
        else:  # a link: kept as a tiny text/uri-list file so it survives the trip
            link = raw.decode("utf-8", "replace")
            out.append(
                r.Attachment(
                    filename=name or link.rsplit("/", 1)[-1] or "link",
                    content_type="text/uri-list",
                    data=link.encode(),
                )
            )
    return tuple(out)


def _busy_in(comp: icalendar.cal.Component, errs: _Errors) -> r.BusyStatus:
    cdo = _x_text(comp, "X-MICROSOFT-CDO-BUSYSTATUS", errs, "busy_status")
    if cdo is not None:
        if cdo.upper() in _CDO_BACK:
            return _CDO_BACK[cdo.upper()]
        errs.add("busy_status", f"{cdo!r} is not an X-MICROSOFT-CDO-BUSYSTATUS value")
    transp = (_text(comp, "TRANSP", errs, "busy_status") or "OPAQUE").upper()
    return r.BusyStatus.FREE if transp == "TRANSPARENT" else r.BusyStatus.BUSY


def _importance_in(comp: icalendar.cal.Component, errs: _Errors) -> r.Importance:
    prio = _int(comp, "PRIORITY", errs, "importance")
    if prio is None or prio == 0 or prio == 5:
        return r.Importance.NORMAL
    if not 0 <= prio <= 9:
        errs.add("importance", f"PRIORITY {prio} is not within 0-9")
        return r.Importance.NORMAL
    return r.Importance.HIGH if prio < 5 else r.Importance.LOW


def _alarm_in(comp: icalendar.cal.Component, errs: _Errors) -> r.Alarm | None:
    minutes: int | None = None
    at: datetime | None = None
    for valarm in comp.walk("VALARM"):
        if str(valarm.get("ACTION", "DISPLAY")).upper() == "NONE":
            continue  # Apple's "no alarm" placeholder
        triggers = _all(valarm, "TRIGGER")
        if len(triggers) > 1:
            errs.add("alarm", f"TRIGGER appears {len(triggers)} times in one VALARM")
            continue
        trigger = triggers[0] if triggers else None
        if trigger is None or isinstance(trigger, icalendar.prop.vBroken):
            errs.add("alarm", "VALARM without a readable TRIGGER")
            continue
        value = trigger.dt
        if isinstance(value, timedelta) and minutes is None:
            offset = value
            if str(trigger.params.get("RELATED", "START")).upper() == "END" and isinstance(
                comp, icalendar.Event
            ):
                span = _span(comp)
                if span is None:
                    errs.add("alarm", "TRIGGER;RELATED=END but no readable DTSTART and DTEND")
                    continue
                offset += span
            minutes = int(-offset.total_seconds() // 60)
        elif isinstance(value, datetime) and at is None:
            try:
                at = _to_utc(value)
            except OverflowError:
                errs.add("alarm", f"TRIGGER {value} is out of range")
    if minutes is None and at is None:
        return None
    return r.Alarm(minutes_before=minutes, at=at)


def _attendees_in(comp: icalendar.cal.Component, errs: _Errors) -> tuple[r.Attendee, ...]:
    return tuple(
        _attendee_in(p, errs, f"attendees[{i}]", organizer=False)
        for i, p in enumerate(_all(comp, "ATTENDEE"))
    )


def _attendee_in(prop: Any, errs: _Errors, path: str, *, organizer: bool) -> r.Attendee:
    params = prop.params
    uri = str(prop)
    email = user_id = None
    if uri.lower().startswith("mailto:"):
        email = uri[7:] or None
    elif uri.startswith(_USER_URN):
        user_id = uri[len(_USER_URN) :]
    user_id = str(params["X-OXSYNC-USER-ID"]) if "X-OXSYNC-USER-ID" in params else user_id
    kind = _CUTYPE_BACK.get(str(params.get("CUTYPE", "INDIVIDUAL")).upper(), r.AttendeeKind.USER)
    if "X-OXSYNC-KIND" in params:
        try:
            kind = r.AttendeeKind(str(params["X-OXSYNC-KIND"]).lower())
        except ValueError:
            errs.add(f"{path}.kind", f"{params['X-OXSYNC-KIND']!r} is not an attendee kind")
    role = _ROLE_BACK.get(
        str(params.get("ROLE", "REQ-PARTICIPANT")).upper(), r.AttendeeRole.REQUIRED
    )
    status = _PARTSTAT_BACK.get(
        str(params.get("PARTSTAT", "NEEDS-ACTION")).upper(), r.ParticipationStatus.NONE
    )
    return r.Attendee(
        email=email,
        name=str(params["CN"]) if params.get("CN") else None,
        kind=kind,
        role=role,
        status=status,
        user_id=user_id,
        comment=str(params["X-OXSYNC-COMMENT"]) if params.get("X-OXSYNC-COMMENT") else None,
    )


def _recurrence_in(
    comp: icalendar.cal.Component, anchor: Any, zone: tzinfo, errs: _Errors
) -> r.Recurrence | None:
    props = _all(comp, "RRULE")
    if len(props) != 1:
        errs.add("recurrence", "more than one RRULE is not supported")
        return None
    if "RDATE" in comp:
        errs.add("recurrence", "RDATE lists are not supported")
    if isinstance(props[0], icalendar.prop.vBroken):
        errs.add("recurrence", f"unreadable RRULE {props[0]!s}")
        return None
    try:
        local = anchor.astimezone(zone) if isinstance(anchor, datetime) else anchor
        rule = recurrence.from_rrule(props[0].to_ical().decode("ascii"), local)
    except MappingError as exc:
        errs.items.extend(exc.errors)
        return None
    except UnicodeDecodeError:
        errs.add("recurrence", f"RRULE {props[0].to_ical()!r} is not ASCII")
        return None
    except OverflowError:
        errs.add("recurrence", f"the series starts at {anchor}, out of range")
        return None
    regen = _x_text(comp, "X-OXSYNC-REGENERATE", errs, "recurrence.regenerate")
    return attrs.evolve(
        rule,
        deleted=tuple(_exdates(comp, zone, errs)),
        regenerate=(regen or "").upper() == "TRUE",
    )


def _exdates(comp: icalendar.cal.Component, zone: tzinfo, errs: _Errors) -> Iterator[date]:
    for prop in _all(comp, "EXDATE"):
        if isinstance(prop, icalendar.prop.vBroken):
            errs.add("recurrence.deleted", f"unreadable EXDATE {prop!s}")
            continue
        for value in prop.dts:
            dt = value.dt
            if not isinstance(dt, datetime):
                yield dt
                continue
            try:
                yield (dt.astimezone(zone) if dt.tzinfo else dt).date()
            except OverflowError:
                errs.add("recurrence.deleted", f"EXDATE {dt} is out of range")


# --------------------------------------------------------------------------- value helpers


class _Errors:
    """Collects every bad field of one item."""

    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(FieldError(path, message))

    def raise_if_any(self, message: str) -> None:
        if self.items:
            raise MappingError(message, self.items)


def _all(comp: icalendar.cal.Component, prop: str) -> list[Any]:
    value = comp.get(prop)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _single(comp: icalendar.cal.Component, prop: str, errs: _Errors, path: str) -> Any:
    values = _all(comp, prop)
    if len(values) > 1:
        errs.add(path, f"{prop} appears {len(values)} times")
    if values and isinstance(values[0], icalendar.prop.vBroken):
        errs.add(path, f"unreadable {prop} value {str(values[0])!r}")
        return None
    return values[0] if values else None


def _text(comp: icalendar.cal.Component, prop: str, errs: _Errors, path: str) -> str | None:
    value = _single(comp, prop, errs, path)
    if value is None:
        return None
    return _limit(str(value), errs, path)


def _x_text(comp: icalendar.cal.Component, prop: str, errs: _Errors, path: str) -> str | None:
    value = _single(comp, prop, errs, path)
    if value is None:
        return None
    raw = value.to_ical()
    return _limit(_unescape(raw.decode("utf-8") if isinstance(raw, bytes) else raw), errs, path)


def _limit(text: str, errs: _Errors, path: str) -> str | None:
    limit = _limit_of(path)
    if len(text) > limit:
        errs.add(path, f"{len(text)} characters, more than {limit}")
        return None
    return text or None


def _limit_of(path: str) -> int:
    """Notes may be long (Outlook bodies); every other text has the ordinary limit."""
    last = path.rsplit(".", 1)[-1]
    return MAX_NOTE_CHARS if last in ("note", "note_html", "description") else MAX_TEXT_CHARS


def _unescape(text: str) -> str:
    return _UNESCAPE.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), text)


def _int(comp: icalendar.cal.Component, prop: str, errs: _Errors, path: str) -> int | None:
    value = _single(comp, prop, errs, path)
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        errs.add(path, f"{value!r} is not a whole number")
        return None


def _when(
    comp: icalendar.cal.Component, prop: str, errs: _Errors, path: str, *, required: bool = False
) -> Any:
    value = _single(comp, prop, errs, path)
    if value is None:
        if required and prop not in comp:
            errs.add(path, f"{prop} is missing")
        return None
    dt = getattr(value, "dt", None)
    if isinstance(dt, datetime):
        try:
            return _to_utc(dt)
        except OverflowError:  # 0001-01-01 east of UTC, 9999-12-31 west of it
            errs.add(path, f"{prop} {dt} is out of range in UTC")
            return None
    if isinstance(dt, date):
        return dt
    errs.add(path, f"{prop} is not a date or a date-time")
    return None


def _stamp(comp: icalendar.cal.Component, prop: str, errs: _Errors, path: str) -> Any:
    value = _when(comp, prop, errs, path)
    return value if isinstance(value, datetime) else None


def _as_kind(value: Any, kind: type, errs: _Errors, path: str) -> Any:
    if value is not None and not isinstance(value, kind):
        errs.add(path, "DTEND is a date but DTSTART a date-time")
        return None
    return value


def _plus_duration(start: Any, comp: icalendar.cal.Component, errs: _Errors, path: str) -> Any:
    """``start`` plus the component's DURATION (UTC), or ``None`` with the error noted."""
    value = _single(comp, "DURATION", errs, path)
    duration = getattr(value, "dt", None) if value is not None else None
    if not isinstance(duration, timedelta):
        if value is not None:
            errs.add(path, f"DURATION {value.to_ical()!r} is not a duration")
        return None
    return _shifted(start, duration, errs, path)


def _shifted(start: Any, delta: timedelta, errs: _Errors, path: str) -> Any:
    try:
        return _to_utc(start + delta)
    except OverflowError:
        errs.add(path, f"{start} plus {delta} is out of range")
        return None


def _span(comp: icalendar.cal.Component) -> timedelta | None:
    """DTEND minus DTSTART when both are single readable values of the same kind."""
    start, end = comp.get("DTSTART"), comp.get("DTEND")
    if isinstance(start, list | icalendar.prop.vBroken) or isinstance(
        end, list | icalendar.prop.vBroken
    ):
        return None
    start, end = getattr(start, "dt", None), getattr(end, "dt", None)
    if not isinstance(start, date) or not isinstance(end, date) or type(start) is not type(end):
        return None
    try:
        span: timedelta = end - start
    except TypeError:  # a naive and an aware date-time
        return None
    return span


def _to_utc(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:  # floating time: read as UTC (documented)
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    return value


def _source_zone(comp: icalendar.cal.Component) -> tzinfo:
    """The zone DTSTART was written in (custom VTIMEZONEs included; UTC if none)."""
    value = comp.get("DTSTART")
    dt = None if isinstance(value, icalendar.prop.vBroken) else getattr(value, "dt", None)
    if isinstance(dt, datetime) and dt.tzinfo is not None:
        return dt.tzinfo
    return UTC


def _zone_name(comp: icalendar.cal.Component, prop: str) -> str | None:
    """IANA name of the zone of ``prop`` (``None`` for UTC, floating or unknown zones)."""
    value = comp.get(prop)
    if value is None or isinstance(value, list | icalendar.prop.vBroken):
        return None
    dt = getattr(value, "dt", None)
    if not isinstance(dt, datetime) or dt.tzinfo is None:
        return None
    key = getattr(dt.tzinfo, "key", None)
    if key and key not in ("UTC", "Etc/UTC"):
        return str(key)
    tzid = value.params.get("TZID")
    return _iana(str(tzid)) if tzid else None


@functools.lru_cache(maxsize=512)
def _iana(tzid: str) -> str | None:
    """Resolve a TZID: IANA, Windows (Outlook) or path-prefixed (old Mozilla) names."""
    tzid = tzid.strip().strip('"')
    if tzid in WINDOWS_TO_OLSON:
        return str(WINDOWS_TO_OLSON[tzid])
    parts = tzid.strip("/").split("/")
    for n in (3, 2, 1):
        candidate = "/".join(parts[-n:])
        if len(parts) >= n and candidate not in ("UTC", "Etc/UTC", "GMT"):
            try:
                ZoneInfo(candidate)
            except UNKNOWN_ZONE:
                continue
            return candidate
    return None


# The fast path reads this module's tables at call time; imported last because it imports
# this module.
from oxsync.mappings import ical_fast  # noqa: E402
