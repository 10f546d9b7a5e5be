"""Keep-both: B's version is saved as a new item on both sides, then A's version is
written over B's. When that write did not happen (B's item changed version in between,
a crash), the next run met the same conflict and saved B's version a second time: a
duplicate. And B's version must be saved before it is overwritten."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import pytest

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import Faults, MemoryStore
from oxsync.core.records import Contact
from oxsync.core.store import Create, Failure, FailureKind, Op, OpResult
from oxsync.errors import StoreCrashed

from .helpers import assert_converged

C = "contacts"


def conflict() -> tuple[MemoryStore, MemoryStore, State, str]:
    a, b = MemoryStore(name="a"), MemoryStore(name="b")
    a.put(C, Contact(uid="u1", last_name="Curie"))
    state = State(":memory:")
    SyncEngine(a, b, state=state, policy=Policy.KEEP_BOTH).sync()
    ((item_a, _),), ((item_b, _),) = a.records(C).items(), b.records(C).items()
    a.edit(C, item_a, nickname="A's")
    b.edit(C, item_b, nickname="B's")
    return a, b, state, item_b


def nicknames(store: MemoryStore) -> list[str | None]:
    return sorted((r.nickname or "") for r in store.records(C).values())


class Resaves(MemoryStore):
    """Re-saves the item (a new version, the same content) just before the first write
    that reaches it, as Outlook does: that write fails on its version (CONFLICT)."""

    armed: str | None = None

    def _apply(self, folder_id: str, ops: Sequence[Op]) -> Sequence[OpResult]:
        if self.armed is not None and any(getattr(op, "id", None) == self.armed for op in ops):
            self.touch(folder_id, self.armed)
            self.armed = None
        return super()._apply(folder_id, ops)


def test_a_failed_overwrite_after_the_copy_does_not_copy_again() -> None:
    a, b = MemoryStore(name="a"), Resaves(name="b")
    a.put(C, Contact(uid="u1", last_name="Curie"))
    engine = SyncEngine(a, b, state=State(":memory:"), policy=Policy.KEEP_BOTH)
    engine.sync()
    ((item_a, _),), ((item_b, _),) = a.records(C).items(), b.records(C).items()
    a.edit(C, item_a, nickname="A's")
    b.edit(C, item_b, nickname="B's")
    b.armed = item_b
    first = engine.sync()
    assert first.incomplete == 1  # the overwrite failed on its version
    engine.sync()
    assert_converged(a, b, C, C)
    assert nicknames(a) == ["A's", "B's"]  # B's version once, not twice
    assert engine.sync().changed == 0


def test_the_copy_is_made_before_b_is_overwritten() -> None:
    """A cannot take the copy of B's version now: B's version is not overwritten (it was:
    lost on both sides)."""
    a, b, state, item_b = conflict()
    engine = SyncEngine(a, b, state=state, policy=Policy.KEEP_BOTH)
    original = a._apply

    def refuse(folder_id: str, ops: Sequence[Op]) -> Sequence[OpResult]:
        results = list(original(folder_id, [op for op in ops if not isinstance(op, Create)]))
        out: list[OpResult] = []
        for op in ops:
            if isinstance(op, Create):
                out.append(Failure(FailureKind.TRANSIENT, "try later"))
            else:
                out.append(results.pop(0))
        return out

    a._apply = refuse  # type: ignore[method-assign]
    engine.sync()
    assert b.records(C)[item_b].nickname == "B's"
    del a._apply
    engine.sync()
    assert_converged(a, b, C, C)
    assert nicknames(a) == ["A's", "B's"]
    assert engine.sync().changed == 0


@pytest.mark.parametrize("after_work", [True, False], ids=["after-work", "before-work"])
def test_a_crash_at_any_call_saves_b_once(after_work: bool) -> None:
    for k in range(1, 20):
        a, b, state, _ = conflict()
        calls = {"n": 0}
        count = calls
        for store in (a, b):
            original = store._enter_call

            def enter(store: MemoryStore = store, original=original, k=k) -> None:  # type: ignore[no-untyped-def]
                count["n"] += 1  # noqa: B023 (one counter per crash run, used in it)
                if count["n"] == k:  # noqa: B023
                    store.faults = attrs.evolve(
                        store.faults, crash_at=store.calls + 1, crash_after_work=after_work
                    )
                original()

            store._enter_call = enter  # type: ignore[method-assign]
        try:
            SyncEngine(a, b, state=state, policy=Policy.KEEP_BOTH).sync()
        except StoreCrashed:
            pass
        else:
            assert k > 6
            return
        for store in (a, b):
            del store._enter_call
            store.faults = Faults()
        engine = SyncEngine(a, b, state=state, policy=Policy.KEEP_BOTH)
        engine.sync()
        assert_converged(a, b, C, C)
        assert nicknames(a) == ["A's", "B's"], f"crash at call {k}"
        assert engine.sync().changed == 0
