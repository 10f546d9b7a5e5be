"""The trigger queue coalesces bursts; the runner syncs just the notified folders."""

from __future__ import annotations

import threading

from oxsync import State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.core.records import Contact, Task
from oxsync.core.triggers import TriggerQueue, run_triggered


def test_burst_of_a_thousand_notifications_causes_one_or_two_syncs() -> None:
    a, b = MemoryStore(name="a"), MemoryStore(name="b")
    engine = SyncEngine(a, b, state=State(":memory:"))
    engine.sync()
    queue = TriggerQueue()
    stop = threading.Event()
    reports = []

    def on_report(report: object) -> None:
        reports.append(report)
        if len(reports) >= 1:
            stop.set()

    a.put("contacts", Contact(last_name="Pushed"))

    def burst() -> None:
        for _ in range(1000):
            queue.notify("contacts")

    sender = threading.Thread(target=burst)
    sender.start()
    syncs = run_triggered(engine, queue, stop, poll_interval=5, settle=0.05, on_report=on_report)
    sender.join()
    leftover = queue.wait(timeout=0)
    assert syncs == 1
    assert queue.notifications == 1000
    # Whatever arrived after the sync started coalesces into at most one more sync.
    assert leftover is None or leftover == {"contacts"}
    assert [r.last_name for r in b.records("contacts").values()] == ["Pushed"]
    assert reports[0].folders == 1  # only the notified folder was synced


def test_poll_interval_syncs_everything_when_push_is_silent() -> None:
    a, b = MemoryStore(name="a"), MemoryStore(name="b")
    engine = SyncEngine(a, b, state=State(":memory:"))
    a.put("tasks", Task(summary="Polled"))
    queue = TriggerQueue()
    stop = threading.Event()
    syncs = run_triggered(engine, queue, stop, poll_interval=0.01, on_report=lambda r: stop.set())
    assert syncs == 1
    assert [r.summary for r in b.records("tasks").values()] == ["Polled"]
