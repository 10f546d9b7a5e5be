"""The quick-start demo: a two-way sync on embedded defaults, step by step.

``python -m oxsync.demo [--dir DIR] [--items N]`` seeds two in-memory stores (contacts,
appointments, tasks), keeps the sync state in a SQLite file under ``DIR`` (a temporary
folder by default), and shows each step: first sync, a no-op sync, edits on both sides,
a conflict resolved by three-way merge, a delete, and the final state.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from oxsync.adapters.memory import MemoryStore
from oxsync.core.engine import SyncEngine, SyncReport
from oxsync.core.policy import Policy
from oxsync.core.records import Contact, FolderKind, ItemKind
from oxsync.core.state import State
from oxsync.testing.samples import sample

__all__ = ["main", "run_demo"]


def _line(step: str, report: SyncReport, seconds: float, out: Callable[[str], None]) -> None:
    out(
        f"{step:<34} A: +{report.a.created} ~{report.a.updated} -{report.a.deleted}   "
        f"B: +{report.b.created} ~{report.b.updated} -{report.b.deleted}   "
        f"conflicts {report.conflicts}   {seconds * 1000:8.1f} ms"
    )


def run_demo(directory: Path, items: int = 200, out: Callable[[str], None] = print) -> int:
    """Run the demo in ``directory``; returns 0 when both stores end up equal."""
    a, b = MemoryStore(name="server"), MemoryStore(name="client")
    for i in range(items):
        a.put("contacts", sample(ItemKind.CONTACT, i))
    for i in range(items // 4):
        b.put("calendar", sample(ItemKind.EVENT, i))
        b.put("tasks", sample(ItemKind.TASK, i))
    state_path = directory / "state.sqlite"
    state = State(state_path)
    engine = SyncEngine(a, b, state=state, policy=Policy.MERGE)
    out(f"oxsync demo — state in {state_path}")

    def step(name: str) -> None:
        started = time.perf_counter()
        report = engine.sync()
        _line(name, report, time.perf_counter() - started, out)

    step("1. first sync (nothing paired yet)")
    step("2. sync again (nothing changed)")
    contacts_a = a.default_folder(FolderKind.CONTACTS).id
    first_id, first = next(iter(a.records(contacts_a).items()))
    assert isinstance(first, Contact)
    b_id = next(i for i, r in b.records(contacts_a).items() if r.uid == first.uid)
    a.edit(contacts_a, first_id, nickname="Countess")
    b.edit(contacts_a, b_id, job_title="Analyst")
    step("3. both sides edit one contact")
    a.edit(contacts_a, first_id, note="server's note")
    b.edit(contacts_a, b_id, note="client's note")
    step("4. same field edited on both sides")
    victim = next(i for i in b.records("tasks"))
    b.remove("tasks", victim)
    step("5. a task deleted on the client")
    merged = a.records(contacts_a)[first_id]
    assert isinstance(merged, Contact)
    out(
        f"merged contact: nickname={merged.nickname!r} job_title={merged.job_title!r} "
        f"note={merged.note!r}"
    )
    equal = all(
        sorted(r.uid or "" for r in a.records(f.id).values())
        == sorted(r.uid or "" for r in b.records(f.id).values())
        for f in a.folders()
    )
    counts = {f.name: len(a.records(f.id)) for f in a.folders()}
    out(f"items per folder: {counts}; both sides equal: {equal}")
    state.close()
    return 0 if equal else 1


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m oxsync.demo``."""
    parser = argparse.ArgumentParser(prog="python -m oxsync.demo", description=__doc__)
    parser.add_argument("--dir", type=Path, help="where to keep the state (default: temporary)")
    parser.add_argument("--items", type=int, default=200, help="contacts to seed")
    args = parser.parse_args(argv)
    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)
        return run_demo(args.dir, args.items)
    with tempfile.TemporaryDirectory(prefix="oxsync-demo-") as tmp:
        return run_demo(Path(tmp), args.items)


if __name__ == "__main__":
    sys.exit(main())
