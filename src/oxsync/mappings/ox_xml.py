"""OX WebDAV/XML elements <-> canonical records, by declarative tables.

One table per item kind lists a row per canonical field: the dotted canonical path
(``"phones.business"``), the OX element (namespace :data:`OX_NS`, prefix ``ox``) and a
shared converter (:class:`Codec`). A few fields span several elements or need
structured XML (timing, alarm, recurrence, participants, distribution-list members,
photo, user fields); each is one :class:`Part` object with the same two methods.
Element names follow ``shared/reference/ox-webdav-xml.md`` §3; values follow
:mod:`oxsync.mappings.values`.

    >>> from oxsync.core.records import Contact, ItemKind, Phones
    >>> prop = new_prop()
    >>> encode(Contact(last_name="Curie", phones=Phones(business="+33 1")), prop, full=False)
    >>> [child.tag.split("}")[1] for child in prop]
    ['private_flag', 'last_name', 'phone_business', 'distributionlist_flag']
    >>> decode(ItemKind.CONTACT, prop).phones.business
    '+33 1'

**Clearing fields.** With ``full=True`` (the default) every field the table knows is
written, unset ones as empty elements: OX leaves an absent element unchanged on update
and reads an empty one as null, so a full write is the only way to clear a field that
the other side emptied (an empty ``image1`` deletes the photo; ``recurrence_type`` is
always sent because its absence means "not recurring"). ``full=False`` writes only
set fields, which is enough (and smaller) for a create.

Object-level elements (``object_id``, ``folder_id``, ``last_modified``,
``creation_time``, ``client_id``, ``method``…) belong to the OX adapter: :func:`encode`
never writes them; :func:`decode` ignores them except that it copies ``creation_time``
and ``last_modified`` into the records' volatile ``created`` / ``last_modified``.

This module is longer than most because it holds four tables; the machinery above
them is short.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from operator import attrgetter
from typing import Any, Generic, Protocol, TypeAlias, TypeVar
from zoneinfo import ZoneInfo

import attrs
from attrs import frozen
from lxml import etree  # type: ignore[import-untyped]

from oxsync.core import records as r
from oxsync.core.records import FolderKind, ItemKind
from oxsync.errors import FieldError, MappingError
from oxsync.mappings import recurrence as rec
from oxsync.mappings import values as v

__all__ = [
    "OX_NS",
    "OX_UNSUPPORTED",
    "TABLES",
    "Codec",
    "Field",
    "Part",
    "Row",
    "decode",
    "encode",
    "kind_of",
    "new_prop",
]

OX_NS = "http://www.open-xchange.org"
"""Namespace of every OX data element (prefix ``ox``)."""

_DAV_NS = "DAV:"
_Q = "{" + OX_NS + "}"
T = TypeVar("T")
Element: TypeAlias = etree._Element


def new_prop() -> Element:
    """An empty ``D:prop`` element with the ``D`` and ``ox`` prefixes declared."""
    return etree.Element("{DAV:}prop", nsmap={"D": _DAV_NS, "ox": OX_NS})


# --------------------------------------------------------------------------- codecs

_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@frozen
class Codec(Generic[T]):
    """Element text <-> canonical value. ``dump`` returns ``None`` for "no value"."""

    dump: Callable[[T], str | None]
    load: Callable[[str], T]


def _text(limit: int) -> Codec[str | None]:
    def dump(value: str | None) -> str | None:
        text = v.check_text(value, limit=limit)
        # OX's own writer strips characters XML cannot carry; so do we.
        return None if text is None else _XML_ILLEGAL.sub("", text) or None

    def load(text: str) -> str | None:
        # lxml hands out valid Unicode only; the length is all there is to check
        if len(text) > limit:
            raise ValueError(_too_long(text, limit))
        return text

    codec = Codec(dump, load)
    _TEXT_LIMITS[id(codec)] = limit
    return codec


_TEXT_LIMITS: dict[int, int] = {}
"""Text codecs (by id) -> their length limit: decoding checks the length inline."""


def _too_long(text: str, limit: int) -> str:
    return f"text of {len(text)} characters exceeds the limit of {limit}"


def _int(low: int, high: int) -> Codec[int | None]:
    def dump(value: int | None) -> str | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"expected an integer, got {type(value).__name__}")
        if not low <= value <= high:
            raise ValueError(f"{value} is outside {low}..{high}")
        return str(value)

    def load(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise ValueError(f"{text!r} is not an integer") from None
        if not low <= value <= high:
            raise ValueError(f"{value} is outside {low}..{high}")
        return value

    return Codec(dump, load)


def _enum(table: v.EnumTable[Any, int]) -> Codec[Any]:
    return Codec(
        lambda value: str(table.to_native(value)),
        lambda text: table.from_native(_int_required(text)),
    )


def _int_required(text: str) -> int:
    value = _INT.load(text)
    if value is None:
        raise ValueError("empty number")
    return value


def _optional(codec: Codec[Any]) -> Codec[Any]:
    return Codec(lambda value: None if value is None else codec.dump(value), codec.load)


def _bool_load(text: str) -> bool:
    return text.strip().lower() == "true"  # the server's own rule: anything else is false


def _categories_dump(names: tuple[str, ...]) -> str | None:
    joined = v.join_categories(names, ",")
    return None if joined is None else _TEXT.dump(joined)


def _photo_bytes(text: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("image1 is not valid base64") from None


_TEXT = _text(v.MAX_TEXT_CHARS)
_NOTE = _text(v.MAX_NOTE_CHARS)
_INT: Codec[int | None] = _int(-(2**63), 2**63 - 1)
_COUNT = _int(0, 2**31 - 1)
_PERCENT = _int(0, 100)
_COLOR = _int(0, 10)
# OX writes 0 for "no colour" / "no duration"; reading 0 as None keeps both forms alike.
_COLOR_LABEL: Codec[int | None] = Codec(_COLOR.dump, lambda text: _COLOR.load(text) or None)
_BOOL: Codec[bool] = Codec(lambda value: "true" if value else "false", _bool_load)
_DATE: Codec[date | None] = _optional(Codec(lambda d: str(v.date_to_ox(d)), v.date_from_ox))
_TIMESTAMP: Codec[datetime | None] = _optional(
    Codec(lambda t: str(v.datetime_to_ox(t)), v.datetime_from_ox)
)
_MINUTES: Codec[int | None] = _optional(
    Codec(v.minutes_to_ox, lambda text: v.minutes_from_ox(text) or None)
)
_CATEGORIES: Codec[tuple[str, ...]] = Codec(_categories_dump, v.split_categories)


def _private_load(text: str) -> r.Sensitivity:
    known = _PRIVATE_TEXTS.get(text)  # the server writes exactly "true" / "false"
    return known if known is not None else v.sensitivity_from_private_flag(_bool_load(text))


_PRIVATE_TEXTS = {
    "true": v.sensitivity_from_private_flag(True),
    "false": v.sensitivity_from_private_flag(False),
}
_PRIVATE: Codec[r.Sensitivity] = Codec(lambda s: _BOOL.dump(v.private_flag(s)), _private_load)
_DEFAULT_ADDRESS: Codec[str | None] = _optional(_enum(v.OX_DEFAULT_ADDRESS))


def _day_or_instant(value: date | datetime | None) -> str | None:
    """Task dates: an OX Date for a date, ms for an instant."""
    if value is None:
        return None
    return str(v.datetime_to_ox(value) if isinstance(value, datetime) else v.date_to_ox(value))


def _load_day_or_instant(text: str) -> date | datetime:
    moment = v.datetime_from_ox(text)
    # Lossy by nature of the wire: a UTC-midnight instant reads back as a date.
    midnight = moment.hour == moment.minute == moment.second == moment.microsecond == 0
    return moment.date() if midnight else moment


_TASK_DATE: Codec[date | datetime | None] = Codec(_day_or_instant, _load_day_or_instant)


# --------------------------------------------------------------------------- rows


class Part(Protocol):
    """A table entry: canonical paths <-> OX elements."""

    @property
    def paths(self) -> tuple[str, ...]:
        """Canonical dotted paths this entry covers."""

    @property
    def elements(self) -> tuple[str, ...]:
        """OX element names this entry writes and reads."""

    def write(self, values: Mapping[str, Any], prop: Element, full: bool, ctx: _Ctx) -> None:
        """Append this entry's elements for the record's ``values`` (by path)."""

    def read(self, found: Mapping[str, Element], ctx: _Ctx) -> dict[str, Any]:
        """Canonical values (by path) from this entry's elements; raise FieldError."""


@frozen
class _Ctx:
    contact_ref: Callable[[str], tuple[str, str]] | None = None
    contact_uid: Callable[[str, str], str | None] | None = None


def _add(prop: Element, name: str, text: str | None = None) -> Element:
    child = etree.SubElement(prop, _Q + name)
    if text is not None:
        child.text = text
    return child


def _attr(el: Element, name: str) -> str | None:
    value: str | None = el.get(_Q + name)
    if value is None:
        value = el.get(name)
    return value


@frozen
class Field:
    """One canonical field in one element, converted by a :class:`Codec`."""

    path: str
    element: str
    codec: Codec[Any]
    head: str = attrs.field(init=False)
    tail: str = attrs.field(init=False)

    @head.default
    def _head(self) -> str:
        return self.path.partition(".")[0]

    @tail.default
    def _tail(self) -> str:
        return self.path.partition(".")[2]

    @property
    def paths(self) -> tuple[str, ...]:
        """The one canonical path."""
        return (self.path,)

    @property
    def elements(self) -> tuple[str, ...]:
        """The one element."""
        return (self.element,)


Row: TypeAlias = "Field | Part"
"""A table entry: a simple :class:`Field` or a structured :class:`Part`."""


class _Constant:
    """An element written with a fixed text and never read back (a kind marker)."""

    paths: tuple[str, ...] = ()

    def __init__(self, element: str, text: str):
        self.elements = (element,)
        self.text = text

    def write(self, values: Mapping[str, Any], prop: Element, full: bool, ctx: _Ctx) -> None:
        _add(prop, self.elements[0], self.text)

    def read(self, found: Mapping[str, Element], ctx: _Ctx) -> dict[str, Any]:
        return {}


class _ReadOnly:
    """A server-written element copied into a volatile field; never encoded."""

    def __init__(self, path: str, element: str, codec: Codec[Any]):
        self.paths = (path,)
        self.elements = (element,)
        self.codec = codec

    def write(self, values: Mapping[str, Any], prop: Element, full: bool, ctx: _Ctx) -> None:
        return None

    def read(self, found: Mapping[str, Element], ctx: _Ctx) -> dict[str, Any]:
        text = found[self.elements[0]].text
        return {} if not text else {self.paths[0]: self.codec.load(text)}


def _int_text(el: Element | None, path: str) -> int | None:
    if el is None or not el.text:
        return None
    try:
        return _INT.load(el.text)
    except ValueError as exc:
        raise FieldError(path, str(exc)) from None


class _EventTiming:
    """start/end/all_day/timezone <-> start_date, end_date (exclusive), full_time, timezone."""

    paths = ("start", "end", "all_day", "timezone")
    elements = ("start_date", "end_date", "full_time", "timezone")
    required = True

    def write(self, values: Mapping[str, Any], prop: Element, full: bool, ctx: _Ctx) -> None:
        start, end, all_day = values["start"], values["end"], values["all_day"]
        dated = [not isinstance(x, datetime) and isinstance(x, date) for x in (start, end)]
        if all_day != dated[0] or dated[0] != dated[1]:
            raise FieldError("start", "all-day events need date start/end, timed ones datetimes")
        for name, value in (("start_date", start), ("end_date", end)):
            path = name.removesuffix("_date")
            try:
                ms = v.date_to_ox(value) if all_day else v.datetime_to_ox(value)
            except (TypeError, ValueError) as exc:
                raise FieldError(path, str(exc)) from None
            _add(prop, name, str(ms))
        _add(prop, "full_time", _BOOL.dump(all_day))
        if values["timezone"] is not None or full:
            _add(prop, "timezone", _TEXT.dump(values["timezone"]))

    def read(self, found: Mapping[str, Element], ctx: _Ctx) -> dict[str, Any]:
        out: dict[str, Any] = {}
        full_time = "full_time" in found and _bool_load(found["full_time"].text or "")
        zone = found["timezone"].text if "timezone" in found else None
        if zone:
            try:
                ZoneInfo(zone)
            except v.UNKNOWN_ZONE:
                raise FieldError("timezone", f"unknown time zone {zone[:60]!r}") from None
            out["timezone"] = zone
        errors = []
        for name in ("start_date", "end_date"):
            path = name.removesuffix("_date")
            ms = _int_text(found.get(name), path)
            if ms is None:
                errors.append(FieldError(path, f"{name} is missing"))
                continue
            try:
                if full_time:
                    out[path] = v.date_from_ox(ms)
                else:
                    out[path] = v.datetime_from_ox(ms)
            except ValueError as exc:
                errors.append(FieldError(path, str(exc)))
        if errors:
            raise MappingError("bad timing", errors)
        out["all_day"] = full_time
        return out


class _Alarm:
    """alarm <-> alarm + alarm_flag; minutes before start (events) or absolute (tasks)."""

    paths = ("alarm",)
    elements = ("alarm", "alarm_flag")
    required = False

    def __init__(self, absolute: bool):
        self.absolute = absolute

    def write(self, values: Mapping[str, Any], prop: Element, full: bool, ctx: _Ctx) -> None:
        alarm: r.Alarm | None = values["alarm"]
        text: str | None = None
        if alarm is not None and self.absolute and alarm.at is not None:
            text = str(v.datetime_to_ox(alarm.at))
        elif alarm is not None and not self.absolute and alarm.minutes_before is not None:
            text = _COUNT.dump(alarm.minutes_before)
        if text is not None or full:
            _add(prop, "alarm", text)
        _add(prop, "alarm_flag", _BOOL.dump(text is not None))

    def read(self, found: Mapping[str, Element], ctx: _Ctx) -> dict[str, Any]:
        flag = found.get("alarm_flag")
        value = _int_text(found.get("alarm"), "alarm")
        off = flag is not None and not _bool_load(flag.text or "")
        # -1 means "no alarm" for the relative (minutes) form; a task alarm is an instant
        if value is None or off or (value < 0 and not self.absolute):
            return {}
        if self.absolute:
            try:
                return {"alarm": r.Alarm(at=v.datetime_from_ox(value))}
            except ValueError as exc:
                raise FieldError("alarm", str(exc)) from None
        return {"alarm": r.Alarm(minutes_before=value)}


class _Recurrence:
    """recurrence <-> recurrence_type, days, day_in_month, month, interval, until,
    occurrences, deleteexceptions (see :mod:`oxsync.mappings.recurrence`)."""

    paths = ("recurrence",)
    elements = (
        "recurrence_type",
        "days",
        "day_in_month",
        "month",
        "interval",
        "until",
        "occurrences",
        "deleteexceptions",
    )
    required = False

    def write(self, values: Mapping[str, Any], prop: Element, full: bool, ctx: _Ctx) -> None:
        fields = rec.to_ox(values["recurrence"])
        for name in self.elements:
            value = fields.get(name)
            if value is None and not full:
                continue
            if name == "until" and value is not None:
                value = v.date_to_ox(value)
            elif name == "deleteexceptions" and value is not None:
                value = ",".join(str(v.date_to_ox(d)) for d in value)
            _add(prop, name, None if value is None else str(value))

    def read(self, found: Mapping[str, Element], ctx: _Ctx) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        errors: list[FieldError] = []
        for name in self.elements[1:]:
            el = found.get(name)
            if el is None or not el.text:
                continue
            path = "recurrence." + _RECURRENCE_PATHS[name]
            try:
                if name == "until":
                    fields[name] = v.date_from_ox(el.text)
                elif name == "deleteexceptions":
                    fields[name] = tuple(
                        v.date_from_ox(part) for part in el.text.split(",") if part.strip()
                    )
                else:
                    fields[name] = _INT.load(el.text)
            except ValueError as exc:
                errors.append(FieldError(path, str(exc)))
        if errors:
            raise MappingError("bad recurrence", errors)
        type_el = found.get("recurrence_type")
        fields["recurrence_type"] = (
            (type_el.text or "none").strip().lower() if type_el is not None else "none"
        )
        rule = rec.from_ox(fields)
        return {} if rule is None else {"recurrence": rule}


_RECURRENCE_PATHS = {
    "days": "weekdays",
    "day_in_month": "day_of_month",
    "month": "month",
    "interval": "interval",
    "until": "until",
    "occurrences": "count",
    "deleteexceptions": "deleted",
}

_PARTICIPANT_ELEMENTS = {
    r.AttendeeKind.USER: "user",
    r.AttendeeKind.EXTERNAL: "user",
    r.AttendeeKind.GROUP: "group",
    r.AttendeeKind.RESOURCE: "resource",
    r.AttendeeKind.RESOURCE_GROUP: "resource",  # lossy: no XML element for it
}


class _Participants:
    """attendees <-> ``<ox:participants>`` with user/group/resource children.

    OX keeps no role (required/optional) and no comment: resources read back with the
    RESOURCE role, everyone else as REQUIRED.
    """

    paths = ("attendees",)
    elements = ("participants",)
    required = False

    def write(self, values: Mapping[str, Any], prop: Element, full: bool, ctx: _Ctx) -> None:
        attendees: tuple[r.Attendee, ...] = values["attendees"]
        if not attendees and not full:
            return
        parent = _add(prop, "participants")
        for i, person in enumerate(attendees):
            try:
                external = person.kind is r.AttendeeKind.EXTERNAL
                child = _add(parent, _PARTICIPANT_ELEMENTS[person.kind])
                child.text = "0" if external or not person.user_id else _TEXT.dump(person.user_id)
                child.set(_Q + "external", _BOOL.dump(external) or "false")
                child.set(_Q + "confirm", v.OX_CONFIRM.to_native(person.status))
                for attr, value in (("mail", person.email), ("displayname", person.name)):
                    text = _TEXT.dump(value)
                    if text is not None:
                        child.set(_Q + attr, text)
            except (TypeError, ValueError, KeyError) as exc:
                raise FieldError(f"attendees[{i}]", str(exc)) from None

    def read(self, found: Mapping[str, Element], ctx: _Ctx) -> dict[str, Any]:
        out: list[r.Attendee] = []
        errors: list[FieldError] = []
        for i, child in enumerate(c for c in found["participants"] if isinstance(c.tag, str)):
            name = etree.QName(child).localname
            try:
                external = _bool_load(_attr(child, "external") or "")
                if name == "user":
                    kind = r.AttendeeKind.EXTERNAL if external else r.AttendeeKind.USER
                elif name == "group":
                    kind = r.AttendeeKind.EXTERNAL if external else r.AttendeeKind.GROUP
                elif name == "resource":
                    kind = r.AttendeeKind.RESOURCE
                else:
                    raise ValueError(f"unknown participant element {name!r}")
                ident = (child.text or "").strip()
                out.append(
                    r.Attendee(
                        email=v.check_text(_attr(child, "mail")),
                        name=v.check_text(_attr(child, "displayname")),
                        kind=kind,
                        role=(
                            r.AttendeeRole.RESOURCE
                            if kind is r.AttendeeKind.RESOURCE
                            else r.AttendeeRole.REQUIRED
                        ),
                        status=v.OX_CONFIRM.from_native(
                            (_attr(child, "confirm") or "none").strip().lower()
                        ),
                        user_id=None if external or ident in ("", "0") else ident,
                    )
                )
            except (TypeError, ValueError) as exc:
                errors.append(FieldError(f"attendees[{i}]", str(exc)))
        if errors:
            raise MappingError("bad participants", errors)
        return {"attendees": tuple(out)}


class _Members:
    """members <-> ``<ox:distributionlist>`` of ``<ox:email>`` entries.

    A member referring to a contact is written with ``id``/``folder_id`` from the
    ``contact_ref`` hook (default: the uid itself, folder 0) and read back through
    ``contact_uid`` (default: the ``id`` attribute).
    """

    paths = ("members",)
    elements = ("distributionlist",)
    required = False

    def write(self, values: Mapping[str, Any], prop: Element, full: bool, ctx: _Ctx) -> None:
        members: tuple[r.DistributionListMember, ...] = values["members"]
        if not members and not full:
            return
        parent = _add(prop, "distributionlist")
        for i, member in enumerate(members):
            try:
                if not 0 <= member.email_slot <= 3:
                    raise ValueError(f"email_slot {member.email_slot} is outside 0..3")
                ident, folder = "0", "0"
                if member.contact_uid is not None and member.email_slot:
                    ref = ctx.contact_ref or (lambda uid: (uid, "0"))
                    ident, folder = ref(member.contact_uid)
                child = _add(parent, "email", _TEXT.dump(member.email))
                child.set(_Q + "id", ident)
                child.set(_Q + "folder_id", folder)
                child.set(_Q + "displayname", _TEXT.dump(member.display_name) or "")
                child.set(_Q + "emailfield", str(member.email_slot))
            except (TypeError, ValueError) as exc:
                raise FieldError(f"members[{i}]", str(exc)) from None

    def read(self, found: Mapping[str, Element], ctx: _Ctx) -> dict[str, Any]:
        out: list[r.DistributionListMember] = []
        errors: list[FieldError] = []
        for i, child in enumerate(c for c in found["distributionlist"] if isinstance(c.tag, str)):
            try:
                slot = _COUNT.load(_attr(child, "emailfield") or "")
                if slot is None or slot > 3:
                    raise ValueError(f"emailfield {slot} is outside 0..3")
                uid = None
                ident, folder = _attr(child, "id") or "0", _attr(child, "folder_id") or "0"
                if slot and ident.strip() not in ("", "0"):
                    uid = ctx.contact_uid(ident, folder) if ctx.contact_uid else ident
                out.append(
                    r.DistributionListMember(
                        display_name=v.check_text(_attr(child, "displayname")),
                        email=v.check_text(child.text),
                        contact_uid=uid,
                        email_slot=slot,
                    )
                )
            except (TypeError, ValueError) as exc:
                errors.append(FieldError(f"members[{i}]", str(exc)))
        if errors:
            raise MappingError("bad distribution list", errors)
        return {"members": tuple(out)}


class _Photo:
    """photo <-> image1 (base64) + image_content_type; an empty image1 deletes it."""

    paths = ("photo",)
    elements = ("image1", "image_content_type")
    required = False

    def write(self, values: Mapping[str, Any], prop: Element, full: bool, ctx: _Ctx) -> None:
        photo: r.Photo | None = values["photo"]
        if photo is None or not photo.data:
            if full:
                _add(prop, "image1")
            return
        _add(prop, "image1", base64.b64encode(photo.data).decode("ascii"))
        _add(prop, "image_content_type", _TEXT.dump(photo.content_type))

    def read(self, found: Mapping[str, Element], ctx: _Ctx) -> dict[str, Any]:
        image = found.get("image1")
        if image is None or not image.text or not image.text.strip():
            return {}
        kind = found.get("image_content_type")
        content_type = (kind.text or "").strip() if kind is not None else ""
        return {
            "photo": r.Photo(
                data=_photo_bytes(image.text), content_type=content_type or "image/jpeg"
            )
        }


class _UserFields:
    """user_fields <-> userfield01 … userfield20 (trailing empty slots dropped)."""

    paths = ("user_fields",)
    elements = tuple(f"userfield{i:02d}" for i in range(1, 21))
    required = False

    def write(self, values: Mapping[str, Any], prop: Element, full: bool, ctx: _Ctx) -> None:
        fields: tuple[str | None, ...] = values["user_fields"]
        if len(fields) > len(self.elements):
            raise FieldError("user_fields", f"{len(fields)} values; OX has 20 user fields")
        for i, name in enumerate(self.elements):
            text = _TEXT.dump(fields[i]) if i < len(fields) else None
            if text is not None or full:
                _add(prop, name, text)

    def read(self, found: Mapping[str, Element], ctx: _Ctx) -> dict[str, Any]:
        texts = [
            v.check_text(found[name].text) if name in found else None for name in self.elements
        ]
        while texts and texts[-1] is None:
            texts.pop()
        return {"user_fields": tuple(texts)} if texts else {}


# --------------------------------------------------------------------------- tables


def _fields(codec: Codec[Any], pairs: str) -> list[Row]:
    """Rows sharing one codec from ``"path=element path2=element2"`` text."""
    rows: list[Row] = []
    for pair in pairs.split():
        path, _, element = pair.partition("=")
        rows.append(Field(path, element or path, codec))
    return rows


def _address(path: str, prefix: str) -> str:
    return " ".join(
        f"{path}.{part}={prefix}{part}"
        for part in ("street", "postal_code", "city", "state", "country")
    )


_COMMON: list[Row] = [
    *_fields(_TEXT, "uid"),
    *_fields(_NOTE, "note"),
    Field("categories", "categories", _CATEGORIES),
    Field("sensitivity", "private_flag", _PRIVATE),
    Field("color_label", "color_label", _COLOR_LABEL),
    _ReadOnly("created", "creation_time", _TIMESTAMP),
    _ReadOnly("last_modified", "last_modified", _TIMESTAMP),
]

_CONTACT: list[Row] = [
    *_COMMON,
    *_fields(
        _TEXT,
        "title first_name middle_name=second_name last_name suffix display_name=displayname "
        "file_as nickname job_title=position company department office_location=room_number "
        "profession manager_name=managers_name assistant_name=assistants_name spouse_name "
        "marital_status=martital_status "
        "phones.business=phone_business phones.business2=phone_business2 "
        "phones.home=phone_home phones.home2=phone_home2 phones.mobile=mobile1 "
        "phones.mobile2=mobile2 phones.car=phone_car phones.company=phone_company "
        "phones.assistant=phone_assistant phones.callback=callback phones.isdn=isdn "
        "phones.radio=radio phones.other=phone_other phones.pager=pager "
        "phones.primary=primary phones.telex=telex phones.ttytdd=tty_tdd phones.ip=ip_phone "
        "phones.business_fax=fax_business phones.home_fax=fax_home phones.other_fax=fax_other "
        "emails.email1=email1 emails.email2=email2 emails.email3=email3 "
        "web_page=url im_address=instant_messenger im_address2=instant_messenger2 "
        "employee_type tax_id branches sales_volume commercial_register business_category "
        "info=more_info "
        + _address("business_address", "business_")
        + " "
        + _address("home_address", "")
        + " "
        + _address("other_address", "second_"),
    ),
    *_fields(_DATE, "birthday anniversary"),
    Field("number_of_children", "number_of_children", _optional(_COUNT)),
    Field("selected_mailing_address", "defaultaddress", _DEFAULT_ADDRESS),
    _Photo(),
    _UserFields(),
    _Constant("distributionlist_flag", "false"),
]

_DISTRIBUTION_LIST: list[Row] = [
    *_COMMON,
    Field("display_name", "displayname", _TEXT),
    _Members(),
    _Constant("distributionlist_flag", "true"),
]

_EVENT: list[Row] = [
    *_COMMON,
    *_fields(_TEXT, "summary=title location"),
    _EventTiming(),
    Field("busy_status", "shown_as", _enum(v.OX_SHOWN_AS)),
    _Alarm(absolute=False),
    _Participants(),
    _Recurrence(),
]

_TASK: list[Row] = [
    *_COMMON,
    *_fields(
        _TEXT,
        "summary=title companies mileage=trip_meter billing_information actual_costs "
        "target_costs currency",
    ),
    *_fields(_TASK_DATE, "start=start_date due=end_date date_completed"),
    Field("status", "status", _enum(v.OX_TASK_STATUS)),
    Field("importance", "priority", _enum(v.OX_PRIORITY)),
    Field("percent_complete", "percent_completed", _PERCENT),
    *_fields(_MINUTES, "total_work=target_duration actual_work=actual_duration"),
    _Alarm(absolute=True),
    _Participants(),
    _Recurrence(),
]

TABLES: dict[ItemKind, tuple[Row, ...]] = {
    ItemKind.CONTACT: tuple(_CONTACT),
    ItemKind.DISTRIBUTION_LIST: tuple(_DISTRIBUTION_LIST),
    ItemKind.EVENT: tuple(_EVENT),
    ItemKind.TASK: tuple(_TASK),
}
"""The field tables, one per item kind."""


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


OX_UNSUPPORTED: dict[ItemKind, frozenset[str]] = {
    ItemKind.CONTACT: _names(
        "initials gender hobby children business_home_page personal_home_page customer_id "
        "government_id account referred_by language note_html color_label attachments "
        "emails.email1_display_name emails.email2_display_name emails.email3_display_name "
        "business_address.po_box home_address.po_box other_address.po_box "
        "business_address.label home_address.label other_address.label"
    ),
    ItemKind.DISTRIBUTION_LIST: frozenset({"color_label"}),
    ItemKind.EVENT: _names(
        "note_html importance organizer exceptions sequence attachments alarm.at"
    ),
    ItemKind.TASK: _names(
        "note_html owner delegation_state attachments color_label alarm.minutes_before "
        "recurrence.regenerate"
    ),
}
"""Canonical fields (dotted paths) the OX WebDAV/XML form cannot hold, per kind.

Also lossy but not listable as paths: attendee roles other than resource and comments,
the RESOURCE_GROUP kind (written as a resource), external groups (read as external
users), PERSONAL/CONFIDENTIAL sensitivity (read as PRIVATE unless the previous value is
kept, see :func:`oxsync.mappings.values.sensitivity_from_private_flag`), working
elsewhere (read as busy), yearly intervals > 1 (read as monthly every 12·N), task
datetimes at exactly UTC midnight (read as dates).
"""

# Decoding plan per kind, for one pass over the children. Every tag the kind knows is in
# ``entries`` (qualified tag -> one tuple, so an element costs one dict lookup):
# ``(group, index, load, limit, path)``. Group 0 is the item's own fields, group i > 0
# those of its i-th nested record (``phones``, ``business_address``…); ``index`` is the
# field's position in its class (records are built by position from a list of every
# field: see records.positional_constructor). A plain text field has ``load`` None and its
# length ``limit``; a converted field its ``load``; an element of a structured part has
# group -1 and the part as ``index``. Read-only server fields decode like fields; kind
# markers read nothing.
_Entry: TypeAlias = tuple[int, Any, Callable[[str], Any] | None, int, str]


@frozen
class _DecodePlan:
    """How to decode one item kind (built once per kind from its table)."""

    build: Callable[..., Any]  # the record class's positional constructor
    index: dict[str, int]  # top-level field name -> position (what parts read)
    nested: tuple[tuple[int, Callable[..., Any]], ...]  # group i -> (position in the
    # record, positional constructor); its defaults are defaults[i]
    entries: dict[str, _Entry]
    parts: tuple[tuple[Part, bool], ...]  # (part, read even when absent)
    any_required: bool  # some part reads even when none of its elements is there
    defaults: tuple[list[Any], ...]  # group -> every field's default, in order
    required: tuple[tuple[int, str], ...]  # (position, name) of fields without a default


def _decode_plan(kind: ItemKind, table: tuple[Row, ...]) -> _DecodePlan:
    cls = r.record_class(kind)
    fields = attrs.fields(cls)
    index = {a.name: i for i, a in enumerate(fields)}
    nested_classes = {a.name: type(a.default) for a in fields if attrs.has(type(a.default))}
    heads: list[str] = []
    entries: dict[str, _Entry] = {}
    parts: list[tuple[Part, bool]] = []
    for row in table:
        if isinstance(row, Field | _ReadOnly):
            (path,), (element,) = row.paths, row.elements
            head, _, tail = path.partition(".")
            if tail:
                if head not in heads:
                    heads.append(head)
                group = heads.index(head) + 1
                position = [a.name for a in attrs.fields(nested_classes[head])].index(tail)
            else:
                group, position = 0, index[path]
            limit = _TEXT_LIMITS.get(id(row.codec))
            if limit is None:
                entries[_Q + element] = (group, position, row.codec.load, 0, path)
            else:
                entries[_Q + element] = (group, position, None, limit, path)
        elif not isinstance(row, _Constant):
            for element in row.elements:
                entries[_Q + element] = (-1, row, None, 0, element)
            parts.append((row, getattr(row, "required", False)))
    groups = [cls] + [nested_classes[head] for head in heads]
    for group in groups[1:]:  # a nested record is built from what was read plus defaults
        if any(a.default is attrs.NOTHING for a in attrs.fields(group)):
            raise TypeError(f"nested record {group.__name__} has a field without a default")
    return _DecodePlan(
        build=r.positional_constructor(cls),
        index=index,
        nested=tuple(
            (index[head], r.positional_constructor(nested_classes[head])) for head in heads
        ),
        entries=entries,
        parts=tuple(parts),
        any_required=any(required for _, required in parts),
        defaults=tuple([a.default for a in attrs.fields(group)] for group in groups),
        required=tuple((i, a.name) for i, a in enumerate(fields) if a.default is attrs.NOTHING),
    )


_NO_CTX = _Ctx()
_PLANS: dict[ItemKind, _DecodePlan] = {
    kind: _decode_plan(kind, table) for kind, table in TABLES.items()
}


def _write_plan(table: tuple[Row, ...]) -> tuple[tuple[Any, ...], ...]:
    """Per row: (True, getter, dump, qualified tag, path) for a field, else
    (None, part, ((path, getter), …))."""
    plan: list[tuple[Any, ...]] = []
    for part in table:
        if isinstance(part, Field):
            plan.append(
                (True, attrgetter(part.path), part.codec.dump, _Q + part.element, part.path)
            )
        else:
            plan.append((None, part, tuple((p, attrgetter(p)) for p in part.paths)))
    return tuple(plan)


_WRITE_PLANS = {kind: _write_plan(table) for kind, table in TABLES.items()}


# --------------------------------------------------------------------------- API


def encode(
    record: r.Record,
    prop: Element,
    *,
    full: bool = True,
    contact_ref: Callable[[str], tuple[str, str]] | None = None,
) -> None:
    """Append one ``ox:`` element per field of ``record`` to ``prop`` (a ``D:prop``).

    ``full=True`` also writes unset fields as empty elements (clears them on update).
    ``contact_ref(uid) -> (object_id, folder_id)`` resolves distribution-list members
    that point at contacts. Raises :class:`MappingError` listing every bad field; on
    error ``prop`` may hold a partial write and should be discarded.
    """
    kind = r.item_kind_of(record)
    ctx = _Ctx(contact_ref=contact_ref) if contact_ref else _NO_CTX
    errors: list[FieldError] = []
    sub = etree.SubElement
    for entry in _WRITE_PLANS[kind]:
        try:
            if entry[0] is None:  # a structured part
                part, getters = entry[1], entry[2]
                part.write({path: get(record) for path, get in getters}, prop, full, ctx)
                continue
            _, get, dump, qname, _path = entry
            text = dump(get(record))
            if text is not None:
                sub(prop, qname).text = text
            elif full:
                sub(prop, qname)
        except FieldError as exc:
            errors.append(exc)
        except MappingError as exc:
            errors.extend(exc.errors)
        except (TypeError, ValueError, AttributeError) as exc:
            path = entry[4] if entry[0] is not None else (entry[1].paths or ("$",))[0]
            errors.append(FieldError(path, str(exc)))
    if errors:
        raise MappingError(f"cannot write {type(record).__name__} as OX XML", errors)


def decode(
    kind: ItemKind,
    prop: Element,
    *,
    contact_uid: Callable[[str, str], str | None] | None = None,
) -> r.Record:
    """Build a record of ``kind`` from the ``ox:`` children of ``prop``.

    Elements outside the ox namespace, object-level and unknown elements are ignored.
    ``contact_uid(object_id, folder_id)`` maps distribution-list references back to
    contact uids. Raises :class:`MappingError` listing every bad field with its path.
    """
    plan = _PLANS[kind]
    entry_of = plan.entries.get
    groups = [defaults.copy() for defaults in plan.defaults]
    errors: list[FieldError] = []
    found: dict[Part, dict[str, Element]] | None = None
    # The hot loop (a listing: 10,000 contacts x ~25 elements); elements of other
    # namespaces and comments match nothing; a repeated element: the last one wins.
    for child in prop:
        entry = entry_of(child.tag)
        if entry is None:
            continue
        group, index, load, limit, path = entry
        if group < 0:  # an element of a structured part
            if found is None:
                found = {index: {path: child}}
            elif index in found:
                found[index][path] = child
            else:
                found[index] = {path: child}
            continue
        text = child.text
        if not text:
            continue
        if load is None:
            if len(text) > limit:
                errors.append(FieldError(path, _too_long(text, limit)))
            else:
                groups[group][index] = text
            continue
        try:
            groups[group][index] = load(text)
        except (TypeError, ValueError) as exc:
            errors.append(FieldError(path, str(exc)))
    top = groups[0]
    if found is not None or plan.any_required:
        ctx = _Ctx(contact_uid=contact_uid) if found and contact_uid else _NO_CTX
        field_index = plan.index
        for part, required in plan.parts:
            elements = found.get(part) if found else None
            if elements is None and not required:
                continue
            try:
                for name, value in part.read(elements or {}, ctx).items():
                    top[field_index[name]] = value
            except FieldError as exc:
                errors.append(exc)
            except MappingError as exc:
                errors.extend(exc.errors)
            except (TypeError, ValueError) as exc:
                errors.append(FieldError(part.paths[0] if part.paths else "$", str(exc)))
    for position, name in plan.required:  # a field without default nothing filled in
        if top[position] is attrs.NOTHING:
            errors.append(FieldError(name, "missing"))
    if errors:
        raise MappingError(f"cannot read OX {kind.value}", errors)
    for values, defaults, (position, build) in zip(
        groups[1:], plan.defaults[1:], plan.nested, strict=True
    ):
        if values != defaults:  # something was read: else the default record stays
            top[position] = build(*values)
    record: r.Record = plan.build(*top)
    return record


def kind_of(prop: Element, folder_kind: FolderKind) -> ItemKind:
    """The item kind of an OX object in a folder of ``folder_kind``.

    In a contacts folder, ``distributionlist_flag`` true marks a distribution list.
    """
    if folder_kind is FolderKind.CALENDAR:
        return ItemKind.EVENT
    if folder_kind is FolderKind.TASKS:
        return ItemKind.TASK
    # iterchildren matches the tag in C (find goes through lxml's Python ElementPath)
    for flag in prop.iterchildren(_DL_FLAG):
        if _bool_load(flag.text or ""):
            return ItemKind.DISTRIBUTION_LIST
        break
    return ItemKind.CONTACT


_DL_FLAG = _Q + "distributionlist_flag"
