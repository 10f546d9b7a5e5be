"""A create whose write went through but whose answer was lost (the process died, the
connection dropped) leaves a journal entry; the next run finds the target's copy by uid.
That copy is the engine's own half-finished write, not a user's version: when it differs
from the source (a store that took the item but not all of it, such as OX without the
files of an item whose upload was cut off), the source is written again instead of the
policy choosing between them (newest-wins picked the fresh, incomplete copy and erased
what was missing from the source)."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import Faults, MemoryStore
from oxsync.core.records import Contact
from oxsync.errors import StoreCrashed

C = "contacts"


@pytest.mark.parametrize("source", ["a", "b"])
@pytest.mark.parametrize(
    "policy",
    [Policy.A_WINS, Policy.B_WINS, Policy.NEWEST_WINS, Policy.MERGE, Policy.KEEP_BOTH],
    ids=lambda p: p.name,
)
def test_an_unfinished_create_is_completed_from_its_source(source: str, policy: Any) -> None:
    full = Contact(uid="u1", last_name="Curie", nickname="Marie", note="all of it")
    for call in range(1, 10):  # the store call that writes the item
        a, b = MemoryStore(name="a"), MemoryStore(name="b")
        origin, target = (a, b) if source == "a" else (b, a)
        origin.put(C, full)
        state = State(":memory:")
        # the create is written, then the run dies before it learns the result
        target.faults = Faults(crash_at=call, crash_after_work=True)
        with pytest.raises(StoreCrashed):
            SyncEngine(a, b, state=state, policy=policy, sleep=lambda s: None).sync()
        target.faults = Faults()
        if target.records(C):
            break
    ((copy_id, copy),) = target.records(C).items()
    assert copy == full
    assert state.journal()
    # the target kept only part of it (a file upload cut off after the item was saved)
    target.replace(C, copy_id, attrs.evolve(copy, note=None))
    SyncEngine(a, b, state=state, policy=policy, sleep=lambda s: None).sync()
    assert list(origin.records(C).values()) == [full]
    assert list(target.records(C).values()) == [full]
    assert state.journal() == []
