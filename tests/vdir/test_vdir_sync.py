"""The vdir store under the engine: a vdir kept in step with a memory store, with edits
made on disk the way khal or khard make them."""

from __future__ import annotations

from pathlib import Path

import attrs

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.adapters.vdir import VdirStore
from oxsync.core import records as r
from oxsync.core.records import ItemKind
from oxsync.core.serial import fingerprint
from oxsync.testing.samples import sample

FIXTURES = Path(__file__).parents[1] / "mappings" / "fixtures"


def _setup(tmp_path: Path) -> tuple[MemoryStore, VdirStore, SyncEngine]:
    memory = MemoryStore(name="memory")
    vdir = VdirStore(tmp_path / "vdir", fsync=False)
    engine = SyncEngine(memory, vdir, state=State(":memory:"), policy=Policy.NEWEST_WINS)
    return memory, vdir, engine


def _vdir_records(vdir: VdirStore, folder: str) -> dict[str, r.Record]:
    ids = [ref.id for ref in vdir.changes(folder, None).changed]
    out = {}
    for item in vdir.fetch(folder, ids).values():
        assert not hasattr(item, "kind"), item  # no Failure
        out[item.record.uid] = item.record  # type: ignore[union-attr]
    return out


def test_memory_items_land_as_files_and_a_second_sync_does_nothing(tmp_path: Path) -> None:
    memory, vdir, engine = _setup(tmp_path)
    for i in range(20):
        memory.put("contacts", sample(ItemKind.CONTACT, i))
        memory.put("calendar", sample(ItemKind.EVENT, i))
        memory.put("tasks", sample(ItemKind.TASK, i))
    memory.put("contacts", sample(ItemKind.DISTRIBUTION_LIST, 1))
    report = engine.sync()
    assert report.b.created == 61 and not report.errors
    assert len(list((tmp_path / "vdir" / "contacts").glob("*.vcf"))) == 21
    assert len(list((tmp_path / "vdir" / "calendar").glob("*.ics"))) == 20
    assert len(list((tmp_path / "vdir" / "tasks").glob("*.ics"))) == 20
    again = engine.sync()
    assert again.changed == 0 and not again.errors
    # what the files hold is what memory holds
    on_disk = _vdir_records(vdir, "calendar")
    for record in memory.records("calendar").values():
        assert fingerprint(on_disk[record.uid]) == fingerprint(record)


def test_edits_and_deletes_on_disk_reach_the_other_side(tmp_path: Path) -> None:
    memory, _, engine = _setup(tmp_path)
    for i in range(5):
        memory.put("contacts", sample(ItemKind.CONTACT, i))
    engine.sync()
    folder = tmp_path / "vdir" / "contacts"
    edited = folder / "oxsync-sample-contact-2.vcf"
    edited.write_bytes(edited.read_bytes().replace(b"N:Lovelace-2;", b"N:Byron;"))
    (folder / "oxsync-sample-contact-4.vcf").unlink()
    # a file dropped in by khard, with a name oxsync did not choose
    (folder / "khard-new.vcf").write_bytes(
        (FIXTURES / "ox_contacts.vcf").read_bytes().split(b"END:VCARD\r\n")[0] + b"END:VCARD\r\n"
    )
    report = engine.sync()
    assert not report.errors
    assert (report.a.updated, report.a.deleted, report.a.created) == (1, 1, 1)
    by_uid = {rec.uid: rec for rec in memory.records("contacts").values()}
    assert by_uid["oxsync-sample-contact-2"].last_name == "Byron"
    assert "oxsync-sample-contact-4" not in by_uid
    assert by_uid["4711@ox.example.de"].first_name == "Jürgen"
    assert engine.sync().changed == 0


def test_memory_edit_rewrites_the_file_and_touching_a_file_changes_nothing(
    tmp_path: Path,
) -> None:
    memory, vdir, engine = _setup(tmp_path)
    item_id = memory.put("calendar", sample(ItemKind.EVENT, 1))
    engine.sync()
    memory.edit("calendar", item_id, summary="Moved ✓")
    assert engine.sync().b.updated == 1
    (record,) = _vdir_records(vdir, "calendar").values()
    assert record.summary == "Moved ✓"
    path = next((tmp_path / "vdir" / "calendar").glob("*.ics"))
    path.touch()  # version moves, content does not
    report = engine.sync()
    assert report.changed == 0


def test_a_broken_file_is_ignored_and_does_not_block_the_folder(tmp_path: Path) -> None:
    memory, _, engine = _setup(tmp_path)
    memory.put("contacts", sample(ItemKind.CONTACT, 1))
    engine.sync()
    folder = tmp_path / "vdir" / "contacts"
    (folder / "broken.vcf").write_bytes(
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:x\r\nBDAY:1999-02-30\r\nEND:VCARD\r\n"
    )
    memory.put("contacts", attrs.evolve(sample(ItemKind.CONTACT, 2)))
    report = engine.sync()
    assert report.b.created == 1
    assert not report.errors
    assert (folder / "oxsync-sample-contact-2.vcf").exists()
    (ignored,) = engine.ignored()
    assert ignored.item_id == "broken.vcf" and "birthday" in ignored.reason


def test_a_file_emptied_by_a_power_cut_is_ignored_and_the_other_copy_kept(
    tmp_path: Path,
) -> None:
    memory, _vdir, engine = _setup(tmp_path)
    for i in range(3):
        memory.put("contacts", sample(ItemKind.CONTACT, i))
    engine.sync()
    victim = next((tmp_path / "vdir" / "contacts").glob("*.vcf"))
    victim.write_bytes(b"")
    engine.sync()
    assert len(memory.records("contacts")) == 3  # nothing deleted or blanked on the other side
    (entry,) = engine.ignored()
    assert entry.item_id == victim.name and "empty" in entry.reason
