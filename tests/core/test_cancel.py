"""Cooperative cancel: ``SyncEngine(cancel=event)`` stops a run at its next safe point
(between folder pairs, between execute batches), keeps what it did and leaves the rest to
the next run, with no duplicate and no loss."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from oxsync.adapters.memory import MemoryStore
from oxsync.core.engine import SyncEngine, SyncEvent
from oxsync.core.records import FolderKind, ItemKind
from oxsync.core.state import State
from oxsync.core.store import Op, OpResult
from oxsync.testing.samples import sample
from tests.core.helpers import assert_converged, contents

BATCH = 100


class _Trip(threading.Event):
    fired = False


class _Tripwire(MemoryStore):
    """A memory store that sets ``trip`` after the first batch it applies (once: a test
    clears it to sync again)."""

    def __init__(self, trip: _Trip, **kwargs: Any) -> None:
        super().__init__(batch_size=BATCH, **kwargs)
        self.trip = trip
        self.applies = 0

    def _apply(self, folder_id: str, ops: Sequence[Op]) -> Sequence[OpResult]:
        results = super()._apply(folder_id, ops)
        self.applies += 1
        if not self.trip.fired:
            self.trip.fired = True
            self.trip.set()
        return results


def _seeded(trip: _Trip) -> tuple[_Tripwire, _Tripwire]:
    """1,200 items to sync both ways: 900 contacts and 300 events, some on each side."""
    a, b = _Tripwire(trip, name="a"), _Tripwire(trip, name="b")
    for i in range(700):
        a.put("contacts", sample(ItemKind.CONTACT, i))
    for i in range(700, 900):
        b.put("contacts", sample(ItemKind.CONTACT, i))
    for i in range(150):
        a.put("calendar", sample(ItemKind.EVENT, i))
    for i in range(150, 300):
        b.put("calendar", sample(ItemKind.EVENT, i))
    return a, b


def _count(a: MemoryStore, b: MemoryStore) -> int:
    return sum(len(s.records(f)) for s in (a, b) for f in ("contacts", "calendar", "tasks"))


def _assert_all_once(a: MemoryStore, b: MemoryStore) -> None:
    for folder, n in (("contacts", 900), ("calendar", 300)):
        assert_converged(a, b, folder, folder)  # (also: no uid twice on a side)
        assert len(contents(a, folder)) == len(a.records(folder)) == n
        assert len(contents(b, folder)) == len(b.records(folder)) == n


def test_a_cancelled_initial_sync_is_finished_by_the_next_one() -> None:
    trip = _Trip()
    a, b = _seeded(trip)
    state = State(":memory:")
    engine = SyncEngine(a, b, state=state, cancel=trip)
    before = _count(a, b)

    report = engine.sync()

    assert report.cancelled
    assert report.to_dict()["cancelled"] is True
    assert a.applies + b.applies == 1, "the run went on after the batch that set the event"
    assert _count(a, b) == before + BATCH
    assert report.changed == BATCH  # what was written is counted and recorded
    assert report.incomplete >= 2  # contacts and calendar: to be synced again
    rows = {row.a_folder: row for row in state.folder_pairs("default")}
    for folder in ("contacts", "calendar"):
        row = rows[folder]
        assert (row.a_cursor, row.b_cursor) == (None, None), f"{folder}: cursor advanced"
        assert state.journal(row.id) == [], f"{folder}: journal left pending"
    assert sum(state.count_pairs(row.id) for row in rows.values()) == BATCH

    trip.clear()
    again = engine.sync()

    assert not again.cancelled and not again.errors and again.incomplete == 0
    assert again.changed == 1200 - BATCH
    _assert_all_once(a, b)
    assert engine.sync().changed == 0
    _assert_all_once(a, b)


def test_cancel_from_an_observer_between_folders() -> None:
    # the event set while the first folder pair is being looked at: nothing is written
    cancel = threading.Event()
    a, b = _seeded(_Trip())

    def observe(event: SyncEvent) -> None:
        if event.kind == "folder":
            cancel.set()

    engine = SyncEngine(a, b, state=State(":memory:"), observers=[observe])
    engine.cancel = cancel
    before = _count(a, b)

    report = engine.sync()

    assert report.cancelled and report.changed == 0
    assert a.applies + b.applies == 0 and _count(a, b) == before
    engine.cancel = None
    assert engine.sync().changed == 1200
    _assert_all_once(a, b)
    assert engine.sync().changed == 0


def test_a_cancel_set_before_the_run_does_nothing() -> None:
    trip = threading.Event()
    a, b = _seeded(_Trip())
    a.add_folder("Only on A", FolderKind.CONTACTS)  # not even the folders are paired
    state = State(":memory:")
    engine = SyncEngine(a, b, state=state, cancel=trip)
    trip.set()
    before = _count(a, b)
    events: list[SyncEvent] = []
    engine.observers.append(events.append)

    report = engine.sync()

    assert report.cancelled and report.changed == 0 and not report.errors
    assert report.folders == 0  # returned before looking at any folder
    assert "Only on A" not in [f.name for f in b.folders()]
    assert a.applies + b.applies == 0 and _count(a, b) == before
    assert all(state.count_pairs(row.id) == 0 for row in state.folder_pairs("default"))
    assert all(row.a_cursor is None for row in state.folder_pairs("default"))
    assert [e.kind for e in events] == ["started", "finished"]
    assert "cancelled" in events[-1].message
    trip.clear()
    assert engine.sync().changed == 1200
    _assert_all_once(a, b)
    assert "Only on A" in [f.name for f in b.folders()]


def test_a_cancelled_slow_sync_is_finished_by_the_next_one() -> None:
    trip = _Trip()
    a, b = _seeded(trip)
    engine = SyncEngine(a, b, state=State(":memory:"), cancel=trip)

    report = engine.slow_sync()

    assert report.cancelled and a.applies + b.applies == 1
    trip.clear()
    assert engine.slow_sync().changed == 1200 - BATCH
    _assert_all_once(a, b)
    assert engine.slow_sync().changed == 0
    assert engine.sync().changed == 0


def test_an_unset_cancel_changes_nothing() -> None:
    a, b = _seeded(_Trip())
    report = SyncEngine(a, b, state=State(":memory:"), cancel=threading.Event()).sync()
    assert not report.cancelled and report.incomplete == 0
    assert report.changed == 1200
    assert "cancelled" not in str(report.to_dict().get("errors"))


def test_cancel_between_fetch_batches_of_detection() -> None:
    # a first sync of a big folder spends long in detection: it stops there too
    cancel = threading.Event()
    fetches: list[int] = []

    class _Reader(MemoryStore):
        def fetch(self, folder_id: str, ids: Sequence[str]) -> Any:
            fetches.append(len(ids))
            cancel.set()
            return super().fetch(folder_id, ids)

    a, b = _Reader(name="a", batch_size=BATCH), MemoryStore(name="b", batch_size=BATCH)
    for i in range(1000):
        a.put("contacts", sample(ItemKind.CONTACT, i))
    engine = SyncEngine(a, b, state=State(":memory:"), cancel=cancel)

    report = engine.sync()

    assert report.cancelled and report.changed == 0
    assert report.folders == 1 and report.incomplete == 3  # contacts, then the others
    assert fetches == [BATCH]
    cancel.clear()
    engine.cancel = None
    assert engine.sync().changed == 1000
    assert_converged(a, b, "contacts", "contacts")
    assert len(b.records("contacts")) == 1000
