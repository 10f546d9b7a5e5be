"""A store that cannot hold some fields reads an item back without them: that is no
change. The state recorded the fingerprint of the fuller record written there, so the
next fetch of the item (a slow sync, a version bumped by a re-save) looked like an edit
and wrote the item back to the other side once more, for nothing."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import pytest

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.core.records import Contact, ItemKind
from oxsync.core.store import Create, Op, OpResult, Update

C = "contacts"
DROPPED = frozenset({"hobby", "note_html"})


class Limited(MemoryStore):
    """A memory store that really drops the fields it says it cannot hold (as OX or
    Outlook do): what it saves, and so what it lists, lacks them."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(unsupported_fields={ItemKind.CONTACT: DROPPED}, **kwargs)  # type: ignore[arg-type]

    def _apply(self, folder_id: str, ops: Sequence[Op]) -> Sequence[OpResult]:
        drop = {name: None for name in DROPPED}
        ops = [
            attrs.evolve(op, record=attrs.evolve(op.record, **drop))
            if isinstance(op, Create | Update)
            else op
            for op in ops
        ]
        return super()._apply(folder_id, ops)


@pytest.mark.parametrize("limited", ["a", "b"])
@pytest.mark.parametrize("delta", [True, False], ids=["delta", "full-listing"])
def test_reading_back_a_limited_copy_writes_nothing(limited: str, delta: bool) -> None:
    full, lim = MemoryStore(name="full", delta=delta), Limited(name="lim", delta=delta)
    a, b = (lim, full) if limited == "a" else (full, lim)
    full.put(C, Contact(uid="u1", last_name="Curie", hobby="chess", note_html="<b>x</b>"))
    engine = SyncEngine(a, b, state=State(":memory:"), policy=Policy.A_WINS, sleep=lambda s: None)
    assert engine.sync().side(limited).created == 1
    ((lim_id, copy),) = lim.records(C).items()
    assert copy.hobby is None  # dropped by the limited store
    lim.touch(C, lim_id)  # re-saved (Outlook bumps the modification time): no change
    assert engine.sync().changed == 0
    assert engine.slow_sync().changed == 0
    # a real edit on the limited side still goes through, keeping what it cannot hold
    lim.edit(C, lim_id, nickname="Marie")
    assert engine.sync().changed == 1
    (record,) = full.records(C).values()
    assert (record.nickname, record.hobby, record.note_html) == ("Marie", "chess", "<b>x</b>")
    assert engine.slow_sync().changed == 0
