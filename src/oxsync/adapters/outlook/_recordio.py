"""Records in and out of Outlook items: the mapping plus what Outlook needs around it.

:class:`RecordIO` is the part of :class:`~oxsync.adapters.outlook.OutlookStore` that
turns an opened item into a record (through :mod:`oxsync.mappings.outlook`) and writes a
record into an item: the oxsync user properties, the event's time zone (set before
``Start``), its colour, a delegated task's ``Assign()``, the note kept when unchanged
(so Outlook keeps its rich text), and how a bounded series ends.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from oxsync.adapters.outlook._boundary import ObjectModel
from oxsync.adapters.outlook._errors import is_com_error
from oxsync.adapters.outlook._identity import (
    ENDS_PROPERTY,
    KEY_PROPERTY,
    STAMP_PROPERTY,
    UID_PROPERTY,
    ZONE_PROPERTY,
    uid_of_global_id,
)
from oxsync.adapters.outlook._itemio import (
    OL_FORMAT_HTML,
    body_format_of,
    read_item,
    write_after_save,
    write_item,
)
from oxsync.adapters.outlook._stored import (
    delegation_after_write,
    exceptions_as_read,
    members_as_read,
    occurring_deletions,
    settle_task,
    start_on_rule,
)
from oxsync.adapters.outlook._time import WINDOWS_TO_IANA, version_of
from oxsync.adapters.outlook._weekstart import refusal
from oxsync.core.records import (
    DelegationState,
    Event,
    Frequency,
    ItemKind,
    Record,
    TaskStatus,
    Weekday,
    item_kind_of,
)
from oxsync.errors import FieldError, MappingError
from oxsync.mappings.recurrence import first_occurrence

__all__ = ["Mapping_", "RecordIO", "load_mapping"]

_COLOR = "http://schemas.microsoft.com/mapi/id/{00062002-0000-0000-C000-000000000046}/82140003"
_IANA_TO_WINDOWS = {v: k for k, v in WINDOWS_TO_IANA.items()}


@attrs.frozen
class Mapping_:
    """The functions of :mod:`oxsync.mappings.outlook` the store uses."""

    to_outlook: Callable[..., dict[str, Any]]
    from_outlook: Callable[..., Record]
    unsupported: Mapping[ItemKind, frozenset[str]]
    kinds: frozenset[ItemKind]
    note_unchanged: Callable[[str | None, str | None], bool]


def load_mapping() -> Mapping_:
    """The Outlook mapping module's functions."""
    from oxsync.mappings import outlook as m

    return Mapping_(
        m.to_outlook, m.from_outlook, m.OUTLOOK_UNSUPPORTED, frozenset(ItemKind), m.note_unchanged
    )


class RecordIO:
    """Reading and writing records (mixed into OutlookStore; see the module docstring)."""

    om: ObjectModel
    zone: Any
    list_separator: str
    first_day_of_week: Weekday | None
    _mapping: Mapping_
    _html_body: dict[ItemKind, bool]  # kind -> its items have HTMLBody (learnt on first use)

    def _read(self, item: Any, kind: ItemKind, key: str) -> tuple[Record, str]:
        props = read_item(item, kind)
        if "BodyFormat" in props:
            self._learn_html_body(kind, props["BodyFormat"])
        if kind is ItemKind.EVENT:
            props["_timezone"] = _zone_read(
                str(item.StartTimeZone.ID),
                str((props.get("_user_properties") or {}).get(ZONE_PROPERTY) or ""),
                bool(props.get("AllDayEvent")),
            )
            props["_appointment_color"] = _color(item)
        if props.get("_picture") is not None:
            props["_picture"] = (props["_picture"], _image_type(props["_picture"]))
        for att in props.get("_attachments", ()):
            att["ContentType"] = (
                mimetypes.guess_type(att["FileName"])[0] or "application/octet-stream"
            )
        users = props.get("_user_properties") or {}
        stamped = users.get(STAMP_PROPERTY)
        done = props.get("DateCompleted")
        if stamped and isinstance(done, datetime) and done.date().isoformat() == stamped:
            props["DateCompleted"] = None  # the date we wrote for a record without one
        pattern = props.get("_recurrence")
        if pattern and users.get(ENDS_PROPERTY) == "count" and pattern.get("Occurrences"):
            # Outlook computes the end date of a counted series: drop it, keep the count
            props["_recurrence"] = dict(pattern, PatternEndDate=None)
        record = self._mapping.from_outlook(
            kind, props, tz=self.zone, list_separator=self.list_separator
        )
        reason = refusal(getattr(record, "recurrence", None), self.first_day_of_week)
        if reason is not None:
            # read as the rule, its occurrences would move to other days
            raise MappingError("unreadable Outlook series", [FieldError("recurrence", reason)])
        uid = users.get(UID_PROPERTY) or _global_uid(props.get("GlobalAppointmentID")) or key
        if record.uid != uid:
            record = attrs.evolve(record, uid=uid)
        return record, version_of(item.LastModificationTime)

    def _write(self, item: Any, record: Record, key: str, *, new: bool) -> str:
        kind = item_kind_of(record)
        props = self._mapping.to_outlook(
            record, tz=self.zone, list_separator=self.list_separator, omit_empty=new
        )
        zone = props.pop("_timezone", None)
        color = props.pop("_appointment_color", None)
        picture = props.get("_picture")
        if picture is not None:
            props["_picture"] = picture[0]
        users = dict(props.get("_user_properties") or {})
        users[KEY_PROPERTY] = key
        users[UID_PROPERTY] = record.uid
        props["_user_properties"] = users
        if kind is ItemKind.EVENT:
            windows = _IANA_TO_WINDOWS.get(zone or "")
            if windows is not None:
                tz_obj = self._time_zone(item, windows)
                item.StartTimeZone = tz_obj
                item.EndTimeZone = tz_obj
            else:
                windows = str(item.StartTimeZone.ID)
                session = _IANA_TO_WINDOWS.get(str(getattr(self.zone, "key", "")))
                if not new and session and windows != session:
                    # a record without a zone is in the session's zone, as a new item is
                    # (the zone an earlier version had would move its deleted dates)
                    tz_obj = self._time_zone(item, session)
                    item.StartTimeZone = tz_obj
                    item.EndTimeZone = tz_obj
                    windows = session
            # Several IANA zones share one Windows zone, and some have none: remember
            # which one was written, for as long as Outlook's zone stays the one we set.
            # A record without a zone is written as "|<Windows zone>": read back without
            # one (not as the session's zone, which made every later save by Outlook
            # itself, a dismissed reminder, look like an edit of the event).
            users[ZONE_PROPERTY] = f"{zone or ''}|{windows}"
            pattern = props.get("_recurrence")
            start = getattr(record, "start", None)
            if pattern and "PatternStartDate" in pattern and start is not None:
                # Outlook reads a pattern's days, like its StartTime, in StartTimeZone: the
                # session's date of a New York Tuesday 20:00 is a Wednesday in Paris, which
                # started the series a week late
                iana = WINDOWS_TO_IANA.get(windows)
                anchor = ZoneInfo(iana) if iana else self.zone
                first = _pattern_start(record, start)
                if isinstance(first, datetime):
                    first_day = first.astimezone(anchor).date()
                    props["_recurrence"] = dict(
                        pattern, PatternStartDate=datetime.combine(first_day, time())
                    )
                elif first != start:  # an all-day series, the pattern's days as they are
                    props["_recurrence"] = dict(
                        pattern, PatternStartDate=datetime.combine(first, time())
                    )
            if color or not new:
                accessor = item.PropertyAccessor
                accessor.SetProperty(_COLOR, int(color or 0))
                del accessor
        pattern = props.get("_recurrence") or {}
        if kind in (ItemKind.EVENT, ItemKind.TASK):
            # Outlook fills in both Occurrences and PatternEndDate of a bounded series;
            # remember which one the record gave.
            users[ENDS_PROPERTY] = (
                "count"
                if "Occurrences" in pattern
                else "until"
                if "PatternEndDate" in pattern
                else ""
            )
        if kind is ItemKind.TASK:
            # Outlook stamps today on a task completed without a date; write that date
            # ourselves and mark it, so it reads back as the record's "no date" (a re-save
            # on a later day is then no edit, stored_form knowing nothing of the day)
            if getattr(record, "status", None) is TaskStatus.COMPLETED and not getattr(
                record, "date_completed", None
            ):
                day = self.om.today()
                props["DateCompleted"] = datetime(day.year, day.month, day.day)
                users[STAMP_PROPERTY] = day.isoformat()
            elif not new:
                users[STAMP_PROPERTY] = ""
                if item.Complete:
                    # un-complete first, as a new item is: written afterwards, the
                    # record's percentage and completion date then stick (written to a
                    # completed task, a status other than completed cleared them)
                    item.Complete = False
            props.pop("DelegationState", None)  # read-only in the OOM
            delegated = getattr(record, "delegation_state", DelegationState.NOT_DELEGATED)
            if delegated is not DelegationState.NOT_DELEGATED and int(item.Ownership) != 1:
                item.Assign()  # the only way the OOM makes a task delegated
        self._choose_body(item, record, props, new=new)
        write_item(item, props, self.om.recipient, new=new)
        item.Save()
        write_after_save(item, props, new=new)
        return version_of(item.LastModificationTime)

    def stored_form(self, record: Record) -> Record:
        """What :meth:`fetch` returns of an item written from ``record`` (no COM call).

        The mapping's own round trip (attendees kept as addresses, list members without
        their contact references, four user fields, ...), plus what the store and Outlook
        do to the values in between: the event's zone marker, the picture's type sniffed
        from its bytes, attachment types guessed from their names. The engine compares a
        changed item with this rendering of the last synced record, so that Outlook saving
        an item by itself (a dismissed reminder) is not taken for an edit that would push
        its lossier copy over the other side. Not modelled (such an item still reads as
        edited): the plain text Outlook derives from an HTML note, a series' start moved to
        its first occurrence.
        """
        kind = item_kind_of(record)
        if getattr(record, "note_html", None) is not None and not self._html_body.get(kind, True):
            # this Outlook's items of the kind have no HTMLBody: the plain note is written
            plain: Any = record
            record = attrs.evolve(plain, note_html=None)
        if kind is ItemKind.EVENT:
            record = occurring_deletions(start_on_rule(record))
        props = self._mapping.to_outlook(record, tz=self.zone, list_separator=self.list_separator)
        if kind is ItemKind.EVENT:
            zone = props.pop("_timezone", None)
            windows = _IANA_TO_WINDOWS.get(zone or "") or _IANA_TO_WINDOWS.get(
                str(getattr(self.zone, "key", "")), ""
            )
            all_day = bool(props.get("AllDayEvent"))
            props["_timezone"] = _zone_read(windows, f"{zone or ''}|{windows}", all_day)
            props["_appointment_color"] = props.get("_appointment_color") or None
        elif kind is ItemKind.DISTRIBUTION_LIST:
            props["_members"] = members_as_read(props.get("_members") or ())
        elif kind is ItemKind.TASK:
            settle_task(props)  # (a stamped completion date reads back as none)
            delegated = getattr(record, "delegation_state", DelegationState.NOT_DELEGATED)
            delegation_after_write(props, delegated is not DelegationState.NOT_DELEGATED)
        if "_exceptions" in props:
            exceptions_as_read(props)
        picture = props.get("_picture")
        if picture is not None:
            props["_picture"] = (picture[0], _image_type(picture[0] or b""))
        for att in props.get("_attachments") or ():
            att["ContentType"] = (
                mimetypes.guess_type(att["FileName"])[0] or "application/octet-stream"
            )
        back = self._mapping.from_outlook(
            kind, props, tz=self.zone, list_separator=self.list_separator
        )
        return back if back.uid == record.uid else attrs.evolve(back, uid=record.uid)

    def _learn_html_body(self, kind: ItemKind, body_format: int | None) -> None:
        """Note whether this Outlook's items of ``kind`` have ``HTMLBody`` (the documented
        object model gives it to mail-like items only, the fake to every item)."""
        self._html_body[kind] = body_format is not None

    def _choose_body(self, item: Any, record: Record, props: dict[str, Any], *, new: bool) -> None:
        """Leave in ``props`` the one body to write: HTMLBody, Body, or none.

        With ``note_html``, ``HTMLBody`` is written and Outlook derives ``Body`` from it
        (on an item whose object model has no HTML body, the plain note is written
        instead). Otherwise ``Body`` is written unless the text is unchanged and the body
        is not HTML: writing it would discard the item's RTF. An HTML body the record does
        not hold is replaced by the plain note: kept, it read back as a ``note_html`` the
        record has not (an update lands as a create does).
        """
        html = props.pop("HTMLBody", None)
        props.pop("BodyFormat", None)  # read-only: follows the body written
        if html is not None:
            current = body_format_of(item)
            self._learn_html_body(item_kind_of(record), current)
            if current is not None:
                props.pop("Body", None)
                if new or current != OL_FORMAT_HTML or item.HTMLBody != html:
                    props["HTMLBody"] = html
                return
        if (
            not new
            and "Body" in props
            and self._mapping.note_unchanged(item.Body, getattr(record, "note", None))
            and body_format_of(item) != OL_FORMAT_HTML
        ):
            del props["Body"]

    def _time_zone(self, item: Any, windows_id: str) -> Any:
        application = item.Application if hasattr(item, "Application") else None
        if application is None:
            application = getattr(self.om, "application", None)
        return application.TimeZones.Item(windows_id)  # type: ignore[union-attr]


def _pattern_start(record: Record, start: date | datetime) -> date | datetime:
    """Where an event's pattern starts: its start, or for a weekly series every 2 or more
    weeks its first occurrence. Outlook counts such a series' weeks from the week (from
    its first day of the week) of the pattern's start, the canonical rule from the
    Monday-week of the start: from a start off the rule (a Sunday for a Saturday series)
    the two would pick other weeks; from the first occurrence, on a day of the rule, the
    same ones whenever the rule's days group alike (see :mod:`._weekstart`). Outlook
    moves the series' start to its first occurrence anyway (``stored_form`` does too)."""
    rule = getattr(record, "recurrence", None)
    if not isinstance(record, Event) or rule is None:
        return start
    if rule.frequency is not Frequency.WEEKLY or rule.interval < 2:
        return start
    try:
        first = first_occurrence(record)
    except ValueError:  # an unknown zone: the mapping reports it
        return start
    if first is None or isinstance(first, datetime) != isinstance(start, datetime):
        return start
    return first


def _global_uid(global_id: Any) -> str:
    return uid_of_global_id(str(global_id)) if global_id else ""


def _zone_read(windows: str, written: str, all_day: bool) -> str | None:
    """The event's IANA zone: the one written (none, if none was) while Outlook's zone
    is still ours, else Outlook's own (all-day events have none unless one was written)."""
    zone, _, windows_written = written.partition("|")
    if windows_written and windows_written == windows:
        return zone or None
    if all_day:
        return None
    return WINDOWS_TO_IANA.get(windows)


def _color(item: Any) -> int | None:
    try:
        value = item.PropertyAccessor.GetProperty(_COLOR)
    except Exception as exc:
        if is_com_error(exc):
            return None
        raise
    return int(value) if value else None


_IMAGE_MAGIC = (
    (b"\x89PNG", "image/png"),
    (b"GIF8", "image/gif"),
    (b"\xff\xd8", "image/jpeg"),
    (b"BM", "image/bmp"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)


def _image_type(data: bytes) -> str:
    """Content type of a picture from its first bytes (Outlook keeps no type; JPEG if unsure)."""
    for magic, content_type in _IMAGE_MAGIC:
        if data.startswith(magic):
            return content_type
    return "image/jpeg"
