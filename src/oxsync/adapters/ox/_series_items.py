"""Change exceptions as part of their series' item, for :class:`OXStore`.

The store's listings, fetches and writes call :class:`SeriesItems` for calendar folders:
it folds exception objects into their series (one item, a composite version), reads them
into ``Event.exceptions`` and writes them by difference after the series. The codec of
one exception is :mod:`oxsync.adapters.ox._series`; the version grammar
:mod:`oxsync.adapters.ox._versions`.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date
from typing import TYPE_CHECKING

import attrs

from oxsync.adapters.ox import _versions as versions
from oxsync.adapters.ox._codec import Element, OXResponse, add, child_text, new_prop, number
from oxsync.adapters.ox._files import ATTACHMENTS_TAG
from oxsync.adapters.ox._folders import SERVLET_OF
from oxsync.adapters.ox._results import NO_CHECK, describe, failure_of, timestamp
from oxsync.adapters.ox._series import (
    ExceptionObject,
    SeriesIndex,
    composite_version,
    date_position,
    exception_event,
    exception_from,
    exception_object,
    is_exception,
    series_stamp,
    with_exceptions,
)
from oxsync.core.records import Event, Folder, ItemKind
from oxsync.core.store import (
    Applied,
    Create,
    Failure,
    FailureKind,
    Item,
    ItemRef,
    Op,
    OpResult,
    Update,
)
from oxsync.errors import MappingError, TransientError
from oxsync.mappings import ox_xml
from oxsync.mappings.values import date_from_ox

if TYPE_CHECKING:
    from oxsync.adapters.ox._store import OXStore

__all__ = ["SeriesItems"]

log = logging.getLogger("oxsync.adapters.ox")


class SeriesItems:
    """The change-exception side of one :class:`OXStore` (its ``_exceptions``).

    ``indexes`` holds, per calendar folder, the exception objects seen
    (:class:`~oxsync.adapters.ox._series.SeriesIndex`).
    """

    def __init__(self, store: OXStore) -> None:
        self.store = store
        self.indexes: dict[str, SeriesIndex] = {}

    def fold_changes(
        self,
        folder: Folder,
        full: bool,
        listed: dict[str, tuple[str, Element]],
        deleted: list[str],
        current: list[str] | None,
        *,
        partial: bool = False,
    ) -> tuple[list[ItemRef], list[str], list[str] | None]:
        """Fold change exceptions into their series: an exception object listed or deleted
        is a change of its series (fetched if the listing did not carry it), never an item
        of its own; series versions become composite (:func:`composite_version`)."""
        found = {oid: sid for oid, (_, prop) in listed.items() if (sid := is_exception(oid, prop))}
        index = self.indexes.get(folder.id)
        if full:
            index = self.indexes[folder.id] = SeriesIndex(complete=True, partial=partial)
        elif index is None or not index.complete:
            needed = found or any(child_text(p, "changeexceptions") for _, p in listed.values())
            index = self.load(folder) if needed else self.index(folder.id)
        touched: set[str] = set()
        for oid, sid in found.items():
            version, prop = listed.pop(oid)
            entry = exception_object(oid, version, prop)
            if entry is not None:
                index.put(sid, entry)
            touched.add(sid)
        kept: list[str] = []
        for oid in deleted:
            sid = index.drop(oid)
            if sid is not None:
                touched.add(sid)
            else:
                index.drop_series(oid)
                kept.append(oid)
        if current is not None:
            # exception objects no longer listed are gone even if OX forgot the tombstone
            present = set(current)
            for oid in [oid for oid in index.series_of if oid not in present]:
                sid = index.drop(oid)
                if sid is not None and sid in present:
                    touched.add(sid)
        for sid in sorted(touched - set(listed) - set(kept)):
            got = self.store._fetch_one(folder, sid)
            if not isinstance(got, Failure):
                has_files = got[1].find(ATTACHMENTS_TAG) is not None
                listed[sid] = (versions.with_attached(got[0], has_files), got[1])
        refs = []
        for oid, (version, prop) in listed.items():
            version = composite_version(version, _listed_by(index, oid, prop))
            listed[oid] = (version, prop)
            refs.append(ItemRef(oid, version))
        if current is not None:
            current = [oid for oid in current if oid not in index.series_of]
        return refs, kept, current

    def index(self, folder_id: str) -> SeriesIndex:
        index = self.indexes.get(folder_id)
        if index is None:
            index = self.indexes[folder_id] = SeriesIndex()
        return index

    def load(self, folder: Folder) -> SeriesIndex:
        """List the folder once to learn every series' exception objects."""
        index = self.indexes[folder.id] = SeriesIndex(complete=True)
        responses = self.store.client.propfind(
            SERVLET_OF[folder.kind],
            {"folder_id": folder.id, "lastsync": "0", "objectmode": "NEW_AND_MODIFIED"},
        )
        for resp in responses:
            if not resp.ok and (resp.text("object_id") or resp.href) == "0":
                index.partial = True  # an entry OX failed to serialise: which one?
            if not resp.ok or resp.text("object_status") != "CREATE":
                continue
            oid = resp.text("object_id") or resp.href
            sid = is_exception(oid, resp.prop)
            entry = exception_object(oid, resp.text("last_modified") or "", resp.prop)
            if sid is not None and entry is not None:
                index.put(sid, entry)
        return index

    def read_into(self, folder: Folder, item: Item, prop: Element) -> Item | Failure:
        """A series with its exception objects read into ``exceptions``."""
        record = item.record
        if not isinstance(record, Event) or record.recurrence is None:
            return item
        index = self.indexes.get(folder.id)
        if (index is None or not index.complete) and child_text(prop, "changeexceptions"):
            index = self.load(folder)
        objects = _listed_by(index, item.id, prop) if index is not None else []
        if index is not None and index.partial and len(objects) < len(_days(prop)):
            return Failure(
                FailureKind.TRANSIENT,
                f"OX could not list every exception object of series {item.id}",
            )
        changes = []
        for entry in objects:
            try:
                occurrence = ox_xml.decode(ItemKind.EVENT, entry.prop)
            except MappingError as exc:
                return Failure(FailureKind.INVALID, f"exception {entry.id}: {exc}")
            if not isinstance(occurrence, Event):
                continue
            try:
                change = exception_from(record, occurrence, entry.position)
            except (ValueError, OverflowError) as exc:  # a day outside the calendar
                return Failure(FailureKind.INVALID, f"exception {entry.id}: {exc}")
            if change is not None:
                changes.append(change)
        version = composite_version(item.version, objects)
        return Item(item.id, version, with_exceptions(record, changes))

    def writes(self, folder: Folder, op: Op) -> bool:
        """Whether writing ``op`` touches change exceptions (then it is not batched)."""
        if isinstance(op, Create):
            return isinstance(op.record, Event) and bool(op.record.exceptions)
        if not isinstance(op, Update) or not isinstance(op.record, Event):
            return False
        index = self.indexes.get(folder.id)
        return (
            bool(op.record.exceptions)
            or ":" in (op.version or "")
            or (index is not None and bool(index.of(op.id)))
        )

    def apply(self, folder: Folder, index: int, op: Op, results: list[OpResult | None]) -> None:
        """Write a series and its exception objects.

        1. the series itself (create, or update with the op's version as the guard);
        2. one PROPPATCH: deletes of exception objects no longer wanted, updates of those
           that differ, creates of new ones (``recurrence_id`` + position, with the
           series' new ``last_modified``), and, if an exception was removed but its
           occurrence was not deleted, the series again so that OX's delete exception
           for that day is undone (OX's in-batch cache lets the chain through);
        3. the series and the written exceptions are read back for the final version.
        """
        assert isinstance(op, Create | Update) and isinstance(op.record, Event)
        record = op.record
        if isinstance(op, Create) and not record.uid:
            record = attrs.evolve(record, uid=str(uuid.uuid4()))
            op = attrs.evolve(op, record=record)
        try:
            if isinstance(op, Update):
                stale = self._changed_since(folder, op)
                if stale is not None:
                    results[index] = stale
                    return
                failure = self._update(folder, index, op, record, results)
            else:
                self.store._apply_batch(folder, [(index, op)], results, ignore_conflicts=False)
                failure = None
            first = results[index]
            if not isinstance(first, Applied):
                return
            if isinstance(op, Create):
                failure = self._write(folder, index, op, record, first)
            got = self.store._fetch_one(folder, first.id)
        except TransientError as exc:
            if isinstance(op, Create) and results[index] is None:
                self.store._suspect.add(folder.id)
            results[index] = Failure(FailureKind.TRANSIENT, str(exc))
            self.store._cut_off(op)  # an update's fields may have landed, its files not
            return
        if failure is not None and isinstance(op, Update):
            results[index] = failure
            return
        if failure is not None:
            # the series exists: report it created (a retry would duplicate it)
            text = f"series {record.summary!r}: an exception was refused: {failure.message}"
            self.store.warnings.append(text)
            log.warning("%s", text)
        version = got[0] if not isinstance(got, Failure) else first.version
        exceptions = self.index(folder.id).of(first.id).values()
        results[index] = Applied(first.id, composite_version(version, exceptions))

    def _changed_since(self, folder: Folder, op: Update) -> Failure | None:
        """The guard that OX cannot give in one request: the series' own timestamp is
        checked by its update, and creating or deleting an exception moves it, but an edit
        of an exception object does not; so each known exception is re-read first."""
        known = self.indexes.get(folder.id)
        if known is None or not known.complete:
            known = self.load(folder)
        if op.version is None:
            return None
        stamp = timestamp(series_stamp(op.version))
        # the series too: its update goes in one batch with the exception blocks, which a
        # series modified meanwhile would not stop (OX checks each block on its own)
        got = self.store._fetch_one(folder, op.id)
        if not isinstance(got, Failure) and timestamp(got[0]) > stamp:
            return Failure(FailureKind.CONFLICT, f"series {op.id} was modified on the server")
        for entry in list(known.of(op.id).values()):
            got = self.store._fetch_one(folder, entry.id)
            if isinstance(got, Failure):
                continue  # gone: its series moved too, the series update will say so
            if timestamp(got[0]) > stamp:
                return Failure(
                    FailureKind.CONFLICT,
                    f"exception {entry.id} of series {op.id} was modified on the server",
                )
            fresh = exception_object(entry.id, *got)
            if fresh is not None:
                known.put(op.id, fresh)
        return None

    def _update(
        self, folder: Folder, index: int, op: Update, record: Event, results: list[OpResult | None]
    ) -> Failure | None:
        """Steps 1 and 2 of an update in one PROPPATCH: the exception blocks go with the
        series' old timestamp, which OX's in-batch cache (reference §2.3, "or same
        series") turns into the series' new one. So a lost answer or a server gone leaves
        all of it written or none of it: two requests left the series written without
        its exceptions, and the next run took that for an edit on OX (newest wins: the
        other side's exception edits were lost). ``results[index]`` gets the series'
        result; returns the first refusal of an exception block."""
        try:
            head = self.store._prop_for(folder, index, op, False)
        except MappingError as exc:
            results[index] = Failure(
                FailureKind.INVALID, str(exc), tuple(e.path for e in exc.errors)
            )
            return None
        props, sent = self._exception_props(folder, index, op, record, op.id, None)
        responses = self.store._expect(
            self.store._proppatch("calendar", [head, *props]), 1 + len(props)
        )
        failure = self._take(folder, op.id, sent, responses[1:])
        series = responses[0]
        if series.ok:
            results[index] = self.store._applied(folder, op, series)
            return failure
        if series.code != 1006:
            refused = failure_of(series)
            if series.conflicts:
                described = ", ".join(describe(c) for c in series.conflicts)
                refused = attrs.evolve(refused, message=f"{refused.message}: {described}")
            results[index] = refused
            return None
        # a clash: warned about, then the series is sent again without the check, as a
        # batch does; the exception blocks above may have moved it, so its current
        # timestamp goes along (the guard re-read the exceptions just before)
        self.store._warn_clash(op, series)
        got = self.store._fetch_one(folder, op.id)
        if isinstance(got, Failure):
            results[index] = got
            return None
        again = attrs.evolve(op, version=got[0])
        self.store._apply_batch(folder, [(index, again)], results, ignore_conflicts=True)
        first = results[index]
        if not isinstance(first, Applied):
            return None
        return self._write(folder, index, op, record, first) or failure

    def _write(
        self, folder: Folder, index: int, op: Create | Update, record: Event, series: Applied
    ) -> Failure | None:
        """Step 2 of :meth:`apply` after the series was written; the first refusal."""
        props, sent = self._exception_props(folder, index, op, record, series.id, series)
        if not props:
            return None
        responses = self.store._expect(self.store.client.proppatch("calendar", props), len(props))
        return self._take(folder, series.id, sent, responses)

    def _exception_props(
        self,
        folder: Folder,
        index: int,
        op: Create | Update,
        record: Event,
        series_id: str,
        series: Applied | None,
    ) -> tuple[list[Element], list[tuple[str, str | None, int]]]:
        """The blocks that make the exception objects of ``series_id`` those of ``record``
        (``series``: the series as written, ``None`` when they go in its own batch)."""
        known = self.index(folder.id)
        present = {e.position: e for e in known.of(series_id).values()}
        wanted = {date_position(record, c.original_start): c for c in record.exceptions}
        stamp = series_stamp(op.version or NO_CHECK) if isinstance(op, Update) else NO_CHECK
        deleted_days = set(record.recurrence.deleted) if record.recurrence else set()
        props: list[Element] = []
        sent: list[tuple[str, str | None, int]] = []  # (what, exception id, position)
        restore = False
        for position, gone in present.items():
            if position not in wanted:
                prop = new_prop()
                add(prop, "object_id", gone.id)
                add(prop, "folder_id", folder.id)
                add(prop, "last_modified", stamp)
                add(prop, "method", "DELETE")
                props.append(prop)
                sent.append(("delete", gone.id, position))
                restore = restore or _day_of(position) not in deleted_days
        for position, change in wanted.items():
            target = exception_event(record, change)
            entry = present.get(position)
            prop = new_prop()
            if entry is None:
                add(prop, "folder_id", folder.id)
                add(prop, "recurrence_id", series_id)
                add(prop, "recurrence_date_position", str(position))
                add(prop, "last_modified", series.version if series is not None else stamp)
                ox_xml.encode(target, prop, full=False)
                sent.append(("create", None, position))
            else:
                if _same_occurrence(target, entry.prop):
                    continue
                add(prop, "object_id", entry.id)
                add(prop, "folder_id", folder.id)
                add(prop, "last_modified", stamp)
                ox_xml.encode(target, prop, full=True)
                sent.append(("update", entry.id, position))
            props.append(prop)
        if restore:
            # the series was just written (a clash of its own already warned about in
            # step 1, or sent again after it): sent again, it must not be refused for that
            # clash now
            version = series.version if series is not None else getattr(op, "version", None)
            again = Update(series_id, record, version)
            props.append(self.store._prop_for(folder, index, again, True))
            sent.append(("series", series_id, 0))
        return props, sent

    def _take(
        self,
        folder: Folder,
        series_id: str,
        sent: list[tuple[str, str | None, int]],
        responses: list[OXResponse],
    ) -> Failure | None:
        """The exception objects written, read into the index; the first refusal."""
        known = self.index(folder.id)
        failure: Failure | None = None
        for (what, oid, _position), resp in zip(sent, responses, strict=True):
            if what == "delete" and (resp.ok or resp.code == 1001):
                known.drop(oid or "")
                continue
            if not resp.ok:
                failure = failure or failure_of(resp)
                continue
            if what in ("create", "update"):
                new_id = resp.text("object_id") or resp.href
                got = self.store._fetch_one(folder, new_id)
                fresh = None if isinstance(got, Failure) else exception_object(new_id, *got)
                if fresh is not None:
                    known.put(series_id, fresh)
        return failure


def _day_of(position: int) -> date:
    """The day of a ``recurrence_date_position``."""
    return date_from_ox(position)


def _same_occurrence(target: Event, prop: Element) -> bool:
    """Whether an exception object already holds ``target`` (compared through the codec,
    so that what OX cannot keep does not count as a difference)."""
    written = new_prop()
    ox_xml.encode(target, written, full=False)
    try:
        want, have = ox_xml.decode(ItemKind.EVENT, written), ox_xml.decode(ItemKind.EVENT, prop)
    except MappingError:
        return False
    return attrs.evolve(want, created=None, last_modified=None) == attrs.evolve(
        have, created=None, last_modified=None
    )


def _listed_by(index: SeriesIndex, series_id: str, prop: Element) -> list[ExceptionObject]:
    """The exception objects of a series whose day the series lists in
    ``changeexceptions``: one deleted while OX forgot its tombstone does not count."""
    listed = _days(prop)
    if not listed:
        return []
    return [e for e in index.of(series_id).values() if e.position in listed]


def _days(prop: Element) -> set[int]:
    """The days (positions) a series lists in ``changeexceptions``."""
    days = child_text(prop, "changeexceptions")
    if not days:
        return set()
    return {n for d in days.split(",") if (n := _position(d.strip())) is not None}


def _position(text: str) -> int | None:
    """A day of ``changeexceptions``: ms, negative before 1970."""
    found = number(text.removeprefix("-"))
    return -found if found is not None and text.startswith("-") else found
