"""Vdir-specific behaviour: layout, interoperability, atomicity, change detection."""

from __future__ import annotations

import builtins
import os
from pathlib import Path
from typing import Any

import pytest

from oxsync.adapters.vdir import KIND_FILE, VdirStore
from oxsync.core import records as r
from oxsync.core.records import FolderKind, ItemKind
from oxsync.core.store import Applied, Create, Delete, Failure, FailureKind, Item, Move, Update
from oxsync.errors import (
    InvalidDataError,
    NotFoundError,
    PermissionDeniedError,
    ReadOnlyStoreError,
)
from oxsync.testing.samples import sample

FIXTURES = Path(__file__).parents[1] / "mappings" / "fixtures"


def _store(tmp_path: Path, **kwargs: Any) -> VdirStore:
    return VdirStore(tmp_path, fsync=False, **kwargs)


def _create(store: VdirStore, folder: str, record: r.Record) -> Applied:
    (result,) = store.apply(folder, [Create(record)])
    assert isinstance(result, Applied), result
    return result


def test_item_id_is_the_file_name_derived_from_a_safe_uid(tmp_path: Path) -> None:
    store = _store(tmp_path)
    applied = _create(store, "contacts", sample(ItemKind.CONTACT, 1))
    assert applied.id == "oxsync-sample-contact-1.vcf"
    assert (tmp_path / "contacts" / applied.id).read_bytes().startswith(b"BEGIN:VCARD")
    unsafe = r.Contact(uid="a/b\\c d", last_name="x")
    other = _create(store, "contacts", unsafe)
    assert other.id.endswith(".vcf") and "/" not in other.id and other.id != "a/b\\c d.vcf"
    got = store.fetch("contacts", [other.id])[other.id]
    assert isinstance(got, Item) and got.record.uid == "a/b\\c d"


@pytest.fixture(params=["renameat2", "unsupported-flag", "portable"])
def rename_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each way the vdir store renames without replacing: renameat2(RENAME_NOREPLACE), a
    file system refusing the flag (EINVAL: check then rename), no renameat2 at all."""
    import ctypes
    import errno

    import oxsync.adapters.vdir as vdir_module

    mode: str = request.param
    if mode == "unsupported-flag":
        real = ctypes.CDLL

        class _Libc:
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                self._libc = real(*args, **kwargs)

            def __getattr__(self, name: str) -> Any:
                if name != "renameat2":
                    return getattr(self._libc, name)

                def refuse(*args: Any) -> int:
                    ctypes.set_errno(errno.EINVAL)
                    return -1

                return refuse

        monkeypatch.setattr(ctypes, "CDLL", _Libc)
        monkeypatch.setattr(vdir_module, "_RENAME_NOREPLACE", vdir_module._load_rename_noreplace())
    elif mode == "portable":
        monkeypatch.setattr(vdir_module, "_RENAME_NOREPLACE", vdir_module._rename_checked)
    elif vdir_module._load_rename_noreplace() is None:
        pytest.skip("no renameat2 here")
    return mode


def test_a_taken_file_name_is_never_overwritten_by_a_create(
    tmp_path: Path, rename_mode: str
) -> None:
    """The uid's file name may be taken (by a file another tool just wrote, say): the
    create gets a random name and the other file stays as it was."""
    store = _store(tmp_path)
    taken = tmp_path / "contacts" / "oxsync-sample-contact-1.vcf"
    taken.write_bytes(b"not ours")
    applied = _create(store, "contacts", sample(ItemKind.CONTACT, 1))
    assert applied.id != taken.name and applied.id.endswith(".vcf")
    assert taken.read_bytes() == b"not ours"
    got = store.fetch("contacts", [applied.id])[applied.id]
    assert isinstance(got, Item) and got.record.uid == "oxsync-sample-contact-1"
    assert got.version == applied.version
    assert sorted(p.name for p in (tmp_path / "contacts").iterdir() if p.name[0] == ".") == []


def test_default_folders_carry_kind_and_displayname_metadata(tmp_path: Path) -> None:
    store = _store(tmp_path)
    kinds = {f.id: f.kind for f in store.folders()}
    assert kinds == {
        "calendar": FolderKind.CALENDAR,
        "contacts": FolderKind.CONTACTS,
        "tasks": FolderKind.TASKS,
    }
    assert (tmp_path / "tasks" / KIND_FILE).read_text() == "tasks"
    assert all(f.is_default for f in store.folders())


def test_khal_and_khard_folders_are_recognised_by_content_and_name(tmp_path: Path) -> None:
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "a.ics").write_bytes((FIXTURES / "google_calendar.ics").read_bytes())
    (tmp_path / "todo").mkdir()
    (tmp_path / "todo" / "t.ics").write_bytes(
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VTODO\r\nUID:t\r\n"
        b"SUMMARY:x\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
    )
    (tmp_path / "friends").mkdir()
    (tmp_path / "friends" / "x.vcf").write_bytes(
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:x\r\nEND:VCARD\r\n"
    )
    (tmp_path / "friends" / "displayname").write_text("Friends & family")
    (tmp_path / "friends" / "color").write_text("#ff0000")
    (tmp_path / "my-addressbook").mkdir()
    (tmp_path / ".hidden").mkdir()
    store = _store(tmp_path, default_folders=False)
    folders = {f.id: (f.kind, f.name) for f in store.folders()}
    assert folders == {
        "friends": (FolderKind.CONTACTS, "Friends & family"),
        "my-addressbook": (FolderKind.CONTACTS, "my-addressbook"),
        "todo": (FolderKind.TASKS, "todo"),
        "work": (FolderKind.CALENDAR, "work"),
    }
    # the only folder of its kind is the default one; two contacts folders: no default
    defaults = {f.id for f in store.folders() if f.is_default}
    assert defaults == {"todo", "work"}
    store.rename_folder("friends", "Friends")
    assert (tmp_path / "friends" / "color").read_text() == "#ff0000"  # untouched


def test_an_empty_folder_guessed_by_name_is_judged_again_by_its_content(
    tmp_path: Path,
) -> None:
    store = _store(tmp_path, default_folders=False)
    (tmp_path / "friends").mkdir()
    assert [f.kind for f in store.folders()] == [FolderKind.CALENDAR]  # a guess
    (tmp_path / "friends" / "x.vcf").write_bytes(
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:x\r\nEND:VCARD\r\n"
    )
    assert [f.kind for f in store.folders()] == [FolderKind.CONTACTS]


def test_listing_opens_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = _store(tmp_path)
    for i in range(50):
        _create(store, "contacts", sample(ItemKind.CONTACT, i))
    opened: list[str] = []
    real_open = builtins.open

    def spy(file: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spy)
    changes = store.changes("contacts", None)
    assert changes.full and len(changes.changed) == 50
    assert opened == []


def test_external_edit_moves_the_version_and_makes_a_stale_update_conflict(
    tmp_path: Path,
) -> None:
    store = _store(tmp_path)
    applied = _create(store, "contacts", sample(ItemKind.CONTACT, 1))
    path = tmp_path / "contacts" / applied.id
    path.write_bytes(path.read_bytes().replace(b"Lovelace-1", b"Lovelace-one"))  # khard edit
    (ref,) = store.changes("contacts", None).changed
    assert ref.version != applied.version
    (stale,) = store.apply(
        "contacts", [Update(applied.id, sample(ItemKind.CONTACT, 1), applied.version)]
    )
    assert isinstance(stale, Failure) and stale.kind is FailureKind.CONFLICT
    (gone,) = store.apply("contacts", [Delete(applied.id, applied.version)])
    assert isinstance(gone, Failure) and gone.kind is FailureKind.CONFLICT
    got = store.fetch("contacts", [applied.id])[applied.id]
    assert isinstance(got, Item) and got.record.last_name == "Lovelace-one"


def test_rewriting_identical_content_still_moves_the_version(tmp_path: Path) -> None:
    store = _store(tmp_path)
    record = sample(ItemKind.CONTACT, 1)
    applied = _create(store, "contacts", record)
    version = applied.version
    for _ in range(5):  # same bytes, same size, likely the same clock tick
        (result,) = store.apply("contacts", [Update(applied.id, record, version)])
        assert isinstance(result, Applied) and result.version != version
        version = result.version


def test_writes_are_atomic_and_leave_no_temporary_file(tmp_path: Path) -> None:
    store = _store(tmp_path)
    applied = _create(store, "calendar", sample(ItemKind.EVENT, 1))
    store.apply("calendar", [Update(applied.id, sample(ItemKind.EVENT, 2), None)])
    assert sorted(os.listdir(tmp_path / "calendar")) == sorted(
        ["displayname", KIND_FILE, applied.id]
    )


def test_a_failed_serialisation_is_an_invalid_failure_naming_fields(tmp_path: Path) -> None:
    store = _store(tmp_path)
    bad = r.Contact(uid="bad", first_name="bell \x07", color_label=99)
    (result,) = store.apply("contacts", [Create(bad)])
    assert isinstance(result, Failure) and result.kind is FailureKind.INVALID
    assert set(result.fields) == {"first_name", "color_label"}
    assert not (tmp_path / "contacts" / "bad.vcf").exists()


def test_unreadable_and_multi_item_files_are_invalid_not_fatal(tmp_path: Path) -> None:
    store = _store(tmp_path)
    folder = tmp_path / "contacts"
    (folder / "broken.vcf").write_bytes(
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nBDAY:1999-02-30\r\nEND:VCARD\r\n"
    )
    (folder / "two.vcf").write_bytes((FIXTURES / "google_contacts.vcf").read_bytes())
    good = _create(store, "contacts", sample(ItemKind.CONTACT, 3))
    got = store.fetch("contacts", ["broken.vcf", "two.vcf", good.id, "../etc.vcf"])
    assert isinstance(got["broken.vcf"], Failure)
    assert got["broken.vcf"].kind is FailureKind.INVALID
    assert got["broken.vcf"].fields == ("birthday",)
    assert isinstance(got["two.vcf"], Failure) and "2 items" in got["two.vcf"].message
    assert isinstance(got[good.id], Item)
    assert isinstance(got["../etc.vcf"], Failure)


def test_wrong_kind_for_folder_and_moves_across_kinds_are_refused(tmp_path: Path) -> None:
    store = _store(tmp_path)
    (wrong,) = store.apply("contacts", [Create(sample(ItemKind.EVENT, 1))])
    assert isinstance(wrong, Failure) and wrong.kind is FailureKind.INVALID
    event = _create(store, "calendar", sample(ItemKind.EVENT, 1))
    (moved,) = store.apply("calendar", [Move(event.id, "contacts", event.version)])
    assert isinstance(moved, Failure) and moved.kind is FailureKind.INVALID


def test_an_update_cannot_turn_a_contact_into_a_list(tmp_path: Path) -> None:
    store = _store(tmp_path)
    contact = _create(store, "contacts", sample(ItemKind.CONTACT, 1))
    (result,) = store.apply(
        "contacts", [Update(contact.id, sample(ItemKind.DISTRIBUTION_LIST, 1), None)]
    )
    assert isinstance(result, Failure) and result.kind is FailureKind.INVALID
    group = _create(store, "contacts", sample(ItemKind.DISTRIBUTION_LIST, 2))
    (ok,) = store.apply(
        "contacts", [Update(group.id, sample(ItemKind.DISTRIBUTION_LIST, 3), group.version)]
    )
    assert isinstance(ok, Applied)


def test_read_only_store_refuses_writes_and_missing_root(tmp_path: Path) -> None:
    _store(tmp_path)
    store = _store(tmp_path, read_only=True)
    assert store.capabilities.read_only
    with pytest.raises(ReadOnlyStoreError):
        store.apply("contacts", [Create(sample(ItemKind.CONTACT, 1))])
    with pytest.raises(NotFoundError):
        VdirStore(tmp_path / "missing", read_only=True)


def test_default_folders_cannot_be_deleted_and_subfolders_do_not_exist(tmp_path: Path) -> None:
    store = _store(tmp_path)
    with pytest.raises(PermissionDeniedError):
        store.delete_folder("contacts")
    with pytest.raises(PermissionDeniedError):
        store.create_folder("sub", FolderKind.CONTACTS, parent_id="contacts")
    with pytest.raises(NotFoundError):
        store.changes("../outside", None)


def test_vcard_four_is_written_when_asked(tmp_path: Path) -> None:
    store = _store(tmp_path, vcard_version="4.0")
    applied = _create(store, "contacts", sample(ItemKind.DISTRIBUTION_LIST, 1))
    data = (tmp_path / "contacts" / applied.id).read_bytes()
    assert b"VERSION:4.0" in data and b"KIND:group" in data


@pytest.mark.parametrize("kind", list(ItemKind), ids=lambda k: k.value)
def test_any_record_survives_a_trip_through_a_file(tmp_path: Path, kind: ItemKind) -> None:
    from hypothesis import HealthCheck, given, settings

    from oxsync.core.serial import to_data
    from oxsync.testing.strategies import records

    store = _store(tmp_path)
    folder = {
        ItemKind.CONTACT: "contacts",
        ItemKind.DISTRIBUTION_LIST: "contacts",
        ItemKind.EVENT: "calendar",
        ItemKind.TASK: "tasks",
    }[kind]

    @settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(records(kind))
    def check(record: r.Record) -> None:
        applied = _create(store, folder, record)
        got = store.fetch(folder, [applied.id])[applied.id]
        assert isinstance(got, Item) and got.version == applied.version
        # the uid is kept (or made), the rest is what the file format keeps
        assert got.record.uid == (record.uid or got.record.uid)
        again = store.fetch(folder, [applied.id])[applied.id]
        assert isinstance(again, Item) and to_data(again.record) == to_data(got.record)
        (rewritten,) = store.apply(folder, [Update(applied.id, got.record, applied.version)])
        assert isinstance(rewritten, Applied)
        final = store.fetch(folder, [applied.id])[applied.id]
        assert isinstance(final, Item) and to_data(final.record) == to_data(got.record)
        store.apply(folder, [Delete(applied.id, None)])

    check()


@pytest.mark.slow
def test_ten_thousand_files_list_quickly(tmp_path: Path) -> None:
    store = _store(tmp_path)
    folder = tmp_path / "contacts"
    body = (FIXTURES / "ox_contacts.vcf").read_bytes().split(b"BEGIN:VCARD")[1]
    for i in range(10_000):
        (folder / f"{i:05d}.vcf").write_bytes(b"BEGIN:VCARD" + body)
    import time

    started = time.perf_counter()
    changes = store.changes("contacts", None)
    elapsed = time.perf_counter() - started
    assert len(changes.changed) == 10_000
    assert elapsed < 2.0, f"listing 10,000 files took {elapsed:.2f} s"


@pytest.mark.parametrize("syncfs", [True, False], ids=["syncfs", "fsync-each"])
def test_batch_durability_syncs_once_per_batch_before_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, syncfs: bool
) -> None:
    import oxsync.adapters.vdir as vdir_module

    # With syncfs one call flushes everything: only the folders are named, not each file.
    monkeypatch.setattr(vdir_module, "_SYNCFS", (lambda fd: 0) if syncfs else None)

    def files(names: list[str]) -> list[str]:
        return [] if syncfs else sorted(names)

    synced: list[tuple[list[str], list[str], int]] = []
    fsyncs: list[int] = []

    def record(files: list[Path], folders: set[Path]) -> None:
        on_disk = len(list((tmp_path / "contacts").glob("*.vcf")))
        synced.append((sorted(p.name for p in files), sorted(f.name for f in folders), on_disk))

    monkeypatch.setattr(vdir_module, "_make_durable", record)
    monkeypatch.setattr(os, "fsync", lambda fd: fsyncs.append(fd))
    store = VdirStore(tmp_path)  # default: fsync="batch"
    store.create_folder("archive", FolderKind.CONTACTS)
    ops = [Create(sample(ItemKind.CONTACT, i)) for i in range(5)]
    results = store.apply("contacts", ops)
    assert all(isinstance(x, Applied) for x in results)
    # One sync, after all five files were in place, naming exactly what was written.
    assert synced == [(files([r.id for r in results]), ["contacts"], 5)]
    assert fsyncs == []  # no per-file sync
    assert store.apply("contacts", [Delete("nope.vcf")])[0].kind is FailureKind.NOT_FOUND
    assert len(synced) == 1  # nothing written: nothing to sync
    moved = store.apply("contacts", [Move(results[0].id, "archive", results[0].version)])
    assert isinstance(moved[0], Applied)
    assert synced[-1][:2] == ([moved[0].id], ["archive", "contacts"])  # both folders' entries
    store.apply("contacts", [Delete(results[1].id)])
    assert synced[-1][:2] == ([], ["contacts"])


def test_a_failed_batch_sync_reports_the_writes_as_transient(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import oxsync.adapters.vdir as vdir_module

    def fail(files: list[Path], folders: set[Path]) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(vdir_module, "_make_durable", fail)
    store = VdirStore(tmp_path)
    (result,) = store.apply("contacts", [Create(sample(ItemKind.CONTACT, 1))])
    assert isinstance(result, Failure) and result.kind is FailureKind.TRANSIENT
    assert "Input/output error" in result.message


def test_real_durability_calls_and_per_file_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import oxsync.adapters.vdir as vdir_module

    (tmp_path / "x.vcf").write_bytes(b"x")
    vdir_module._make_durable([tmp_path / "x.vcf"], {tmp_path})  # syncfs on Linux
    fsyncs: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (fsyncs.append(fd), real_fsync(fd)))
    monkeypatch.setattr(vdir_module, "_SYNCFS", None)  # the portable fallback
    vdir_module._make_durable([tmp_path / "x.vcf"], {tmp_path})
    assert len(fsyncs) == 2  # the written file and its folder, nothing else
    fsyncs.clear()
    store = VdirStore(tmp_path / "per-file", fsync=True)
    store.apply("contacts", [Create(sample(ItemKind.CONTACT, i)) for i in range(3)])
    assert len(fsyncs) == 3


def test_bad_fsync_setting_is_refused(tmp_path: Path) -> None:
    from oxsync.errors import InvalidDataError

    with pytest.raises(InvalidDataError, match="fsync must be one of batch, file, off"):
        VdirStore(tmp_path, fsync="sometimes")


def test_an_empty_file_left_by_a_power_cut_is_invalid_not_an_empty_item(tmp_path: Path) -> None:
    store = _store(tmp_path)
    (tmp_path / "contacts" / "cut.vcf").write_bytes(b"")
    got = store.fetch("contacts", ["cut.vcf"])["cut.vcf"]
    assert isinstance(got, Failure) and got.kind is FailureKind.INVALID
    assert "empty" in got.message


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store(tmp_path)
    applied = _create(store, "contacts", sample(ItemKind.CONTACT, 1))
    before = (tmp_path / "contacts" / applied.id).read_bytes()

    def full_disk(fd: int, data: Any) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", full_disk)
    update = Update(applied.id, sample(ItemKind.CONTACT, 2), applied.version)
    (result,) = store.apply("contacts", [update])
    assert isinstance(result, Failure) and result.kind is FailureKind.TRANSIENT
    assert "No space left on device" in result.message
    assert (tmp_path / "contacts" / applied.id).read_bytes() == before
    assert not any(p.name.endswith(".tmp") for p in (tmp_path / "contacts").iterdir())


@pytest.mark.parametrize("item_id", ["a\0.vcf", "../outside.vcf", "x/../../outside.vcf", "x/y.vcf"])
def test_ids_that_are_not_a_file_of_the_folder_are_not_found(tmp_path: Path, item_id: str) -> None:
    """An id naming no file of the folder (a path, a NUL) is NOT_FOUND for every
    operation; nothing outside the folder is read or written."""
    store = _store(tmp_path)
    (tmp_path / "contacts" / "x").mkdir()
    outside = tmp_path / "outside.vcf"
    outside.write_bytes(b"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:o\r\nFN:o\r\nEND:VCARD\r\n")
    before = outside.read_bytes()
    record = sample(ItemKind.CONTACT, 1)
    got = store.fetch("contacts", [item_id])[item_id]
    assert isinstance(got, Failure) and got.kind is FailureKind.NOT_FOUND
    for op in (
        Update(item_id, record, None),
        Delete(item_id, None),
        Move(item_id, "contacts", None),
    ):
        (result,) = store.apply("contacts", [op])
        assert isinstance(result, Failure) and result.kind is FailureKind.NOT_FOUND, op
    assert outside.read_bytes() == before


def test_a_file_over_max_item_bytes_is_invalid_and_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import oxsync.adapters.vdir as vdir_module

    store = _store(tmp_path)
    huge = tmp_path / "contacts" / "huge.vcf"
    with huge.open("wb") as fh:  # sparse: 3 GiB that take no disk space
        fh.write(b"BEGIN:VCARD\r\n")
        fh.truncate(3 * 1024**3)
    reads: list[int] = []
    real_read = os.read
    monkeypatch.setattr(os, "read", lambda fd, n: (reads.append(n), real_read(fd, n))[1])
    got = store.fetch("contacts", ["huge.vcf"])["huge.vcf"]
    assert isinstance(got, Failure) and got.kind is FailureKind.INVALID
    assert "max_item_bytes" in got.message and reads == []
    assert got.kind.lasting  # the engine lists it as ignored, the rest of the folder syncs
    small = VdirStore(tmp_path, fsync=False, max_item_bytes=100)
    applied = _create(small, "contacts", sample(ItemKind.CONTACT, 1))  # writing is not capped
    over = small.fetch("contacts", [applied.id])[applied.id]
    assert isinstance(over, Failure) and over.kind is FailureKind.INVALID
    assert isinstance(store.fetch("contacts", [applied.id])[applied.id], Item)
    with pytest.raises(InvalidDataError, match="max_item_bytes"):
        VdirStore(tmp_path, max_item_bytes=0)
    assert vdir_module.MAX_ITEM_BYTES == 64 * 1024 * 1024


def test_a_file_growing_past_max_item_bytes_while_read_is_invalid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = VdirStore(tmp_path, fsync=False, max_item_bytes=1000)
    path = tmp_path / "contacts" / "growing.vcf"
    path.write_bytes(b"BEGIN:VCARD\r\nNOTE:" + b"x" * 5000 + b"\r\nEND:VCARD\r\n")
    real_fstat = os.fstat

    class _Small:  # what fstat saw before the file grew
        def __init__(self, st: os.stat_result) -> None:
            self.st = st

        def __getattr__(self, name: str) -> Any:
            return 50 if name == "st_size" else getattr(self.st, name)

    monkeypatch.setattr(os, "fstat", lambda fd: _Small(real_fstat(fd)))
    got = store.fetch("contacts", ["growing.vcf"])["growing.vcf"]
    assert isinstance(got, Failure) and got.kind is FailureKind.INVALID
    assert "max_item_bytes" in got.message


def test_a_file_removed_while_the_folder_is_listed_is_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another program (khal, a file manager) may delete a file between the directory
    read and its stat: the listing goes on without it instead of failing the sync."""
    store = _store(tmp_path)
    kept = _create(store, "contacts", sample(ItemKind.CONTACT, 1))
    gone = _create(store, "contacts", sample(ItemKind.CONTACT, 2))
    real_scandir = os.scandir

    class _Racing:
        def __init__(self, path: Any) -> None:
            self._it = real_scandir(path)

        def __enter__(self) -> Any:
            entries = list(self._it)
            (tmp_path / "contacts" / gone.id).unlink(missing_ok=True)  # after the readdir
            return iter(entries)

        def __exit__(self, *exc: object) -> None:
            self._it.close()

    monkeypatch.setattr(os, "scandir", _Racing)
    changes = store.changes("contacts", None)
    assert [ref.id for ref in changes.changed] == [kept.id]


def test_a_move_never_replaces_a_file_of_the_same_name_in_the_target(
    tmp_path: Path, rename_mode: str
) -> None:
    store = _store(tmp_path)
    store.create_folder("archive", FolderKind.CONTACTS)
    moved = _create(store, "contacts", sample(ItemKind.CONTACT, 1))
    taken = tmp_path / "archive" / moved.id
    taken.write_bytes(b"someone else's")
    (result,) = store.apply("contacts", [Move(moved.id, "archive", moved.version)])
    assert isinstance(result, Applied) and result.id != moved.id
    assert taken.read_bytes() == b"someone else's"
    got = store.fetch("archive", [result.id])[result.id]
    assert isinstance(got, Item) and got.record.uid == "oxsync-sample-contact-1"
    assert not (tmp_path / "contacts" / moved.id).exists()
