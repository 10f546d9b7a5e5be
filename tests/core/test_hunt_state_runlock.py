"""The run lock file beside the state when the file system does not cooperate: a lock
path that cannot be opened, a file system without locks (some network mounts), a disk
too full to note the holder. Each ends in a typed oxsync error or a normal sync, never a
bare OSError; the pair is free again afterwards."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from oxsync import State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.core import runlock
from oxsync.core.records import ItemKind
from oxsync.core.runlock import lock_path, run_lock
from oxsync.errors import StateError
from oxsync.testing.samples import sample

C = "contacts"


def _engine(path: Path) -> tuple[SyncEngine, MemoryStore]:
    a, b = MemoryStore(name="a"), MemoryStore(name="b")
    for i in range(3):
        a.put(C, sample(ItemKind.CONTACT, i))
    return SyncEngine(a, b, state=State(path)), b


def test_a_lock_path_that_cannot_be_opened_is_a_state_error(tmp_path: Path) -> None:
    # was: IsADirectoryError escaped engine.sync() (a traceback from `oxsync sync`)
    path = tmp_path / "state.sqlite"
    engine, b = _engine(path)
    lock = Path(lock_path(str(path), "default"))
    lock.mkdir()
    with pytest.raises(StateError, match=r"run lock .*\.lock.*[Ii]s a directory"):
        engine.sync()
    assert b.records(C) == {}
    lock.rmdir()
    assert engine.sync().b.created == 3  # the in-process guard was released too


def test_a_file_system_without_locks_is_a_state_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an NFS mount without a lock daemon answers flock with ENOLCK
    def no_locks(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(runlock.fcntl, "flock", no_locks)
    path = tmp_path / "state.sqlite"
    engine, b = _engine(path)
    with pytest.raises(StateError, match="No locks available"):
        engine.sync()
    assert b.records(C) == {}
    monkeypatch.undo()
    assert engine.sync().b.created == 3


def test_a_disk_too_full_to_note_the_holder_still_syncs(tmp_path: Path) -> None:
    # The holder's pid is only a courtesy for the message of a refused second run: a
    # write failing with ENOSPC (here: the lock file is /dev/full) must not abort the run.
    # was: OSError [Errno 28] escaped engine.sync()
    if not os.path.exists("/dev/full"):
        pytest.skip("needs /dev/full")
    path = tmp_path / "state.sqlite"
    engine, _ = _engine(path)
    os.symlink("/dev/full", lock_path(str(path), "default"))
    assert engine.sync().b.created == 3
    with run_lock(str(path), "default", None):  # and released after the run
        pass
