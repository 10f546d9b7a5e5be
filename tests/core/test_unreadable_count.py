"""An item a store cannot read is counted in the run's report as ignored."""

from __future__ import annotations

from pathlib import Path

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.adapters.vdir import VdirStore
from oxsync.core.records import Contact, FolderKind
from oxsync.core.store import Create


def test_an_unreadable_item_is_counted_as_ignored(tmp_path: Path) -> None:
    vdir, memory = VdirStore(tmp_path / "v"), MemoryStore(name="m")
    folder = next(f.id for f in vdir.folders() if f.kind is FolderKind.CONTACTS)
    vdir.apply(folder, [Create(Contact(uid="fine", last_name="Fine"))])
    (tmp_path / "v" / folder / "broken.vcf").write_text(
        "BEGIN:VCARD\nVERSION:3.0\nFN:Broken\nBDAY:2026-13-45\nEND:VCARD\n"
    )
    engine = SyncEngine(vdir, memory, state=State(":memory:"), policy=Policy.MERGE)
    first = engine.sync()
    assert first.b.created == 1 and first.ignored == 1
    assert [i.item_id for i in engine.ignored()] == ["broken.vcf"]
    # a store listing everything lists it again, and it is read and refused again: the
    # run says so once more; the ignored list still holds it once
    again = engine.sync()
    assert again.ignored == 1 and again.changed == 0
    assert [i.item_id for i in engine.ignored()] == ["broken.vcf"]
