"""A vdir file the readers cannot take is a per-item INVALID failure, never a crash of the
folder: mutated files (the mapping tests' mutations) fetched next to a good one."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from oxsync.adapters.vdir import VdirStore
from oxsync.core.store import Failure, FailureKind, Item
from tests.mappings.test_fuzz_cards import CALENDARS, VCARDS, _calendar, _mutated

# inputs that escaped the iCalendar reader before (OSError, AttributeError) or vanished
_FORMER_CRASHES = {
    "long-tzid.ics": _calendar("DTSTART;TZID=" + "A" * 5000 + ":20260301T100000"),
    "open.ics": b"BEGIN:VCALENDAR\r\n" + _calendar("DTSTART:20260301T100000Z"),
}


def test_files_that_crashed_the_reader_are_invalid_items(tmp_path: Path) -> None:
    store = VdirStore(tmp_path, fsync=False)
    folder = "calendar"
    for name, data in _FORMER_CRASHES.items():
        (tmp_path / folder / name).write_bytes(data)
    got = store.fetch(folder, list(_FORMER_CRASHES))
    for name in _FORMER_CRASHES:
        result = got[name]
        assert isinstance(result, Failure) and result.kind is FailureKind.INVALID, name


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated(VCARDS), _mutated(CALENDARS))
def test_a_mutated_file_is_an_item_or_an_invalid_failure(card: bytes, calendar: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = VdirStore(Path(tmp), fsync=False)
        kinds = {f.kind.value: f.id for f in store.folders()}
        for kind, name, data in (("contacts", "x.vcf", card), ("calendar", "x.ics", calendar)):
            (Path(tmp) / kinds[kind] / name).write_bytes(data)
            got = store.fetch(kinds[kind], [name])[name]
            assert isinstance(got, Item) or got.kind is FailureKind.INVALID, got
