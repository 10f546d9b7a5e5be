"""vdir to vdir: a file is copied as it is (``Item.native``) when the record is unchanged.

The source's own bytes travel with a Create/Update of exactly the record they encode, so
properties oxsync does not model survive and no serialisation is spent; anything the
engine built itself (a merge, a filled-in uid) is written from the record.
"""

from __future__ import annotations

from pathlib import Path

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.vdir import VdirStore
from oxsync.core.records import ItemKind
from oxsync.core.store import Create, Item, Update
from oxsync.mappings.vcard import contact_to_vcard
from oxsync.testing.samples import sample

CARD = (
    b"BEGIN:VCARD\r\n"
    b"VERSION:3.0\r\n"
    b"UID:native-1\r\n"
    b"FN:Ada Lovelace\r\n"
    b"N:Lovelace;Ada;;;\r\n"
    b"X-KHARD-NOTE-COLOUR:teal\r\n"
    b"item1.X-ABLABEL:_$!<Spouse>!$_\r\n"
    b"TEL;TYPE=CELL:+44 7700 900123\r\n"
    b"END:VCARD\r\n"
)

EVENT = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//khal//EN\r\n"
    b"BEGIN:VEVENT\r\nUID:native-ev\r\nDTSTAMP:20260101T000000Z\r\n"
    b"DTSTART:20260102T100000Z\r\nDTEND:20260102T110000Z\r\nSUMMARY:Standup\r\n"
    b"X-KHAL-FLAG:kept\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


class _Recording(VdirStore):
    """A vdir store that remembers the ops it was asked to apply."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.ops: list[object] = []

    def _apply(self, folder_id, ops):  # type: ignore[no-untyped-def, override]
        self.ops.extend(ops)
        return super()._apply(folder_id, ops)


def _pair(tmp_path: Path, **b_options: object) -> tuple[VdirStore, _Recording, SyncEngine]:
    a = VdirStore(tmp_path / "a", fsync=False)
    b = _Recording(tmp_path / "b", fsync=False, **b_options)
    return a, b, SyncEngine(a, b, state=State(":memory:"), policy=Policy.A_WINS)


def test_fetch_reports_the_files_own_bytes_and_format(tmp_path: Path) -> None:
    a = VdirStore(tmp_path / "a", fsync=False)
    (tmp_path / "a" / "contacts" / "x.vcf").write_bytes(CARD)
    (tmp_path / "a" / "calendar" / "y.ics").write_bytes(EVENT)
    card = a.fetch("contacts", ["x.vcf"])["x.vcf"]
    event = a.fetch("calendar", ["y.ics"])["y.ics"]
    assert isinstance(card, Item) and isinstance(event, Item)
    assert card.native is not None and card.native.data == CARD
    assert card.native.media_type == "text/vcard;version=3.0"
    assert event.native is not None and event.native.media_type == "text/calendar"
    assert "bytes>" in repr(card.native) and "Lovelace" not in repr(card.native)


def test_initial_copy_is_byte_identical_and_keeps_unknown_properties(tmp_path: Path) -> None:
    _a, b, engine = _pair(tmp_path)
    (tmp_path / "a" / "contacts" / "native-1.vcf").write_bytes(CARD)
    (tmp_path / "a" / "calendar" / "native-ev.ics").write_bytes(EVENT)
    report = engine.sync()
    assert report.b.created == 2 and not report.errors
    assert (tmp_path / "b" / "contacts" / "native-1.vcf").read_bytes() == CARD
    assert (tmp_path / "b" / "calendar" / "native-ev.ics").read_bytes() == EVENT
    creates = [op for op in b.ops if isinstance(op, Create)]
    assert len(creates) == 2 and all(op.native is not None for op in creates)
    assert engine.sync().changed == 0


def test_an_edit_travels_as_the_edited_file(tmp_path: Path) -> None:
    _a, b, engine = _pair(tmp_path)
    path = tmp_path / "a" / "contacts" / "native-1.vcf"
    path.write_bytes(CARD)
    engine.sync()
    edited = CARD.replace(b"FN:Ada Lovelace", b"FN:Ada King")
    path.write_bytes(edited)
    report = engine.sync()
    assert report.b.updated == 1 and not report.errors
    assert (tmp_path / "b" / "contacts" / "native-1.vcf").read_bytes() == edited
    assert isinstance(b.ops[-1], Update) and b.ops[-1].native is not None


def test_another_vcard_version_is_written_from_the_record(tmp_path: Path) -> None:
    _, _b, engine = _pair(tmp_path, vcard_version="4.0")
    (tmp_path / "a" / "contacts" / "native-1.vcf").write_bytes(CARD)
    engine.sync()
    written = (tmp_path / "b" / "contacts" / "native-1.vcf").read_bytes()
    assert b"VERSION:4.0" in written and b"X-KHARD" not in written
    assert engine.sync().changed == 0


def test_a_record_the_engine_changed_is_written_from_the_record(tmp_path: Path) -> None:
    # no UID in the file: the engine gives the record one, so the bytes no longer match it
    _a, b, engine = _pair(tmp_path)
    (tmp_path / "a" / "contacts" / "nouid.vcf").write_bytes(CARD.replace(b"UID:native-1\r\n", b""))
    engine.sync()
    (create,) = [op for op in b.ops if isinstance(op, Create)]
    assert create.native is None and create.record.uid
    (written,) = (tmp_path / "b" / "contacts").glob("*.vcf")
    assert create.record.uid.encode() in written.read_bytes()


def test_a_merge_is_written_from_the_merged_record(tmp_path: Path) -> None:
    a = VdirStore(tmp_path / "a", fsync=False)
    b = _Recording(tmp_path / "b", fsync=False)
    engine = SyncEngine(a, b, state=State(":memory:"), policy=Policy.MERGE)
    base = sample(ItemKind.CONTACT, 1)
    (tmp_path / "a" / "contacts" / f"{base.uid}.vcf").write_bytes(contact_to_vcard(base))
    engine.sync()
    # each side edits another field: a three-way merge writes a record neither file holds
    a_file = tmp_path / "a" / "contacts" / f"{base.uid}.vcf"
    b_file = tmp_path / "b" / "contacts" / f"{base.uid}.vcf"
    a_file.write_bytes(a_file.read_bytes().replace(b"Ada 1", b"Augusta 1"))
    b_file.write_bytes(b_file.read_bytes().replace(b"Lovelace-1", b"King-1"))
    b.ops.clear()
    report = engine.sync()
    assert not report.errors
    updates = [op for op in b.ops if isinstance(op, Update)]
    assert updates and all(op.native is None for op in updates)
    for merged in (a_file.read_bytes(), b_file.read_bytes()):
        assert b"Augusta 1" in merged and b"King-1" in merged
    assert engine.sync().changed == 0


def test_bytes_the_other_store_cannot_write_are_not_handed_on(tmp_path: Path) -> None:
    from oxsync.adapters.memory import MemoryStore

    class RecordingMemory(MemoryStore):
        def __init__(self) -> None:
            super().__init__(name="memory")
            self.ops: list[object] = []

        def _apply(self, folder_id, ops):  # type: ignore[no-untyped-def, override]
            self.ops.extend(ops)
            return super()._apply(folder_id, ops)

    a = VdirStore(tmp_path / "a", fsync=False)
    memory = RecordingMemory()
    assert a.capabilities.native_media_types >= {"text/vcard;version=3.0", "text/calendar"}
    assert not memory.capabilities.native_media_types
    (tmp_path / "a" / "contacts" / "native-1.vcf").write_bytes(CARD)
    report = SyncEngine(a, memory, state=State(":memory:"), policy=Policy.A_WINS).sync()
    assert report.b.created == 1 and not report.errors
    (create,) = [op for op in memory.ops if isinstance(op, Create)]
    assert create.native is None  # memory lists no native format: the bytes were dropped


def test_a_utf16_file_is_read_and_copied_as_utf8(tmp_path: Path) -> None:
    """Windows tools may write UTF-16 with a byte-order mark: the file is read, and its
    copy in another vdir is written from the record, in UTF-8."""
    a, b = VdirStore(tmp_path / "a", fsync=False), VdirStore(tmp_path / "b", fsync=False)
    card = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:w\r\nFN:Ada Lovelace\r\n"
        "N:Lovelace;Ada;;;\r\nEND:VCARD\r\n"
    )
    (tmp_path / "a" / "contacts" / "w.vcf").write_bytes(card.encode("utf-16"))
    SyncEngine(a, b, state=State(":memory:")).sync()
    copied = (tmp_path / "b" / "contacts" / "w.vcf").read_bytes()
    assert copied.startswith(b"BEGIN:VCARD") and b"Lovelace" in copied
