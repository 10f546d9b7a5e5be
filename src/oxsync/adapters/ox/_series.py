"""OX change exceptions <-> ``Event.exceptions``.

In OX a changed occurrence of a series is an appointment object of its own: its
``recurrence_id`` is the series' object id and its ``recurrence_date_position`` the ms of
00:00 UTC of the occurrence's day; the series lists those days in ``changeexceptions``.
The canonical record has one :class:`~oxsync.core.records.Event` per series whose
``exceptions`` hold only what differs from the series (``None`` = the series' value).

- :func:`exception_event` is the full appointment an exception object holds: the series
  with the exception's changes, one occurrence long, no pattern.
- :func:`exception_from` reads an exception object back against its series: a field equal
  to the series' value reads as ``None``, an object equal to its occurrence as no
  exception (so an exception that repeats the series' value is not kept as such).
- :class:`SeriesIndex` is what one folder's listings taught the store: the exception
  objects of each series (id, ``last_modified``, element), so that a series is one item
  whose version (:func:`composite_version`) moves when any of its exceptions changes.

The day of an occurrence is taken on the series' wall clock (its ``timezone``, else UTC)
[I]: OX writes the position as a *Date*; the reference does not say in which zone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import attrs

from oxsync.adapters.ox import _versions as versions
from oxsync.adapters.ox._codec import Element, child_text
from oxsync.adapters.ox._results import timestamp
from oxsync.core.records import Event, EventException
from oxsync.mappings import values as v
from oxsync.mappings.recurrence import occurrences

__all__ = [
    "ExceptionObject",
    "SeriesIndex",
    "composite_version",
    "date_position",
    "exception_event",
    "exception_from",
    "exception_object",
    "is_exception",
    "original_start",
    "series_stamp",
    "with_exceptions",
]

_CHANGEABLE = ("summary", "location", "note", "busy_status")


def _zone(event: Event) -> ZoneInfo:
    try:
        return ZoneInfo(event.timezone or "UTC")
    except v.UNKNOWN_ZONE:
        return ZoneInfo("UTC")


def _day(event: Event, moment: date | datetime) -> date:
    if isinstance(moment, datetime):
        return moment.astimezone(_zone(event)).date()
    return moment


def date_position(series: Event, original: date | datetime) -> int:
    """``recurrence_date_position`` of the occurrence that started at ``original``."""
    return v.date_to_ox(_day(series, original))


def original_start(series: Event, position: int) -> date | datetime:
    """The start of the occurrence on the day of ``position`` (ms of 00:00 UTC)."""
    day = v.date_from_ox(position)
    if not isinstance(series.start, datetime):
        return day
    zone = _zone(series)
    local = series.start.astimezone(zone)
    if series.recurrence is not None:
        try:
            for found in occurrences(
                local, attrs.evolve(series.recurrence, deleted=()), between=(day, day)
            ):
                if isinstance(found, datetime) and found.astimezone(zone).date() == day:
                    return found.astimezone(UTC)
        except ValueError:
            pass  # a pattern dateutil cannot expand: fall back to the series' wall clock
    return datetime.combine(day, local.time().replace(tzinfo=None), zone).astimezone(UTC)


def exception_event(series: Event, change: EventException) -> Event:
    """The appointment an exception object holds (series fields, then the changes)."""
    length = series.end - series.start
    start = change.start if change.start is not None else change.original_start
    end = change.end if change.end is not None else start + length
    values = {name: getattr(change, name) for name in _CHANGEABLE}
    return attrs.evolve(
        series,
        start=start,
        end=end,
        recurrence=None,
        exceptions=(),
        attachments=(),
        created=None,
        last_modified=None,
        **{name: value for name, value in values.items() if value is not None},
    )


def exception_from(series: Event, occurrence: Event, position: int) -> EventException | None:
    """The canonical exception of an exception object (``None``: same as the series)."""
    original = original_start(series, position)
    changes: dict[str, object] = {
        name: getattr(occurrence, name)
        for name in _CHANGEABLE
        if getattr(occurrence, name) != getattr(series, name)
    }
    length = series.end - series.start
    if occurrence.start != original or occurrence.end != original + length:
        changes["start"], changes["end"] = occurrence.start, occurrence.end
    if not changes:
        return None
    return EventException(original_start=original, **changes)  # type: ignore[arg-type]


def with_exceptions(series: Event, changes: Iterable[EventException]) -> Event:
    """``series`` with ``changes`` as its exceptions, in order of their occurrence."""
    ordered = sorted(changes, key=lambda c: date_position(series, c.original_start))
    return attrs.evolve(series, exceptions=tuple(ordered))


def is_exception(object_id: str, prop: Element) -> str | None:
    """The series id if ``prop`` is a change exception (``recurrence_id`` names another
    object), else ``None``."""
    series = child_text(prop, "recurrence_id")
    if series and series != "0" and series != object_id:
        return series
    return None


def composite_version(series_version: str, exceptions: Iterable[ExceptionObject]) -> str:
    """A series' item version (see :mod:`oxsync.adapters.ox._versions`): its own
    ``last_modified`` and the newest of its exceptions', so that an edit of an exception
    object alone moves it. An attachment mark on ``series_version`` is kept."""
    own, _, is_attached = versions.split(series_version)
    return versions.compose(own, [e.version for e in exceptions], attached=is_attached)


def series_stamp(version: str) -> str:
    """The ``last_modified`` to send for a (composite) version: the newest part, so that
    OX finds the write stale if the series or any exception changed since."""
    return versions.stamp(version)


@attrs.define
class ExceptionObject:
    """One exception object as listed: id, ``last_modified``, day, elements."""

    id: str
    version: str
    position: int
    prop: Element


@attrs.define
class SeriesIndex:
    """The exception objects of one calendar folder, by series id.

    ``complete`` once built from a full listing of the folder; deltas then keep it
    current. Without it the store lists the folder once before it needs exceptions.
    """

    complete: bool = False
    # built from a listing with entries OX failed to serialise: an exception object may
    # be missing, so a series lacking one of its days is not read (see read_into)
    partial: bool = False
    by_series: dict[str, dict[str, ExceptionObject]] = attrs.field(factory=dict)
    series_of: dict[str, str] = attrs.field(factory=dict)

    def put(self, series_id: str, found: ExceptionObject) -> None:
        """Record (or refresh) an exception object."""
        old = self.series_of.get(found.id)
        if old is not None and old != series_id:
            self.by_series.get(old, {}).pop(found.id, None)
        self.by_series.setdefault(series_id, {})[found.id] = found
        self.series_of[found.id] = series_id

    def drop(self, object_id: str) -> str | None:
        """Forget an exception object; returns its series id."""
        series_id = self.series_of.pop(object_id, None)
        if series_id is not None:
            self.by_series.get(series_id, {}).pop(object_id, None)
        return series_id

    def drop_series(self, series_id: str) -> None:
        """Forget a series and its exceptions."""
        for object_id in self.by_series.pop(series_id, {}):
            self.series_of.pop(object_id, None)

    def of(self, series_id: str) -> Mapping[str, ExceptionObject]:
        """The exception objects of a series, by object id."""
        return self.by_series.get(series_id, {})


def exception_object(object_id: str, version: str, prop: Element) -> ExceptionObject | None:
    """An :class:`ExceptionObject` of a listed element (``None`` without a position).

    Raises :class:`~oxsync.errors.ProtocolError` for a ``version`` that is no timestamp
    (it goes into the series' composite version).
    """
    timestamp(version)
    text = child_text(prop, "recurrence_date_position")
    try:
        position = int(text) if text else None
    except ValueError:
        position = None
    if position is None:
        return None
    return ExceptionObject(object_id, version, position, prop)
