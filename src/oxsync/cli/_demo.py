"""``oxsync demo``: the OX test server on loopback, synced two-way with a vdir.

Seeds an account (contacts with a photo and a distribution list, a calendar with a
recurring series and exceptions, tasks), syncs it with a folder of .vcf/.ics files using
SQLite state, then edits one item on each side, receives the server's UDP push, syncs
again and prints what moved and how long each step took.
"""

from __future__ import annotations

import secrets
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import attrs

from oxsync.adapters.ox import OXStore
from oxsync.adapters.vdir import VdirStore
from oxsync.core.engine import SyncEngine, SyncReport
from oxsync.core.policy import Policy
from oxsync.core.records import (
    FolderKind,
)
from oxsync.core.state import State
from oxsync.core.store import Applied, Update
from oxsync.core.triggers import TriggerQueue
from oxsync.testing.oxserver import OXTestServer
from oxsync.testing.oxserver._seed import seed_account

__all__ = ["run_demo"]


def run_demo(directory: Path | None, items: int, say: Callable[[str], None] = print) -> int:
    """Run the demo; returns 0 when both sides ended up with the same items."""
    if directory is None:
        with tempfile.TemporaryDirectory(prefix="oxsync-demo-") as tmp:
            return _run(Path(tmp), items, say)
    directory.mkdir(parents=True, exist_ok=True)
    return _run(directory, items, say)


def _line(say: Callable[[str], None], step: str, report: SyncReport, seconds: float) -> None:
    a, b = report.a, report.b
    say(
        f"{step:<40} OX +{a.created} ~{a.updated} -{a.deleted}  "
        f"vdir +{b.created} ~{b.updated} -{b.deleted}  "
        f"conflicts {report.conflicts}  {seconds * 1000:8.1f} ms"
    )


def _run(directory: Path, items: int, say: Callable[[str], None]) -> int:
    password = secrets.token_urlsafe(16)  # never printed
    with OXTestServer(push_delay=0.05) as server:
        server.backend.add_user("demo", password, display_name="Demo User")
        say(f"OX test server at {server.url} (user 'demo'); vdir and state in {directory}")
        started = time.perf_counter()
        seed_account(OXStore(server.url, "demo", password), items)
        say(f"{'seeded the server':<40} {(time.perf_counter() - started) * 1000:8.1f} ms")
        ox = OXStore(server.url, "demo", password)
        vdir = VdirStore(directory / "vdir")
        state = State(directory / "state.sqlite")
        engine = SyncEngine(ox, vdir, state=state, policy=Policy.MERGE)

        def step(name: str, folders: set[str] | None = None) -> SyncReport:
            t0 = time.perf_counter()
            report = engine.sync(folders)
            _line(say, name, report, time.perf_counter() - t0)
            return report

        step("1. first sync (OX → empty vdir)")
        step("2. sync again (nothing changed)")
        queue = TriggerQueue()
        listener = ox.push_listener(queue.notify, host="127.0.0.1", port=server.push_address[1])
        listener.start()
        try:
            listener.registered.wait(5)
            contacts = next(
                f for f in ox.folders() if f.kind is FolderKind.CONTACTS and f.is_default
            )
            edited = _edit_on_server(server.url, password, contacts.id)
            t0 = time.perf_counter()
            pushed = queue.wait(timeout=10)
            if pushed:
                say(
                    f"{'push received for folder(s) ' + ', '.join(sorted(pushed)):<40} "
                    f"{(time.perf_counter() - t0) * 1000:8.1f} ms"
                )
            else:
                say("no push received within 10 s: polling instead")
            step("3. delta sync of the pushed folder", set(pushed) if pushed else None)
            _edit_in_vdir(directory / "vdir")
            step("4. sync after a vdir edit")
        finally:
            listener.stop()
        ok = _same_items(ox, vdir, engine)
        say(f"edited on the server: {edited!r}; both sides hold the same items: {ok}")
        state.close()
        ox.close()
        vdir.close()
        return 0 if ok else 1


def _edit_on_server(url: str, password: str, folder_id: str) -> str:
    """Another client (the web UI, say) edits one contact."""
    other = OXStore(url, "demo", password)
    try:
        ref = next(iter(other.changes(folder_id, None).changed))
        item = other.fetch(folder_id, [ref.id])[ref.id]
        assert not isinstance(item, Applied)
        record = attrs.evolve(item.record, nickname="edited on the server")  # type: ignore[union-attr]
        other.apply(folder_id, [Update(ref.id, record, ref.version)])
        return str(getattr(record, "display_name", ref.id))
    finally:
        other.close()


def _edit_in_vdir(path: Path) -> None:
    """Another client (khal, say) edits one task file."""
    other = VdirStore(path)
    try:
        tasks = next(f for f in other.folders() if f.kind is FolderKind.TASKS)
        ref = next(iter(other.changes(tasks.id, None).changed))
        item = other.fetch(tasks.id, [ref.id])[ref.id]
        record = attrs.evolve(item.record, summary="edited in the vdir")  # type: ignore[union-attr]
        other.apply(tasks.id, [Update(ref.id, record, ref.version)])
    finally:
        other.close()


def _same_items(ox: OXStore, vdir: VdirStore, engine: SyncEngine) -> bool:
    for status in engine.status():
        a = len(ox.changes(status.a_folder, None).changed)
        b = len(vdir.changes(status.b_folder, None).changed)
        if a != b or status.items != a:
            return False
    return True
