"""The fast path of :mod:`oxsync.mappings.ical`: content lines ⇄ records, no object model.

:func:`read` decodes iCalendar text straight into :class:`~oxsync.core.records.Event` and
``Task`` records through :mod:`oxsync.mappings.contentline`; :func:`write_event` and
:func:`write_task` format records straight into folded content lines. They implement the
same table as the library-based path of :mod:`oxsync.mappings.ical` (whose constants and
value rules they reuse) for the inputs most files hold, and nothing else:

- **Reading** declines (raises :class:`~oxsync.mappings.contentline.Unsupported`) on
  anything outside its subset — a ``VTIMEZONE`` that is not an IANA zone (Outlook's
  Windows names, custom rules), ``TZID`` values that are no IANA name, inline ``ATTACH``,
  ``VJOURNAL``/``VFREEBUSY``, unknown subcomponents, value forms other than ``DATE`` /
  ``DATE-TIME`` / ``DURATION``, backslash escapes libraries disagree on, repeated
  single-valued properties — and on **every field error**. :func:`oxsync.mappings.ical.
  ical_to_results` then reads the whole document with the ``icalendar`` library, so
  errors are reported (all bad fields at once) exactly as before and nothing is mis-read.
- **Writing** declines on records it cannot format the way the library would (an
  attendee name with a double quote, attachments, any field error); the library writer
  then produces the output or the typed error.

RRULE values and durations are still parsed by ``icalendar``'s own value classes
(``vRecur``, ``vDuration``), cached by text: they are cheap entry points; the cost was the
content-line parser and the component objects (profile in :mod:`~oxsync.mappings.contentline`).

Equivalence with the library path is proved by ``tests/mappings/test_ical_fast.py``
(Hypothesis: generated records written by the fast writer read back through the library
as the record; generated, mutated and fixture documents read the same through both
readers, or the fast reader declines).

The module is longer than most because it restates the whole VEVENT/VTODO table of
:mod:`oxsync.mappings.ical` in both directions; the two halves of each row stay together.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import icalendar

from oxsync.core import records as r
from oxsync.errors import MappingError
from oxsync.mappings import ical as base
from oxsync.mappings import recurrence
from oxsync.mappings.contentline import (
    ContentLine,
    Unsupported,
    escape_text,
    fold,
    parse_line,
    unescape_text,
    unfold,
)
from oxsync.mappings.values import ascii_int

__all__ = ["read", "write_event", "write_task"]


# =========================================================================== reading


class _Component:
    """One BEGIN/END block: its properties by upper-case name and its subcomponents."""

    __slots__ = ("children", "name", "props")

    def __init__(self, name: str) -> None:
        self.name = name
        self.props: dict[str, list[ContentLine]] = {}
        self.children: list[_Component] = []


_ITEMS = ("VEVENT", "VTODO")


def read(text: str) -> list[r.Record | MappingError]:
    """The records of ``text`` (already decoded, known VTIMEZONEs dropped), in the order
    :func:`oxsync.mappings.ical.ical_to_results` gives them.

    Raises :class:`Unsupported` when the library path must decide (see the module doc).
    """
    results: list[r.Record | MappingError] = []
    for cal in _parse(text):
        groups: dict[str, list[_Component]] = {}
        for comp in cal.children:
            if comp.name == "VTODO":
                results.append(_read_task(comp))
            else:
                uid = _one(comp, "UID")
                key = (_unescape(uid.value) or base._NO_UID) if uid is not None else base._NO_UID
                groups.setdefault(key, []).append(comp)
        uidless = groups.pop(base._NO_UID, [])
        if sum("RECURRENCE-ID" not in c.props for c in uidless) > 1:
            groups.update({f"{base._NO_UID}{i}": [c] for i, c in enumerate(uidless)})
        elif uidless:
            groups[base._NO_UID] = uidless
        for comps in groups.values():
            results.append(_read_event_group(comps))
    return results


def _parse(text: str) -> list[_Component]:
    """The VCALENDARs of ``text``; anything but VEVENT/VTODO (with VALARMs) declines."""
    calendars: list[_Component] = []
    stack: list[_Component] = []
    for raw in unfold(text):
        line = parse_line(raw)
        name = line.name
        if name == "BEGIN" or name == "END":
            if line.params:
                raise Unsupported(raw[:40])
            what = line.value.upper()
            if name == "END":
                if not stack or stack.pop().name != what:
                    raise Unsupported(f"END:{what} does not close its component")
                continue
            depth = len(stack)
            allowed = ("VCALENDAR",) if depth == 0 else _ITEMS if depth == 1 else ("VALARM",)
            if depth > 2 or what not in allowed or (depth == 2 and stack[-1].name not in _ITEMS):
                raise Unsupported(f"component {what[:40]} inside {depth} others")
            comp = _Component(what)
            (stack[-1].children if stack else calendars).append(comp)
            stack.append(comp)
        elif not stack:
            raise Unsupported("property outside a component")
        else:
            props = stack[-1].props
            if name in props:
                props[name].append(line)
            else:
                props[name] = [line]
    if stack or not calendars:
        raise Unsupported("unterminated or empty calendar")
    return calendars


# --------------------------------------------------------------------------- value access


def _one(comp: _Component, name: str) -> ContentLine | None:
    lines = comp.props.get(name)
    if lines is None:
        return None
    if len(lines) > 1:
        raise Unsupported(f"{name} repeated")
    return lines[0]


def _unescape(raw: str) -> str:
    """A TEXT value as the library path reads it (icalendar's ``unescape_backslash``)."""
    return unescape_text(raw) if "\\" in raw else raw


def _x_unescape(raw: str) -> str:
    """An X- value: icalendar keeps it raw (RFC 7265 "unknown") and ``ical._unescape``
    undoes ``\\\\ \\; \\, \\n``; ``\\:`` stays as written there, so it declines here."""
    return unescape_text(raw, "\\,;nN") if "\\" in raw else raw


def _limit(text: str, path: str) -> str | None:
    if len(text) > base._limit_of(path):
        raise Unsupported(f"{path} too long")  # the library path reports it
    return text or None


def _text(comp: _Component, name: str, path: str) -> str | None:
    line = _one(comp, name)
    return None if line is None else _limit(_unescape(line.value), path)


def _x_text(comp: _Component, name: str, path: str) -> str | None:
    line = _one(comp, name)
    return None if line is None else _limit(_x_unescape(line.value), path)


def _int(comp: _Component, name: str) -> int | None:
    line = _one(comp, name)
    if line is None:
        return None
    try:
        return int(line.value)
    except ValueError:
        raise Unsupported(f"{name} is not a number") from None


_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_DATE_TIME = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(Z?)")
_UTC_ZONE = ZoneInfo("UTC")


@functools.lru_cache(maxsize=256)
def _zone(tzid: str) -> ZoneInfo:
    if not base._is_iana(tzid):
        raise Unsupported(f"TZID {tzid[:40]!r}")
    return ZoneInfo(tzid)


def _value(line: ContentLine) -> datetime | date:
    """A DATE or DATE-TIME value as icalendar gives it (aware in its TZID, UTC for ``Z``,
    naive when floating)."""
    kind = line.param("VALUE")
    raw = line.value
    if kind is None or kind.upper() == "DATE-TIME":
        match = _DATE_TIME.fullmatch(raw)
        if match is not None:
            y, mo, d, h, mi, s, z = match.groups()
            tzid = line.param("TZID")
            if z and tzid is not None:
                raise Unsupported("TZID on a UTC value")
            zone = _UTC_ZONE if z else (_zone(tzid) if tzid is not None else None)
            try:
                return datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), tzinfo=zone)
            except ValueError:
                raise Unsupported(f"bad date-time {raw!r}") from None
        if kind is not None:
            raise Unsupported(f"bad date-time {raw!r}")
    elif kind.upper() != "DATE":
        raise Unsupported(f"VALUE={kind}")
    match = _DATE.fullmatch(raw)
    if match is None:
        raise Unsupported(f"bad date {raw!r}")
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        raise Unsupported(f"bad date {raw!r}") from None


def _when(comp: _Component, name: str) -> Any:
    """Like ``ical._when``: UTC datetimes, dates as they are."""
    line = _one(comp, name)
    return None if line is None else base._to_utc(_value(line))


@functools.lru_cache(maxsize=256)
def _duration(raw: str) -> timedelta:
    parse: Any = icalendar.vDuration.from_ical
    try:
        value = parse(raw)
    except ValueError:
        raise Unsupported(f"bad duration {raw!r}") from None
    if not isinstance(value, timedelta):
        raise Unsupported(f"bad duration {raw!r}")
    return value


@functools.lru_cache(maxsize=1024)
def _rrule_text(raw: str) -> str:
    """RRULE text normalised by icalendar's own ``vRecur`` (as the library path does)."""
    try:
        return str(icalendar.vRecur.from_ical(raw).to_ical().decode("ascii"))
    except (ValueError, TypeError, UnicodeDecodeError):
        raise Unsupported("unreadable RRULE") from None


# --------------------------------------------------------------------------- items


def _read_event_group(comps: list[_Component]) -> r.Event:
    masters = [c for c in comps if "RECURRENCE-ID" not in c.props]
    overrides = [c for c in comps if "RECURRENCE-ID" in c.props]
    if len(masters) != 1:
        raise Unsupported("orphan overrides or several masters")
    master = masters[0]
    start_line = _one(master, "DTSTART")
    if start_line is None:
        raise Unsupported("DTSTART missing")
    raw_start = _value(start_line)
    start = base._to_utc(raw_start)
    all_day = not isinstance(start, datetime)
    end = _when(master, "DTEND")
    if end is None:
        duration = _one(master, "DURATION")
        if duration is not None:
            end = base._to_utc(start + _duration(duration.value))  # UTC arithmetic, as there
        else:
            end = start + timedelta(days=1) if all_day else start
    zone_name = None
    source_zone: tzinfo = UTC  # the zone DTSTART was written in (``ical._source_zone``)
    if isinstance(raw_start, datetime) and raw_start.tzinfo is not None:
        source_zone = raw_start.tzinfo
        tzid = start_line.param("TZID")  # as ``ical._zone_name``: UTC names resolve via _iana
        if tzid is not None:
            zone_name = tzid if tzid not in ("UTC", "Etc/UTC") else base._iana(tzid)
    zone_name = _x_text(master, "X-OXSYNC-TIMEZONE", "timezone") or (None if all_day else zone_name)
    if isinstance(end, datetime) == all_day:
        raise Unsupported("DTEND and DTSTART of different kinds")
    fields = _common(master)
    busy = _busy(master)
    organizer = None
    if "ORGANIZER" in master.props:
        line = _one(master, "ORGANIZER")
        assert line is not None
        organizer = _attendee(line, organizer=True)
    zone = UTC if all_day else source_zone
    rule = None
    if "RRULE" in master.props:
        rule = _recurrence(master, start, zone)
    elif "RDATE" in master.props:
        raise Unsupported("RDATE")
    sequence = _int(master, "SEQUENCE")
    if overrides and rule is None:
        raise Unsupported("overrides of an event that does not recur")
    location = _text(master, "LOCATION", "location")
    series = {"summary": fields["summary"], "note": fields["note"], "location": location}
    exceptions = tuple(_exception(ov, start, end, series, busy) for ov in overrides)
    return r.Event(
        **fields,
        location=location,
        alarm=_alarm(master, is_event=True),
        importance=_importance(master),
        attendees=_attendees(master),
        start=start,
        end=end,
        all_day=all_day,
        timezone=zone_name,
        busy_status=busy,
        organizer=organizer,
        recurrence=rule,
        exceptions=exceptions,
        sequence=sequence,
    )


def _exception(
    ov: _Component, series_start: Any, series_end: Any, series: dict[str, Any], busy: r.BusyStatus
) -> r.EventException:
    rid = _one(ov, "RECURRENCE-ID")
    assert rid is not None
    if rid.params and set(rid.params) - {"TZID", "VALUE"}:
        raise Unsupported("RECURRENCE-ID parameters")  # RANGE=THISANDFUTURE and others
    original = base._to_utc(_value(rid))
    start_line = _one(ov, "DTSTART")
    raw_start = None if start_line is None else _value(start_line)
    start = base._to_utc(raw_start)
    end = _when(ov, "DTEND")
    effective = start if start is not None else original
    duration = _one(ov, "DURATION")
    if end is None and duration is not None:
        end = base._to_utc(effective + _duration(duration.value))
    return base._override_exception(
        original,
        start,
        end,
        (series_start, series_end),
        series,
        {
            "summary": _text(ov, "SUMMARY", "exceptions.summary"),
            "location": _text(ov, "LOCATION", "exceptions.location"),
            "note": _text(ov, "DESCRIPTION", "exceptions.note"),
        },
        _busy(ov) if ("TRANSP" in ov.props or _CDO in ov.props) else busy,
        busy,
    )


def _read_task(comp: _Component) -> r.Task:
    if "RECURRENCE-ID" in comp.props:
        raise Unsupported("VTODO override")
    fields = _common(comp)
    start = _when(comp, "DTSTART")
    due = _when(comp, "DUE")
    duration = _one(comp, "DURATION")
    if due is None and start is not None and duration is not None:
        due = base._to_utc(start + _duration(duration.value))
    status = r.TaskStatus.NOT_STARTED
    status_text = _text(comp, "STATUS", "status")
    if status_text is not None:
        if status_text.upper() not in base._TASK_STATUS_BACK:
            raise Unsupported("STATUS")
        status = base._TASK_STATUS_BACK[status_text.upper()]
    if (
        _x_text(comp, "X-OXSYNC-TASK-STATUS", "status") == "WAITING"
        and status is r.TaskStatus.NOT_STARTED
    ):
        status = r.TaskStatus.WAITING
    percent = _int(comp, "PERCENT-COMPLETE") or 0
    if not 0 <= percent <= 100:
        raise Unsupported("PERCENT-COMPLETE")
    completed_line = _one(comp, "COMPLETED")
    completed: datetime | date | None = None
    if completed_line is not None:
        completed = base._to_utc(_value(completed_line))
        marker = completed_line.param("X-OXSYNC-VALUE")
        if isinstance(completed, datetime) and (marker or "").upper() == "DATE":
            completed = completed.date()
    anchor = start if start is not None else due
    rule = _recurrence(comp, anchor, UTC) if "RRULE" in comp.props else None
    extra: dict[str, Any] = {}
    for name, prop in base._TASK_X_TEXT.items():
        extra[name] = _x_text(comp, prop, name)
    for name, prop in base._TASK_X_INT.items():
        raw = _x_text(comp, prop, name)
        if raw is not None:
            try:
                extra[name] = int(raw)
            except ValueError:
                raise Unsupported(name) from None
    delegation = _x_text(comp, "X-OXSYNC-DELEGATION-STATE", "delegation_state")
    if delegation is not None:
        try:
            extra["delegation_state"] = r.DelegationState(delegation.lower())
        except ValueError:
            raise Unsupported("delegation_state") from None
    return r.Task(
        **fields,
        **extra,
        importance=_importance(comp),
        alarm=_alarm(comp, is_event=False),
        attendees=_attendees(comp),
        start=start,
        due=due,
        status=status,
        percent_complete=percent,
        date_completed=completed,
        recurrence=rule,
    )


_CDO = "X-MICROSOFT-CDO-BUSYSTATUS"
_SENSITIVITY = {"PRIVATE": r.Sensitivity.PRIVATE, "CONFIDENTIAL": r.Sensitivity.CONFIDENTIAL}


def _common(comp: _Component) -> dict[str, Any]:
    cls_text = (_text(comp, "CLASS", "sensitivity") or "PUBLIC").upper()
    sensitivity = _SENSITIVITY.get(cls_text, r.Sensitivity.NORMAL)
    if (
        sensitivity is r.Sensitivity.PRIVATE
        and _x_text(comp, "X-OXSYNC-SENSITIVITY", "sensitivity") == "PERSONAL"
    ):
        sensitivity = r.Sensitivity.PERSONAL
    color: int | None = None
    raw_label = _x_text(comp, "X-OXSYNC-COLOR-LABEL", "color_label")
    if raw_label is not None:
        color = ascii_int(raw_label)
        if color is None or color > 10:
            raise Unsupported("color_label")
    else:
        color_line = _one(comp, "COLOR")
        if color_line is not None:
            name = color_line.value.strip().lower()
            color = base._COLORS.index(name) + 1 if name in base._COLORS else None
    html = None
    alt = _one(comp, "X-ALT-DESC")
    if alt is not None and "html" in (alt.param("FMTTYPE") or "").lower():
        html = _limit(_x_unescape(alt.value), "note_html")
    categories: list[str] = []
    for line in comp.props.get("CATEGORIES", ()):
        if "\\" in line.value:
            raise Unsupported("escaped category")
        categories.extend(c for c in line.value.split(",") if c)
    return {
        "uid": _text(comp, "UID", "uid"),
        "summary": _text(comp, "SUMMARY", "summary"),
        "note": _text(comp, "DESCRIPTION", "note"),
        "note_html": html,
        "categories": tuple(categories),
        "sensitivity": sensitivity,
        "color_label": color,
        "attachments": _links(comp),
        "created": _stamp(comp, "CREATED"),
        "last_modified": _stamp(comp, "LAST-MODIFIED"),
    }


_FILENAME_PARAMS = ("FILENAME", "X-FILENAME", "X-APPLE-FILENAME", "X-ORACLE-FILENAME")


def _links(comp: _Component) -> tuple[r.Attachment, ...]:
    """ATTACH links (Google's Drive files), kept as ``text/uri-list`` files as the library
    path keeps them; inline (base64) attachments decline."""
    out = []
    for line in comp.props.get("ATTACH", ()):
        kind = line.param("VALUE")
        if "ENCODING" in line.params or (kind is not None and kind.upper() != "URI"):
            raise Unsupported("inline ATTACH")
        link = _unescape(line.value)
        name = next((n for k in _FILENAME_PARAMS if (n := line.param(k)) is not None), None)
        out.append(
            r.Attachment(
                filename=name or link.rsplit("/", 1)[-1] or "link",
                content_type="text/uri-list",
                data=link.encode(),
            )
        )
    return tuple(out)


def _stamp(comp: _Component, name: str) -> datetime | None:
    value = _when(comp, name)
    return value if isinstance(value, datetime) else None


def _busy(comp: _Component) -> r.BusyStatus:
    cdo = _x_text(comp, _CDO, "busy_status")
    if cdo is not None:
        if cdo.upper() not in base._CDO_BACK:
            raise Unsupported(_CDO)
        return base._CDO_BACK[cdo.upper()]
    transp = (_text(comp, "TRANSP", "busy_status") or "OPAQUE").upper()
    return r.BusyStatus.FREE if transp == "TRANSPARENT" else r.BusyStatus.BUSY


def _importance(comp: _Component) -> r.Importance:
    prio = _int(comp, "PRIORITY")
    if prio is None or prio == 0 or prio == 5:
        return r.Importance.NORMAL
    if not 0 <= prio <= 9:
        raise Unsupported("PRIORITY")
    return r.Importance.HIGH if prio < 5 else r.Importance.LOW


def _alarm(comp: _Component, *, is_event: bool) -> r.Alarm | None:
    minutes: int | None = None
    at: datetime | None = None
    for valarm in comp.children:
        action = _one(valarm, "ACTION")
        if action is not None and _unescape(action.value).upper() == "NONE":
            continue
        trigger = _one(valarm, "TRIGGER")
        if trigger is None:
            raise Unsupported("VALARM without TRIGGER")
        kind = (trigger.param("VALUE") or "DURATION").upper()
        if kind == "DURATION":
            value: Any = _duration(trigger.value)
        elif kind == "DATE-TIME":
            value = _value(trigger)
        else:
            raise Unsupported(f"TRIGGER;VALUE={kind}")
        if isinstance(value, timedelta) and minutes is None:
            offset = value
            if (trigger.param("RELATED") or "START").upper() == "END" and is_event:
                start, end = _one(comp, "DTSTART"), _one(comp, "DTEND")
                if start is not None and end is not None:
                    offset += _value(end) - _value(start)
            minutes = int(-offset.total_seconds() // 60)
        elif isinstance(value, datetime) and at is None:
            at = base._to_utc(value)
    if minutes is None and at is None:
        return None
    return r.Alarm(minutes_before=minutes, at=at)


def _attendees(comp: _Component) -> tuple[r.Attendee, ...]:
    return tuple(_attendee(line, organizer=False) for line in comp.props.get("ATTENDEE", ()))


def _attendee(line: ContentLine, *, organizer: bool) -> r.Attendee:
    if "\\" in line.value or not line.value.isprintable():
        raise Unsupported("escaped address")  # icalendar rejects some (a newline) as broken
    uri = line.value
    email = user_id = None
    if uri.lower().startswith("mailto:"):
        email = uri[7:] or None
    elif uri.startswith(base._USER_URN):
        user_id = uri[len(base._USER_URN) :]
    own_id = line.param("X-OXSYNC-USER-ID")
    user_id = own_id if own_id is not None else user_id
    kind = base._CUTYPE_BACK.get(
        (line.param("CUTYPE") or "INDIVIDUAL").upper(), r.AttendeeKind.USER
    )
    kind_text = line.param("X-OXSYNC-KIND")
    if kind_text is not None:
        try:
            kind = r.AttendeeKind(kind_text.lower())
        except ValueError:
            raise Unsupported("X-OXSYNC-KIND") from None
    role = base._ROLE_BACK.get(
        (line.param("ROLE") or "REQ-PARTICIPANT").upper(), r.AttendeeRole.REQUIRED
    )
    status = base._PARTSTAT_BACK.get(
        (line.param("PARTSTAT") or "NEEDS-ACTION").upper(), r.ParticipationStatus.NONE
    )
    return r.Attendee(
        email=email,
        name=line.param("CN") or None,
        kind=kind,
        role=role,
        status=status,
        user_id=user_id,
        comment=line.param("X-OXSYNC-COMMENT") or None,
    )


def _recurrence(comp: _Component, anchor: Any, zone: tzinfo) -> r.Recurrence:
    line = _one(comp, "RRULE")
    if line is None or "RDATE" in comp.props or line.params:
        raise Unsupported("RRULE form")
    local = anchor.astimezone(zone) if isinstance(anchor, datetime) else anchor
    try:
        rule = recurrence.from_rrule(_rrule_text(line.value), local)
    except MappingError:
        raise Unsupported("RRULE the model cannot hold") from None
    regen = _x_text(comp, "X-OXSYNC-REGENERATE", "recurrence.regenerate")
    deleted: list[date] = []
    for ex in comp.props.get("EXDATE", ()):
        single = ContentLine(ex.name, ex.params, "")
        for raw in ex.value.split(","):
            single.value = raw
            dt = _value(single)
            if isinstance(dt, datetime):
                deleted.append((dt.astimezone(zone) if dt.tzinfo else dt).date())
            else:
                deleted.append(dt)
    return attrs.evolve(rule, deleted=tuple(deleted), regenerate=(regen or "").upper() == "TRUE")


# =========================================================================== writing


def write_event(ev: r.Event) -> bytes:
    """The VCALENDAR of ``ev``, as :func:`oxsync.mappings.ical.event_to_ical` defines it.

    Raises :class:`Unsupported` when the library writer must decide (see the module doc).
    """
    zone = _write_zone(ev.timezone)
    out = _Lines()
    _event(out, ev, zone)
    for exc in ev.exceptions:
        _override(out, ev, exc, zone)
    return _calendar(out, zone, ev.start)


def write_task(task: r.Task) -> bytes:
    """The VCALENDAR of ``task``, as :func:`oxsync.mappings.ical.task_to_ical` defines it."""
    out = _Lines()
    out.raw("BEGIN:VTODO")
    _common_out(out, task)
    out.when("DTSTART", task.start, None)
    out.when("DUE", task.due, None)
    out.raw("STATUS:" + base._TASK_STATUS[task.status])
    if task.importance in base._PRIORITY:
        out.raw(f"PRIORITY:{base._PRIORITY[task.importance]}")
    if task.status is r.TaskStatus.WAITING:
        out.raw("X-OXSYNC-TASK-STATUS:WAITING")
    if not 0 <= task.percent_complete <= 100:
        raise Unsupported("percent_complete")
    if task.percent_complete:
        out.raw(f"PERCENT-COMPLETE:{task.percent_complete}")
    done = task.date_completed
    if isinstance(done, datetime):
        out.when("COMPLETED", done, None)
    elif isinstance(done, date):
        out.raw("COMPLETED;X-OXSYNC-VALUE=DATE:" + f"{_ymd(done)}T000000Z")
    anchor = task.start if task.start is not None else task.due
    _alarm_out(out, task.alarm, related_end=task.start is None and task.due is not None)
    for att in task.attendees:
        _attendee_out(out, "ATTENDEE", att, organizer=False)
    for name, prop in base._TASK_X_TEXT.items():
        out.x_text(prop, getattr(task, name), name)
    for name, prop in base._TASK_X_INT.items():
        value = getattr(task, name)
        if value is not None:
            out.raw(f"{prop}:{_x_escape(str(value))}")
    if task.delegation_state is not r.DelegationState.NOT_DELEGATED:
        out.raw("X-OXSYNC-DELEGATION-STATE:" + task.delegation_state.value.upper())
    if task.recurrence is not None:
        _recurrence_out(out, task.recurrence, anchor, None)
    out.raw("END:VTODO")
    return _calendar(out, None, None)


class _Lines:
    """Content lines of one component tree, formatted and folded as they are added."""

    __slots__ = ("parts",)

    def __init__(self) -> None:
        self.parts: list[str] = []

    def raw(self, line: str) -> None:
        self.parts.append(fold(line))

    def text(self, prop: str, value: str | None, path: str) -> None:
        checked = _checked(value, path)
        if checked is not None:
            self.parts.append(fold(f"{prop}:{escape_text(checked)}"))

    def x_text(self, prop: str, value: str | None, path: str) -> None:
        checked = _checked(value, path)
        if checked is not None:
            self.parts.append(fold(f"{prop}:{_x_escape(checked)}"))

    def when(self, prop: str, value: datetime | date | None, zone: tzinfo | None) -> None:
        if value is None:
            return
        if isinstance(value, datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                raise Unsupported("naive date-time")
            if zone is None or getattr(zone, "key", None) in ("UTC", "Etc/UTC"):
                self.parts.append(f"{prop}:{_stamp_utc(value)}\r\n")
            else:
                local = value.astimezone(zone)
                self.parts.append(
                    fold(f"{prop};TZID={zone.key}:{_ymd(local)}T{local:%H%M%S}")  # type: ignore[attr-defined]
                )
        else:
            self.parts.append(f"{prop};VALUE=DATE:{_ymd(value)}\r\n")


def _ymd(value: date) -> str:
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


def _stamp_utc(value: datetime) -> str:
    utc = value.astimezone(UTC)
    return f"{_ymd(utc)}T{utc.hour:02d}{utc.minute:02d}{utc.second:02d}Z"


def _checked(value: str | None, path: str) -> str | None:
    """``ical._text_out`` without the error list: any problem declines."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > base._limit_of(path):
        raise Unsupported(path)
    if not value.isprintable() and (base._CONTROL.search(value) or "\r" in value):
        raise Unsupported(path)
    return value


def _x_escape(text: str) -> str:
    """An X- value as icalendar writes a ``vText`` (``:`` is not escaped)."""
    return escape_text(text)


def _write_zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return _zone(name) if base._is_iana(name) else ZoneInfo(name)
    except Exception:
        raise Unsupported(f"zone {name!r}") from None


def _calendar(out: _Lines, zone: ZoneInfo | None, start: datetime | date | None) -> bytes:
    head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:" + base.PRODID + "\r\n"
    parts = [head.encode()]
    if zone is not None and zone.key not in ("UTC", "Etc/UTC"):
        parts.append(base._vtimezone(zone.key, start.year if start else 2000))
    parts.append("".join(out.parts).encode("utf-8"))
    parts.append(b"END:VCALENDAR\r\n")
    return b"".join(parts)


def _event(out: _Lines, ev: r.Event, zone: ZoneInfo | None) -> None:
    _check_span(ev)
    out.raw("BEGIN:VEVENT")
    _common_out(out, ev)
    out.text("LOCATION", ev.location, "location")
    out.when("DTSTART", ev.start, zone)
    out.when("DTEND", ev.end, zone)
    if ev.timezone and (ev.all_day or zone is None or zone.key in ("UTC", "Etc/UTC")):
        out.x_text("X-OXSYNC-TIMEZONE", ev.timezone, "timezone")
    out.raw("TRANSP:" + ("TRANSPARENT" if ev.busy_status is r.BusyStatus.FREE else "OPAQUE"))
    out.raw(f"{_CDO}:{base._CDO[ev.busy_status]}")
    if ev.importance in base._PRIORITY:
        out.raw(f"PRIORITY:{base._PRIORITY[ev.importance]}")
    if ev.sequence is not None:
        out.raw(f"SEQUENCE:{int(ev.sequence)}")
    if ev.organizer is not None:
        _attendee_out(out, "ORGANIZER", ev.organizer, organizer=True)
    for att in ev.attendees:
        _attendee_out(out, "ATTENDEE", att, organizer=False)
    _alarm_out(out, ev.alarm, related_end=False)
    if ev.recurrence is not None:
        _recurrence_out(out, ev.recurrence, ev.start, zone)
    elif ev.exceptions:
        raise Unsupported("exceptions of an event that does not recur")
    out.raw("END:VEVENT")


def _check_span(ev: r.Event) -> None:
    start, end = ev.start, ev.end
    is_dt = [isinstance(v, datetime) for v in (start, end)]
    if any(is_dt) != all(is_dt) or ev.all_day == all(is_dt):
        raise Unsupported("span kinds")
    if isinstance(start, datetime) and isinstance(end, datetime):
        for v in (start, end):
            if v.tzinfo is None or v.utcoffset() is None:
                raise Unsupported("naive date-time")
        if end < start:
            raise Unsupported("ends before it starts")
    elif end <= start:
        raise Unsupported("ends before it starts")


def _override(out: _Lines, ev: r.Event, exc: r.EventException, zone: ZoneInfo | None) -> None:
    out.raw("BEGIN:VEVENT")
    if ev.uid is not None:
        out.text("UID", ev.uid, "uid")
    out.when("RECURRENCE-ID", exc.original_start, zone)
    start = exc.start if exc.start is not None else exc.original_start
    end = exc.end
    if end is None:
        try:
            end = start + (ev.end - ev.start)
        except TypeError:
            raise Unsupported("exception mixes a date and a date-time") from None
    out.when("DTSTART", start, zone)
    out.when("DTEND", end, zone)
    for prop, own, series in (
        ("SUMMARY", exc.summary, ev.summary),
        ("LOCATION", exc.location, ev.location),
        ("DESCRIPTION", exc.note, ev.note),
    ):
        out.text(prop, own if own is not None else series, f"exceptions.{prop.lower()}")
    busy = exc.busy_status or ev.busy_status
    out.raw("TRANSP:" + ("TRANSPARENT" if busy is r.BusyStatus.FREE else "OPAQUE"))
    out.raw(f"{_CDO}:{base._CDO[busy]}")
    out.raw("DTSTAMP:" + _stamp_utc(ev.last_modified or ev.created or _EPOCH))
    out.raw("END:VEVENT")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _common_out(out: _Lines, rec: r.Event | r.Task) -> None:
    if rec.attachments:
        raise Unsupported("attachments")
    if rec.uid is not None:
        out.text("UID", rec.uid, "uid")
    out.raw("DTSTAMP:" + _stamp_utc(rec.last_modified or rec.created or _EPOCH))
    if rec.created is not None:
        out.raw("CREATED:" + _stamp_utc(rec.created))
    if rec.last_modified is not None:
        out.raw("LAST-MODIFIED:" + _stamp_utc(rec.last_modified))
    out.text("SUMMARY", rec.summary, "summary")
    out.text("DESCRIPTION", rec.note, "note")
    if rec.note_html:
        html = _checked(rec.note_html, "note_html")
        out.raw("X-ALT-DESC;FMTTYPE=text/html:" + _x_escape(html or ""))
    if rec.categories:
        for cat in rec.categories:
            if not cat or _checked(cat, "categories") is None:
                raise Unsupported("empty category")
        out.raw("CATEGORIES:" + ",".join(escape_text(c) for c in rec.categories))
    if rec.sensitivity in base._CLASS:
        out.raw("CLASS:" + base._CLASS[rec.sensitivity])
        if rec.sensitivity is r.Sensitivity.PERSONAL:
            out.raw("X-OXSYNC-SENSITIVITY:PERSONAL")
    if rec.color_label is not None:
        if not 0 <= rec.color_label <= 10:
            raise Unsupported("color_label")
        out.raw(f"X-OXSYNC-COLOR-LABEL:{rec.color_label}")
        if rec.color_label:
            out.raw("COLOR:" + base._COLORS[rec.color_label - 1])


def _alarm_out(out: _Lines, alarm: r.Alarm | None, *, related_end: bool) -> None:
    if alarm is None:
        return
    if alarm.minutes_before is None and alarm.at is None:
        raise Unsupported("empty alarm")
    if alarm.minutes_before is not None:
        related = ";RELATED=END" if related_end else ""
        _valarm(out, f"TRIGGER{related}:{_trigger(alarm.minutes_before)}")
    if alarm.at is not None:
        if alarm.at.tzinfo is None or alarm.at.utcoffset() is None:
            raise Unsupported("naive alarm")
        _valarm(out, "TRIGGER;VALUE=DATE-TIME:" + _stamp_utc(alarm.at))


@functools.lru_cache(maxsize=256)
def _trigger(minutes_before: int) -> str:
    """A relative TRIGGER as icalendar's ``vDuration`` writes it (``-PT15M``)."""
    value: Any = icalendar.vDuration(timedelta(minutes=-minutes_before))
    return str(value.to_ical().decode("ascii"))


_VALARM = "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Reminder\r\n{}END:VALARM\r\n"


def _valarm(out: _Lines, trigger: str) -> None:
    out.parts.append(_VALARM.format(fold(trigger)))


def _attendee_out(out: _Lines, prop: str, att: r.Attendee, *, organizer: bool) -> None:
    if att.email:
        if not att.email.isprintable():
            raise Unsupported("attendee e-mail")
        uri = f"mailto:{att.email}"
    elif att.user_id:
        uri = base._USER_URN + att.user_id
    else:
        uri = base._NO_MAIL
    params: list[tuple[str, str]] = []
    for key, value, field_name in (
        ("CN", att.name, "name"),
        ("X-OXSYNC-COMMENT", att.comment, "comment"),
        ("X-OXSYNC-USER-ID", att.user_id, "user_id"),
    ):
        text = _checked(value, field_name)
        if text is not None:
            if '"' in text or "\n" in text or "^" in text or "\\" in text:
                raise Unsupported("parameter text")  # RFC 6868 forms: the library writes them
            params.append((key, f'"{text}"'))  # always quoted, so blanks survive
    if (
        not organizer
        or att.role is not r.AttendeeRole.REQUIRED
        or (att.status is not r.ParticipationStatus.NONE)
    ):
        if not organizer:
            params.append(("CUTYPE", base._CUTYPE[att.kind]))
        params.append(("ROLE", base._ROLE[att.role]))
        params.append(("PARTSTAT", base._PARTSTAT[att.status]))
    if att.kind in (r.AttendeeKind.EXTERNAL, r.AttendeeKind.RESOURCE_GROUP) or (
        organizer and att.kind is not r.AttendeeKind.USER
    ):
        params.append(("X-OXSYNC-KIND", att.kind.value))
    if "\\" in uri or not uri.isprintable():
        raise Unsupported("attendee address")
    head = prop + "".join(f";{k}={v}" for k, v in params)
    out.raw(f"{head}:{uri}")


def _recurrence_out(
    out: _Lines, rec: r.Recurrence, anchor: datetime | date | None, zone: tzinfo | None
) -> None:
    local = anchor.astimezone(zone or UTC) if isinstance(anchor, datetime) else anchor
    try:
        text = recurrence.to_rrule(rec, local)
    except MappingError:
        raise Unsupported("recurrence") from None
    out.raw("RRULE:" + _rrule_text(text))
    if rec.deleted:
        values: Sequence[datetime | date] = (
            recurrence.exdates(rec, local) if local else list(rec.deleted)
        )
        out.raw(_exdate_line(values))
    if rec.regenerate:
        out.raw("X-OXSYNC-REGENERATE:TRUE")


def _exdate_line(values: Sequence[datetime | date]) -> str:
    first = values[0]
    if not isinstance(first, datetime):
        return "EXDATE;VALUE=DATE:" + ",".join(_ymd(v) for v in values)
    key = getattr(first.tzinfo, "key", None)
    if first.tzinfo is None or key is None or key in ("UTC", "Etc/UTC"):
        return "EXDATE:" + ",".join(_stamp_utc(v) for v in values)  # type: ignore[arg-type]
    texts = []
    for v in values:
        if not isinstance(v, datetime) or getattr(v.tzinfo, "key", None) != key:
            raise Unsupported("mixed EXDATE values")
        texts.append(f"{_ymd(v)}T{v:%H%M%S}")
    return f"EXDATE;TZID={key}:" + ",".join(texts)
