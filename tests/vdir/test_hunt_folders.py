"""Folder operations the file system refuses or a crash interrupts: typed errors only, and
never a half-made or half-deleted folder left in view."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest

from oxsync.adapters.vdir import KIND_FILE, VdirStore
from oxsync.core.records import FolderKind, ItemKind
from oxsync.core.store import Applied, Create
from oxsync.errors import NotFoundError, PermissionDeniedError, TransientError
from oxsync.testing.samples import sample


class Crash(BaseException):
    """The process dies here (no ``except Exception`` sees it)."""


def _visible(tmp_path: Path) -> dict[str, FolderKind]:
    """The folders a new store (the next run) finds."""
    return {f.id: f.kind for f in VdirStore(tmp_path, fsync=False).folders()}


@pytest.mark.parametrize("meta", [KIND_FILE, "displayname"])
@pytest.mark.parametrize("failure", ["crash", "full disk"])
def test_a_folder_interrupted_while_made_is_not_left_half_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, meta: str, failure: str
) -> None:
    """The metadata is written after the mkdir: a failure in between left a folder
    without its ``oxsync-kind`` (its kind then guessed: a contacts folder "Family" came
    back as a calendar) or without its ``displayname``, and the error was a bare OSError."""
    store = VdirStore(tmp_path, fsync=False)
    before = _visible(tmp_path)
    real = os.replace

    def interrupted(src: Any, dst: Any) -> None:
        if os.path.basename(os.fspath(dst)) == meta:
            if failure == "crash":
                raise Crash
            raise OSError(errno.ENOSPC, "No space left on device")
        real(src, dst)

    monkeypatch.setattr(os, "replace", interrupted)
    if failure == "crash":
        with pytest.raises(Crash):
            store.create_folder("Family", FolderKind.CONTACTS)
    else:
        with pytest.raises(TransientError, match="No space left on device"):
            store.create_folder("Family", FolderKind.CONTACTS)
    monkeypatch.undo()
    assert _visible(tmp_path) == before
    made = store.create_folder("Family", FolderKind.CONTACTS)  # the next try works
    assert (made.id, made.name, made.kind) == ("Family", "Family", FolderKind.CONTACTS)


def test_a_refused_folder_creation_or_rename_is_a_typed_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = VdirStore(tmp_path, fsync=False)
    before = _visible(tmp_path)

    def read_only(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(os, "mkdir", read_only)
    with pytest.raises(PermissionDeniedError, match="Read-only file system"):
        store.create_folder("Family", FolderKind.CONTACTS)
    monkeypatch.setattr(os, "replace", read_only)
    with pytest.raises(PermissionDeniedError, match="Read-only file system"):
        store.rename_folder("contacts", "People")
    monkeypatch.undo()
    assert _visible(tmp_path) == before
    assert [p.name for p in (tmp_path / "contacts").iterdir() if p.name.startswith(".")] == []


def test_a_folder_delete_failing_half_way_leaves_no_half_emptied_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deleting removed the files one by one: a failure after the first left the folder
    in view with some of its items gone (read as deletions by the next sync) and raised
    a bare OSError. The folder now leaves the view in one rename, before any file goes."""
    store = VdirStore(tmp_path, fsync=False)
    other = store.create_folder("Other", FolderKind.CONTACTS)
    results = store.apply(other.id, [Create(sample(ItemKind.CONTACT, i)) for i in range(3)])
    assert all(isinstance(r, Applied) for r in results)
    real = os.unlink
    calls = []

    def failing(path: Any, *args: Any, **kwargs: Any) -> None:
        calls.append(path)
        if len(calls) == 2:
            raise OSError(errno.EIO, "Input/output error")
        real(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", failing)
    store.delete_folder(other.id)
    monkeypatch.undo()
    assert other.id not in _visible(tmp_path)
    with pytest.raises(NotFoundError):
        store.changes(other.id, None)


def test_a_folder_delete_the_file_system_refuses_is_a_typed_error_and_keeps_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = VdirStore(tmp_path, fsync=False)
    other = store.create_folder("Other", FolderKind.CONTACTS)
    (created,) = store.apply(other.id, [Create(sample(ItemKind.CONTACT, 1))])
    assert isinstance(created, Applied)

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    for name in ("rename", "unlink", "rmdir"):
        monkeypatch.setattr(os, name, refuse)
    with pytest.raises(PermissionDeniedError, match="Permission denied"):
        store.delete_folder(other.id)
    monkeypatch.undo()
    assert [ref.id for ref in store.changes(other.id, None).changed] == [created.id]
