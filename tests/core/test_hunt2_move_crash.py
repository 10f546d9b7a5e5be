"""A crash between a store move and the state write that records it: the pair still lives
in the source folder. A next run that syncs only the target folder (a push trigger for
it) saw the two moved copies there as new on both sides, with no base: under a-wins the
unedited side won and the edit made on the other was lost. The journal's move entry now
brings the source folder into that run, so the move is finished with its pair and base."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import Faults, MemoryStore
from oxsync.core.records import Contact, FolderKind
from oxsync.errors import StoreCrashed

C = "contacts"


def everywhere(store: MemoryStore) -> list[tuple[str, str | None]]:
    return sorted(
        (f.name, r.nickname) for f in store.folders() for r in store.records(f.id).values()
    )


@pytest.mark.parametrize("after_work", [True, False], ids=["after-work", "before-work"])
@pytest.mark.parametrize("delta", [True, False], ids=["delta", "full-listing"])
@pytest.mark.parametrize("policy", [Policy.A_WINS, Policy.B_WINS], ids=lambda p: p.name)
@pytest.mark.parametrize("edited", ["a", "b"])
def test_a_crash_during_a_move_keeps_the_edit(
    edited: str, policy: Any, delta: bool, after_work: bool
) -> None:
    crashes = 0
    for k in range(1, 12):  # every store call of the run that moves the item
        a, b = MemoryStore(name="a", delta=delta), MemoryStore(name="b", delta=delta)
        a.put(C, Contact(uid="u1", last_name="Lovelace"))
        archive_a = a.add_folder("Archive", FolderKind.CONTACTS).id
        state = State(":memory:")
        engine = SyncEngine(a, b, state=state, policy=policy, sleep=lambda s: None)
        engine.sync()
        (item_a,), (item_b,) = a.records(C), b.records(C)
        a.move_item(item_a, C, archive_a)  # moved on A: the engine moves it on B
        if edited == "a":
            a.edit(archive_a, item_a, nickname="edited")
        else:
            b.edit(C, item_b, nickname="edited")
        b.faults = Faults(crash_at=b.calls + k, crash_after_work=after_work)
        with contextlib.suppress(StoreCrashed):
            engine.sync()
        b.faults = Faults()
        # A push for the target folder only, once the move was started. (Before that, a
        # sync of one folder cannot see a move between two: a separate limit.)
        moving = any(entry.op == "move" for entry in state.journal())
        crashes += moving
        engine.sync(folders=[archive_a] if moving else None)
        engine.sync()
        for store in (a, b):
            assert everywhere(store) == [("Archive", "edited")], f"crash at call {k}"
        assert engine.sync().changed == 0
        assert state.journal() == []
    assert crashes
