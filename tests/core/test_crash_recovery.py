"""A crash at any store call is finished by the next run: no loss, no duplicate."""

from __future__ import annotations

import attrs
import pytest

from oxsync import State, SyncEngine
from oxsync.adapters.memory import Faults, MemoryStore
from oxsync.core.records import ItemKind
from oxsync.errors import StoreCrashed
from oxsync.testing.samples import sample

from .helpers import assert_converged, contents

C = "contacts"
GONE = "<deleted>"


def _stores() -> tuple[MemoryStore, MemoryStore]:
    a = MemoryStore(name="a", batch_size=16)
    b = MemoryStore(name="b", batch_size=16)
    for i in range(100):
        a.put(C, sample(ItemKind.CONTACT, i))
        b.put(C, sample(ItemKind.CONTACT, 1000 + i))
    return a, b


def _engine(a: MemoryStore, b: MemoryStore, state: State) -> SyncEngine:
    return SyncEngine(a, b, state=state, sleep=lambda s: None, folder_kinds=None)


def _edit_both(a: MemoryStore, b: MemoryStore) -> dict[str, str | None]:
    """Edits after a first sync: returns the expected nickname (GONE = deleted) per uid."""
    expected: dict[str, str | None] = {}
    for n, (item_id, record) in enumerate(sorted(a.records(C).items())):
        assert record.uid
        if n < 30:
            a.edit(C, item_id, nickname=f"a-{n}")
            expected[record.uid] = f"a-{n}"
        elif n < 45:
            a.remove(C, item_id)
            expected[record.uid] = GONE
    for n, (item_id, record) in enumerate(sorted(b.records(C).items(), reverse=True)):
        assert record.uid
        if record.uid in expected:
            continue
        if n < 30:
            b.edit(C, item_id, nickname=f"b-{n}")
            expected[record.uid] = f"b-{n}"
        elif n < 45:
            b.remove(C, item_id)
            expected[record.uid] = GONE
    for i in range(10):
        rec = sample(ItemKind.CONTACT, 5000 + i)
        a.put(C, rec)
        expected[rec.uid or ""] = rec.nickname
    return expected


def _count_calls(scenario: str) -> int:
    a, b = _stores()
    state = State(":memory:")
    if scenario == "edits":
        _engine(a, b, state).sync()
        _edit_both(a, b)
    before = a.calls + b.calls
    _engine(a, b, state).sync()
    return a.calls + b.calls - before


@pytest.mark.parametrize("scenario", ["initial", "edits"])
@pytest.mark.parametrize("after_work", [True, False], ids=["after-work", "before-work"])
def test_crash_at_every_call_then_next_run_converges(scenario: str, after_work: bool) -> None:
    total = _count_calls(scenario)
    assert total > 10  # small batches: many calls to crash in
    for k in range(1, total + 1):
        a, b = _stores()
        state = State(":memory:")
        expected: dict[str, str | None] = {}
        if scenario == "edits":
            _engine(a, b, state).sync()
            expected = _edit_both(a, b)
        # Crash on the k-th call of the sync, counted over both stores.
        crashed = _sync_with_crash(a, b, state, a.calls + b.calls + k, after_work)
        if not crashed:
            continue
        _engine(a, b, state).sync()
        assert_converged(a, b, C, C)
        final = {r.uid: r for r in a.records(C).values()}
        if scenario == "initial":
            assert len(final) == 200, f"crash at call {k}: {len(final)} items"
        else:
            for uid, nickname in expected.items():
                if nickname == GONE:
                    assert uid not in final, f"crash at {k}: deleted {uid} came back"
                else:
                    assert final[uid].nickname == nickname, f"crash at {k}: edit of {uid} lost"
            assert len(final) == 210 - sum(v == GONE for v in expected.values())
        again = _engine(a, b, state).sync()
        assert again.changed == 0, f"crash at {k}: a third run still wrote {again}"
        assert state.journal() == []


def _sync_with_crash(
    a: MemoryStore, b: MemoryStore, state: State, global_call: int, after_work: bool
) -> bool:
    """Run a sync that crashes when the two stores' combined call count hits ``global_call``."""
    counting = {"n": a.calls + b.calls}

    def arm(store: MemoryStore) -> None:
        original = store._enter_call

        def enter() -> None:
            counting["n"] += 1
            if counting["n"] == global_call:
                store.faults = attrs.evolve(
                    store.faults, crash_at=store.calls + 1, crash_after_work=after_work
                )
            original()

        store._enter_call = enter  # type: ignore[method-assign]

    arm(a)
    arm(b)
    try:
        _engine(a, b, state).sync()
    except StoreCrashed:
        crashed = True
    else:
        crashed = False
    for store in (a, b):
        del store._enter_call
        store.faults = Faults()
    return crashed


def test_contents_helper_detects_duplicates() -> None:
    store = MemoryStore()
    store.put(C, sample(ItemKind.CONTACT, 1))
    store.put(C, sample(ItemKind.CONTACT, 1))
    with pytest.raises(AssertionError, match="duplicate"):
        contents(store, C)
