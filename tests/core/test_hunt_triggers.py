"""The trigger loop under stress: syncs that raise, push storms while syncs fail, a folder
pushed without pause. The loop must keep going, report, back off, and still poll."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

import pytest

from oxsync import State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.core.engine import SyncReport
from oxsync.core.records import Contact, Task
from oxsync.core.triggers import TriggerQueue, run_triggered
from oxsync.errors import StateError, TransientError


class _Failing:
    """An engine whose first syncs raise the given errors, then delegates."""

    def __init__(self, engine: SyncEngine, errors: Iterable[BaseException | None]) -> None:
        self.engine = engine
        self.errors = list(errors)
        self.calls: list[float] = []

    def sync(self, folders: Iterable[str] | None = None) -> SyncReport:
        self.calls.append(time.monotonic())
        error = self.errors.pop(0) if self.errors else None
        if error is not None:
            raise error
        return self.engine.sync(folders)


def _run(engine: object, queue: TriggerQueue, stop: threading.Event, **kwargs: object) -> int:
    return run_triggered(engine, queue, stop, **kwargs)  # type: ignore[arg-type]


def test_a_sync_raising_any_error_keeps_the_loop_going(caplog: pytest.LogCaptureFixture) -> None:
    # was: a StateError (the state locked by another process for more than 5 s, a full
    # disk) or any non-oxsync exception (an adapter's bug) left run_triggered: the watch
    # of that pair ended for good while `oxsync watch` went on running
    a, b = MemoryStore(name="a"), MemoryStore(name="b")
    a.put("contacts", Contact(last_name="Late"))
    flaky = _Failing(
        SyncEngine(a, b, state=State(":memory:")),
        [StateError("database is locked"), KeyError("adapter bug"), None],
    )
    queue, stop = TriggerQueue(), threading.Event()
    queue.notify()
    reports: list[SyncReport] = []

    def on_report(report: SyncReport) -> None:
        reports.append(report)
        stop.set()

    timer = threading.Timer(10, stop.set)  # a hang fails the test instead of blocking it
    timer.start()
    with caplog.at_level(logging.WARNING, logger="oxsync.triggers"):
        syncs = _run(
            flaky, queue, stop, poll_interval=5, settle=0, max_backoff=0.05, on_report=on_report
        )
    timer.cancel()
    assert syncs == 1 and len(flaky.calls) == 3
    assert [r.last_name for r in b.records("contacts").values()] == ["Late"]
    logged = caplog.text
    assert "database is locked" in logged
    assert "adapter bug" in logged and "Traceback" in logged  # a bug is shown in full


def test_a_push_storm_while_syncs_fail_waits_out_the_backoff() -> None:
    # was: every notification woke the runner at once, backoff or not: with the server
    # gone, a storm of local item events retried the failing sync every `settle` seconds
    failing = _Failing(SyncEngine(MemoryStore(), MemoryStore(), state=State(":memory:")), [])
    failing.errors = [TransientError("server gone")] * 1000
    queue, stop = TriggerQueue(), threading.Event()
    done = threading.Event()

    def storm() -> None:
        while not done.wait(0.002):
            queue.notify("contacts")

    sender = threading.Thread(target=storm)
    sender.start()
    threading.Timer(1.5, stop.set).start()
    try:
        _run(failing, queue, stop, poll_interval=60, settle=0.02, max_backoff=60)
    finally:
        done.set()
        sender.join()
    # backoff 1 s after the first failure, then 2 s: two attempts in 1.5 s
    assert len(failing.calls) == 2, failing.calls
    assert failing.calls[1] - failing.calls[0] >= 0.95


def test_a_folder_pushed_without_pause_does_not_starve_the_poll() -> None:
    # was: the poll timer restarted at every notification, so a folder pushed more often
    # than the poll interval kept every other folder (a vdir side has no push at all)
    # from ever being synced
    a, b = MemoryStore(name="a"), MemoryStore(name="b")
    engine = SyncEngine(a, b, state=State(":memory:"))
    engine.sync()
    b.put("tasks", Task(summary="Only the poll finds me"))
    queue, stop = TriggerQueue(), threading.Event()
    reports: list[SyncReport] = []

    def on_report(report: SyncReport) -> None:
        reports.append(report)
        if any(t.summary == "Only the poll finds me" for t in a.records("tasks").values()):
            stop.set()

    def storm() -> None:
        while not stop.wait(0.03):
            queue.notify("contacts")

    sender = threading.Thread(target=storm)
    sender.start()
    timer = threading.Timer(3, stop.set)
    timer.start()
    try:
        _run(engine, queue, stop, poll_interval=0.4, settle=0.01, on_report=on_report)
    finally:
        stop.set()
        timer.cancel()
        sender.join()
    assert [t.summary for t in a.records("tasks").values()] == ["Only the poll finds me"]
    assert any(r.folders == 1 for r in reports)  # the pushes were still synced alone
