"""Another program (khal, khard, an editor) changing an item file while the store works
on it: its edit is never overwritten in silence."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import oxsync.adapters.vdir as vdir_module
from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.adapters.vdir import VdirStore
from oxsync.core.records import Contact, ItemKind
from oxsync.core.store import Applied, Create, Failure, FailureKind, Item, Native, Update
from oxsync.testing.samples import sample

EDIT = b"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:oxsync-sample-contact-1\r\nFN:Edited\r\nEND:VCARD\r\n"


def _while_writing(monkeypatch: pytest.MonkeyPatch, act: Callable[[], object]) -> None:
    """Run ``act`` (another program) once, while the store writes its temporary file:
    after the version check, before the rename."""
    real = os.write
    done: list[bool] = []

    def write(fd: int, data: Any) -> int:
        if not done:
            done.append(True)
            act()
        return real(fd, data)

    monkeypatch.setattr(os, "write", write)


@pytest.mark.parametrize("source", ["record", "native bytes"])
@pytest.mark.parametrize("durability", ["off", "file"])
def test_an_edit_landing_while_an_update_is_written_is_a_conflict_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, durability: str
) -> None:
    """The version was checked before the record was serialised and the temporary file
    written (and, with fsync="file", synced: milliseconds): an edit saved meanwhile was
    replaced without a word. The version is now checked again just before the rename."""
    store = VdirStore(tmp_path, fsync=durability)
    (created,) = store.apply("contacts", [Create(sample(ItemKind.CONTACT, 1))])
    assert isinstance(created, Applied)
    path = tmp_path / "contacts" / created.id
    _while_writing(monkeypatch, lambda: path.write_bytes(EDIT))
    record = sample(ItemKind.CONTACT, 2)
    native = None
    if source == "native bytes":
        native = Native("text/vcard;version=3.0", vdir_module._serialize(record, "3.0"))
    (result,) = store.apply("contacts", [Update(created.id, record, created.version, native)])
    assert isinstance(result, Failure) and result.kind is FailureKind.CONFLICT, result
    assert path.read_bytes() == EDIT
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_a_delete_landing_while_an_update_is_written_is_not_undone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rename brought a file deleted meanwhile back to life."""
    store = VdirStore(tmp_path, fsync=False)
    (created,) = store.apply("contacts", [Create(sample(ItemKind.CONTACT, 1))])
    assert isinstance(created, Applied)
    path = tmp_path / "contacts" / created.id
    _while_writing(monkeypatch, path.unlink)
    op = Update(created.id, sample(ItemKind.CONTACT, 2), created.version)
    (result,) = store.apply("contacts", [op])
    assert isinstance(result, Failure) and result.kind is FailureKind.NOT_FOUND, result
    assert not path.exists()
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_an_edit_made_during_a_sync_survives_and_syncs_next_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end: the other side changed the contact, the user edits the file while the
    sync writes that change; the user's edit is not lost, and the conflict is settled
    by the next sync."""
    memory = MemoryStore(name="memory")
    vdir = VdirStore(tmp_path / "vdir", fsync=False)
    engine = SyncEngine(memory, vdir, state=State(":memory:"), policy=Policy.B_WINS)
    mid = memory.put("contacts", sample(ItemKind.CONTACT, 1))
    assert engine.sync().b.created == 1
    path = tmp_path / "vdir" / "contacts" / "oxsync-sample-contact-1.vcf"
    memory.edit("contacts", mid, first_name="From memory")
    _while_writing(monkeypatch, lambda: path.write_bytes(EDIT))
    engine.sync()
    monkeypatch.undo()
    assert path.read_bytes() == EDIT
    engine.sync()  # the vdir wins the conflict (B_WINS)
    record = memory.records("contacts")[mid]
    assert isinstance(record, Contact) and record.display_name == "Edited"
    got = vdir.fetch("contacts", [path.name])[path.name]
    assert isinstance(got, Item) and got.native is not None and got.native.data == EDIT
