"""Listing folders and items of a vdir holding odd entries: symlink loops, directories
named like items, unreadable folders and metadata. Only typed oxsync errors may escape,
and an item is never dropped from a listing because it could not be examined (a dropped
item reads as deleted, and the engine deletes it on the other side)."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.adapters.vdir import KIND_FILE, VdirStore
from oxsync.core.records import FolderKind, ItemKind
from oxsync.core.store import Applied, Create, Failure, FailureKind
from oxsync.errors import NotFoundError, PermissionDeniedError, TransientError
from oxsync.testing.samples import sample

EVENT = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:e\r\n"
    b"DTSTART:20240101T100000Z\r\nDTEND:20240101T110000Z\r\nSUMMARY:x\r\nEND:VEVENT\r\n"
    b"END:VCALENDAR\r\n"
)


class _Entry:
    """An ``os.DirEntry`` whose ``is_file``/``is_dir``/``stat`` (following symlinks) fail
    with ``error``, as they do for a symlink into a folder the user may not search."""

    def __init__(self, entry: os.DirEntry[str], error: OSError) -> None:
        self._entry, self._error = entry, error
        self.name, self.path = entry.name, entry.path

    def is_file(self, *, follow_symlinks: bool = True) -> bool:
        if follow_symlinks:
            raise self._error
        return self._entry.is_file(follow_symlinks=False)

    def is_dir(self, *, follow_symlinks: bool = True) -> bool:
        if follow_symlinks:
            raise self._error
        return self._entry.is_dir(follow_symlinks=False)

    def is_symlink(self) -> bool:
        return self._entry.is_symlink()

    def stat(self, *, follow_symlinks: bool = True) -> os.stat_result:
        if follow_symlinks:
            raise self._error
        return self._entry.stat(follow_symlinks=False)


def _failing_entries(monkeypatch: pytest.MonkeyPatch, name: str, error: OSError) -> None:
    real = os.scandir

    class _Scan:
        def __init__(self, path: Any) -> None:
            self._it = real(path)

        def __enter__(self) -> _Scan:
            return self

        def __exit__(self, *exc: object) -> None:
            self._it.close()

        def __iter__(self) -> Any:
            for entry in self._it:
                yield _Entry(entry, error) if entry.name == name else entry

    monkeypatch.setattr(os, "scandir", _Scan)


def _refuse_scandir(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    real = os.scandir

    def scandir(path: Any = ".") -> Any:
        if Path(path) == folder:
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)


def _ids(store: VdirStore, folder: str) -> list[str]:
    return sorted(ref.id for ref in store.changes(folder, None).changed)


def test_a_symlink_loop_named_like_an_item_is_no_item(tmp_path: Path) -> None:
    store = VdirStore(tmp_path, fsync=False)
    (created,) = store.apply("contacts", [Create(sample(ItemKind.CONTACT, 1))])
    assert isinstance(created, Applied)
    os.symlink("loop.vcf", tmp_path / "contacts" / "loop.vcf")
    os.symlink("loop", tmp_path / "loop")  # and one among the folders
    assert _ids(store, "contacts") == [created.id]
    assert [f.id for f in store.folders()] == ["calendar", "contacts", "tasks"]


@pytest.mark.parametrize("odd", ["directory", "symlink loop", "dangling symlink"])
def test_an_odd_entry_named_like_an_item_does_not_break_kind_detection(
    tmp_path: Path, odd: str
) -> None:
    """A folder without ``oxsync-kind`` is judged by its first ``.ics`` file: one that is
    no readable file is passed over (it raised IsADirectoryError or OSError)."""
    folder = tmp_path / "work"
    folder.mkdir()
    if odd == "directory":
        (folder / "a.ics").mkdir()
    elif odd == "symlink loop":
        os.symlink("a.ics", folder / "a.ics")
    else:
        os.symlink("nowhere.ics", folder / "a.ics")
    (folder / "b.ics").write_bytes(EVENT.replace(b"VEVENT", b"VTODO"))
    store = VdirStore(tmp_path, fsync=False, default_folders=False)
    assert [(f.id, f.kind) for f in store.folders()] == [("work", FolderKind.TASKS)]
    assert _ids(store, "work") == ["b.ics"]


@pytest.mark.parametrize("how", ["symlink loop", "unreadable", "directory"])
def test_unreadable_metadata_files_fall_back_to_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    store = VdirStore(tmp_path, fsync=False)
    folder = tmp_path / "contacts"
    for meta in ("displayname", KIND_FILE):
        (folder / meta).unlink()
        if how == "symlink loop":
            os.symlink(meta, folder / meta)
        elif how == "directory":
            (folder / meta).mkdir()
    if how == "unreadable":
        import io

        real = io.open

        def refuse(path: Any, *args: Any, **kwargs: Any) -> Any:
            if os.path.basename(os.fspath(path)) in ("displayname", KIND_FILE):
                raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
            return real(path, *args, **kwargs)

        monkeypatch.setattr(io, "open", refuse)
    store = VdirStore(tmp_path, fsync=False)
    found = {f.id: (f.name, f.kind) for f in store.folders()}
    assert found["contacts"] == ("contacts", FolderKind.CONTACTS)


def test_an_item_that_cannot_be_examined_is_listed_and_ignored_not_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file the listing cannot stat (a symlink into a folder the user may not search)
    is still listed: dropping it read as its deletion, and the engine deleted the synced
    copy on the other side. Fetching it is a PERMISSION failure: the item is ignored."""
    memory = MemoryStore(name="memory")
    vdir = VdirStore(tmp_path / "vdir", fsync=False)
    engine = SyncEngine(memory, vdir, state=State(":memory:"), policy=Policy.NEWEST_WINS)
    for i in (1, 2):
        memory.put("contacts", sample(ItemKind.CONTACT, i))
    assert engine.sync().b.created == 2
    hidden = "oxsync-sample-contact-2.vcf"
    error = PermissionError(errno.EACCES, "Permission denied")
    _failing_entries(monkeypatch, hidden, error)
    real_open = os.open

    def refuse(path: Any, *args: Any, **kwargs: Any) -> int:
        if os.fspath(path).endswith(hidden):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    os.utime(tmp_path / "vdir" / "contacts" / hidden, ns=(1, 1))  # its version moved
    assert hidden in _ids(vdir, "contacts")
    report = engine.sync()
    assert report.a.deleted == 0 and not report.errors
    assert sorted(str(r.uid) for r in memory.records("contacts").values()) == [
        "oxsync-sample-contact-1",
        "oxsync-sample-contact-2",
    ]
    assert [i.item_id for i in engine.state.ignored()] == [hidden]


def test_an_entry_failing_otherwise_fails_the_listing_with_a_transient_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = VdirStore(tmp_path, fsync=False)
    (created,) = store.apply("contacts", [Create(sample(ItemKind.CONTACT, 1))])
    assert isinstance(created, Applied)
    _failing_entries(monkeypatch, created.id, OSError(errno.EIO, "Input/output error"))
    with pytest.raises(TransientError, match="Input/output error"):
        store.changes("contacts", None)


def test_an_unreadable_folder_is_a_permission_error_and_the_others_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    memory = MemoryStore(name="memory")
    vdir = VdirStore(tmp_path / "vdir", fsync=False)
    engine = SyncEngine(memory, vdir, state=State(":memory:"), policy=Policy.NEWEST_WINS)
    assert engine.sync().changed == 0
    for kind in (ItemKind.CONTACT, ItemKind.EVENT):
        (result,) = vdir.apply(
            "contacts" if kind is ItemKind.CONTACT else "calendar", [Create(sample(kind, 1))]
        )
        assert isinstance(result, Applied)
    _refuse_scandir(monkeypatch, tmp_path / "vdir" / "contacts")
    with pytest.raises(PermissionDeniedError, match="Permission denied"):
        vdir.changes("contacts", None)
    report = engine.sync()
    assert len(report.errors) == 1 and "Permission denied" in report.errors[0]
    assert [r.uid for r in memory.records("calendar").values()] == ["oxsync-sample-event-1"]
    assert memory.records("contacts") == {}


def test_an_unreadable_or_vanished_root_is_a_typed_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = VdirStore(tmp_path / "vdir", fsync=False)
    _refuse_scandir(monkeypatch, tmp_path / "vdir")
    with pytest.raises(PermissionDeniedError, match="Permission denied"):
        store.folders()
    monkeypatch.undo()
    import shutil

    shutil.rmtree(tmp_path / "vdir")  # unmounted, say
    with pytest.raises(NotFoundError):
        store.folders()


def test_a_collection_replaced_by_a_file_while_listed_is_not_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = VdirStore(tmp_path, fsync=False)
    real = os.scandir

    def replaced(path: Any = ".") -> Any:
        if Path(path) == tmp_path / "contacts":
            raise NotADirectoryError(errno.ENOTDIR, "Not a directory", os.fspath(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", replaced)
    with pytest.raises(NotFoundError):
        store.changes("contacts", None)
    got = store.fetch("contacts", ["x.vcf"])["x.vcf"]
    assert isinstance(got, Failure) and got.kind is FailureKind.NOT_FOUND
