"""Value conversions shared by the native forms (OX WebDAV/XML, Outlook, iCalendar, vCard).

Every conversion is a small pure function or an :class:`EnumTable` (a two-way table
between a canonical enum and a store's numbers or words). The facts come from
``shared/reference/field-map.md`` §4; lossy entries are declared in the tables, not
hidden in code::

    >>> OX_SHOWN_AS.to_native(BusyStatus.FREE)
    4
    >>> OUTLOOK_BUSY_STATUS.from_native(3)
    <BusyStatus.OUT_OF_OFFICE: 'out_of_office'>
    >>> OX_SHOWN_AS.to_native(BusyStatus.WORKING_ELSEWHERE)   # lossy: OX has no such value
    1
    >>> split_categories("Work; VIP ;", ";")
    ('Work', 'VIP')

Conversions raise :class:`ValueError` (or :class:`TypeError`) on bad input; the form
modules turn those into :class:`oxsync.errors.FieldError` with the field's path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfoNotFoundError

from attrs import frozen

from oxsync.core.records import (
    AttendeeKind,
    AttendeeRole,
    BusyStatus,
    DelegationState,
    Importance,
    ParticipationStatus,
    Sensitivity,
    TaskStatus,
)

UNKNOWN_ZONE: tuple[type[Exception], ...] = (ZoneInfoNotFoundError, ValueError, OSError)
"""What ``ZoneInfo(name)`` raises for a name that is no IANA zone: not found, not a key
("../x", "", "America/"), or a path the file system refuses ("America" is a tzdata
directory: IsADirectoryError; hundreds of characters: OSError). Catch all of them."""

__all__ = [
    "MAX_NOTE_CHARS",
    "MAX_TEXT_CHARS",
    "OUTLOOK_BUSY_STATUS",
    "OUTLOOK_DELEGATION_STATE",
    "OUTLOOK_GENDER",
    "OUTLOOK_IMPORTANCE",
    "OUTLOOK_MAILING_ADDRESS",
    "OUTLOOK_NO_DATE",
    "OUTLOOK_RECIPIENT_TYPE",
    "OUTLOOK_RESPONSE_STATUS",
    "OUTLOOK_SENSITIVITY",
    "OUTLOOK_TASK_STATUS",
    "OX_CONFIRM",
    "OX_CONFIRM_NUMBER",
    "OX_DEFAULT_ADDRESS",
    "OX_PARTICIPANT_TYPE",
    "OX_PRIORITY",
    "OX_SHOWN_AS",
    "OX_TASK_STATUS",
    "EnumTable",
    "ascii_int",
    "check_text",
    "date_from_ox",
    "date_to_ox",
    "datetime_from_ox",
    "datetime_to_ox",
    "join_categories",
    "keep_sensitivity",
    "minutes_from_ox",
    "minutes_to_ox",
    "outlook_date",
    "outlook_date_value",
    "private_flag",
    "sensitivity_from_private_flag",
    "split_categories",
]

E = TypeVar("E")
N = TypeVar("N")

MAX_TEXT_CHARS = 16 * 1024
"""Longest accepted value of an ordinary text field (names, phones, …), in characters."""

MAX_NOTE_CHARS = 1024 * 1024
"""Longest accepted note (Outlook Body / OX note / DESCRIPTION), in characters."""


@frozen
class EnumTable(Generic[E, N]):
    """A two-way table between canonical values ``E`` and native values ``N``.

    ``pairs`` lists the round-tripping pairs; ``lossy`` maps extra canonical values to
    the native value they are written as (reading that native value gives the value of
    ``pairs``); ``aliases`` maps extra native values to the canonical value they read
    as (e.g. Outlook's "not responded" reads as "none").
    """

    name: str
    pairs: tuple[tuple[E, N], ...]
    lossy: Mapping[E, N] = {}
    aliases: Mapping[N, E] = {}

    def to_native(self, value: E) -> N:
        """The native value for a canonical one (raises ValueError if it has none)."""
        for canonical, native in self.pairs:
            if canonical == value:
                return native
        if value in self.lossy:
            return self.lossy[value]
        raise ValueError(f"{value!r} has no {self.name} value")

    def from_native(self, value: N) -> E:
        """The canonical value for a native one (raises ValueError if out of range)."""
        for canonical, native in self.pairs:
            if native == value and type(native) is type(value):
                return canonical
        if value in self.aliases:
            return self.aliases[value]
        allowed = ", ".join(repr(n) for _, n in self.pairs)
        raise ValueError(f"{value!r} is not a {self.name} value (expected one of {allowed})")

    def round_trips(self, value: E) -> bool:
        """Whether ``value`` survives canonical -> native -> canonical unchanged."""
        return any(canonical == value for canonical, _ in self.pairs)


# --------------------------------------------------------------------------- enums

OX_SHOWN_AS: EnumTable[BusyStatus, int] = EnumTable(
    "OX shown_as",
    (
        (BusyStatus.BUSY, 1),
        (BusyStatus.TENTATIVE, 2),
        (BusyStatus.OUT_OF_OFFICE, 3),
        (BusyStatus.FREE, 4),
    ),
    lossy={BusyStatus.WORKING_ELSEWHERE: 1},
)
"""OX ``shown_as``: 1 reserved, 2 temporary, 3 absent, 4 free (working elsewhere is lossy)."""

OUTLOOK_BUSY_STATUS: EnumTable[BusyStatus, int] = EnumTable(
    "Outlook BusyStatus",
    (
        (BusyStatus.FREE, 0),
        (BusyStatus.TENTATIVE, 1),
        (BusyStatus.BUSY, 2),
        (BusyStatus.OUT_OF_OFFICE, 3),
        (BusyStatus.WORKING_ELSEWHERE, 4),
    ),
)
"""Outlook OlBusyStatus."""

OUTLOOK_TASK_STATUS: EnumTable[TaskStatus, int] = EnumTable(
    "Outlook task Status",
    (
        (TaskStatus.NOT_STARTED, 0),
        (TaskStatus.IN_PROGRESS, 1),
        (TaskStatus.COMPLETED, 2),
        (TaskStatus.WAITING, 3),
        (TaskStatus.DEFERRED, 4),
    ),
)
"""Outlook OlTaskStatus."""

OX_TASK_STATUS: EnumTable[TaskStatus, int] = EnumTable(
    "OX task status",
    tuple((status, n + 1) for status, n in OUTLOOK_TASK_STATUS.pairs),
)
"""OX task ``status`` = Outlook Status + 1."""

OUTLOOK_IMPORTANCE: EnumTable[Importance, int] = EnumTable(
    "Outlook Importance",
    ((Importance.LOW, 0), (Importance.NORMAL, 1), (Importance.HIGH, 2)),
)
"""Outlook OlImportance."""

OX_PRIORITY: EnumTable[Importance, int] = EnumTable(
    "OX priority",
    tuple((importance, n + 1) for importance, n in OUTLOOK_IMPORTANCE.pairs),
    aliases={0: Importance.NORMAL},
)
"""OX task ``priority`` = Outlook Importance + 1 (0, "undefined", reads as normal)."""

OUTLOOK_SENSITIVITY: EnumTable[Sensitivity, int] = EnumTable(
    "Outlook Sensitivity",
    (
        (Sensitivity.NORMAL, 0),
        (Sensitivity.PERSONAL, 1),
        (Sensitivity.PRIVATE, 2),
        (Sensitivity.CONFIDENTIAL, 3),
    ),
)
"""Outlook OlSensitivity."""

OX_CONFIRM: EnumTable[ParticipationStatus, str] = EnumTable(
    "OX confirm",
    (
        (ParticipationStatus.NONE, "none"),
        (ParticipationStatus.ACCEPTED, "accept"),
        (ParticipationStatus.DECLINED, "decline"),
        (ParticipationStatus.TENTATIVE, "tentative"),
    ),
)
"""OX WebDAV/XML ``confirm`` attribute words."""

OX_CONFIRM_NUMBER: EnumTable[ParticipationStatus, int] = EnumTable(
    "OX confirmation",
    (
        (ParticipationStatus.NONE, 0),
        (ParticipationStatus.ACCEPTED, 1),
        (ParticipationStatus.DECLINED, 2),
        (ParticipationStatus.TENTATIVE, 3),
    ),
)
"""OX HTTP API confirmation numbers (0 none, 1 accepted, 2 declined, 3 tentative)."""

OUTLOOK_RESPONSE_STATUS: EnumTable[ParticipationStatus, int] = EnumTable(
    "Outlook MeetingResponseStatus",
    (
        (ParticipationStatus.NONE, 0),
        (ParticipationStatus.TENTATIVE, 2),
        (ParticipationStatus.ACCEPTED, 3),
        (ParticipationStatus.DECLINED, 4),
    ),
    # olResponseOrganized 1 marks the organizer (the role tells); olResponseNotResponded 5
    # is "no answer yet".
    aliases={1: ParticipationStatus.ACCEPTED, 5: ParticipationStatus.NONE},
)
"""Outlook OlResponseStatus."""

OX_PARTICIPANT_TYPE: EnumTable[AttendeeKind, int] = EnumTable(
    "OX participant type",
    (
        (AttendeeKind.USER, 1),
        (AttendeeKind.GROUP, 2),
        (AttendeeKind.RESOURCE, 3),
        (AttendeeKind.RESOURCE_GROUP, 4),
        (AttendeeKind.EXTERNAL, 5),
    ),
)
"""OX participant types (1 user, 2 group, 3 resource, 4 resource group, 5 external)."""

OUTLOOK_RECIPIENT_TYPE: EnumTable[AttendeeRole, int] = EnumTable(
    "Outlook recipient Type",
    ((AttendeeRole.REQUIRED, 1), (AttendeeRole.OPTIONAL, 2), (AttendeeRole.RESOURCE, 3)),
    # olOrganizer 0 is the organizer's slot, not a role an attendee can take.
    lossy={AttendeeRole.CHAIR: 1},
)
"""OlMeetingRecipientType for attendees (a chair other than the organizer reads as required)."""

OUTLOOK_DELEGATION_STATE: EnumTable[DelegationState, int] = EnumTable(
    "Outlook DelegationState",
    (
        (DelegationState.NOT_DELEGATED, 0),
        (DelegationState.UNKNOWN, 1),
        (DelegationState.ACCEPTED, 2),
        (DelegationState.DECLINED, 3),
    ),
)
"""OlTaskDelegationState."""

OUTLOOK_GENDER: EnumTable[str | None, int] = EnumTable(
    "Outlook Gender",
    ((None, 0), ("female", 1), ("male", 2)),
)
"""OlGender; canonical gender is ``"female"``, ``"male"`` or ``None`` for Outlook."""

OUTLOOK_MAILING_ADDRESS: EnumTable[str | None, int] = EnumTable(
    "Outlook SelectedMailingAddress",
    ((None, 0), ("home", 1), ("business", 2), ("other", 3)),
)
"""OlMailingAddress; canonical ``selected_mailing_address`` is home/business/other."""

OX_DEFAULT_ADDRESS: EnumTable[str | None, int] = EnumTable(
    "OX defaultaddress",
    (("business", 1), ("home", 2), ("other", 3)),
    aliases={0: None},
)
"""OX ``defaultaddress``: 1 business, 2 home, 3 other."""


# --------------------------------------------------------------------------- sensitivity


def private_flag(sensitivity: Sensitivity) -> bool:
    """OX ``private_flag`` / iCal private for a sensitivity (anything but normal)."""
    return sensitivity is not Sensitivity.NORMAL


def sensitivity_from_private_flag(flag: bool, previous: Sensitivity | None = None) -> Sensitivity:
    """The sensitivity an OX ``private_flag`` means, given the value held before.

    True reads as PRIVATE, except that a previous PERSONAL or CONFIDENTIAL is kept
    (OX cannot tell them apart; rewriting them would ping-pong between the sides).

    >>> sensitivity_from_private_flag(True, Sensitivity.CONFIDENTIAL)
    <Sensitivity.CONFIDENTIAL: 'confidential'>
    >>> sensitivity_from_private_flag(False, Sensitivity.CONFIDENTIAL)
    <Sensitivity.NORMAL: 'normal'>
    """
    if not flag:
        return Sensitivity.NORMAL
    if previous in (Sensitivity.PERSONAL, Sensitivity.CONFIDENTIAL):
        return previous
    return Sensitivity.PRIVATE


def keep_sensitivity(incoming: Sensitivity, previous: Sensitivity | None) -> Sensitivity:
    """Apply the no-ping-pong rule to a sensitivity read from a yes/no store.

    ``incoming`` came from OX (so it is NORMAL or PRIVATE); ``previous`` is what the
    richer side (Outlook) holds now.
    """
    return sensitivity_from_private_flag(private_flag(incoming), previous)


# --------------------------------------------------------------------------- categories


def split_categories(text: str | None, separator: str = ",") -> tuple[str, ...]:
    """Categories from one joined string; blanks trimmed, empty names dropped, order kept."""
    if not text:
        return ()
    if not isinstance(text, str):
        raise TypeError(f"expected a string, got {type(text).__name__}")
    return tuple(filter(None, map(str.strip, text.split(separator))))


def join_categories(names: Iterable[str], separator: str = ",") -> str | None:
    """One string from category names (``None`` when there are none).

    Names holding the separator cannot round-trip; they raise ValueError rather than
    silently becoming two categories.
    """
    clean = [name.strip() for name in names]
    for name in clean:
        if separator.strip() and separator.strip() in name:
            raise ValueError(f"category {name!r} contains the list separator {separator!r}")
    clean = [name for name in clean if name]
    if not clean:
        return None
    return separator.join(clean)


# --------------------------------------------------------------------------- OX time

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DAY = date(1970, 1, 1)
_DAY_MS = 86_400_000
_EPOCH_ORDINAL = _EPOCH_DAY.toordinal()


def ascii_int(text: str) -> int | None:
    """The number written in ``text`` when it is ASCII digits only, else None.

    ``str.isdigit()`` alone is not the test: it is true of ``"²"`` (which ``int()``
    refuses) and of other scripts' digits (which ``int()`` reads), neither of which an
    RFC or OX number may hold. More digits than ``int()`` reads from text
    (``sys.get_int_max_str_digits()``, 4300 by default) are no number either.
    """
    if not (text.isascii() and text.isdigit()):
        return None
    try:
        return int(text)
    except ValueError:  # "Exceeds the limit (4300 digits) for integer string conversion"
        return None


def _ms(value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError("expected milliseconds, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        number = ascii_int(text.removeprefix("-"))
        if number is None:
            raise ValueError(f"{value!r} is not a number of milliseconds")
        return -number if text.startswith("-") else number
    raise TypeError(f"expected milliseconds, got {type(value).__name__}")


def datetime_to_ox(value: datetime) -> int:
    """Milliseconds since the epoch (UTC) of an aware datetime (sub-ms truncated)."""
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime: timed values must carry a timezone")
    return (value - _EPOCH) // timedelta(milliseconds=1)


def datetime_from_ox(value: int | str) -> datetime:
    """Aware UTC datetime from OX milliseconds (int or decimal text)."""
    # fast path for the common case: plain digits
    # inline ascii_int: this runs for every timestamp of a listing
    ms = int(value) if type(value) is str and value.isdigit() and value.isascii() else _ms(value)
    try:
        # positional: timedelta's keyword form costs three times as much (hot in listings)
        return _EPOCH + timedelta(0, 0, 0, ms)
    except OverflowError:
        raise ValueError(f"{ms} ms is outside the supported date range") from None


def date_to_ox(value: date) -> int:
    """OX *Date*: milliseconds of 00:00 UTC of the day."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"expected a date, got {type(value).__name__}")
    return (value - date(1970, 1, 1)).days * _DAY_MS


def date_from_ox(value: int | str) -> date:
    """The calendar day of an OX *Date* (the UTC day; a time part is ignored)."""
    # inline ascii_int: this runs for every date of a listing; birthdays are often
    # before 1970, so "-digits" takes the fast path too
    ms = (
        int(value)
        if type(value) is str
        and value.isascii()
        and (value.isdigit() or (value[:1] == "-" and value[1:].isdigit()))
        else _ms(value)
    )
    try:
        # the UTC day, also before 1970 (floor division); fromordinal is the cheapest way
        return date.fromordinal(_EPOCH_ORDINAL + ms // _DAY_MS)
    except (ValueError, OverflowError):
        raise ValueError(f"{ms} ms is outside the supported date range") from None


def minutes_to_ox(minutes: int) -> str:
    """OX duration text (``target_duration`` / ``actual_duration``) for whole minutes."""
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise TypeError(f"expected whole minutes, got {type(minutes).__name__}")
    if minutes < 0:
        raise ValueError(f"negative duration {minutes}")
    return str(minutes)


def minutes_from_ox(text: str | int | float) -> int:
    """Whole minutes from OX duration text (``"90"``, ``"90.0"``)."""
    if isinstance(text, bool):
        raise TypeError("expected minutes, got a boolean")
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ValueError(f"{text!r} is not a number of minutes") from None
    if value != value or value in (float("inf"), float("-inf")) or value < 0:
        raise ValueError(f"{text!r} is not a number of minutes")
    return int(value)


# --------------------------------------------------------------------------- Outlook dates

OUTLOOK_NO_DATE = datetime(4501, 1, 1)
"""Outlook's "None" date (naive; any date in or after 4501 reads as no date)."""


def outlook_date(value: Any) -> datetime | None:
    """A naive Outlook date value, or ``None`` for Outlook's 4501-01-01 sentinel.

    pywin32 hands back local wall-clock times labelled UTC; the label is dropped.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        naive = value.replace(tzinfo=None)
    elif isinstance(value, date):
        naive = datetime(value.year, value.month, value.day)
    else:
        raise TypeError(f"expected a date, got {type(value).__name__}")
    return None if naive.year >= OUTLOOK_NO_DATE.year else naive


def outlook_date_value(value: datetime | date | None) -> datetime:
    """The naive value to write for an Outlook Date property (``None`` -> 4501-01-01)."""
    if value is None:
        return OUTLOOK_NO_DATE
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return datetime(value.year, value.month, value.day)


# --------------------------------------------------------------------------- text


def check_text(value: Any, *, limit: int = MAX_TEXT_CHARS) -> str | None:
    """Validate a text value: ``str`` or ``None``, valid Unicode, at most ``limit`` chars.

    ``""`` becomes ``None`` (stores treat them alike; keeping both would cause phantom
    changes). Raises TypeError / ValueError naming the problem.
    """
    if value is None:
        return None
    if isinstance(value, bytes | bytearray):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"invalid UTF-8 at byte {exc.start}") from None
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    if len(value) > limit:
        raise ValueError(f"text of {len(value)} characters exceeds the limit of {limit}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"invalid Unicode (lone surrogate) at {exc.start}") from None
    return value or None
