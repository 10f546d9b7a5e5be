"""An item a store cannot read is counted in the run's report as ignored, and read again
only when it changes (or is retried, or a slow sync reads everything)."""

from __future__ import annotations

import os
from pathlib import Path

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.adapters.vdir import VdirStore
from oxsync.core.records import Contact, FolderKind
from oxsync.core.store import Create

BROKEN = "BEGIN:VCARD\nVERSION:3.0\nFN:Broken\nBDAY:2026-13-45\nEND:VCARD\n"


def _bump(path: Path, text: str) -> None:
    """Rewrite ``path`` so that its version (mtime, size) surely moves."""
    stat = path.stat()
    path.write_text(text)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))


def test_an_unreadable_item_is_counted_once_and_read_again_when_it_changes(
    tmp_path: Path,
) -> None:
    vdir, memory = VdirStore(tmp_path / "v"), MemoryStore(name="m")
    folder = next(f.id for f in vdir.folders() if f.kind is FolderKind.CONTACTS)
    vdir.apply(folder, [Create(Contact(uid="fine", last_name="Fine"))])
    broken = tmp_path / "v" / folder / "broken.vcf"
    broken.write_text(BROKEN)
    engine = SyncEngine(vdir, memory, state=State(":memory:"), policy=Policy.MERGE)
    first = engine.sync()
    assert first.b.created == 1 and first.ignored == 1
    assert [i.item_id for i in engine.ignored()] == ["broken.vcf"]
    # unchanged: not read, refused and reported again at every run
    again = engine.sync()
    assert again.ignored == 0 and again.changed == 0
    assert [i.item_id for i in engine.ignored()] == ["broken.vcf"]
    # changed and still broken: refused again, once
    _bump(broken, BROKEN.replace("Broken", "Still broken"))
    assert engine.sync().ignored == 1
    assert engine.sync().ignored == 0
    # a slow sync reads everything again
    assert engine.slow_sync().ignored == 1
    # mended: it syncs and leaves the ignored list
    _bump(broken, "BEGIN:VCARD\nVERSION:3.0\nUID:mended\nFN:Mended\nN:Mended;;;;\nEND:VCARD\n")
    mended = engine.sync()
    assert mended.b.created == 1 and mended.ignored == 0
    assert engine.ignored() == []


def test_a_retried_unreadable_item_is_read_again(tmp_path: Path) -> None:
    vdir, memory = VdirStore(tmp_path / "v"), MemoryStore(name="m")
    folder = next(f.id for f in vdir.folders() if f.kind is FolderKind.CONTACTS)
    (tmp_path / "v" / folder / "broken.vcf").write_text(BROKEN)
    engine = SyncEngine(vdir, memory, state=State(":memory:"), policy=Policy.MERGE)
    assert engine.sync().ignored == 1
    assert engine.retry_ignored() == 1
    assert engine.sync().ignored == 1  # read again (and still refused)
