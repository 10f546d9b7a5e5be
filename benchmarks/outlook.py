"""Memory store <-> Outlook (fake object model) contact scenarios.

``outlook.initial`` copies N contacts from a memory store into an empty fake Outlook
through the engine; ``outlook.noop`` re-syncs an already synced pair (one Table pass per
folder, nothing opened). Each run also prints the object-model calls per item on stderr
(``OXSYNC_BENCH_VERBOSE=1``): listing must cost O(1) calls per item.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from benchmarks.registry import scenario
from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.adapters.outlook import OutlookStore
from oxsync.core.records import FolderKind, ItemKind
from oxsync.testing.outlook import Application
from oxsync.testing.samples import sample


def _pair(items: int, *, synced: bool) -> tuple[Application, SyncEngine]:
    memory = MemoryStore(name="memory", batch_size=500)
    for i in range(items):
        memory.put("contacts", sample(ItemKind.CONTACT, i))
    app = Application(tz="Europe/Paris")
    outlook = OutlookStore(app, batch_size=500)
    engine = SyncEngine(
        memory,
        outlook,
        state=State(":memory:"),
        policy=Policy.NEWEST_WINS,
        folder_kinds={FolderKind.CONTACTS},
        min_delete_brake=10**9,
    )
    if synced:
        engine.sync()
    return app, engine


def _counted(app: Application, engine: SyncEngine, items: int, label: str) -> Callable[[], object]:
    def run() -> object:
        before = app.calls
        engine.sync()
        per_item = (app.calls - before) / max(1, items)
        if os.environ.get("OXSYNC_BENCH_VERBOSE"):
            print(f"{label}: {per_item:.2f} object-model calls per item", file=sys.stderr)
        return {"calls_per_item": round(per_item, 2)}

    return run


@scenario("outlook.initial")
def initial(items: int) -> Callable[[], object]:
    """First sync of ``items`` memory contacts into an empty Outlook."""
    app, engine = _pair(items, synced=False)
    return _counted(app, engine, items, "outlook.initial")


@scenario("outlook.noop", repeat=7)
def noop(items: int) -> Callable[[], object]:
    """Re-sync of an already synced pair: one Table pass, nothing opened."""
    app, engine = _pair(items, synced=True)
    return _counted(app, engine, items, "outlook.noop")


@scenario("outlook.initial_from_ox", freeze_setup=True)
def initial_from_ox(items: int) -> Callable[[], object]:
    """First sync of ``items`` contacts from the OX test server (in-process) into Outlook.

    This is the issue's ``outlook.initial`` setting; ``outlook.initial`` above isolates the
    Outlook side by reading from a memory store.
    """
    from benchmarks.ox import _backend, in_process_store

    backend, _ = _backend(items)
    ox = in_process_store(backend)
    app = Application(tz="Europe/Paris")
    engine = SyncEngine(
        ox,
        OutlookStore(app, batch_size=500),
        state=State(":memory:"),
        policy=Policy.NEWEST_WINS,
        folder_kinds={FolderKind.CONTACTS},
        min_delete_brake=10**9,
    )
    return _counted(app, engine, items, "outlook.initial_from_ox")
