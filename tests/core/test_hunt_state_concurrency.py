"""Several connections opening one state file at the same moment: the threads of
`oxsync watch` (one per pair, and by default every pair shares one state file), a cron
job starting with it. Whoever comes second must wait for the first, never fail."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from oxsync.core.state import SCHEMA_VERSION, State

from .test_state import V1_SCHEMA

OPENERS = 6


def _open_together(path: Path) -> list[BaseException]:
    barrier = threading.Barrier(OPENERS)
    errors: list[BaseException] = []

    def open_one() -> None:
        barrier.wait()
        try:
            state = State(path)
            state.add_folder_pair(threading.current_thread().name, "ca", "cb", "contacts")
            state.close()
        except BaseException as exc:  # collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=open_one, name=f"t{i}") for i in range(OPENERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors


def test_a_new_state_opened_by_several_connections_at_once(tmp_path: Path) -> None:
    # was: 'table meta already exists' (both saw no schema, the second created it again)
    # or 'database is locked' at once (switching the new file to WAL is not retried by
    # SQLite's busy handler), in most rounds
    for round_ in range(15):
        path = tmp_path / f"new-{round_}.sqlite"
        errors = _open_together(path)
        assert errors == [], f"round {round_}: {errors!r}"
        state = State(path)
        assert state.schema_version == SCHEMA_VERSION
        assert len([r for i in range(OPENERS) for r in state.folder_pairs(f"t{i}")]) == OPENERS
        state.close()


def test_an_old_state_opened_by_several_connections_at_once(tmp_path: Path) -> None:
    # was: each saw the old version outside any transaction and ran the migration; the
    # second failed on what the first had already done ('duplicate column name')
    for round_ in range(10):
        path = tmp_path / f"old-{round_}.sqlite"
        db = sqlite3.connect(path)
        db.executescript(V1_SCHEMA)
        db.close()
        errors = _open_together(path)
        assert errors == [], f"round {round_}: {errors!r}"
        state = State(path)
        assert state.schema_version == SCHEMA_VERSION
        assert [p.a_id for p in state.all_pairs(1)] == ["a1"]
        state.close()


_OPEN = """
import sys, time
from oxsync.core.state import State
start = float(sys.argv[2])
while time.time() < start:
    pass
State(sys.argv[1]).close()
"""


def test_two_processes_creating_one_state_at_once(tmp_path: Path) -> None:
    for round_ in range(3):
        path = tmp_path / f"proc-{round_}.sqlite"
        start = str(time.time() + 0.8)  # both interpreters are up by then
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", _OPEN, str(path), start],
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        results = [(p.communicate(timeout=30)[1], p.returncode) for p in procs]
        assert all(code == 0 for _, code in results), results
        with State(path) as state:
            assert state.schema_version == SCHEMA_VERSION
