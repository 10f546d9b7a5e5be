"""Triggers: push notifications, a poll timer and manual requests feed one queue.

:class:`TriggerQueue` collects folder ids from any thread (an OX UDP push listener, Outlook
item events, the user) and coalesces them: a burst of 1,000 notifications for one folder
wakes the runner once. :func:`run_triggered` drains the queue and runs a delta sync of
just the notified folders, or of everything when the poll interval passes in silence.

    >>> q = TriggerQueue()
    >>> for _ in range(1000):
    ...     q.notify("contacts")
    >>> q.wait(timeout=0)
    frozenset({'contacts'})
    >>> q.wait(timeout=0) is None
    True
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from oxsync.core.engine import SyncEngine, SyncReport
from oxsync.errors import OxsyncError

__all__ = ["ALL_FOLDERS", "TriggerQueue", "run_triggered"]

log = logging.getLogger("oxsync.triggers")

ALL_FOLDERS = "*"
"""Notify this to ask for a sync of every folder."""


class TriggerQueue:
    """A thread-safe, coalescing set of folder ids waiting to be synced."""

    def __init__(self) -> None:
        self._pending: set[str] = set()
        self._cond = threading.Condition()
        self.notifications = 0

    def notify(self, folder_id: str = ALL_FOLDERS) -> None:
        """Ask for a sync of ``folder_id`` (``ALL_FOLDERS`` for everything)."""
        with self._cond:
            self.notifications += 1
            self._pending.add(folder_id)
            self._cond.notify_all()

    def wait(self, timeout: float | None = None) -> frozenset[str] | None:
        """Wait for notifications; return and clear them, or ``None`` on timeout."""
        with self._cond:
            if not self._pending:
                self._cond.wait(timeout)
            if not self._pending:
                return None
            ready = frozenset(self._pending)
            self._pending.clear()
            return ready


def run_triggered(
    engine: SyncEngine,
    queue: TriggerQueue,
    stop: threading.Event,
    *,
    poll_interval: float = 30.0,
    settle: float = 0.2,
    on_report: Callable[[SyncReport], None] | None = None,
    max_backoff: float = 300.0,
) -> int:
    """Sync on triggers until ``stop`` is set; returns how many syncs ran.

    ``settle`` waits a moment after the first notification so a burst lands in one sync.
    Every folder is synced at least once per ``poll_interval``, however often some folder
    is notified (a side without push depends on it). A sync that raises (a store gone, the
    state locked, any other error) is logged and retried after a backoff that doubles up
    to ``max_backoff``; notifications arriving meanwhile wait for it. A sync that leaves
    folders incomplete is retried after the backoff too, unless a notification comes
    first. Nothing is lost: cursors only advance after a successful sync.
    """
    syncs = 0
    backoff = 0.0
    failed = False
    next_poll = time.monotonic() + poll_interval
    while not stop.is_set():
        if failed:
            # whatever arrives meanwhile (a storm of item events while the server is
            # gone) waits: the retry syncs everything
            if stop.wait(backoff):
                break
            folders = None
        else:
            folders = _wait(queue, stop, backoff or max(0.0, next_poll - time.monotonic()))
            if stop.is_set():
                break
            if folders is not None and settle:
                stop.wait(settle)
                more = queue.wait(timeout=0)
                folders = folders | more if more else folders
        if time.monotonic() >= next_poll:
            folders = None  # the poll is due, even if a busy folder never lets push fall silent
        if folders is None or ALL_FOLDERS in folders:
            queue.wait(timeout=0)  # a full sync answers what is pending
            wanted = None
        else:
            wanted = set(folders)
        try:
            report = engine.sync(wanted)
        except OxsyncError as exc:
            # another run holding the pair (a manual sync): back off, then sync everything
            failed, backoff = True, min(max_backoff, max(1.0, backoff * 2))
            log.warning("sync failed (%s); retrying in %.0fs", exc, backoff)
            continue
        except Exception:
            failed, backoff = True, min(max_backoff, max(1.0, backoff * 2))
            log.exception("sync failed unexpectedly; retrying in %.0fs", backoff)
            continue
        failed = False
        syncs += 1
        if wanted is None:
            next_poll = time.monotonic() + poll_interval
        backoff = 0.0 if not report.incomplete else min(max_backoff, max(1.0, backoff * 2))
        if on_report is not None:
            on_report(report)
    return syncs


def _wait(queue: TriggerQueue, stop: threading.Event, timeout: float) -> frozenset[str] | None:
    """Wait for notifications, in short slices so that ``stop`` is honoured promptly."""
    deadline = time.monotonic() + timeout
    while not stop.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        folders = queue.wait(timeout=min(left, 0.25))
        if folders is not None:
            return folders
    return None
