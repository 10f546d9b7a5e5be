"""Temporary files and folders left by a crashed writer are removed by a later listing,
and only those: only this store's own temporary names, only when stale (old, and the
writing process gone or very old), never a concurrent writer's, never anything else."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import pytest

import oxsync.adapters.vdir as vdir_module
from oxsync.adapters.vdir import VdirStore
from oxsync.core.records import FolderKind, ItemKind
from oxsync.core.store import Create
from oxsync.testing.samples import sample

HOUR = 3600
DAY = 24 * HOUR


class Crash(BaseException):
    """The process dies at this call."""


@pytest.fixture(scope="module")
def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()
    return child.pid


def _age(path: Path, seconds: float) -> Path:
    """Set ``path``'s mtime ``seconds`` in the past (without following a symlink)."""
    when = time.time() - seconds
    os.utime(path, (when, when), follow_symlinks=False)
    return path


def _temp_file(folder: Path, pid: int, age: float, name: str = "item.vcf") -> Path:
    path = folder / f".{name}.{pid}-0123abcd-7.tmp"
    path.write_bytes(b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:half\r\nEND:VCARD\r\n")
    return _age(path, age)


def _names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


@pytest.fixture
def store(tmp_path: Path) -> VdirStore:
    return VdirStore(tmp_path / "vdir", fsync="off")


def test_stale_temp_file_from_a_dead_process_is_removed(store: VdirStore, dead_pid: int) -> None:
    folder = store.root / "contacts"
    stale = _temp_file(folder, dead_pid, 2 * HOUR)
    listing = store.changes("contacts", None)
    assert not stale.exists()
    assert list(listing.changed) == []


def test_fresh_or_live_temp_files_are_kept(store: VdirStore, dead_pid: int) -> None:
    folder = store.root / "contacts"
    kept = [
        _temp_file(folder, os.getpid(), 0, "a.vcf"),  # a concurrent writer, right now
        _temp_file(folder, os.getpid(), 2 * HOUR, "b.vcf"),  # live writer, suspended a while
        # a dead pid here may be a live writer on another host (network share): age rules
        _temp_file(folder, dead_pid, 10 * 60, "c.vcf"),
        _temp_file(folder, dead_pid, -HOUR, "d.vcf"),  # from the future (clock skew)
    ]
    store.changes("contacts", None)
    assert all(p.exists() for p in kept)


def test_very_old_temp_file_is_removed_whatever_its_pid(store: VdirStore) -> None:
    # the pid may have been reused by a long-running process (or live on another host)
    stale = _temp_file(store.root / "contacts", os.getpid(), 2 * DAY)
    store.changes("contacts", None)
    assert not stale.exists()


def test_unrelated_hidden_entries_are_kept(store: VdirStore, dead_pid: int) -> None:
    folder = store.root / "contacts"
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    others = [
        folder / ".git",
        folder / ".stfolder",
        folder / ".hidden.vcf",
        folder / "tmpab12cd34",  # atomicwrites (vdirsyncer) temporary file
        folder / ".item.vcf.tmp",
        folder / f".item.vcf.{dead_pid}.tmp",
        folder / f".item.vcf.{dead_pid}-0123abcd-7.tmp.bak",
        folder / f"item.vcf.{dead_pid}-0123abcd-7.tmp",  # not hidden: not ours
        folder / ".color.0123456789abcdef0123456789abcdef.tmp",  # we never write color
        folder / ".displayname.0123456789abcdef.tmp",
    ]
    for path in others[1:]:
        path.write_text("x")
    # our names, but not what we make there: a symlink, a directory in a folder, a file
    # (or a symlink to a folder) in the root
    (folder / f".link.{dead_pid}-0123abcd-7.tmp").symlink_to(folder / ".hidden.vcf")
    (folder / f".dir.{dead_pid}-0123abcd-8.tmp").mkdir()
    (store.root / f".file.{dead_pid}-0123abcd-9.tmp").write_text("x")
    (store.root / f".link.{dead_pid}-0123abcd-10.tmp").symlink_to(folder)
    others += [
        folder / f".link.{dead_pid}-0123abcd-7.tmp",
        folder / f".dir.{dead_pid}-0123abcd-8.tmp",
        store.root / f".file.{dead_pid}-0123abcd-9.tmp",
        store.root / f".link.{dead_pid}-0123abcd-10.tmp",
    ]
    for path in others:
        _age(path, 3 * DAY)
    before = _names(folder), _names(store.root)
    store.changes("contacts", None)
    store.folders()
    assert (_names(folder), _names(store.root)) == before
    assert (folder / ".git" / "HEAD").exists() and (folder / ".hidden.vcf").exists()


def test_temp_directory_of_a_crashed_folder_create_is_removed(
    tmp_path: Path, dead_pid: int
) -> None:
    root = tmp_path / "vdir"
    store = VdirStore(root, fsync="off")
    crashed = root / f".work.{dead_pid}-0123abcd-0.tmp"
    crashed.mkdir()
    (crashed / "oxsync-kind").write_text("contacts")
    (crashed / ".displayname.0123456789abcdef0123456789abcdef.tmp").write_text("Work")
    _age(crashed, 2 * HOUR)
    trash = root / f".old.{dead_pid}-0123abcd-1.deleted"  # a folder delete cut short
    trash.mkdir()
    (trash / "x.vcf").write_text("x")
    _age(trash, 2 * HOUR)
    fresh = root / f".new.{os.getpid()}-0123abcd-2.tmp"  # a folder being made right now
    fresh.mkdir()
    folder_ids = [f.id for f in store.folders()]
    assert not crashed.exists() and not trash.exists()
    assert fresh.exists()
    assert folder_ids == ["calendar", "contacts", "tasks"]


def test_stale_temp_directory_is_removed_when_the_store_opens(
    tmp_path: Path, dead_pid: int
) -> None:
    root = tmp_path / "vdir"
    VdirStore(root, fsync="off")
    crashed = root / f".work.{dead_pid}-0123abcd-0.tmp"
    crashed.mkdir()
    _age(crashed, 2 * HOUR)
    VdirStore(root, fsync="off")
    assert not crashed.exists()


def test_real_crash_leftovers_are_recognised(store: VdirStore) -> None:
    """The names the writers really make match: a write, a folder create and a
    metadata write, each killed before its rename (the pid is ours, so: two days old)."""
    rename = mock.patch.object(vdir_module, "_RENAME_NOREPLACE", side_effect=Crash)
    with rename, pytest.raises(Crash):
        store.apply("contacts", [Create(sample(ItemKind.CONTACT, 1))])
    killed = mock.patch("shutil.rmtree")  # a killed process cleans nothing up
    with rename, killed, pytest.raises(Crash):
        store.create_folder("Work", FolderKind.CONTACTS)
    with mock.patch.object(os, "replace", side_effect=Crash), pytest.raises(Crash):
        store.rename_folder("contacts", "People")
    left = [p for p in store.root.rglob(".*") if p.name.endswith(".tmp")]
    assert {p.parent.name for p in left} >= {"contacts", "vdir"}, left
    assert len(left) >= 3  # the item, the folder being made (with its meta inside), the meta
    for path in left:
        _age(path, 2 * DAY)
    store.folders()
    store.changes("contacts", None)
    assert [p for p in store.root.rglob(".*") if p.name.endswith(".tmp")] == []


def test_legacy_metadata_temp_files_are_removed_when_very_old(store: VdirStore) -> None:
    folder = store.root / "contacts"
    old = folder / f".displayname.{'a' * 32}.tmp"
    old.write_text("x")
    _age(old, 2 * DAY)
    recent = folder / f".oxsync-kind.{'b' * 32}.tmp"  # no pid: kept for a day
    recent.write_text("x")
    _age(recent, 2 * HOUR)
    store.changes("contacts", None)
    assert not old.exists() and recent.exists()


def test_a_failed_removal_never_fails_the_listing(
    store: VdirStore, dead_pid: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = store.root / "contacts"
    (folder / "keep.vcf").write_bytes(b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:K\r\nEND:VCARD\r\n")
    stale = _temp_file(folder, dead_pid, 2 * HOUR)
    crashed = store.root / f".work.{dead_pid}-0123abcd-0.tmp"
    crashed.mkdir()
    (crashed / "oxsync-kind").write_text("contacts")
    _age(crashed, 2 * HOUR)

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "unlink", refuse)
    monkeypatch.setattr(os, "rmdir", refuse)
    monkeypatch.setattr(os, "remove", refuse)
    listing = store.changes("contacts", None)
    assert [ref.id for ref in listing.changed] == ["keep.vcf"]
    assert "work" not in [f.id for f in store.folders()]
    assert stale.exists()


def test_a_read_only_store_removes_nothing(tmp_path: Path, dead_pid: int) -> None:
    root = tmp_path / "vdir"
    VdirStore(root, fsync="off")
    stale = _temp_file(root / "contacts", dead_pid, 2 * DAY)
    crashed = root / f".work.{dead_pid}-0123abcd-0.tmp"
    crashed.mkdir()
    _age(crashed, 2 * DAY)
    store = VdirStore(root, read_only=True)
    store.folders()
    store.changes("contacts", None)
    assert stale.exists() and crashed.exists()


def test_temp_files_are_never_listed_as_items(store: VdirStore, dead_pid: int) -> None:
    folder = store.root / "contacts"
    (folder / "keep.vcf").write_bytes(b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:K\r\nEND:VCARD\r\n")
    _temp_file(folder, os.getpid(), 0, "a.vcf")
    _temp_file(folder, dead_pid, 2 * HOUR, "b.vcf")
    (folder / f".c.vcf.{os.getpid()}-0123abcd-1.vcf").write_text("x")  # hidden, item-like
    assert [ref.id for ref in store.changes("contacts", None).changed] == ["keep.vcf"]
