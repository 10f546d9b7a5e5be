"""Fetching files the store cannot read as items: unreadable, or no longer a regular file
(a directory, a FIFO) when the engine asks for them."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.adapters.vdir import VdirStore
from oxsync.core.records import ItemKind
from oxsync.core.store import Applied, Create, Failure, FailureKind
from oxsync.testing.samples import sample


def _unreadable(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """``name`` cannot be opened (as chmod 000 would do for anyone but root)."""
    real = os.open

    def refuse(path: Any, *args: Any, **kwargs: Any) -> int:
        if os.fspath(path).endswith(name):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)


def test_an_unreadable_file_is_ignored_and_the_rest_of_the_folder_syncs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file nobody may read does not block its folder: before, fetch reported it
    TRANSIENT, the engine gave up the whole folder, and no other file of it ever synced."""
    vdir = VdirStore(tmp_path / "vdir", fsync=False)
    created = vdir.apply(
        "contacts", [Create(sample(ItemKind.CONTACT, 1)), Create(sample(ItemKind.CONTACT, 2))]
    )
    assert isinstance(created[1], Applied)
    locked = created[1].id
    _unreadable(monkeypatch, locked)
    got = vdir.fetch("contacts", [locked])[locked]
    assert isinstance(got, Failure) and got.kind is FailureKind.PERMISSION
    assert "Permission denied" in got.message
    memory = MemoryStore(name="memory")
    engine = SyncEngine(memory, vdir, state=State(":memory:"), policy=Policy.NEWEST_WINS)
    report = engine.sync()
    assert not report.errors
    assert [r.uid for r in memory.records("contacts").values()] == ["oxsync-sample-contact-1"]
    assert [i.item_id for i in engine.state.ignored()] == [locked]
    assert (tmp_path / "vdir" / "contacts" / locked).exists()


def test_an_item_replaced_by_a_directory_is_not_found(tmp_path: Path) -> None:
    """Listed as a file, then replaced by a directory before the fetch: the item is gone
    (the next listing says the same), not a TRANSIENT error that stops the folder."""
    store = VdirStore(tmp_path, fsync=False)
    (created,) = store.apply("contacts", [Create(sample(ItemKind.CONTACT, 1))])
    assert isinstance(created, Applied)
    path = tmp_path / "contacts" / created.id
    path.unlink()
    path.mkdir()
    got = store.fetch("contacts", [created.id])[created.id]
    assert isinstance(got, Failure) and got.kind is FailureKind.NOT_FOUND
    assert [ref.id for ref in store.changes("contacts", None).changed] == []


def test_fetching_a_fifo_named_like_an_item_does_not_hang(tmp_path: Path) -> None:
    """A FIFO put where an item was (between listing and fetch) is no item; opening it
    for reading blocked until a writer came, which stalled the sync for ever."""
    store = VdirStore(tmp_path, fsync=False)
    fifo = tmp_path / "contacts" / "pipe.vcf"
    os.mkfifo(fifo)
    got: dict[str, Any] = {}
    worker = threading.Thread(
        target=lambda: got.update(store.fetch("contacts", ["pipe.vcf"])), daemon=True
    )
    worker.start()
    worker.join(5)
    if worker.is_alive():  # release the blocked open before failing
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(5)
        pytest.fail("fetch blocked on a FIFO")
    result = got["pipe.vcf"]
    assert isinstance(result, Failure) and result.kind is FailureKind.NOT_FOUND
