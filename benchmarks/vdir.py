"""Vdir ⇄ memory contact scenarios: 10,000 ``.vcf`` files in one folder.

``vdir.initial`` syncs a full memory address book into an empty vdir (10,000 files
written); ``vdir.noop`` syncs again with nothing changed (one directory listing, no
file opened); ``vdir.one_change`` edits one file on disk, as khard would, then syncs.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from benchmarks.registry import scenario
from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.adapters.vdir import VdirStore
from oxsync.core.records import ItemKind
from oxsync.testing.samples import sample

C = "contacts"


def _workdir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="oxsync-bench-vdir-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def _pair(items: int, *, synced: bool) -> tuple[Path, VdirStore, SyncEngine]:
    root = _workdir()
    memory = MemoryStore(name="memory", batch_size=500)
    for i in range(items):
        memory.put(C, sample(ItemKind.CONTACT, i))
    vdir = VdirStore(root / "vdir", fsync=False)
    engine = SyncEngine(
        memory,
        vdir,
        state=State(str(root / "state.sqlite")),
        policy=Policy.NEWEST_WINS,
        min_delete_brake=10**9,
    )
    if synced:
        engine.sync()
        engine.sync()  # steady state
    return root / "vdir" / C, vdir, engine


@scenario("vdir.initial")
def initial(items: int) -> Callable[[], object]:
    return _pair(items, synced=False)[2].sync


@scenario("vdir.noop", repeat=7)
def noop(items: int) -> Callable[[], object]:
    return _pair(items, synced=True)[2].sync


@scenario("vdir.one_change", repeat=7)
def one_change(items: int) -> Callable[[], object]:
    folder, _, engine = _pair(items, synced=True)
    target = sorted(folder.glob("*.vcf"))[0]
    original = target.read_bytes()
    counter = iter(range(10**6))

    def run() -> object:
        # an edit as another vdir client (khard) makes it: rewrite the file in place
        target.write_bytes(original.replace(b"NOTE:", f"NOTE:{next(counter)} ".encode(), 1))
        return engine.sync()

    return run


# ----------------------------------------------------------------------------- file formats
# The vdir store's codecs (oxsync.mappings.ical / .vcard) on their own: one document of
# N items parsed to canonical records.


@scenario("mapping.vcard_parse", repeat=3)
def vcard_parse(items: int) -> Callable[[], object]:
    from oxsync.mappings.vcard import contact_to_vcard, vcard_to_records

    data = b"".join(contact_to_vcard(sample(ItemKind.CONTACT, i)) for i in range(items))

    def run() -> object:
        records = vcard_to_records(data)
        assert len(records) == items
        return records

    return run


@scenario("mapping.ical_parse", repeat=3)
def ical_parse(items: int) -> Callable[[], object]:
    from oxsync.mappings.ical import event_to_ical, ical_to_records

    # one VCALENDAR: the VTIMEZONE once, then N events
    head, _, first = event_to_ical(sample(ItemKind.EVENT, 0)).partition(b"BEGIN:VEVENT")
    bodies = [b"BEGIN:VEVENT" + first.removesuffix(b"END:VCALENDAR\r\n")]
    for i in range(1, items):
        bodies.append(
            b"BEGIN:VEVENT"
            + event_to_ical(sample(ItemKind.EVENT, i))
            .partition(b"BEGIN:VEVENT")[2]
            .removesuffix(b"END:VCALENDAR\r\n")
        )
    data = head + b"".join(bodies) + b"END:VCALENDAR\r\n"

    def run() -> object:
        records = ical_to_records(data)
        assert len(records) == items
        return records

    return run
