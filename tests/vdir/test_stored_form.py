"""VdirStore.stored_form: a file saved again without an edit is no edit to the engine.

vCard and iCalendar keep a few values in a lossier form than the canonical record (a
trailing empty user field has no X-OX-USERFIELD line; an override repeating the series'
times reads back as "not changed"). When another client rewrites such a file with the
same content (or the store re-saves what it read), its version moves and the engine
fetches the copy: without ``stored_form`` it would take the lossier values for an edit
and push them over the other side's record.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.adapters.vdir import VdirStore
from oxsync.core import records as r
from oxsync.core.serial import to_data
from oxsync.core.store import Applied, Create, Item, Update
from oxsync.testing.samples import sample

_START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _contact() -> r.Contact:
    # X-OX-USERFIELD-nn lines are numbered: the trailing gaps have no line
    contact = sample(r.ItemKind.CONTACT, 7)
    assert isinstance(contact, r.Contact)
    return attrs.evolve(contact, user_fields=("Kundennummer 4711", None, None))


def _event() -> r.Record:
    # an override stating the series' own times (as OX and Outlook often give them):
    # RECURRENCE-ID carries the start, so they read back as "not changed" (None)
    moved = _START + timedelta(days=7)
    return r.Event(
        uid="oxsync-stored-form-event",
        summary="Weekly",
        start=_START,
        end=_START + timedelta(hours=1),
        timezone="Europe/Berlin",
        recurrence=r.Recurrence(frequency=r.Frequency.WEEKLY, weekdays=r.Weekday.MONDAY),
        exceptions=(
            r.EventException(
                original_start=moved,
                start=moved,
                end=moved + timedelta(hours=1),
                summary="Weekly, in room 2",
            ),
        ),
    )


_FOLDER = {r.ItemKind.CONTACT: "contacts", r.ItemKind.EVENT: "calendar"}


def _rewrite_same_bytes(vdir: VdirStore, folder: str, path: Path) -> None:
    """Another client saves the file with its own content: same bytes, new mtime."""
    before = os.stat(path)
    path.write_bytes(path.read_bytes())
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000))


def _resave_through_store(vdir: VdirStore, folder: str, path: Path) -> None:
    """The store writes back what it read, unchanged (serialised from the record)."""
    got = vdir.fetch(folder, [path.name])[path.name]
    assert isinstance(got, Item)
    (result,) = vdir.apply(folder, [Update(got.id, got.record, got.version)])
    assert isinstance(result, Applied) and result.version != got.version


@pytest.mark.parametrize("make", [_contact, _event], ids=["contact", "event"])
@pytest.mark.parametrize(
    "resave", [_rewrite_same_bytes, _resave_through_store], ids=["same-bytes", "store"]
)
def test_a_file_saved_again_unchanged_leaves_the_other_side_alone(
    tmp_path: Path,
    make: Callable[[], r.Record],
    resave: Callable[[VdirStore, str, Path], None],
) -> None:
    record = make()
    folder = _FOLDER[r.item_kind_of(record)]
    memory = MemoryStore(name="memory")
    vdir = VdirStore(tmp_path / "vdir", fsync=False)
    engine = SyncEngine(memory, vdir, state=State(":memory:"), policy=Policy.NEWEST_WINS)
    item_id = memory.put(folder, record)
    assert engine.sync().b.created == 1
    (path,) = (tmp_path / "vdir" / folder).glob("*.*")
    (read_back,) = vdir.fetch(folder, [path.name]).values()
    assert isinstance(read_back, Item)
    # the premise: the file's reading differs from the record synced
    assert to_data(read_back.record) != to_data(record)

    resave(vdir, folder, path)
    report = engine.sync()
    assert not report.errors
    assert report.a.updated == 0
    assert to_data(memory.records(folder)[item_id]) == to_data(record)
    again = engine.sync()
    assert again.changed == 0 and not again.errors
    assert to_data(memory.records(folder)[item_id]) == to_data(record)


def test_an_edit_in_a_re_rendered_file_still_reaches_the_other_side(tmp_path: Path) -> None:
    """Only what equals the store's rendering of the base keeps the base's value: a
    real edit made with the lossy rendering in place is synced, the rest kept."""
    record = _contact()
    memory = MemoryStore(name="memory")
    vdir = VdirStore(tmp_path / "vdir", fsync=False)
    engine = SyncEngine(memory, vdir, state=State(":memory:"), policy=Policy.NEWEST_WINS)
    item_id = memory.put("contacts", record)
    engine.sync()
    (path,) = (tmp_path / "vdir" / "contacts").glob("*.vcf")
    path.write_bytes(path.read_bytes().replace(b"N:Lovelace-7;", b"N:Byron;"))
    report = engine.sync()
    assert report.a.updated == 1 and not report.errors
    assert to_data(memory.records("contacts")[item_id]) == to_data(
        attrs.evolve(record, last_name="Byron")
    )
    assert engine.sync().changed == 0


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_stored_form_is_what_fetch_reads_of_a_written_record(tmp_path: Path, version: str) -> None:
    vdir = VdirStore(tmp_path / "vdir", fsync=False, vcard_version=version)
    for record in (_contact(), _event(), sample(r.ItemKind.TASK, 3)):
        folder = _FOLDER.get(r.item_kind_of(record), "tasks")
        (created,) = vdir.apply(folder, [Create(record)])
        assert isinstance(created, Applied)
        got = vdir.fetch(folder, [created.id])[created.id]
        assert isinstance(got, Item)
        assert to_data(vdir.stored_form(record)) == to_data(got.record)


def test_stored_form_of_a_record_without_uid_keeps_it_without(tmp_path: Path) -> None:
    vdir = VdirStore(tmp_path / "vdir", fsync=False)
    record = attrs.evolve(_contact(), uid=None)
    assert vdir.stored_form(record).uid is None
