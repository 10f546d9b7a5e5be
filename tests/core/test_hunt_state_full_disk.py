"""A state write failing mid-sync (a full disk: SQLite refuses the COMMIT and rolls the
transaction back, as it does on ENOSPC in WAL mode) at every commit of a sync in turn:
the run ends in a StateError, and once the disk has room the next run finishes the work
with no lost edit, no duplicate and an empty journal."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from oxsync import State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.errors import StateError

from .helpers import assert_converged
from .test_crash_recovery import GONE, _edit_both, _stores

C = "contacts"


def _engine(a: MemoryStore, b: MemoryStore, state: State) -> SyncEngine:
    return SyncEngine(a, b, state=state, sleep=lambda s: None, folder_kinds=None)


@contextmanager
def _disk_full_at_commit(state: State, k: int) -> Iterator[dict[str, int]]:
    """Make the ``k``-th COMMIT fail (0: none) the way SQLite fails on a full disk."""
    db: Any = state._db
    real = db.execute
    seen = {"commits": 0}

    def execute(sql: str, *args: Any) -> sqlite3.Cursor:
        if sql == "COMMIT":
            seen["commits"] += 1
            if seen["commits"] == k:
                real("ROLLBACK")  # SQLite has rolled back: in_transaction is False after
                raise StateError(
                    f"state database {state.path!r}: database or disk is full"
                ) from sqlite3.OperationalError("database or disk is full")
        return real(sql, *args)

    db.execute = execute
    try:
        yield seen
    finally:
        del db.execute


def _commits(scenario: str, tmp_path: Path) -> int:
    a, b = _stores()
    state = State(tmp_path / "count.sqlite")
    if scenario == "edits":
        _engine(a, b, state).sync()
        _edit_both(a, b)
    with _disk_full_at_commit(state, 0) as seen:
        _engine(a, b, state).sync()
    state.close()
    return seen["commits"]


@pytest.mark.parametrize("scenario", ["initial", "edits"])
def test_a_full_disk_at_any_commit_is_finished_by_the_next_run(
    scenario: str, tmp_path: Path
) -> None:
    total = _commits(scenario, tmp_path)
    assert total > 5  # batches of 16: many commits to fail at
    for k in range(1, total + 1):
        a, b = _stores()
        state = State(tmp_path / f"{scenario}-{k}.sqlite")
        expected: dict[str, str | None] = {}
        if scenario == "edits":
            _engine(a, b, state).sync()
            expected = _edit_both(a, b)
        with _disk_full_at_commit(state, k), pytest.raises(StateError, match="disk is full"):
            _engine(a, b, state).sync()
        assert not state._db.in_transaction
        _engine(a, b, state).sync()  # the disk has room again
        assert_converged(a, b, C, C)
        final = {r.uid: r for r in a.records(C).values()}
        if scenario == "initial":
            assert len(final) == 200, f"disk full at commit {k}: {len(final)} items"
        else:
            for uid, nickname in expected.items():
                if nickname == GONE:
                    assert uid not in final, f"disk full at {k}: deleted {uid} came back"
                else:
                    assert final[uid].nickname == nickname, f"disk full at {k}: edit lost"
            assert len(final) == 210 - sum(v == GONE for v in expected.values())
        again = _engine(a, b, state).sync()
        assert again.changed == 0, f"disk full at {k}: a third run still wrote {again}"
        assert state.journal() == []
        state.close()
