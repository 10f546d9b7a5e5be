"""Moved and edited on a delta store, the edit not writable at once on the other side
(its version moved again, as Outlook re-saving an item does): the edit is synced later,
not lost (the target folder used to save its cursor, so the delta never listed it again).
Found by the engine state machine with more examples."""

from __future__ import annotations

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import Faults, MemoryStore
from oxsync.core.records import Contact, FolderKind


def test_an_edit_made_with_a_move_is_not_lost_when_its_write_must_wait() -> None:
    a = MemoryStore(name="a", delta=False, kinds=frozenset(FolderKind.CONTACTS.item_kinds))
    b = MemoryStore(name="b", delta=True, kinds=frozenset(FolderKind.CONTACTS.item_kinds))
    b.add_folder("Sub", FolderKind.CONTACTS)
    state = State(":memory:")

    def engine() -> SyncEngine:
        return SyncEngine(a, b, state=state, policy=Policy.A_WINS, sleep=lambda s: None)

    a.put("contacts", Contact(uid="u0", last_name="Ada"))
    engine().sync()
    sub_b = next(f.id for f in b.folders() if f.name == "Sub")
    (item_id,) = b.records("contacts")
    b.move_item(item_id, "contacts", sub_b)
    b.edit(sub_b, item_id, nickname="edited on B")
    a.faults = Faults(flaky_versions=True)  # A's item changes version right after each write
    engine().sync()
    a.faults = Faults()
    engine().sync()
    held = [r for f in a.folders() for r in a.records(f.id).values() if r.uid == "u0"]
    assert [r.nickname for r in held] == ["edited on B"]
    assert engine().sync().changed == 0
