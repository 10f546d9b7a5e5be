"""One sync run per pair and state file: a second one is refused, never run alongside."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from oxsync import State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.core.records import ItemKind
from oxsync.core.runlock import lock_path, run_lock
from oxsync.core.triggers import TriggerQueue, run_triggered
from oxsync.errors import SyncInProgressError
from oxsync.testing.samples import sample

from .helpers import assert_converged

C = "contacts"
_HOLDER = """
import sys, time
from oxsync.core.runlock import run_lock
with run_lock(sys.argv[1], sys.argv[2], None):
    print("locked", flush=True)
    sys.stdin.readline()
"""


def _pair(n: int = 3) -> tuple[MemoryStore, MemoryStore]:
    a, b = MemoryStore(name="a"), MemoryStore(name="b")
    for i in range(n):
        a.put(C, sample(ItemKind.CONTACT, i))
    return a, b


def _hold(state: Path, pair: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(state), pair],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_a_second_process_syncing_the_same_pair_is_refused_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.sqlite"
    a, b = _pair()
    holder = _hold(path, "default")
    try:
        engine = SyncEngine(a, b, state=State(path))
        with pytest.raises(SyncInProgressError, match=rf"pid {holder.pid}\b.*'default'"):
            engine.sync()
        with pytest.raises(SyncInProgressError):
            engine.slow_sync()
        assert b.records(C) == {}  # refused before anything was read or written
        other = SyncEngine(a, MemoryStore(name="c"), state=State(path), pair="other")
        assert other.sync().b.created == 3  # another pair of the same state file is free
    finally:
        holder.communicate("\n", timeout=10)
    assert engine.sync().b.created == 3  # released: the next run syncs
    assert_converged(a, b, C, C)


def test_a_crashed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    holder = _hold(path, "default")
    os.kill(holder.pid, signal.SIGKILL)
    holder.communicate(timeout=10)
    a, b = _pair()
    assert SyncEngine(a, b, state=State(path)).sync().b.created == 3
    assert Path(lock_path(str(path), "default")).exists()  # the file stays; the lock is gone


def test_a_sync_started_from_inside_a_sync_is_refused() -> None:
    a, b = _pair()
    state = State(":memory:")
    nested: list[BaseException] = []
    engine: SyncEngine

    def observer(event: object) -> None:
        if not nested:
            try:
                engine.sync()
            except SyncInProgressError as exc:
                nested.append(exc)

    engine = SyncEngine(a, b, state=state, observers=[observer])
    engine.sync()
    assert nested and "already being synced in this process" in str(nested[0])
    # two in-memory states are two states: their runs do not exclude each other
    with run_lock(":memory:", "default", object()), run_lock(":memory:", "default", object()):
        pass


def test_lock_files_of_pairs_with_similar_names_differ(tmp_path: Path) -> None:
    names = {lock_path(str(tmp_path / "s"), p) for p in ("a b", "a-b", "a/b", "", "a" * 200)}
    assert len(names) == 5
    assert all(Path(n).parent == tmp_path for n in names)


def test_watch_backs_off_while_another_run_holds_the_pair(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    a, b = _pair()
    engine = SyncEngine(a, b, state=State(path))
    holder = _hold(path, "default")
    stop = threading.Event()
    reports: list[object] = []
    queue = TriggerQueue()
    queue.notify()
    thread = threading.Thread(
        target=run_triggered,
        args=(engine, queue, stop),
        kwargs={"poll_interval": 0.2, "settle": 0, "on_report": reports.append, "max_backoff": 0.5},
    )
    thread.start()
    try:
        time.sleep(0.5)
        assert reports == [] and thread.is_alive()  # refused, still watching
    finally:
        holder.communicate("\n", timeout=10)
    deadline = time.monotonic() + 10
    while not reports and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(timeout=10)
    assert reports and len(b.records(C)) == 3


def test_the_cli_exits_6_while_another_run_holds_the_pair(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    config = tmp_path / "oxsync.toml"
    config.write_text(
        f"""
[stores.a]
type = "vdir"
path = "{tmp_path / "a"}"

[stores.b]
type = "vdir"
path = "{tmp_path / "b"}"

[pairs.files]
a = "a"
b = "b"
state_path = "{state}"
"""
    )
    holder = _hold(state, "files")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "oxsync.cli", "--config", str(config), "sync"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        holder.communicate("\n", timeout=10)
    assert done.returncode == 6, done.stderr
    assert f"pid {holder.pid}" in done.stderr and "'files'" in done.stderr
    again = subprocess.run(
        [sys.executable, "-m", "oxsync.cli", "--config", str(config), "sync"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 0, again.stderr
