"""A series update cut off between its requests: the next run converges, nothing lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from oxsync.adapters.memory import MemoryStore
from oxsync.adapters.ox import OXStore
from oxsync.core.records import Event, EventException, FolderKind, Frequency, Recurrence, Weekday
from oxsync.core.store import Applied, Create, Failure, FailureKind, Update
from oxsync.testing.oxserver import OXApp, OXBackend
from tests.ox.conftest import CANARY
from tests.ox.helpers import Failing, failing_ox, one_kind_engine, sync_through_fault

MONDAY = datetime(2026, 4, 6, 9, tzinfo=UTC)


def _series(summary: str, exceptions: list[tuple[int, str]]) -> Event:
    return Event(
        uid="series",
        summary=summary,
        start=MONDAY,
        end=MONDAY + timedelta(hours=1),
        timezone="Europe/Berlin",
        recurrence=Recurrence(frequency=Frequency.WEEKLY, weekdays=Weekday.MONDAY, count=10),
        exceptions=tuple(
            EventException(original_start=MONDAY + timedelta(days=7 * week), summary=text)
            for week, text in exceptions
        ),
    )


def _seen(records: object) -> list[tuple[str | None, tuple[tuple[str, str | None], ...]]]:
    return sorted(
        (r.summary, tuple((e.original_start.date().isoformat(), e.summary) for e in r.exceptions))
        for r in records  # type: ignore[attr-defined]
    )


@pytest.mark.parametrize("fault", ["before", "after", "timeout"])
@pytest.mark.parametrize("first", range(1, 9))
def test_a_series_edit_cut_off_at_any_request_is_not_lost(fault: str, first: int) -> None:
    # The series was written by one PROPPATCH and its exception objects by the next: a
    # server gone in between (or the first answer lost) left OX with the new series and
    # the old exceptions; the next run took that for an edit on OX, newer than the memory
    # store's, and wrote it there: the exception edits were lost on both sides.
    backend, transport, ox = failing_ox()
    mem = MemoryStore()
    item = mem.put("calendar", _series("Standup", [(1, "Moved")]))
    engine = one_kind_engine(ox, mem, FolderKind.CALENDAR)
    engine.sync()
    wanted = _series("Standup 2", [(1, "Moved again"), (3, "Third")])
    mem.edit("calendar", item, summary=wanted.summary, exceptions=wanted.exceptions)
    sync_through_fault(engine, transport, first, fault)
    calendar = str(backend.default_folder("alice", "calendar"))
    reader = OXStore("http://ox.test", "alice", CANARY, transport=transport)
    on_ox = reader.fetch(calendar, [ref.id for ref in reader.changes(calendar, None).changed])
    assert _seen(mem.records("calendar").values()) == _seen([wanted])
    assert _seen(item.record for item in on_ox.values()) == _seen([wanted])  # type: ignore[union-attr]
    ox.close()


def test_a_series_modified_on_the_server_is_a_conflict_and_its_exceptions_stay() -> None:
    # the series and its exception blocks now go in one PROPPATCH, where OX checks each
    # block on its own: the guard reads the series first, so nothing of a stale write lands
    backend = OXBackend()
    backend.add_user("alice", CANARY)
    ox = OXStore("http://ox.test", "alice", CANARY, transport=Failing(OXApp(backend)))
    calendar = str(backend.default_folder("alice", "calendar"))
    (done,) = ox.apply(calendar, [Create(_series("Standup", [(1, "Moved")]))])
    assert isinstance(done, Applied)
    other = OXStore("http://ox.test", "alice", CANARY, transport=Failing(OXApp(backend)))
    elsewhere = _series("Elsewhere", [(1, "Moved")])
    (edited,) = other.apply(calendar, [Update(done.id, elsewhere, done.version)])
    assert isinstance(edited, Applied), edited
    wanted = _series("Standup 2", [(1, "Moved again"), (3, "Third")])
    (again,) = ox.apply(calendar, [Update(done.id, wanted, done.version)])
    assert isinstance(again, Failure) and again.kind is FailureKind.CONFLICT, again
    reader = OXStore("http://ox.test", "alice", CANARY, transport=Failing(OXApp(backend)))
    (item,) = reader.fetch(calendar, [done.id]).values()
    assert _seen([item.record]) == [("Elsewhere", (("2026-04-13", "Moved"),))]  # type: ignore[union-attr]
    ox.close()


def test_a_series_whose_exception_ox_failed_to_list_is_not_read_without_it() -> None:
    # a full listing with the entry of an exception object OX could not serialise
    # (status 500, href 0) rebuilt the series' exceptions without it: a slow sync wrote
    # the series without that exception to the other store
    from lxml import etree

    from tests.ox.test_hunt3_listing import NS, _Switchable, _tree

    backend = OXBackend()
    backend.add_user("alice", CANARY)
    transport = _Switchable(OXApp(backend))
    ox = OXStore("http://ox.test", "alice", CANARY, transport=transport)
    mem = MemoryStore()
    mem.put("calendar", _series("Standup", [(1, "Moved"), (3, "Third")]))
    engine = one_kind_engine(ox, mem, FolderKind.CALENDAR)
    engine.sync()

    def damage(root: etree._Element) -> None:
        for response in root:
            if response.findtext(f".//{{{NS}}}title") == "Third":
                response[:] = etree.fromstring(
                    '<D:x xmlns:D="DAV:"><D:href>0</D:href><D:propstat><D:prop/>'
                    "<D:status>500</D:status><D:responsedescription>Server Error"
                    "</D:responsedescription></D:propstat></D:x>"
                )[:]

    transport.rewrite = _tree(damage)
    report = engine.slow_sync()
    assert report.b.updated == 0 and report.incomplete, report
    assert _seen(mem.records("calendar").values()) == _seen(
        [_series("Standup", [(1, "Moved"), (3, "Third")])]
    )
    transport.rewrite = None
    engine.sync()
    assert _seen(mem.records("calendar").values()) == _seen(
        [_series("Standup", [(1, "Moved"), (3, "Third")])]
    )
    ox.close()
