"""Writes that the file system refuses: every op gets a typed result (a Failure), never a
bare OSError out of ``apply``, and nothing is lost on the way."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest

import oxsync.adapters.vdir as vdir_module
from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.adapters.vdir import VdirStore
from oxsync.core.records import Contact, FolderKind, ItemKind
from oxsync.core.store import (
    Applied,
    Create,
    Delete,
    Failure,
    FailureKind,
    Item,
    Move,
    Op,
    Update,
)
from oxsync.testing.samples import sample

CARD = b"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:long\r\nFN:Long Name\r\nN:Name;Long;;;\r\nEND:VCARD\r\n"


def _store(tmp_path: Path) -> tuple[VdirStore, Applied]:
    store = VdirStore(tmp_path, fsync=False)
    (created,) = store.apply("contacts", [Create(sample(ItemKind.CONTACT, 1))])
    assert isinstance(created, Applied)
    return store, created


def _fail(monkeypatch: pytest.MonkeyPatch, module: Any, name: str, err: int) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OSError(err, os.strerror(err))

    monkeypatch.setattr(module, name, refuse)


@pytest.mark.parametrize("err", [errno.EROFS, errno.EACCES, errno.EIO])
def test_a_refused_delete_is_a_transient_failure_and_keeps_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, err: int
) -> None:
    store, created = _store(tmp_path)
    _fail(monkeypatch, os, "unlink", err)
    (result,) = store.apply("contacts", [Delete(created.id, created.version)])
    assert isinstance(result, Failure) and result.kind is FailureKind.TRANSIENT
    assert os.strerror(err) in result.message
    assert (tmp_path / "contacts" / created.id).exists()


@pytest.mark.parametrize("rename", ["raising", "portable"])
@pytest.mark.parametrize("err", [errno.EROFS, errno.EXDEV, errno.EACCES])
def test_a_refused_move_is_a_transient_failure_and_keeps_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, err: int, rename: str
) -> None:
    store, created = _store(tmp_path)
    other = store.create_folder("Other", FolderKind.CONTACTS)
    if rename == "portable":
        monkeypatch.setattr(vdir_module, "_RENAME_NOREPLACE", vdir_module._rename_checked)
        _fail(monkeypatch, os, "replace", err)
    else:
        _fail(monkeypatch, vdir_module, "_RENAME_NOREPLACE", err)
    (result,) = store.apply("contacts", [Move(created.id, other.id, created.version)])
    assert isinstance(result, Failure) and result.kind is FailureKind.TRANSIENT
    assert (tmp_path / "contacts" / created.id).exists()
    assert list((tmp_path / other.id).glob("*.vcf")) == []


@pytest.mark.parametrize("op", ["update", "delete", "move"])
def test_a_file_that_cannot_be_examined_is_a_transient_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, op: str
) -> None:
    """The version check's stat refused (EACCES: a symlink into a folder the user may not
    search): a failure for that op, not a PermissionError out of apply."""
    store, created = _store(tmp_path)
    before = (tmp_path / "contacts" / created.id).read_bytes()
    real = os.stat

    def refuse(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        if os.fspath(path).endswith(created.id):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", refuse)
    ops: dict[str, Op] = {
        "update": Update(created.id, sample(ItemKind.CONTACT, 2), created.version),
        "delete": Delete(created.id, created.version),
        "move": Move(created.id, "contacts", created.version),
    }
    (result,) = store.apply("contacts", [ops[op]])
    assert isinstance(result, Failure) and result.kind is FailureKind.TRANSIENT
    assert "Permission denied" in result.message
    assert (tmp_path / "contacts" / created.id).read_bytes() == before


@pytest.mark.parametrize("odd", ["directory", "symlink loop"])
def test_ops_on_a_name_that_is_no_file_are_not_found(tmp_path: Path, odd: str) -> None:
    store = VdirStore(tmp_path, fsync=False)
    path = tmp_path / "contacts" / "odd.vcf"
    if odd == "directory":
        path.mkdir()
    else:
        os.symlink("odd.vcf", path)
    for op in (
        Update("odd.vcf", sample(ItemKind.CONTACT, 1), None),
        Delete("odd.vcf", None),
        Move("odd.vcf", "contacts", None),
    ):
        (result,) = store.apply("contacts", [op])
        assert isinstance(result, Failure) and result.kind is FailureKind.NOT_FOUND, op
    assert path.is_symlink() or path.is_dir()


def test_a_file_with_a_long_name_can_be_updated(tmp_path: Path) -> None:
    """A file another tool named with a long name (up to the 255-byte limit): its
    temporary file's name, the name plus a suffix, was over the limit, so every update
    failed TRANSIENT (ENAMETOOLONG) on every run for ever."""
    memory = MemoryStore(name="memory")
    vdir = VdirStore(tmp_path / "vdir", fsync=False)
    name = "x" * 200 + "é" * 25 + ".vcf"  # 254 bytes
    (tmp_path / "vdir" / "contacts" / name).write_bytes(CARD)
    engine = SyncEngine(memory, vdir, state=State(":memory:"), policy=Policy.NEWEST_WINS)
    assert engine.sync().a.created == 1
    (mid,) = memory.records("contacts")
    memory.edit("contacts", mid, first_name="Changed")
    report = engine.sync()
    assert report.b.updated == 1 and not report.errors
    got = vdir.fetch("contacts", [name])[name]
    assert isinstance(got, Item) and isinstance(got.record, Contact)
    assert got.record.first_name == "Changed"
    assert sorted(p.name for p in (tmp_path / "vdir" / "contacts").iterdir()) == sorted(
        [name, "displayname", "oxsync-kind"]
    )
