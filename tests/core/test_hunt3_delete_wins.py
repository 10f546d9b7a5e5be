"""With ``delete_wins``, an item deleted on one side and edited on the other is deleted on
the other too. The deletion was sent with the version last synced, not the edited one, so
a store that checks versions (OX, the memory store) refused it as a conflict at every run:
the item stayed, the folder never finished (its cursors never advanced). Found by the
engine state machine once its policies included delete_wins."""

from __future__ import annotations

import pytest

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.core.records import Contact, FolderKind

KINDS = frozenset(FolderKind.CONTACTS.item_kinds)


@pytest.mark.parametrize("delta", [True, False], ids=["delta", "full-listing"])
@pytest.mark.parametrize("deleted", ["a", "b"])
def test_delete_wins_deletes_an_item_edited_on_the_other_side(deleted: str, delta: bool) -> None:
    a = MemoryStore(name="a", delta=delta, kinds=KINDS)
    b = MemoryStore(name="b", delta=delta, kinds=KINDS)
    state = State(":memory:")
    policy = Policy.MERGE.with_options(delete_wins=True)

    def engine() -> SyncEngine:
        return SyncEngine(a, b, state=state, policy=policy, sleep=lambda s: None)

    a.put("contacts", Contact(uid="u1", last_name="Ada"))
    a.put("contacts", Contact(uid="u2", last_name="Grace"))  # (stays: no side is emptied)
    engine().sync()
    gone, edited = (a, b) if deleted == "a" else (b, a)
    gone_id = next(i for i, r in gone.records("contacts").items() if r.uid == "u1")
    edited_id = next(i for i, r in edited.records("contacts").items() if r.uid == "u1")
    gone.remove("contacts", gone_id)
    edited.edit("contacts", edited_id, nickname="edited")
    report = engine().sync()
    assert not report.errors and not report.incomplete
    for store in (a, b):
        assert [r.uid for r in store.records("contacts").values()] == ["u2"]
    assert engine().sync().changed == 0
