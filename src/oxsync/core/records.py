"""Canonical records: the one vocabulary every store adapter converts to and from.

A record is a frozen attrs class. Every field any adapter carries has exactly one
canonical name here (see ``shared/reference/field-map.md`` for the Outlook / OX /
iCalendar / vCard names of each). Conventions:

- Text fields are ``str | None``; ``None`` means "not set". Adapters map a store's empty
  string to ``None`` so that ``""`` and "absent" never look like a change.
- Timed instants are timezone-aware ``datetime`` values, normalised to UTC by the
  mappings; the zone the item was written in is kept separately (``Event.timezone``), so
  wall-clock times are recovered exactly and the same item read from two stores has the
  same fingerprint. All-day values and birthdays are plain ``date`` (never shifted
  through a timezone); ``Recurrence.deleted`` holds dates in the event's zone.
- Enumerations are ``enum.Enum`` subclasses with canonical meanings, not any store's
  numbers (OX and Outlook numbers live in ``oxsync.mappings``).
- Sequences are tuples, so records hash and compare by value.
- Fields marked *volatile* (server timestamps) are not part of the fingerprint.

Records are built with keyword arguments only::

    >>> c = Contact(first_name="Ada", last_name="Lovelace", emails=Emails(email1="ada@x.org"))
    >>> c.last_name
    'Lovelace'
    >>> attrs.evolve(c, nickname="Countess").nickname
    'Countess'
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeAlias, TypeVar, cast

import attrs
from attrs import field, frozen

__all__ = [
    "VOLATILE",
    "Address",
    "Alarm",
    "Attachment",
    "Attendee",
    "AttendeeKind",
    "AttendeeRole",
    "BusyStatus",
    "Contact",
    "DelegationState",
    "DistributionList",
    "DistributionListMember",
    "Emails",
    "Event",
    "EventException",
    "Folder",
    "FolderKind",
    "FolderType",
    "Frequency",
    "Importance",
    "ItemKind",
    "ParticipationStatus",
    "Permission",
    "Phones",
    "Photo",
    "Record",
    "Recurrence",
    "Sensitivity",
    "Task",
    "TaskStatus",
    "Weekday",
    "constructor",
    "item_kind_of",
    "positional_constructor",
    "record_class",
]

_R = TypeVar("_R")

VOLATILE = "oxsync_volatile"
"""attrs metadata key: the field is bookkeeping (timestamps) and not part of the fingerprint."""


def _volatile() -> Any:
    return field(default=None, metadata={VOLATILE: True})


class ItemKind(enum.Enum):
    """What an item is."""

    CONTACT = "contact"
    DISTRIBUTION_LIST = "distribution_list"
    EVENT = "event"
    TASK = "task"


class FolderKind(enum.Enum):
    """What a folder holds (OX "module")."""

    CONTACTS = "contacts"  # contacts and distribution lists
    CALENDAR = "calendar"
    TASKS = "tasks"

    @property
    def item_kinds(self) -> frozenset[ItemKind]:
        """The item kinds such a folder may hold."""
        return _FOLDER_ITEM_KINDS[self]


_FOLDER_ITEM_KINDS = {
    FolderKind.CONTACTS: frozenset({ItemKind.CONTACT, ItemKind.DISTRIBUTION_LIST}),
    FolderKind.CALENDAR: frozenset({ItemKind.EVENT}),
    FolderKind.TASKS: frozenset({ItemKind.TASK}),
}


class FolderType(enum.Enum):
    """Where a folder lives (OX folder types; Outlook folders are ``PRIVATE``)."""

    PRIVATE = "private"  # OX type 1
    PUBLIC = "public"  # OX type 2
    SHARED = "shared"  # OX type 3 (another user's private folder shared with us)
    SYSTEM = "system"  # OX type 5/6 e.g. the global address book


class Sensitivity(enum.Enum):
    """Outlook's Sensitivity; OX keeps only private yes/no, iCal/vCard CLASS."""

    NORMAL = "normal"
    PERSONAL = "personal"
    PRIVATE = "private"
    CONFIDENTIAL = "confidential"


class BusyStatus(enum.Enum):
    """How an appointment shows in free/busy."""

    FREE = "free"
    TENTATIVE = "tentative"
    BUSY = "busy"
    OUT_OF_OFFICE = "out_of_office"
    WORKING_ELSEWHERE = "working_elsewhere"


class TaskStatus(enum.Enum):
    """Task progress (Outlook's five values)."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    WAITING = "waiting"
    DEFERRED = "deferred"


class Importance(enum.Enum):
    """Task priority / item importance."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


class DelegationState(enum.Enum):
    """Outlook task assignment state (OlTaskDelegationState)."""

    NOT_DELEGATED = "not_delegated"
    UNKNOWN = "unknown"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class AttendeeKind(enum.Enum):
    """Who or what a participant is (OX participant types; iCal CUTYPE)."""

    USER = "user"  # OX 1, internal user
    GROUP = "group"  # OX 2
    RESOURCE = "resource"  # OX 3, room or equipment
    RESOURCE_GROUP = "resource_group"  # OX 4
    EXTERNAL = "external"  # OX 5, known by e-mail only


class AttendeeRole(enum.Enum):
    """Required / optional / resource (Outlook recipient type; iCal ROLE)."""

    REQUIRED = "required"
    OPTIONAL = "optional"
    RESOURCE = "resource"
    CHAIR = "chair"


class ParticipationStatus(enum.Enum):
    """Answer of a participant (OX confirm; Outlook MeetingResponseStatus; iCal PARTSTAT)."""

    NONE = "none"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    TENTATIVE = "tentative"


class Frequency(enum.Enum):
    """Recurrence frequency."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    YEARLY = "yearly"


class Weekday(enum.IntFlag):
    """Weekday bit mask, identical to Outlook's OlDaysOfWeek and OX's ``days``."""

    SUNDAY = 1
    MONDAY = 2
    TUESDAY = 4
    WEDNESDAY = 8
    THURSDAY = 16
    FRIDAY = 32
    SATURDAY = 64


# --------------------------------------------------------------------------- shared parts


@frozen(kw_only=True, weakref_slot=False)
class Attachment:
    """A file attached to an item."""

    filename: str
    content_type: str = "application/octet-stream"
    data: bytes = b""


@frozen(kw_only=True, weakref_slot=False)
class Photo:
    """A contact picture."""

    data: bytes
    content_type: str = "image/jpeg"


@frozen(kw_only=True, weakref_slot=False)
class Alarm:
    """A reminder: relative (``minutes_before`` start, appointments) or absolute (``at``)."""

    minutes_before: int | None = None
    at: datetime | None = None


@frozen(kw_only=True, weakref_slot=False)
class Attendee:
    """A participant of an appointment or a task.

    ``email`` identifies external participants; ``user_id`` is the store's id for an
    internal user, group or resource (OX participant id) when known.
    """

    email: str | None = None
    name: str | None = None
    kind: AttendeeKind = AttendeeKind.USER
    role: AttendeeRole = AttendeeRole.REQUIRED
    status: ParticipationStatus = ParticipationStatus.NONE
    user_id: str | None = None
    comment: str | None = None


@frozen(kw_only=True, weakref_slot=False)
class Recurrence:
    """A recurrence rule in one canonical shape.

    - daily: every ``interval`` days;
    - weekly: ``weekdays`` (a :class:`Weekday` mask) every ``interval`` weeks;
    - monthly: on ``day_of_month``, or on the ``nth`` (1–4, 5 = last) of ``weekdays``;
    - yearly: like monthly within ``month`` (1–12, 1-based; OX's 0-based month is the
      mapping's business).

    At most one of ``until`` (inclusive date) and ``count`` is set; neither = no end.
    ``deleted`` lists original start dates of removed occurrences (EXDATE).
    ``regenerate`` is Outlook's "regenerate a new task N days after completion".
    """

    frequency: Frequency
    interval: int = 1
    weekdays: int = 0
    day_of_month: int | None = None
    nth: int | None = None
    month: int | None = None
    until: date | None = None
    count: int | None = None
    deleted: tuple[date, ...] = ()
    regenerate: bool = False


@frozen(kw_only=True, weakref_slot=False)
class EventException:
    """A changed occurrence of a recurring event (RECURRENCE-ID; OX change exception).

    ``original_start`` identifies the occurrence; ``None`` fields keep the series value.
    """

    original_start: datetime | date
    summary: str | None = None
    location: str | None = None
    start: datetime | date | None = None
    end: datetime | date | None = None
    note: str | None = None
    busy_status: BusyStatus | None = None


@frozen(kw_only=True, weakref_slot=False)
class Permission:
    """A folder permission in OX terms (Outlook's roles map onto it in oxsync.mappings).

    Levels follow OX (see ``reference/ox-webdav-xml.md`` §4): folder 0 none, 2 see,
    4 create objects, 8 create subfolders, 128 admin; read/write/delete 0 none, 2 own,
    4 all, 128 admin. ``oxsync.adapters.ox`` maps Outlook's eight roles onto these.
    """

    entity: str
    is_group: bool = False
    folder_level: int = 0
    read_level: int = 0
    write_level: int = 0
    delete_level: int = 0
    admin: bool = False


@frozen(kw_only=True, weakref_slot=False)
class Folder:
    """A folder of a store.

    ``id`` is the store's id; ``parent_id`` is ``None`` for a top-level folder.
    ``is_default`` marks the default folder of its kind (never deleted by sync).
    """

    id: str
    name: str
    kind: FolderKind
    parent_id: str | None = None
    type: FolderType = FolderType.PRIVATE
    is_default: bool = False
    owner: str | None = None
    permissions: tuple[Permission, ...] = ()
    read_only: bool = False


# --------------------------------------------------------------------------- contacts


@frozen(kw_only=True, weakref_slot=False)
class Address:
    """A postal address (Outlook business/home/other; OX business/home/second)."""

    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    po_box: str | None = None
    label: str | None = None


@frozen(kw_only=True, weakref_slot=False)
class Phones:
    """Every telephone slot of Annex B and of the OX contact (one field per slot)."""

    business: str | None = None
    business2: str | None = None
    home: str | None = None
    home2: str | None = None
    mobile: str | None = None
    mobile2: str | None = None
    car: str | None = None
    company: str | None = None
    assistant: str | None = None
    callback: str | None = None
    isdn: str | None = None
    radio: str | None = None
    other: str | None = None
    pager: str | None = None
    primary: str | None = None
    telex: str | None = None
    ttytdd: str | None = None
    ip: str | None = None
    business_fax: str | None = None
    home_fax: str | None = None
    other_fax: str | None = None


@frozen(kw_only=True, weakref_slot=False)
class Emails:
    """The three e-mail slots with Outlook's display names."""

    email1: str | None = None
    email2: str | None = None
    email3: str | None = None
    email1_display_name: str | None = None
    email2_display_name: str | None = None
    email3_display_name: str | None = None


@frozen(kw_only=True, weakref_slot=False)
class Contact:
    """A contact (Annex B table 11.1 plus the extra fields of field-map.md)."""

    uid: str | None = None
    # name
    title: str | None = None
    first_name: str | None = None
    middle_name: str | None = None
    last_name: str | None = None
    suffix: str | None = None
    display_name: str | None = None
    file_as: str | None = None
    nickname: str | None = None
    initials: str | None = None
    # work
    job_title: str | None = None
    company: str | None = None
    department: str | None = None
    office_location: str | None = None
    profession: str | None = None
    manager_name: str | None = None
    assistant_name: str | None = None
    # personal
    spouse_name: str | None = None
    birthday: date | None = None
    anniversary: date | None = None
    gender: str | None = None
    hobby: str | None = None
    children: str | None = None
    number_of_children: int | None = None
    marital_status: str | None = None
    # communication
    phones: Phones = Phones()
    emails: Emails = Emails()
    business_address: Address = Address()
    home_address: Address = Address()
    other_address: Address = Address()
    selected_mailing_address: str | None = None
    web_page: str | None = None
    business_home_page: str | None = None
    personal_home_page: str | None = None
    im_address: str | None = None
    im_address2: str | None = None
    # Outlook-only details
    customer_id: str | None = None
    government_id: str | None = None
    account: str | None = None
    referred_by: str | None = None
    language: str | None = None
    # OX-only details
    employee_type: str | None = None
    tax_id: str | None = None
    branches: str | None = None
    sales_volume: str | None = None
    commercial_register: str | None = None
    business_category: str | None = None
    info: str | None = None
    user_fields: tuple[str | None, ...] = ()
    # common
    note: str | None = None
    note_html: str | None = None
    categories: tuple[str, ...] = ()
    sensitivity: Sensitivity = Sensitivity.NORMAL
    color_label: int | None = None
    photo: Photo | None = None
    attachments: tuple[Attachment, ...] = ()
    created: datetime | None = _volatile()
    last_modified: datetime | None = _volatile()


@frozen(kw_only=True, weakref_slot=False)
class DistributionListMember:
    """A member: a one-off address, or a reference to a contact (by uid) and its e-mail slot.

    ``email_slot`` is 0 for an independent address, 1–3 for email1–3 of the contact.
    """

    display_name: str | None = None
    email: str | None = None
    contact_uid: str | None = None
    email_slot: int = 0


@frozen(kw_only=True, weakref_slot=False)
class DistributionList:
    """A distribution list (OX contact with ``mark_as_distributionlist``; Outlook DistListItem)."""

    uid: str | None = None
    display_name: str | None = None
    members: tuple[DistributionListMember, ...] = ()
    note: str | None = None
    categories: tuple[str, ...] = ()
    sensitivity: Sensitivity = Sensitivity.NORMAL
    color_label: int | None = None
    created: datetime | None = _volatile()
    last_modified: datetime | None = _volatile()


# --------------------------------------------------------------------------- calendar


@frozen(kw_only=True, weakref_slot=False)
class Event:
    """An appointment (Annex B table 11.2 plus recurrence and time zone).

    Timed events have aware ``start``/``end`` and an IANA ``timezone`` naming the zone
    the event was written in; all-day events have ``date`` values with an exclusive end.
    """

    uid: str | None = None
    summary: str | None = None
    location: str | None = None
    start: datetime | date
    end: datetime | date
    all_day: bool = False
    timezone: str | None = None
    busy_status: BusyStatus = BusyStatus.BUSY
    alarm: Alarm | None = None
    note: str | None = None
    note_html: str | None = None
    categories: tuple[str, ...] = ()
    sensitivity: Sensitivity = Sensitivity.NORMAL
    color_label: int | None = None
    importance: Importance = Importance.NORMAL
    organizer: Attendee | None = None
    attendees: tuple[Attendee, ...] = ()
    recurrence: Recurrence | None = None
    exceptions: tuple[EventException, ...] = ()
    sequence: int | None = None
    attachments: tuple[Attachment, ...] = ()
    created: datetime | None = _volatile()
    last_modified: datetime | None = _volatile()


# --------------------------------------------------------------------------- tasks


@frozen(kw_only=True, weakref_slot=False)
class Task:
    """A task (Annex B table 11.3 plus recurrence, delegation and OX-only costs)."""

    uid: str | None = None
    summary: str | None = None
    start: datetime | date | None = None
    due: datetime | date | None = None
    status: TaskStatus = TaskStatus.NOT_STARTED
    importance: Importance = Importance.NORMAL
    percent_complete: int = 0
    date_completed: datetime | date | None = None
    alarm: Alarm | None = None
    note: str | None = None
    note_html: str | None = None
    categories: tuple[str, ...] = ()
    sensitivity: Sensitivity = Sensitivity.NORMAL
    color_label: int | None = None
    total_work: int | None = None
    actual_work: int | None = None
    companies: str | None = None
    mileage: str | None = None
    billing_information: str | None = None
    actual_costs: str | None = None
    target_costs: str | None = None
    currency: str | None = None
    recurrence: Recurrence | None = None
    owner: str | None = None
    delegation_state: DelegationState = DelegationState.NOT_DELEGATED
    attendees: tuple[Attendee, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    created: datetime | None = _volatile()
    last_modified: datetime | None = _volatile()


Record: TypeAlias = Contact | DistributionList | Event | Task
"""Any item record."""

_KIND_OF: dict[type[Any], ItemKind] = {
    Contact: ItemKind.CONTACT,
    DistributionList: ItemKind.DISTRIBUTION_LIST,
    Event: ItemKind.EVENT,
    Task: ItemKind.TASK,
}
_CLASS_OF = {kind: cls for cls, kind in _KIND_OF.items()}


def item_kind_of(record: Record) -> ItemKind:
    """The :class:`ItemKind` of a record."""
    return _KIND_OF[type(record)]


def record_class(kind: ItemKind) -> type[Record]:
    """The record class for an :class:`ItemKind`."""
    return _CLASS_OF[kind]


def field_names(cls: type[Record]) -> tuple[str, ...]:
    """Names of the fields of a record class, volatile ones included."""
    return tuple(a.name for a in attrs.fields(cls))


_CONSTRUCTORS: dict[tuple[type[Any], bool], Callable[..., Any]] = {}


def constructor(cls: type[_R]) -> Callable[..., _R]:
    """A faster equivalent of ``cls(**fields)`` for decoders that build many records.

    A frozen attrs class sets each of its slots through ``object.__setattr__`` (a call per
    field: 7 µs for a 58-field :class:`Contact`); an unfrozen twin with the same slots sets
    them with plain stores (2 µs). The returned function builds the twin, then makes the
    object an instance of ``cls`` by ``__class__`` assignment, which CPython allows between
    heap types of identical slot layout (hence ``weakref_slot=False`` on the records: a
    ``__weakref__`` slot after the fields makes the layouts differ). The result is a true
    ``cls`` instance, equal and frozen like one made by ``cls(...)``; records have no
    validators or converters, so nothing is skipped (a class with any gets ``cls`` itself,
    as does one where the assignment is refused: another interpreter, a different layout).
    """
    return _builder(cls, positional=False)


def positional_constructor(cls: type[_R]) -> Callable[..., _R]:
    """Like :func:`constructor`, taking one value per field, in ``attrs.fields(cls)`` order.

    For a decoder that fills a list of every field (the defaults, then what it read):
    passing all of them by position spares the call the keyword matching and the ~50
    default lookups of a keyword call (1.2 µs instead of 3.3 for a :class:`Contact`).
    Every value must be given: a wrong count raises TypeError.
    """
    return _builder(cls, positional=True)


def _builder(cls: type[_R], *, positional: bool) -> Callable[..., _R]:
    try:
        return _CONSTRUCTORS[cls, positional]
    except KeyError:
        pass
    fields = attrs.fields(cast(Any, cls))
    count = len(fields)

    def positional_via_cls(*values: Any) -> Any:
        if len(values) != count:
            raise TypeError(f"{cls.__name__} takes {count} values, got {len(values)}")
        return cls(**{a.alias: value for a, value in zip(fields, values, strict=True)})

    build: Callable[..., Any] = positional_via_cls if positional else cls
    if any(a.validator or a.converter or a.on_setattr for a in fields):
        _CONSTRUCTORS[cls, positional] = build  # the twin would skip them
        return build
    twin = attrs.make_class(
        cls.__name__,  # error messages read as those of cls
        {
            # by position, every value is given: a required field's placeholder default
            # (None) only lets it follow fields with defaults
            a.name: attrs.field(default=None, alias=a.alias)
            if positional and a.default is attrs.NOTHING
            else attrs.field(default=a.default, kw_only=not positional, alias=a.alias)
            for a in fields
        },
        slots=True,
        frozen=False,
        weakref_slot=False,
        eq=False,
        order=False,
        repr=False,
        hash=False,
    )

    def build_via_twin(**fields: Any) -> Any:
        record = twin(**fields)
        record.__class__ = cls
        return record

    def build_by_position(*values: Any) -> Any:
        if len(values) != count:  # a short list would fill the rest with defaults
            raise TypeError(f"{cls.__name__} takes {count} values, got {len(values)}")
        record = twin(*values)
        record.__class__ = cls
        return record

    try:
        probe: Any = object.__new__(twin)
        probe.__class__ = cls  # refused unless the layouts are identical
        build = build_by_position if positional else build_via_twin
    except TypeError:
        pass
    _CONSTRUCTORS[cls, positional] = build
    return build
