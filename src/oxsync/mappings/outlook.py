"""Outlook object-model properties <-> canonical records, by declarative tables.

The Outlook form of a record is a plain ``dict``: Outlook Object Model property name ->
value, as the Outlook adapter (pywin32, or the fake object model of
``oxsync.testing``) sets and reads them. Timed values are **naive local wall-clock**
datetimes in the Outlook session's zone (``tz``); all-day events and task dates are
local midnights; Outlook's 4501-01-01 means "no date". Structured parts that are not
plain properties travel under keys starting with ``_``:

=====================  ============================================================
``_recurrence``        RecurrencePattern properties (see :mod:`.recurrence`) or None
``_exceptions``        list of ``{"OriginalDate", "Deleted", <changed props>…}``
``_recipients``        list of ``{"Name", "Address", "Type", "MeetingResponseStatus"}``
                       (``Type`` 0 = the organizer)
``_picture``           ``(bytes, content_type)`` or None (contacts)
``_attachments``       list of ``{"FileName", "ContentType", "Data"}``
``_members``           list of ``{"Name", "Address"}`` (distribution lists)
``_user_properties``   ``{"OxsyncUid": uid}`` (Outlook has no settable uid)
``_timezone``          the event's IANA zone (the adapter sets ``StartTimeZone``)
``_appointment_color`` PidLidAppointmentColor 0–10 (via PropertyAccessor)
=====================  ============================================================

``note_html`` is ``HTMLBody`` (with ``BodyFormat`` 2, read-only, as a marker); the adapter
writes it instead of ``Body``, which Outlook then derives from the HTML.

    >>> from zoneinfo import ZoneInfo
    >>> from oxsync.core.records import Contact, ItemKind
    >>> props = to_outlook(Contact(last_name="Curie", categories=("Work", "VIP")))
    >>> props["LastName"], props["Categories"], props["Birthday"].year
    ('Curie', 'Work;VIP', 4501)
    >>> from_outlook(ItemKind.CONTACT, props, tz=ZoneInfo("Europe/Paris")).categories
    ('Work', 'VIP')

Read-only properties (``CreationTime``, ``LastModificationTime``) are read into the
volatile fields and never written; ``Complete`` is written from the task status.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
from attrs import frozen

from oxsync.core import records as r
from oxsync.core.records import ItemKind
from oxsync.errors import FieldError, MappingError
from oxsync.mappings import recurrence as rec
from oxsync.mappings import values as v
from oxsync.mappings.html_text import text_of_html

__all__ = [
    "OUTLOOK_UNSUPPORTED",
    "TABLES",
    "UID_PROPERTY",
    "Prop",
    "from_outlook",
    "note_unchanged",
    "to_outlook",
]

UID_PROPERTY = "OxsyncUid"
"""Name of the user property holding the record's uid."""


@frozen
class _Ctx:
    tz: ZoneInfo
    separator: str


@frozen
class _Codec:
    to: Callable[[Any, _Ctx], Any]
    back: Callable[[Any, _Ctx], Any]


def _text(limit: int) -> _Codec:
    return _Codec(lambda value, _: v.check_text(value, limit=limit) or "",
                  lambda raw, _: v.check_text(raw, limit=limit))  # fmt: skip


def _enum(table: v.EnumTable[Any, int], fallback: int | None = None) -> _Codec:
    def to(value: Any, _: _Ctx) -> int:
        try:
            return table.to_native(value)
        except ValueError:
            if fallback is None:
                raise
            return fallback

    return _Codec(to, lambda raw, _: table.from_native(_int(raw)))


def _int(raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise TypeError(f"expected an integer, got {type(raw).__name__}")
    return raw


def _ranged(low: int, high: int, optional: bool = False) -> _Codec:
    """An integer in ``low..high``; ``optional``: None is written as 0 and 0 reads as None
    (Outlook has no "unset" for these Long properties)."""

    def check(value: Any, _: _Ctx) -> int | None:
        if value is None and optional:
            return None
        number = _int(value)
        if not low <= number <= high:
            raise ValueError(f"{number} is outside {low}..{high}")
        return None if optional and number == 0 else number

    return _Codec(lambda value, ctx: 0 if value is None else check(value, ctx) or 0, check)


def _bool(raw: Any, _: _Ctx) -> bool:
    if isinstance(raw, bool):
        return raw
    if raw in (0, 1):
        return bool(raw)
    raise TypeError(f"expected a boolean, got {raw!r}")


def _day_back(raw: Any, _: _Ctx) -> date | None:
    moment = v.outlook_date(raw)
    return None if moment is None else moment.date()


def _local(value: datetime | date | None, ctx: _Ctx) -> datetime:
    """Naive local wall-clock value for a canonical date or instant."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime: timed values must carry a timezone")
        return value.astimezone(ctx.tz).replace(tzinfo=None)
    return v.outlook_date_value(value)


def _local_back(raw: Any, ctx: _Ctx) -> date | datetime | None:
    moment = v.outlook_date(raw)
    if moment is None:
        return None
    # Task dates are local midnights; any other time is an instant in the local zone.
    return moment.date() if moment.time() == time() else _aware(moment, ctx.tz).astimezone(UTC)


def _aware(naive: datetime, tz: ZoneInfo) -> datetime:
    return naive.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)


def _instant_back(raw: Any, ctx: _Ctx) -> datetime | None:
    moment = v.outlook_date(raw)
    return None if moment is None else _aware(moment, ctx.tz).astimezone(UTC)


_TEXT = _text(v.MAX_TEXT_CHARS)


def _body_to(value: str | None, _: _Ctx) -> str:
    text = v.check_text(value, limit=v.MAX_NOTE_CHARS) or ""
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def _body_back(raw: Any, _: _Ctx) -> str | None:
    text = v.check_text(raw, limit=v.MAX_NOTE_CHARS)
    return None if text is None else text.replace("\r\n", "\n")


# Outlook stores CRLF line ends in Body; canonical notes use "\n" (as OX and iCal do).
_NOTE = _Codec(_body_to, _body_back)
_DAY = _Codec(lambda value, _: v.outlook_date_value(value), _day_back)
_LOCAL = _Codec(_local, _local_back)
_CATEGORIES = _Codec(
    lambda names, ctx: v.join_categories(names, ctx.separator) or "",
    lambda raw, ctx: v.split_categories(v.check_text(raw), ctx.separator),
)
_MINUTES = _ranged(0, 2**31 - 1, optional=True)
_REMINDER = _ranged(0, 2**31 - 1)  # 0 minutes before start is a real reminder


@frozen
class Prop:
    """One canonical field in one Outlook property."""

    path: str
    name: str
    codec: _Codec
    read_only: bool = False

    @property
    def paths(self) -> tuple[str, ...]:
        """The canonical path."""
        return (self.path,)

    def write(self, values: Mapping[str, Any], out: dict[str, Any], ctx: _Ctx) -> None:
        """Set the property (skipped for read-only properties)."""
        if not self.read_only:
            out[self.name] = self.codec.to(values[self.path], ctx)

    def read(self, props: Mapping[str, Any], ctx: _Ctx) -> dict[str, Any]:
        """The canonical value, if the property is present."""
        if self.name not in props:
            return {}
        value = self.codec.back(props[self.name], ctx)
        return {} if value is None else {self.path: value}


@frozen
class _Note(Prop):
    """note <-> ``Body``; an HTML item's note is the plain text of its ``HTMLBody``.

    Outlook derives ``Body`` from the HTML of an HTML item; reading the note as
    :func:`~oxsync.mappings.html_text.text_of_html` of that HTML instead makes what a
    store reads back of a record with ``note_html`` exactly predictable (a re-save by
    Outlook is then no edit of the note), whatever text Outlook's own derivation gives.
    """

    def read(self, props: Mapping[str, Any], ctx: _Ctx) -> dict[str, Any]:
        html = props.get("HTMLBody")
        if props.get("BodyFormat") != OL_FORMAT_HTML or not isinstance(html, str) or not html:
            return super().read(props, ctx)
        value = self.codec.back(text_of_html(html), ctx)
        return {} if value is None else {self.path: value}


def _props(codec: _Codec, pairs: str) -> list[Any]:
    """Rows sharing one codec from ``"path=Property path2=Property2"`` text."""
    return [Prop(p, n, codec) for p, _, n in (pair.partition("=") for pair in pairs.split())]


# --------------------------------------------------------------------------- parts


class _EventTiming:
    paths = ("start", "end", "all_day", "timezone")

    def write(self, values: Mapping[str, Any], out: dict[str, Any], ctx: _Ctx) -> None:
        start, end, all_day = values["start"], values["end"], values["all_day"]
        dated = [not isinstance(x, datetime) and isinstance(x, date) for x in (start, end)]
        if all_day != dated[0] or dated[0] != dated[1]:
            raise FieldError("start", "all-day events need date start/end, timed ones datetimes")
        out["Start"], out["End"] = _local(start, ctx), _local(end, ctx)
        out["AllDayEvent"] = bool(all_day)
        out["_timezone"] = values["timezone"]

    def read(self, props: Mapping[str, Any], ctx: _Ctx) -> dict[str, Any]:
        all_day = _bool(props.get("AllDayEvent", False), ctx)
        zone_name = v.check_text(props.get("_timezone"))
        if zone_name is not None:
            try:
                ZoneInfo(zone_name)
            except v.UNKNOWN_ZONE:
                raise FieldError("timezone", f"unknown time zone {zone_name!r}") from None
        out: dict[str, Any] = {"all_day": all_day, "timezone": zone_name}
        errors = []
        for key, path in (("Start", "start"), ("End", "end")):
            try:
                moment = v.outlook_date(props.get(key))
                if moment is None:
                    raise ValueError(f"{key} is missing")
                out[path] = moment.date() if all_day else _aware(moment, ctx.tz).astimezone(UTC)
            except (TypeError, ValueError) as exc:
                errors.append(FieldError(path, str(exc)))
        if errors:
            raise MappingError("bad timing", errors)
        return out


class _Reminder:
    paths = ("alarm",)

    def __init__(self, absolute: bool):
        self.absolute = absolute

    def write(self, values: Mapping[str, Any], out: dict[str, Any], ctx: _Ctx) -> None:
        alarm: r.Alarm | None = values["alarm"]
        if self.absolute and alarm is not None and alarm.at is not None:
            out["ReminderSet"], out["ReminderTime"] = True, _local(alarm.at, ctx)
        elif not self.absolute and alarm is not None and alarm.minutes_before is not None:
            minutes = _REMINDER.to(alarm.minutes_before, ctx)
            out["ReminderSet"], out["ReminderMinutesBeforeStart"] = True, minutes
        else:
            out["ReminderSet"] = False

    def read(self, props: Mapping[str, Any], ctx: _Ctx) -> dict[str, Any]:
        if not _bool(props.get("ReminderSet", False), ctx):
            return {}
        if self.absolute:
            at = _instant_back(props.get("ReminderTime"), ctx)
            return {} if at is None else {"alarm": r.Alarm(at=at.astimezone(UTC))}
        minutes = _REMINDER.back(props.get("ReminderMinutesBeforeStart", 0), ctx)
        return {"alarm": r.Alarm(minutes_before=minutes)}


def _zone(name: str | None) -> ZoneInfo:
    if not name:
        return _UTC_ZONE
    try:
        return ZoneInfo(name)
    except v.UNKNOWN_ZONE:
        raise ValueError(f"unknown time zone {name[:60]!r}") from None


_ONE_DAY = timedelta(days=1)


def _original_local(day: date, start: date | datetime, zone: ZoneInfo, ctx: _Ctx) -> datetime:
    """Outlook OriginalDate of the occurrence on ``day`` (a date in the series' zone)."""
    if isinstance(start, datetime):
        wall = start.astimezone(zone).time()
        return _local(datetime.combine(day, wall).replace(tzinfo=zone), ctx)
    return datetime(day.year, day.month, day.day)


def _deleted_back(raw: Any, start: date | datetime, zone: ZoneInfo, ctx: _Ctx) -> date:
    """The day (in the series' zone) of a deleted occurrence from its OriginalDate.

    Outlook keeps only the local date of a deleted occurrence (the time reads 00:00), so
    the occurrence is the one at the series' wall-clock time whose local start falls on
    that date: the day before or after it when the zones are far apart.
    """
    moment = v.outlook_date(raw)
    if moment is None:
        raise ValueError("OriginalDate is missing")
    day = moment.date()
    if not isinstance(start, datetime) or zone is ctx.tz:
        return day
    wall = start.astimezone(zone).time()
    for candidate in (day, day - _ONE_DAY, day + _ONE_DAY):
        try:
            if datetime.combine(candidate, wall, zone).astimezone(ctx.tz).date() == day:
                return candidate
        except OverflowError:
            continue
    return _aware(moment, ctx.tz).astimezone(zone).date()


def _original_back(raw: Any, start: date | datetime, ctx: _Ctx) -> date | datetime:
    moment = v.outlook_date(raw)
    if moment is None:
        raise ValueError("OriginalDate is missing")
    if not isinstance(start, datetime):
        return moment.date()
    return _aware(moment, ctx.tz).astimezone(UTC)


_EXCEPTION_PROPS = (
    ("summary", "Subject", _TEXT),
    ("location", "Location", _TEXT),
    ("note", "Body", _NOTE),
    ("busy_status", "BusyStatus", _enum(v.OUTLOOK_BUSY_STATUS)),
)


class _Recurrence:
    """recurrence (+ deleted dates, + change exceptions for events) <-> pattern + exceptions."""

    def __init__(self, start: str, exceptions: bool):
        self.start = start
        self.with_changes = exceptions
        # start (and the event's zone) anchor the pattern; this part never writes them
        self.paths = (
            ("recurrence", "exceptions", start, "timezone") if exceptions else ("recurrence", start)
        )

    def write(self, values: Mapping[str, Any], out: dict[str, Any], ctx: _Ctx) -> None:
        rule: r.Recurrence | None = values["recurrence"]
        start = values[self.start]
        if rule is None:
            out["_recurrence"], out["_exceptions"] = None, []
            return
        zone = _zone(values.get("timezone"))
        local_start = _local(start, ctx).date() if start is not None else None
        out["_recurrence"] = rec.to_outlook(rule, local_start)
        exceptions: list[dict[str, Any]] = []
        if start is not None:
            exceptions = [
                {"OriginalDate": _original_local(day, start, zone, ctx), "Deleted": True}
                for day in rule.deleted
            ]
        for i, change in enumerate(values.get("exceptions", ())):
            try:
                item: dict[str, Any] = {
                    "OriginalDate": _local(change.original_start, ctx),
                    "Deleted": False,
                }
                for path, name, codec in _EXCEPTION_PROPS:
                    if getattr(change, path) is not None:
                        item[name] = codec.to(getattr(change, path), ctx)
                for path, name in (("start", "Start"), ("end", "End")):
                    if getattr(change, path) is not None:
                        item[name] = _local(getattr(change, path), ctx)
            except (TypeError, ValueError) as exc:
                raise FieldError(f"exceptions[{i}]", str(exc)) from None
            exceptions.append(item)
        out["_exceptions"] = exceptions

    def read(
        self, props: Mapping[str, Any], ctx: _Ctx, start: Any = None, zone: str | None = None
    ) -> dict[str, Any]:
        pattern = props.get("_recurrence")
        if not pattern:
            return {}
        deleted: list[date] = []
        changes: list[r.EventException] = []
        errors: list[FieldError] = []
        for i, item in enumerate(props.get("_exceptions") or ()):
            try:
                anchor = start or date.min
                if item.get("Deleted"):
                    deleted.append(
                        _deleted_back(item.get("OriginalDate"), anchor, _zone(zone), ctx)
                    )
                elif self.with_changes:
                    original = _original_back(item.get("OriginalDate"), anchor, ctx)
                    changes.append(self._change(item, original, start, ctx))
            except (TypeError, ValueError, AttributeError) as exc:
                errors.append(FieldError(f"exceptions[{i}]", str(exc)))
        if errors:
            raise MappingError("bad exceptions", errors)
        out: dict[str, Any] = {"recurrence": rec.from_outlook(pattern, deleted)}
        if changes:
            out["exceptions"] = tuple(changes)
        return out

    @staticmethod
    def _change(item: Mapping[str, Any], original: Any, start: Any, ctx: _Ctx) -> Any:
        fields: dict[str, Any] = {"original_start": original}
        for path, name, codec in _EXCEPTION_PROPS:
            if name in item:
                fields[path] = codec.back(item[name], ctx)
        for path, name in (("start", "Start"), ("end", "End")):
            if name in item:
                fields[path] = _original_back(item[name], start or date.min, ctx)
        return r.EventException(**fields)


def _recipient(person: r.Attendee, kind: int, ctx: _Ctx) -> dict[str, Any]:
    return {
        "Name": _TEXT.to(person.name, ctx),
        "Address": _TEXT.to(person.email, ctx),
        "Type": kind,
        "MeetingResponseStatus": v.OUTLOOK_RESPONSE_STATUS.to_native(person.status),
    }


class _Recipients:
    """organizer + attendees <-> recipients (Outlook knows addresses, not OX user ids)."""

    def __init__(self, organizer: bool):
        self.paths = ("attendees", "organizer") if organizer else ("attendees",)

    def write(self, values: Mapping[str, Any], out: dict[str, Any], ctx: _Ctx) -> None:
        rows = []
        if values.get("organizer") is not None:
            rows.append(_recipient(values["organizer"], 0, ctx))
        for i, person in enumerate(values["attendees"]):
            try:
                rows.append(
                    _recipient(person, v.OUTLOOK_RECIPIENT_TYPE.to_native(person.role), ctx)
                )
            except (TypeError, ValueError) as exc:
                raise FieldError(f"attendees[{i}]", str(exc)) from None
        out["_recipients"] = rows

    def read(self, props: Mapping[str, Any], ctx: _Ctx) -> dict[str, Any]:
        attendees: list[r.Attendee] = []
        organizer = None
        errors: list[FieldError] = []
        for i, row in enumerate(props.get("_recipients") or ()):
            try:
                kind = _int(row.get("Type", 1))
                person = {
                    "name": _TEXT.back(row.get("Name"), ctx),
                    "email": _TEXT.back(row.get("Address"), ctx),
                    "status": v.OUTLOOK_RESPONSE_STATUS.from_native(
                        _int(row.get("MeetingResponseStatus", 0))
                    ),
                }
                if kind == 0:
                    organizer = r.Attendee(
                        kind=r.AttendeeKind.EXTERNAL, role=r.AttendeeRole.CHAIR, **person
                    )
                    continue
                role = v.OUTLOOK_RECIPIENT_TYPE.from_native(kind)
                resource = role is r.AttendeeRole.RESOURCE
                attendees.append(
                    r.Attendee(
                        kind=r.AttendeeKind.RESOURCE if resource else r.AttendeeKind.EXTERNAL,
                        role=role,
                        **person,
                    )
                )
            except (TypeError, ValueError, AttributeError) as exc:
                errors.append(FieldError(f"attendees[{i}]", str(exc)))
        if errors:
            raise MappingError("bad recipients", errors)
        out: dict[str, Any] = {"attendees": tuple(attendees)}
        if organizer is not None and "organizer" in self.paths:
            out["organizer"] = organizer
        return out


class _Simple:
    """A structured value under one ``_`` key, converted by two functions."""

    def __init__(self, path: str, key: str, to: Callable[..., Any], back: Callable[..., Any]):
        self.paths, self.key, self.to, self.back = (path,), key, to, back

    def write(self, values: Mapping[str, Any], out: dict[str, Any], ctx: _Ctx) -> None:
        out[self.key] = self.to(values[self.paths[0]], ctx)

    def read(self, props: Mapping[str, Any], ctx: _Ctx) -> dict[str, Any]:
        raw = props.get(self.key)
        value = None if raw is None else self.back(raw, ctx)
        return {} if value is None else {self.paths[0]: value}


def _picture_back(raw: Any, _: _Ctx) -> r.Photo | None:
    data, content_type = raw
    if not isinstance(data, bytes | bytearray):
        raise TypeError(f"picture data must be bytes, got {type(data).__name__}")
    return r.Photo(data=bytes(data), content_type=content_type or "image/jpeg") if data else None


def _attachments_back(raw: Any, _: _Ctx) -> tuple[r.Attachment, ...]:
    return tuple(
        r.Attachment(
            filename=str(item["FileName"]),
            content_type=item.get("ContentType") or "application/octet-stream",
            data=bytes(item.get("Data") or b""),
        )
        for item in raw
    )


def _attachments_to(items: tuple[r.Attachment, ...], _: _Ctx) -> list[dict[str, Any]]:
    return [{"FileName": a.filename, "ContentType": a.content_type, "Data": a.data} for a in items]


def _members_to(members: tuple[r.DistributionListMember, ...], ctx: _Ctx) -> list[Any]:
    return [
        {"Name": _TEXT.to(m.display_name, ctx), "Address": _TEXT.to(m.email, ctx)} for m in members
    ]


def _members_back(raw: Any, ctx: _Ctx) -> tuple[r.DistributionListMember, ...]:
    return tuple(
        r.DistributionListMember(
            display_name=_TEXT.back(m.get("Name"), ctx), email=_TEXT.back(m.get("Address"), ctx)
        )
        for m in raw
    )


def _uid_back(raw: Any, ctx: _Ctx) -> str | None:
    return _TEXT.back(raw.get(UID_PROPERTY), ctx)  # type: ignore[no-any-return]


_USER_SLOTS = ("User1", "User2", "User3", "User4")


def _user_fields_to(fields: tuple[str | None, ...], ctx: _Ctx) -> dict[str, str]:
    if not fields:  # the common case
        return dict.fromkeys(_USER_SLOTS, "")
    return {
        name: _TEXT.to(fields[i] if i < len(fields) else None, ctx)
        for i, name in enumerate(_USER_SLOTS)
    }


class _UserFields:
    """user_fields <-> User1..User4 (Outlook has four; further OX slots are not carried)."""

    paths = ("user_fields",)

    def write(self, values: Mapping[str, Any], out: dict[str, Any], ctx: _Ctx) -> None:
        out.update(_user_fields_to(values["user_fields"], ctx))

    def read(self, props: Mapping[str, Any], ctx: _Ctx) -> dict[str, Any]:
        texts = [_TEXT.back(props.get(f"User{i}"), ctx) for i in range(1, 5)]
        while texts and texts[-1] is None:
            texts.pop()
        return {"user_fields": tuple(texts)} if texts else {}


OL_FORMAT_HTML = 2
"""OlBodyFormat of an item whose body is HTML (plain text is 1, RTF 3)."""


class _HtmlNote:
    """note_html <-> ``HTMLBody``, read only while ``BodyFormat`` is HTML.

    Written with ``BodyFormat`` 2 as a marker (read-only in Outlook: writing ``HTMLBody``
    switches the item to HTML and derives ``Body`` from it, so the adapter writes
    ``HTMLBody`` instead of ``Body``). A plain or RTF body reads as no HTML.
    """

    paths = ("note_html",)

    def write(self, values: Mapping[str, Any], out: dict[str, Any], ctx: _Ctx) -> None:
        html = v.check_text(values["note_html"], limit=v.MAX_NOTE_CHARS)
        if html is not None:
            out["HTMLBody"], out["BodyFormat"] = html, OL_FORMAT_HTML

    def read(self, props: Mapping[str, Any], ctx: _Ctx) -> dict[str, Any]:
        if props.get("BodyFormat") != OL_FORMAT_HTML:
            return {}
        html = v.check_text(props.get("HTMLBody"), limit=v.MAX_NOTE_CHARS)
        return {} if html is None else {"note_html": html}


class _Complete:
    """Write-only ``Complete`` flag derived from the task status."""

    paths = ("status",)

    def write(self, values: Mapping[str, Any], out: dict[str, Any], ctx: _Ctx) -> None:
        out["Complete"] = values["status"] is r.TaskStatus.COMPLETED

    def read(self, props: Mapping[str, Any], ctx: _Ctx) -> dict[str, Any]:
        return {}


# --------------------------------------------------------------------------- tables

_COMMON: list[Any] = [
    _Simple(
        "uid", "_user_properties", lambda uid, ctx: {UID_PROPERTY: _TEXT.to(uid, ctx)}, _uid_back
    ),
    _Note("note", "Body", _NOTE),
    Prop("categories", "Categories", _CATEGORIES),
    Prop("sensitivity", "Sensitivity", _enum(v.OUTLOOK_SENSITIVITY)),
    Prop("created", "CreationTime", _Codec(_local, _instant_back), read_only=True),
    Prop("last_modified", "LastModificationTime", _Codec(_local, _instant_back), read_only=True),
]
_ATTACHMENTS = _Simple("attachments", "_attachments", _attachments_to, _attachments_back)


def _address(path: str, prefix: str) -> str:
    parts = ("street=Street", "postal_code=PostalCode", "city=City", "state=State",
             "country=Country", "po_box=PostOfficeBox")  # fmt: skip
    return " ".join(
        f"{path}.{c}={prefix}Address{p}" for c, _, p in (x.partition("=") for x in parts)
    )


_CONTACT: list[Any] = [
    *_COMMON,
    _HtmlNote(),
    *_props(
        _TEXT,
        "title=Title first_name=FirstName middle_name=MiddleName last_name=LastName "
        "suffix=Suffix file_as=FileAs nickname=NickName initials=Initials job_title=JobTitle "
        "company=CompanyName department=Department office_location=OfficeLocation "
        "profession=Profession manager_name=ManagerName assistant_name=AssistantName "
        "spouse_name=Spouse hobby=Hobby children=Children "
        "phones.business=BusinessTelephoneNumber phones.business2=Business2TelephoneNumber "
        "phones.home=HomeTelephoneNumber phones.home2=Home2TelephoneNumber "
        "phones.mobile=MobileTelephoneNumber phones.car=CarTelephoneNumber "
        "phones.company=CompanyMainTelephoneNumber phones.assistant=AssistantTelephoneNumber "
        "phones.callback=CallbackTelephoneNumber phones.isdn=ISDNNumber "
        "phones.radio=RadioTelephoneNumber phones.other=OtherTelephoneNumber "
        "phones.pager=PagerNumber phones.primary=PrimaryTelephoneNumber "
        "phones.telex=TelexNumber phones.ttytdd=TTYTDDTelephoneNumber "
        "phones.business_fax=BusinessFaxNumber phones.home_fax=HomeFaxNumber "
        "phones.other_fax=OtherFaxNumber "
        "emails.email1=Email1Address emails.email2=Email2Address emails.email3=Email3Address "
        "emails.email1_display_name=Email1DisplayName emails.email2_display_name=Email2DisplayName "
        "emails.email3_display_name=Email3DisplayName "
        "web_page=WebPage business_home_page=BusinessHomePage "
        "personal_home_page=PersonalHomePage im_address=IMAddress customer_id=CustomerID "
        "government_id=GovernmentIDNumber account=Account referred_by=ReferredBy "
        "language=Language "
        + " ".join(
            _address(path, prefix)
            for path, prefix in (
                ("business_address", "Business"),
                ("home_address", "Home"),
                ("other_address", "Other"),
            )
        ),
    ),
    *_props(_DAY, "birthday=Birthday anniversary=Anniversary"),
    Prop("gender", "Gender", _enum(v.OUTLOOK_GENDER, fallback=0)),
    Prop("selected_mailing_address", "SelectedMailingAddress", _enum(v.OUTLOOK_MAILING_ADDRESS)),
    _Simple(
        "photo",
        "_picture",
        lambda photo, _: (
            None if photo is None or not photo.data else (photo.data, photo.content_type)
        ),
        _picture_back,
    ),
    _UserFields(),
    _ATTACHMENTS,
]

_DISTRIBUTION_LIST: list[Any] = [
    *_COMMON,
    Prop("display_name", "DLName", _TEXT),
    _Simple("members", "_members", _members_to, _members_back),
]

_EVENT: list[Any] = [
    *_COMMON,
    _HtmlNote(),
    *_props(_TEXT, "summary=Subject location=Location"),
    _EventTiming(),
    Prop("busy_status", "BusyStatus", _enum(v.OUTLOOK_BUSY_STATUS)),
    Prop("importance", "Importance", _enum(v.OUTLOOK_IMPORTANCE)),
    Prop("color_label", "_appointment_color", _ranged(0, 10, optional=True)),
    _Reminder(absolute=False),
    _Recipients(organizer=True),
    _Recurrence("start", exceptions=True),
    _ATTACHMENTS,
]

_TASK: list[Any] = [
    *_COMMON,
    _HtmlNote(),
    *_props(
        _TEXT,
        "summary=Subject companies=Companies mileage=Mileage "
        "billing_information=BillingInformation owner=Owner",
    ),
    *_props(_LOCAL, "start=StartDate due=DueDate date_completed=DateCompleted"),
    Prop("status", "Status", _enum(v.OUTLOOK_TASK_STATUS)),
    _Complete(),
    Prop("importance", "Importance", _enum(v.OUTLOOK_IMPORTANCE)),
    Prop("percent_complete", "PercentComplete", _ranged(0, 100)),
    *_props(_MINUTES, "total_work=TotalWork actual_work=ActualWork"),
    # read-only in the object model: assignment answers come from the assignee
    Prop(
        "delegation_state",
        "DelegationState",
        _enum(v.OUTLOOK_DELEGATION_STATE),
        read_only=True,
    ),
    _Reminder(absolute=True),
    _Recipients(organizer=False),
    _Recurrence("start", exceptions=False),
    _ATTACHMENTS,
]

TABLES: dict[ItemKind, tuple[Any, ...]] = {
    ItemKind.CONTACT: tuple(_CONTACT),
    ItemKind.DISTRIBUTION_LIST: tuple(_DISTRIBUTION_LIST),
    ItemKind.EVENT: tuple(_EVENT),
    ItemKind.TASK: tuple(_TASK),
}
"""The field tables, one per item kind (:class:`Prop` rows and structured parts)."""


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


OUTLOOK_UNSUPPORTED: dict[ItemKind, frozenset[str]] = {
    ItemKind.CONTACT: _names(
        "display_name marital_status number_of_children phones.mobile2 phones.ip im_address2 "
        "employee_type tax_id branches sales_volume commercial_register business_category info "
        "color_label business_address.label home_address.label other_address.label"
    ),
    ItemKind.DISTRIBUTION_LIST: _names("color_label"),
    ItemKind.EVENT: _names("sequence alarm.at"),
    ItemKind.TASK: _names(
        "color_label actual_costs target_costs currency alarm.minutes_before delegation_state"
    ),
}
"""Canonical fields (dotted paths) Outlook cannot hold, per kind.

Also lossy: attendee kinds and OX user ids (Outlook knows addresses; non-resources read
back as external), attendee comments, distribution-list references to contacts (read
back as one-off addresses), user fields beyond User4, genders other than female/male,
CHAIR attendees other than the organizer (read as required), task datetimes at exactly
local midnight (read as dates).
"""

_NESTED: dict[ItemKind, dict[str, type[Any]]] = {
    kind: {
        a.name: type(a.default)
        for a in attrs.fields(r.record_class(kind))
        if attrs.has(type(a.default))
    }
    for kind in ItemKind
}


def _get(record: Any, path: str) -> Any:
    return _getter(path)(record)


@functools.cache
def _getter(path: str) -> Callable[[Any], Any]:
    # attrgetter follows dotted paths ("phones.business") in C: this is the hot loop.
    return operator.attrgetter(path)


# Write plan per kind, in table order: consecutive plain text rows become one run read
# with a single attrgetter (a contact has ~70 of them, mostly unset: an unset text is
# just ""), other rows stay one step each. Entries: ("texts", names, paths, getter),
# ("prop", name, path, getter, to) or ("part", part, ((path, getter), …)).
def _write_plan(table: tuple[Any, ...]) -> tuple[tuple[Any, ...], ...]:
    plan: list[tuple[Any, ...]] = []
    run: list[Prop] = []

    def close_run() -> None:
        if len(run) > 1:
            paths = tuple(p.path for p in run)
            plan.append(("texts", tuple(p.name for p in run), paths, operator.attrgetter(*paths)))
        elif run:
            plan.append(("prop", run[0].name, run[0].path, _getter(run[0].path), run[0].codec.to))
        run.clear()

    for part in table:
        if type(part) is Prop and part.codec is _TEXT and not part.read_only:
            run.append(part)
            continue
        close_run()
        if isinstance(part, Prop):  # _Note too: it reads differently, writes the same
            if not part.read_only:
                plan.append(("prop", part.name, part.path, _getter(part.path), part.codec.to))
        else:
            plan.append(("part", part, tuple((p, _getter(p)) for p in part.paths)))
    close_run()
    return tuple(plan)


_WRITE_PLANS = {kind: _write_plan(table) for kind, table in TABLES.items()}


def to_outlook(
    record: r.Record,
    *,
    list_separator: str = ";",
    tz: ZoneInfo | None = None,
    omit_empty: bool = False,
) -> dict[str, Any]:
    """Outlook property values for ``record`` (see the module docstring for the keys).

    ``tz`` is the Outlook session's zone (default UTC). ``omit_empty`` leaves out the
    plain text properties the record does not set (for a new item, blank already: a
    contact sets a dozen of its ~70). Raises :class:`MappingError` listing every field
    that cannot be written.
    """
    kind = r.item_kind_of(record)
    ctx = _Ctx(tz or _UTC_ZONE, list_separator)
    out: dict[str, Any] = {}
    errors: list[FieldError] = []
    to_text, limit = _TEXT.to, v.MAX_TEXT_CHARS
    for entry in _WRITE_PLANS[kind]:
        step = entry[0]
        if step == "texts":
            _, names, paths, getter = entry
            for name, path, value in zip(names, paths, getter(record), strict=True):
                if value is None or value == "":
                    if not omit_empty:
                        out[name] = ""
                    continue
                if type(value) is str and value.isascii() and len(value) <= limit:
                    out[name] = value  # what check_text gives ASCII: nothing to encode
                    continue
                try:
                    out[name] = to_text(value, ctx)
                except (TypeError, ValueError) as exc:
                    errors.append(FieldError(path, str(exc)))
            continue
        try:
            if step == "prop":
                out[entry[1]] = entry[4](entry[3](record), ctx)
            else:
                entry[1].write({path: get(record) for path, get in entry[2]}, out, ctx)
        except FieldError as exc:
            errors.append(exc)
        except MappingError as exc:
            errors.extend(exc.errors)
        except (TypeError, ValueError, AttributeError, OverflowError) as exc:
            # OverflowError: an instant at the edge of Python's range (year 1 or 9999)
            # that the session's zone moves out of it
            errors.append(FieldError(entry[2] if step == "prop" else entry[1].paths[0], str(exc)))
    if errors:
        raise MappingError(f"cannot write {type(record).__name__} to Outlook", errors)
    return out


_UTC_ZONE = ZoneInfo("UTC")


def from_outlook(
    kind: ItemKind,
    props: Mapping[str, Any],
    *,
    tz: ZoneInfo,
    list_separator: str = ";",
) -> r.Record:
    """A record of ``kind`` from Outlook property values; missing keys keep defaults.

    Raises :class:`MappingError` listing every bad field with its path.
    """
    ctx = _Ctx(tz, list_separator)
    top: dict[str, Any] = {}
    errors: list[FieldError] = []
    for part in TABLES[kind]:
        try:
            if isinstance(part, _Recurrence):
                got = part.read(props, ctx, start=top.get(part.start), zone=top.get("timezone"))
            else:
                got = part.read(props, ctx)
        except FieldError as exc:
            errors.append(exc)
            continue
        except MappingError as exc:
            errors.extend(exc.errors)
            continue
        except (TypeError, ValueError, AttributeError, KeyError, OverflowError) as exc:
            # OverflowError: a date at the edge of Python's range (year 1 or 9999) that
            # the session's zone moves out of it
            errors.append(FieldError(part.paths[0], str(exc)))
            continue
        for path, value in got.items():
            head, _, tail = path.partition(".")
            if tail:
                top.setdefault(head, {})[tail] = value
            else:
                top[path] = value
    if errors:
        raise MappingError(f"cannot read Outlook {kind.value}", errors)
    for head, cls in _NESTED[kind].items():
        if head in top:
            top[head] = cls(**top[head])
    try:
        return r.record_class(kind)(**top)
    except (TypeError, ValueError) as exc:
        raise MappingError(
            f"cannot read Outlook {kind.value}", [FieldError("$", str(exc))]
        ) from exc


def note_unchanged(current_body: str | None, note: str | None) -> bool:
    r"""Whether writing ``note`` to an item whose ``Body`` is ``current_body`` changes nothing.

    Writing ``Body`` discards Outlook's rich text (``RTFBody``); the Outlook adapter skips
    the write when this is true, so a trip through a plain-text side (OX, vCard) keeps the
    formatting as long as the text itself did not change. Line ends and trailing blanks,
    which Outlook adds on its own, do not count.

    >>> note_unchanged("Agenda\r\n- item\r\n", "Agenda\n- item")
    True
    """

    def plain(text: str | None) -> str:
        return (text or "").replace("\r\n", "\n").rstrip()

    return plain(current_body) == plain(note)
