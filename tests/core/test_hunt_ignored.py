"""Items set aside on the ignored list, when the other side changes them afterwards."""

from __future__ import annotations

import attrs
import pytest

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.core.records import Contact, FolderKind
from oxsync.core.store import FailureKind

from .helpers import assert_converged

C = "contacts"


@pytest.mark.parametrize("delta", [True, False], ids=["delta", "full-listing"])
def test_an_edit_the_other_store_refused_meets_a_later_edit_there_as_a_conflict(
    delta: bool,
) -> None:
    """B refused A's edit (ignored, B keeps the old content); then B's user edits the
    item. The two edits are a conflict: B's content was written over A's edited item
    with A's old version, which failed at every run (the folder never completed, B's edit
    never arrived); had it not failed, A's refused edit would have been overwritten."""
    a, b = MemoryStore(name="a", delta=delta), MemoryStore(name="b", delta=delta)
    a.put(C, Contact(uid="u1", last_name="L"))
    engine = SyncEngine(a, b, state=State(":memory:"), policy=Policy.MERGE, sleep=lambda s: None)
    engine.sync()
    ((item_a, _),), ((item_b, _),) = a.records(C).items(), b.records(C).items()
    b.faults.reject["u1"] = FailureKind.INVALID
    a.edit(C, item_a, nickname="A's edit")
    assert engine.sync().ignored == 1
    b.edit(C, item_b, job_title="B's edit")
    report = engine.sync()
    assert report.incomplete == 0
    record = a.records(C)[item_a]
    assert (record.nickname, record.job_title) == ("A's edit", "B's edit")
    assert engine.sync().incomplete == 0
    b.faults.reject.clear()  # B takes it now
    engine.retry_ignored()
    engine.sync()
    assert_converged(a, b, C, C)
    assert b.records(C)[item_b].nickname == "A's edit"
    assert engine.sync().changed == 0 and engine.ignored() == []


@pytest.mark.parametrize("delta", [True, False], ids=["delta", "full-listing"])
def test_a_deletion_a_read_only_folder_refuses_does_not_stall_the_folder(delta: bool) -> None:
    """A deleted an item of a folder that is read-only on B. The refused deletion left the
    pair pointing at A's deleted item, so the owner's next edit on B was written there
    (not found) at every run: the folder never completed. The item that stays is now set
    aside until it changes, then copied back to A like any new item."""
    a, b = MemoryStore(name="a"), MemoryStore(name="b", delta=delta)
    shared = b.add_folder("Shared", FolderKind.CONTACTS)
    for i in range(6):
        b.put(shared.id, Contact(uid=f"u{i}", last_name=f"L{i}"))
    b._folders[shared.id].meta = attrs.evolve(shared, read_only=True)  # (no public knob)
    engine = SyncEngine(a, b, state=State(":memory:"), sleep=lambda s: None)
    engine.sync()
    folder_a = next(f.id for f in a.folders() if f.name == "Shared")
    item_a, record = next(iter(a.records(folder_a).items()))
    a.remove(folder_a, item_a)
    assert engine.sync().ignored == 1
    (entry,) = engine.ignored()
    item_b = next(i for i, r in b.records(shared.id).items() if r.uid == record.uid)
    assert (entry.side, entry.item_id) == ("b", item_b)  # the item that stays, on B
    assert engine.sync().changed == 0 and len(a.records(folder_a)) == 5  # left alone
    b.edit(shared.id, item_b, nickname="edited by the owner")
    report = engine.sync()
    assert report.incomplete == 0 and report.a.created == 1
    assert_converged(a, b, folder_a, shared.id)
    assert engine.sync().changed == 0 and engine.ignored() == []


@pytest.mark.parametrize("delta", [True, False], ids=["delta", "full-listing"])
@pytest.mark.parametrize("refusing", ["a", "b"])
def test_a_merge_one_side_refuses_keeps_both_edits_and_does_not_stall(
    delta: bool, refusing: str
) -> None:
    """Both sides edited, the merge went to one side and the other refused it. The pair
    kept its old versions, so the next edit's write failed on its version at every run."""
    a, b = MemoryStore(name="a", delta=delta), MemoryStore(name="b", delta=delta)
    a.put(C, Contact(uid="u1", last_name="L"))
    engine = SyncEngine(a, b, state=State(":memory:"), policy=Policy.MERGE, sleep=lambda s: None)
    engine.sync()
    ((item_a, _),), ((item_b, _),) = a.records(C).items(), b.records(C).items()
    (a if refusing == "a" else b).faults.reject["u1"] = FailureKind.INVALID
    a.edit(C, item_a, nickname="A's edit")
    b.edit(C, item_b, job_title="B's edit")
    assert engine.sync().ignored == 1
    assert engine.sync().incomplete == 0
    a.edit(C, item_a, first_name="A again")
    assert engine.sync().incomplete == 0
    assert engine.sync().incomplete == 0
    (a if refusing == "a" else b).faults.reject.clear()
    engine.retry_ignored()
    engine.sync()
    assert_converged(a, b, C, C)
    record = a.records(C)[item_a]
    assert (record.nickname, record.job_title, record.first_name) == (
        "A's edit",
        "B's edit",
        "A again",
    )
    assert engine.sync().changed == 0 and engine.ignored() == []
