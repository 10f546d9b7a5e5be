"""slow_sync(restore=True): a store that lost items gets them back; nothing is deleted."""

from __future__ import annotations

import pytest

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.core.records import Contact, FolderKind
from oxsync.core.store import Create, Delete, Update
from oxsync.errors import MassDeleteError


def _contacts(store: MemoryStore) -> str:
    return next(f.id for f in store.folders() if f.kind is FolderKind.CONTACTS)


def _records(store: MemoryStore) -> dict[str, Contact]:
    folder = _contacts(store)
    refs = store.changes(folder, None).changed
    items = store.fetch(folder, [r.id for r in refs])
    return {i.record.uid: i.record for i in items.values()}  # type: ignore[union-attr,misc]


def _synced(n: int) -> tuple[MemoryStore, MemoryStore, SyncEngine]:
    a, b = MemoryStore(name="server"), MemoryStore(name="files")
    a.apply(_contacts(a), [Create(Contact(uid=f"u{i}", last_name=f"N{i}")) for i in range(n)])
    engine = SyncEngine(a, b, state=State(":memory:"), policy=Policy.NEWEST_WINS, backoff=0)
    engine.sync()
    assert len(_records(b)) == n
    return a, b, engine


def _wipe(store: MemoryStore) -> None:
    folder = _contacts(store)
    store.apply(folder, [Delete(r.id) for r in store.changes(folder, None).changed])


def test_a_wiped_side_is_refilled_from_the_other_and_nothing_is_deleted() -> None:
    a, b, engine = _synced(30)
    _wipe(a)  # the server came back from a reset
    with pytest.raises(MassDeleteError):
        engine.slow_sync()  # a plain slow sync would delete everything on B: the brake
    assert len(_records(b)) == 30
    report = engine.slow_sync(restore=True)
    assert report.a.created == 30 and report.b.deleted == 0 and report.b.created == 0
    assert _records(a) == _records(b) and len(_records(a)) == 30
    again = engine.sync()
    assert again.changed == 0 and again.conflicts == 0
    # the new pairs work as any: an edit on A reaches B, a deletion too
    folder = _contacts(a)
    ref = next(iter(a.changes(folder, None).changed))
    record = a.fetch(folder, [ref.id])[ref.id].record  # type: ignore[union-attr]
    a.apply(folder, [Update(ref.id, Contact(uid=record.uid, last_name="Edited"), ref.version)])
    assert engine.sync().b.updated == 1
    assert _records(b)[record.uid].last_name == "Edited"


def test_restore_keeps_edits_and_new_items_of_both_sides() -> None:
    a, b, engine = _synced(5)
    folder_a, folder_b = _contacts(a), _contacts(b)
    refs = a.changes(folder_a, None).changed
    a.apply(folder_a, [Delete(refs[0].id)])  # lost on A
    b_refs = {
        item.record.uid: (ref, item.record)  # type: ignore[union-attr]
        for ref in b.changes(folder_b, None).changed
        for item in [b.fetch(folder_b, [ref.id])[ref.id]]
    }
    ref, _ = b_refs["u1"]
    b.apply(folder_b, [Update(ref.id, Contact(uid="u1", last_name="Edited on B"), ref.version)])
    a.apply(folder_a, [Create(Contact(uid="new-a", last_name="New on A"))])
    report = engine.slow_sync(restore=True)
    assert report.a.deleted == 0 and report.b.deleted == 0
    ra, rb = _records(a), _records(b)
    assert ra == rb and len(ra) == 6
    assert ra["u1"].last_name == "Edited on B"


def test_without_restore_a_deletion_still_deletes() -> None:
    a, b, engine = _synced(5)
    folder = _contacts(a)
    a.apply(folder, [Delete(a.changes(folder, None).changed[0].id)])
    report = engine.slow_sync()
    assert report.b.deleted == 1 and len(_records(b)) == 4
