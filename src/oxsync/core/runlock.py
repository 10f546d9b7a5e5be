"""One sync run at a time per pair and state file.

Two runs of the same pair (``oxsync watch`` in the background and a manual
``oxsync sync``, or overlapping cron jobs) would each see an item that is new on one side
and each create it on the other: duplicates. :func:`run_lock` makes the second run fail
at once with :class:`~oxsync.errors.SyncInProgressError` naming the holder.

The lock is an OS lock on a small file beside the state (``<state>.<pair>.lock``):
``flock`` on POSIX, ``msvcrt.locking`` on Windows. The OS drops it when its holder exits,
however it exits, so a crash never leaves a stale lock. An in-memory state (``:memory:``)
is locked within the process. A lock file that cannot be opened or locked (a directory in
its place, a read-only or full file system, a network mount without locks) is a
:class:`~oxsync.errors.StateError`: the run does not start unlocked.
"""

from __future__ import annotations

import binascii
import os
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from oxsync.errors import StateError, SyncInProgressError

__all__ = ["lock_path", "run_lock"]

_HOLDER_AT = 64  # the holder's description is written past the locked first byte
_IN_PROCESS: set[str] = set()
_IN_PROCESS_GUARD = threading.Lock()


def lock_path(state_path: str, pair: str) -> str:
    """The lock file of ``pair`` for the state file ``state_path``."""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", pair)[:40].strip("-") or "pair"
    digest = binascii.crc32(pair.encode("utf-8", "surrogatepass"))  # tells "a b" from "a-b"
    return f"{state_path}.{safe}-{digest:08x}.lock"


@contextmanager
def run_lock(state_path: str, pair: str, owner: object) -> Iterator[None]:
    """Hold the run lock of ``pair`` on ``state_path`` for the ``with`` block.

    ``owner`` is the state object: two in-memory states are two states.
    """
    where = os.path.abspath(state_path) if state_path != ":memory:" else f"memory {id(owner)}"
    key = f"{where}|{pair}"
    with _IN_PROCESS_GUARD:  # threads of one process: the OS lock is per process on POSIX
        if key in _IN_PROCESS:
            raise SyncInProgressError(f"pair {pair!r} is already being synced in this process")
        _IN_PROCESS.add(key)
    try:
        if state_path == ":memory:":
            yield
        else:
            with _file_lock(lock_path(state_path, pair), pair, state_path):
                yield
    finally:
        with _IN_PROCESS_GUARD:
            _IN_PROCESS.discard(key)


@contextmanager
def _file_lock(path: str, pair: str, state_path: str) -> Iterator[None]:
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise StateError(f"cannot open the run lock {path!r}: {exc.strerror}") from exc
    try:
        try:
            locked = _try_lock(fd)
        except OSError as exc:  # ENOLCK, EOPNOTSUPP: a file system without locks
            raise StateError(f"cannot lock the run lock {path!r}: {exc.strerror}") from exc
        if not locked:
            holder = _holder(fd)
            raise SyncInProgressError(
                f"another oxsync run{f' ({holder})' if holder else ''} is syncing pair "
                f"{pair!r} with state {state_path!r}; try again when it has finished"
            )
        try:
            try:  # only for the message of a refused second run: a full disk is no reason
                os.lseek(fd, _HOLDER_AT, os.SEEK_SET)
                os.write(fd, f"pid {os.getpid()}\n".encode().ljust(32))
            except OSError:
                pass
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


def _holder(fd: int) -> str:
    try:
        os.lseek(fd, _HOLDER_AT, os.SEEK_SET)
        return os.read(fd, 32).decode("ascii", "replace").strip()
    except OSError:  # Windows: the holder's region may be locked too
        return ""


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
