"""Memory ⇄ memory contact scenarios (the engine's own cost)."""

from __future__ import annotations

from collections.abc import Callable

from benchmarks.registry import scenario
from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.core.records import ItemKind
from oxsync.testing.samples import sample

C = "contacts"


def _pair(
    items: int, *, delta: bool = True, synced: bool = True
) -> tuple[MemoryStore, MemoryStore, SyncEngine]:
    a = MemoryStore(name="a", delta=delta, batch_size=500)
    b = MemoryStore(name="b", delta=delta, batch_size=500)
    for i in range(items):
        a.put(C, sample(ItemKind.CONTACT, i))
    engine = SyncEngine(
        a, b, state=State(":memory:"), policy=Policy.NEWEST_WINS, min_delete_brake=10**9
    )
    if synced:
        engine.sync()
        engine.sync()  # absorb the echoes of the first sync's writes: steady state
    return a, b, engine


@scenario("memory.initial")
def initial(items: int) -> Callable[[], object]:
    _, _, engine = _pair(items, synced=False)
    return engine.sync


@scenario("memory.noop", repeat=7)
def noop(items: int) -> Callable[[], object]:
    return _pair(items)[2].sync


@scenario("memory.noop_full_listing", repeat=7)
def noop_full_listing(items: int) -> Callable[[], object]:
    return _pair(items, delta=False)[2].sync


@scenario("memory.one_change", repeat=7)
def one_change(items: int) -> Callable[[], object]:
    a, _, engine = _pair(items)
    target = next(iter(a.records(C)))
    counter = iter(range(10**6))

    def run() -> object:
        a.edit(C, target, nickname=f"n{next(counter)}")
        return engine.sync()

    return run


@scenario("memory.hundred_changes_ten_conflicts")
def hundred_changes(items: int) -> Callable[[], object]:
    a, b, engine = _pair(items)
    a_ids = list(a.records(C))[:100]
    by_uid = {r.uid: i for i, r in b.records(C).items()}
    for n, item_id in enumerate(a_ids):
        record = a.edit(C, item_id, nickname=f"a{n}")
        if n < 10:
            b.edit(C, by_uid[record.uid], job_title=f"b{n}")
    return engine.sync


@scenario("memory.delete_thousand")
def delete_thousand(items: int) -> Callable[[], object]:
    a, _, engine = _pair(items)
    for item_id in list(a.records(C))[:1000]:
        a.remove(C, item_id)
    return engine.sync
