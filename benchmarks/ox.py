"""OX test server ⇄ memory store scenarios (10,000 contacts by default).

``ox.initial`` runs in-process (httpx WSGI transport: the client, codec, mapping and
server costs without sockets); the ``*_loopback`` and push scenarios use real HTTP and
UDP on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from benchmarks.registry import scenario
from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.adapters.ox import OXStore
from oxsync.core.records import FolderKind, ItemKind
from oxsync.core.triggers import TriggerQueue
from oxsync.mappings import ox_xml
from oxsync.testing.oxserver import OXApp, OXBackend, OXTestServer
from oxsync.testing.samples import sample

PASSWORD = "bench-password"


def _backend(items: int) -> tuple[OXBackend, int]:
    backend = OXBackend()
    backend.add_user("alice", PASSWORD)
    folder = backend.default_folder("alice", "contact")
    for i in range(items):
        prop = ox_xml.new_prop()
        ox_xml.encode(sample(ItemKind.CONTACT, i), prop, full=False)
        fields: dict[str, Any] = {child.tag.split("}")[1]: child for child in prop}
        backend.save("alice", folder, fields)
    return backend, folder


def _engine(ox: OXStore, mem: MemoryStore) -> SyncEngine:
    return SyncEngine(
        ox,
        mem,
        state=State(":memory:"),
        policy=Policy.NEWEST_WINS,
        folder_kinds={FolderKind.CONTACTS},
        min_delete_brake=10**9,
    )


def in_process_store(backend: OXBackend) -> OXStore:
    """An OX store talking to ``backend`` through an in-process WSGI transport."""
    return OXStore(
        "http://ox.test",
        "alice",
        PASSWORD,
        transport=httpx.WSGITransport(app=OXApp(backend)),
        batch_size=500,
    )


def _in_process(items: int) -> tuple[OXBackend, int, SyncEngine]:
    backend, folder = _backend(items)
    return backend, folder, _engine(in_process_store(backend), MemoryStore())


def _loopback(
    items: int, push_delay: float = 0.0
) -> tuple[OXTestServer, int, OXStore, MemoryStore, SyncEngine]:
    backend, folder = _backend(items)
    server = OXTestServer(backend, push_delay=push_delay)
    server.start()
    ox = OXStore(server.url, "alice", PASSWORD, batch_size=500)
    mem = MemoryStore()
    return server, folder, ox, mem, _engine(ox, mem)


def _synced(engine: SyncEngine) -> SyncEngine:
    engine.sync()
    engine.sync()  # steady state
    return engine


@scenario("ox.initial", freeze_setup=True)
def initial(items: int) -> Callable[[], object]:
    return _in_process(items)[2].sync


@scenario("ox.initial_loopback", freeze_setup=True)
def initial_loopback(items: int) -> Callable[[], object]:
    return _loopback(items)[4].sync


@scenario("ox.noop", repeat=7)
def noop(items: int) -> Callable[[], object]:
    return _synced(_loopback(items)[4]).sync


@scenario("ox.noop_with_list", repeat=7)
def noop_with_list(items: int) -> Callable[[], object]:
    """A no-op sync whose delta also asks for the LIST of all 10,000 ids."""
    _, _, ox, _, engine = _loopback(items)
    ox.list_every = 0.0
    return _synced(engine).sync


@scenario("ox.one_change", repeat=7)
def one_change(items: int) -> Callable[[], object]:
    server, folder, _, _, engine = _loopback(items)
    _synced(engine)
    target = server.backend.objects_in(folder)[0].id
    counter = iter(range(10**6))

    def run() -> object:
        server.backend.save("alice", folder, {"nickname": f"n{next(counter)}"}, object_id=target)
        return engine.sync()

    return run


@scenario("ox.push_to_synced", repeat=7)
def push_to_synced(items: int) -> Callable[[], object]:
    server, folder, ox, mem, engine = _loopback(items, push_delay=0.0)
    _synced(engine)
    queue = TriggerQueue()
    listener = ox.push_listener(
        queue.notify,
        host="127.0.0.1",
        port=server.push_address[1],
        bind=("127.0.0.1", 0),
        poll=0.01,
    )
    listener.start()
    if not listener.registered.wait(5.0):
        raise RuntimeError("push registration was not acknowledged")
    target = server.backend.objects_in(folder)[0].id
    counter = iter(range(10**6))
    mem_folder = next(f.id for f in mem.folders() if f.kind is FolderKind.CONTACTS)

    def run() -> object:
        nick = f"push{next(counter)}"
        server.backend.save("alice", folder, {"nickname": nick}, object_id=target)
        got = queue.wait(timeout=5.0)
        if got is None:
            raise RuntimeError("no push packet within 5 s")
        report = engine.sync(folders=got)
        if not any(getattr(r, "nickname", None) == nick for r in mem.records(mem_folder).values()):
            raise RuntimeError("pushed change did not reach the memory store")
        return report

    return run
