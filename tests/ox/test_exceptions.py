"""Change exceptions: the test server's rules, the store's one item per series, sync."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import attrs
import httpx
import pytest

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.adapters.ox import OXStore
from oxsync.core.records import Event, EventException, FolderKind, Frequency, Recurrence
from oxsync.core.store import Applied, Create, Delete, Failure, FailureKind, Item, Update
from oxsync.mappings.values import date_to_ox, datetime_to_ox
from oxsync.testing.oxserver import OXApp, OXBackend, OXFault
from tests.ox.conftest import CANARY, http
from tests.ox.helpers import listing, proppatch, responses, share_with_bob

START = datetime(2026, 4, 6, 9, tzinfo=UTC)  # a Monday
WEEK = timedelta(days=7)


def day_ms(moment: datetime) -> int:
    return date_to_ox(moment.date())


def series_fields(**extra: object) -> dict[str, object]:
    return {
        "uid": "weekly",
        "title": "Standup",
        "start_date": datetime_to_ox(START),
        "end_date": datetime_to_ox(START + timedelta(hours=1)),
        "recurrence_type": "weekly",
        "days": 2,
        "interval": 1,
        "occurrences": 10,
        **extra,
    }


@pytest.fixture
def calendar(backend: OXBackend) -> int:
    """alice's calendar, where bob may write."""
    return share_with_bob(backend, "calendar")


@pytest.fixture
def series_id(backend: OXBackend, calendar: int) -> int:
    return backend.save("alice", calendar, series_fields()).id


# --------------------------------------------------------------------------- server


def test_creating_with_recurrence_id_makes_a_change_exception(
    backend: OXBackend, app: OXApp, calendar: int, series_id: int
) -> None:
    before = backend.objects[series_id].last_modified
    second = START + WEEK
    with http(app) as client:
        (resp,) = responses(
            proppatch(
                client,
                "calendar",
                {
                    "folder_id": calendar,
                    "recurrence_id": series_id,
                    "recurrence_date_position": day_ms(second),
                    "title": "Moved",
                    "start_date": datetime_to_ox(second + timedelta(hours=2)),
                    "end_date": datetime_to_ox(second + timedelta(hours=3)),
                },
            )
        )
        assert resp.ok and resp.text("recurrence_id") == str(series_id)
        exception_id = int(resp.text("object_id") or 0)
        series = backend.objects[series_id]
        assert series.text("changeexceptions") == str(day_ms(second))
        assert series.last_modified > before
        listed = {r.text("object_id"): r for r in listing(client, "calendar", calendar)}
    entry = listed[str(exception_id)]
    assert entry.text("recurrence_id") == str(series_id)
    assert entry.text("recurrence_date_position") == str(day_ms(second))
    assert entry.text("recurrence_type") is None  # one occurrence, no pattern
    assert listed[str(series_id)].text("recurrence_id") == str(series_id)


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({}, 1004),  # no position
        ({"recurrence_date_position": 3_600_000}, 1100),  # not a day
        ({"recurrence_date_position": 0, "last_modified": 1}, 1000),  # series changed since
    ],
)
def test_bad_exception_creates_are_refused(
    backend: OXBackend, calendar: int, series_id: int, fields: dict[str, object], code: int
) -> None:
    with pytest.raises(OXFault) as caught:
        backend.save("bob", calendar, {"recurrence_id": series_id, "title": "x", **fields})
    assert caught.value.code == code
    assert backend.exceptions_of(series_id) == []


def test_an_exception_of_a_single_appointment_is_invalid(backend: OXBackend, calendar: int) -> None:
    single = backend.save(
        "alice",
        calendar,
        {"title": "once", "start_date": datetime_to_ox(START), "end_date": datetime_to_ox(START)},
    )
    with pytest.raises(OXFault) as caught:
        backend.add_exception("alice", single.id, day_ms(START), {})
    assert caught.value.code == 1100


def test_deleting_an_exception_deletes_its_occurrence(
    backend: OXBackend, calendar: int, series_id: int
) -> None:
    second = day_ms(START + WEEK)
    exception = backend.add_exception("bob", series_id, second, {"title": "Moved"})
    before = backend.objects[series_id].last_modified
    backend.delete("bob", exception.id)
    series = backend.objects[series_id]
    assert series.text("changeexceptions") is None
    assert series.text("deleteexceptions") == str(second)
    assert series.last_modified > before
    assert exception.id not in backend.objects


def test_deleting_the_series_deletes_its_exceptions(
    backend: OXBackend, app: OXApp, calendar: int, series_id: int
) -> None:
    exception = backend.add_exception("bob", series_id, day_ms(START + WEEK), {"title": "M"})
    since = backend.objects[series_id].last_modified
    backend.delete("alice", series_id)
    assert exception.id not in backend.objects
    with http(app) as client:
        gone = {
            r.text("object_id")
            for r in listing(client, "calendar", calendar, since)
            if r.text("object_status") == "DELETE"
        }
    assert gone == {str(series_id), str(exception.id)}


def test_series_updates_drop_exceptions_on_deleted_days_and_ignore_changeexceptions(
    backend: OXBackend, calendar: int, series_id: int
) -> None:
    second, third = day_ms(START + WEEK), day_ms(START + 2 * WEEK)
    kept = backend.add_exception("bob", series_id, second, {"title": "kept"})
    dropped = backend.add_exception("bob", series_id, third, {"title": "dropped"})
    backend.save(
        "alice",
        calendar,
        series_fields(deleteexceptions=third, changeexceptions="12345"),
        object_id=series_id,
    )
    assert [e.id for e in backend.exceptions_of(series_id)] == [kept.id]
    assert dropped.id not in backend.objects
    assert backend.objects[series_id].text("changeexceptions") == str(second)
    # a series that stops recurring has no exceptions left
    backend.save("alice", calendar, {"title": "once now"}, object_id=series_id)
    assert backend.exceptions_of(series_id) == []
    assert kept.id not in backend.objects


def test_in_batch_chain_over_a_series_passes_but_a_stale_one_does_not(
    backend: OXBackend, app: OXApp, calendar: int, series_id: int
) -> None:
    exception = backend.add_exception("bob", series_id, day_ms(START + WEEK), {"title": "M"})
    seen = backend.objects[series_id].last_modified
    block = {"folder_id": calendar, "last_modified": seen}
    with http(app) as client:
        # deleting the exception moves the series; the series update sent with the
        # timestamp of the chain still passes
        got = responses(
            proppatch(
                client,
                "calendar",
                {**block, "object_id": exception.id, "method": "DELETE"},
                {**block, "object_id": series_id, **series_fields(deleteexceptions="")},
            )
        )
        assert [r.ok for r in got] == [True, True]
        assert backend.objects[series_id].text("deleteexceptions") is None
        # someone else changes the series: an exception create with the old stamp is stale
        backend.save("alice", calendar, series_fields(title="Renamed"), object_id=series_id)
        (stale,) = responses(
            proppatch(
                client,
                "calendar",
                {
                    **block,
                    "recurrence_id": series_id,
                    "recurrence_date_position": day_ms(START + WEEK),
                    "title": "late",
                },
            )
        )
    assert stale.code == 1000
    assert backend.exceptions_of(series_id) == []


# --------------------------------------------------------------------------- store


@pytest.fixture
def ox(app: OXApp) -> Iterator[OXStore]:
    s = OXStore("http://ox.test", "alice", CANARY, transport=httpx.WSGITransport(app=app))
    yield s
    s.close()


def _items(store: OXStore, folder: str, cursor: str | None = None) -> dict[str, Item]:
    refs = store.changes(folder, cursor).changed
    got = store.fetch(folder, [ref.id for ref in refs])
    assert all(isinstance(x, Item) for x in got.values()), got
    return got  # type: ignore[return-value]


def test_a_series_and_its_exceptions_are_one_item(
    backend: OXBackend, ox: OXStore, calendar: int, series_id: int
) -> None:
    backend.add_exception(
        "bob",
        series_id,
        day_ms(START + WEEK),
        {
            "title": "Moved",
            "start_date": datetime_to_ox(START + WEEK + timedelta(hours=2)),
            "end_date": datetime_to_ox(START + WEEK + timedelta(hours=3)),
        },
    )
    backend.add_exception("bob", series_id, day_ms(START + 2 * WEEK), {"location": "Room 9"})
    items = _items(ox, str(calendar))
    assert list(items) == [str(series_id)]
    event = items[str(series_id)].record
    assert isinstance(event, Event)
    assert event.exceptions == (
        EventException(
            original_start=START + WEEK,
            summary="Moved",
            start=START + WEEK + timedelta(hours=2),
            end=START + WEEK + timedelta(hours=3),
        ),
        EventException(original_start=START + 2 * WEEK, location="Room 9"),
    )


def test_an_exception_edit_is_a_change_of_its_series(
    backend: OXBackend, app: OXApp, ox: OXStore, calendar: int, series_id: int
) -> None:
    exception = backend.add_exception("bob", series_id, day_ms(START + WEEK), {"title": "A"})
    first = ox.changes(str(calendar), None)
    (ref,) = first.changed
    backend.save("bob", calendar, {"title": "B"}, object_id=exception.id)
    delta = ox.changes(str(calendar), first.cursor)
    assert [r.id for r in delta.changed] == [str(series_id)]
    assert delta.changed[0].version != ref.version
    assert not delta.deleted
    item = ox.fetch(str(calendar), [str(series_id)])[str(series_id)]
    assert isinstance(item, Item) and item.version == delta.changed[0].version
    assert [e.summary for e in item.record.exceptions] == ["B"]  # type: ignore[union-attr]
    # a fresh store that only sees the delta still reads the series whole
    fresh = OXStore("http://ox.test", "alice", CANARY, transport=httpx.WSGITransport(app=app))
    backend.save("bob", calendar, {"title": "C"}, object_id=exception.id)
    later = fresh.changes(str(calendar), delta.cursor)
    assert [r.id for r in later.changed] == [str(series_id)]
    got = fresh.fetch(str(calendar), [str(series_id)])[str(series_id)]
    assert [e.summary for e in got.record.exceptions] == ["C"]  # type: ignore[union-attr]
    fresh.close()


def test_an_update_from_before_an_exception_edit_is_a_conflict(
    backend: OXBackend, ox: OXStore, calendar: int, series_id: int
) -> None:
    exception = backend.add_exception("bob", series_id, day_ms(START + WEEK), {"title": "A"})
    item = _items(ox, str(calendar))[str(series_id)]
    backend.save("bob", calendar, {"title": "B"}, object_id=exception.id)
    record = attrs.evolve(item.record, summary="Mine")
    (result,) = ox.apply(str(calendar), [Update(item.id, record, item.version)])
    assert isinstance(result, Failure) and result.kind is FailureKind.CONFLICT
    assert backend.objects[series_id].text("title") == "Standup"
    assert backend.objects[exception.id].text("title") == "B"
    # with the current version it goes through
    fresh = _items(ox, str(calendar))[str(series_id)]
    (result,) = ox.apply(
        str(calendar), [Update(fresh.id, attrs.evolve(fresh.record, summary="Mine"), fresh.version)]
    )
    assert isinstance(result, Applied)
    assert backend.objects[series_id].text("title") == "Mine"


def test_writing_exceptions_creates_updates_and_deletes_objects(
    backend: OXBackend, ox: OXStore, calendar: int
) -> None:
    folder = str(calendar)
    moved = EventException(
        original_start=START + WEEK, start=START + WEEK + timedelta(hours=1), end=None
    )
    renamed = EventException(original_start=START + 2 * WEEK, summary="Renamed")
    event = Event(
        uid="w",
        summary="Standup",
        start=START,
        end=START + timedelta(hours=1),
        timezone="Europe/Paris",
        recurrence=Recurrence(frequency=Frequency.WEEKLY, weekdays=2, count=10),
        exceptions=(renamed, moved),
    )
    (created,) = ox.apply(folder, [Create(event)])
    assert isinstance(created, Applied)
    sid = int(created.id)
    assert [e.text("title") for e in backend.exceptions_of(sid)] == ["Standup", "Renamed"]
    assert backend.exceptions_of(sid)[0].int("end_date") == datetime_to_ox(
        START + WEEK + timedelta(hours=2)
    )
    items = _items(ox, folder)
    assert items[created.id].version == created.version  # the next sync is a no-op
    read = items[created.id].record
    assert read.exceptions == (  # type: ignore[union-attr]
        EventException(
            original_start=START + WEEK,
            start=START + WEEK + timedelta(hours=1),
            end=START + WEEK + timedelta(hours=2),
        ),
        renamed,
    )
    # drop the moved one (its occurrence comes back), edit the other, add a third
    third = EventException(original_start=START + 3 * WEEK, location="Annex")
    edited = attrs.evolve(event, exceptions=(attrs.evolve(renamed, summary="Renamed again"), third))
    (updated,) = ox.apply(folder, [Update(created.id, edited, created.version)])
    assert isinstance(updated, Applied)
    objects = backend.exceptions_of(sid)
    assert [(e.text("title"), e.text("location")) for e in objects] == [
        ("Renamed again", None),
        ("Standup", "Annex"),
    ]
    assert backend.objects[sid].text("deleteexceptions") is None
    assert backend.objects[sid].text("changeexceptions") == ",".join(
        str(day_ms(START + n * WEEK)) for n in (2, 3)
    )
    again = _items(ox, folder)[created.id]
    assert again.version == updated.version
    assert again.record.exceptions == (attrs.evolve(renamed, summary="Renamed again"), third)  # type: ignore[union-attr]
    # deleting the series takes its exceptions along
    (deleted,) = ox.apply(folder, [Delete(created.id, updated.version)])
    assert isinstance(deleted, Applied)
    assert backend.objects_in(calendar) == []


def test_an_exception_on_a_deleted_day_goes_with_the_occurrence(
    backend: OXBackend, ox: OXStore, calendar: int
) -> None:
    rule = Recurrence(frequency=Frequency.WEEKLY, weekdays=2, count=10)
    event = Event(
        uid="w",
        summary="S",
        start=START,
        end=START + timedelta(hours=1),
        recurrence=rule,
        exceptions=(EventException(original_start=START + WEEK, summary="X"),),
    )
    (created,) = ox.apply(str(calendar), [Create(event)])
    assert isinstance(created, Applied)
    gone = attrs.evolve(
        event,
        recurrence=attrs.evolve(rule, deleted=(date(2026, 4, 13),)),
        exceptions=(),
    )
    (result,) = ox.apply(str(calendar), [Update(created.id, gone, created.version)])
    assert isinstance(result, Applied)
    assert backend.exceptions_of(int(created.id)) == []
    read = _items(ox, str(calendar))[created.id].record
    assert read.recurrence.deleted == (date(2026, 4, 13),)  # type: ignore[union-attr]
    assert read.exceptions == ()  # type: ignore[union-attr]


# --------------------------------------------------------------------------- sync


def _engine(ox: OXStore, mem: MemoryStore) -> SyncEngine:
    return SyncEngine(ox, mem, state=State(":memory:"), policy=Policy.NEWEST_WINS, backoff=0.0)  # type: ignore[arg-type]


def _mem_event(mem: MemoryStore) -> tuple[str, str, Event]:
    folder = mem.default_folder(FolderKind.CALENDAR).id
    ((item_id, record),) = mem.records(folder).items()
    assert isinstance(record, Event)
    return folder, item_id, record


def test_exceptions_sync_both_ways_and_settle(
    backend: OXBackend, ox: OXStore, calendar: int, series_id: int
) -> None:
    mem = MemoryStore()
    backend.add_exception("bob", series_id, day_ms(START + WEEK), {"title": "By Bob"})
    engine = _engine(ox, mem)
    assert not engine.sync().errors
    folder, item_id, event = _mem_event(mem)
    assert [(e.original_start, e.summary) for e in event.exceptions] == [(START + WEEK, "By Bob")]
    assert engine.sync().changed == 0

    # the server side: bob edits the exception, as another user
    (exception,) = backend.exceptions_of(series_id)
    backend.save("bob", calendar, {"location": "Room 2"}, object_id=exception.id)
    report = engine.sync()
    assert report.b.updated == 1, report.to_dict()
    _, _, event = _mem_event(mem)
    assert [(e.summary, e.location) for e in event.exceptions] == [("By Bob", "Room 2")]
    assert engine.sync().changed == 0

    # the memory side: edit that one, add a moved one
    moved = EventException(
        original_start=START + 3 * WEEK,
        start=START + 3 * WEEK + timedelta(days=1),
        end=START + 3 * WEEK + timedelta(days=1, hours=1),
    )
    mem.replace(
        folder,
        item_id,
        attrs.evolve(
            event, exceptions=(attrs.evolve(event.exceptions[0], summary="By Mem"), moved)
        ),
    )
    report = engine.sync()
    assert report.a.updated == 1 and not report.errors, report.to_dict()
    objects = backend.exceptions_of(series_id)
    assert [(o.text("title"), o.text("location"), o.int("start_date")) for o in objects] == [
        ("By Mem", "Room 2", datetime_to_ox(START + WEEK)),
        ("Standup", None, datetime_to_ox(START + 3 * WEEK + timedelta(days=1))),
    ]
    assert engine.sync().changed == 0

    # the memory side removes the first: its occurrence is a plain one again
    _, _, event = _mem_event(mem)
    mem.replace(folder, item_id, attrs.evolve(event, exceptions=(moved,)))
    assert engine.sync().a.updated == 1
    assert [o.int("recurrence_date_position") for o in backend.exceptions_of(series_id)] == [
        day_ms(START + 3 * WEEK)
    ]
    assert backend.objects[series_id].text("deleteexceptions") is None
    assert engine.sync().changed == 0

    # the server deletes the series: memory follows, exceptions and all
    backend.delete("alice", series_id)
    report = engine.sync()
    assert report.b.deleted == 1, report.to_dict()
    assert mem.records(folder) == {}
    assert backend.objects_in(calendar) == []


def test_a_series_with_exceptions_deleted_in_memory_leaves_nothing_on_ox(
    backend: OXBackend, ox: OXStore, calendar: int, series_id: int
) -> None:
    mem = MemoryStore()
    backend.add_exception("bob", series_id, day_ms(START + WEEK), {"title": "X"})
    backend.add_exception("bob", series_id, day_ms(START + 2 * WEEK), {"title": "Y"})
    engine = _engine(ox, mem)
    engine.sync()
    folder, item_id, _ = _mem_event(mem)
    mem.remove(folder, item_id)
    report = engine.sync()
    assert report.a.deleted == 1, report.to_dict()
    assert backend.objects_in(calendar) == []
    assert engine.sync().changed == 0


def test_a_fresh_store_writes_exceptions_against_what_the_server_holds(
    backend: OXBackend, app: OXApp, ox: OXStore, calendar: int, series_id: int
) -> None:
    backend.add_exception("bob", series_id, day_ms(START + WEEK), {"title": "Old"})
    item = _items(ox, str(calendar))[str(series_id)]
    event = item.record
    assert isinstance(event, Event)
    # another process (no listing seen) writes the series with one exception changed
    fresh = OXStore("http://ox.test", "alice", CANARY, transport=httpx.WSGITransport(app=app))
    edited = attrs.evolve(event, exceptions=(attrs.evolve(event.exceptions[0], summary="New"),))
    (result,) = fresh.apply(str(calendar), [Update(item.id, edited, item.version)])
    fresh.close()
    assert isinstance(result, Applied), result
    assert [e.text("title") for e in backend.exceptions_of(series_id)] == ["New"]
    assert _items(ox, str(calendar))[item.id].version == result.version


def test_moving_a_series_takes_its_exceptions(
    backend: OXBackend, ox: OXStore, calendar: int, series_id: int
) -> None:
    from oxsync.core.store import Move

    exception = backend.add_exception("bob", series_id, day_ms(START + WEEK), {"title": "M"})
    other = backend.add_folder("alice", "Other", "calendar").id
    item = _items(ox, str(calendar))[str(series_id)]
    (moved,) = ox.apply(str(calendar), [Move(item.id, str(other), item.version)])
    assert isinstance(moved, Applied), moved
    assert backend.objects[exception.id].folder == other
    assert _items(ox, str(calendar)) == {}
    there = _items(ox, str(other))[str(series_id)].record
    assert [e.summary for e in there.exceptions] == ["M"]  # type: ignore[union-attr]


def test_a_series_create_whose_answer_was_lost_gets_its_exceptions_and_files(
    backend: OXBackend,
) -> None:
    from oxsync.core.records import Attachment
    from oxsync.testing.oxserver import Fault, OXTestServer

    with OXTestServer(backend) as server:
        ox = OXStore(server.url, "alice", CANARY, timeout=5.0)
        mem = MemoryStore()
        engine = _engine(ox, mem)
        engine.sync()  # pairs folders
        moved = EventException(original_start=START + WEEK, summary="Moved")
        mem.put(
            "calendar",
            Event(
                uid="lost",
                summary="Standup",
                start=START,
                end=START + timedelta(hours=1),
                recurrence=Recurrence(frequency=Frequency.WEEKLY, weekdays=2, count=4),
                exceptions=(moved,),
                attachments=(Attachment(filename="a.txt", data=b"a"),),
            ),
        )
        # the server creates the series, then the answer is cut
        server.faults.add(Fault(truncate=True, path="calendar", method="PROPPATCH"))
        engine.sync()
        engine.sync()
        calendar = backend.default_folder("alice", "calendar")
        (series,) = [o for o in backend.objects_in(calendar) if not o.is_exception]
        assert [e.text("title") for e in backend.exceptions_of(series.id)] == ["Moved"]
        assert [a.data for a in backend.attachments.values() if a.target == series.id] == [b"a"]
        assert len(mem.records(mem.default_folder(FolderKind.CALENDAR).id)) == 1
        assert engine.sync().changed == 0
        ox.close()


def test_an_exception_deleted_while_ox_forgot_its_tombstone_is_gone(
    backend: OXBackend, ox: OXStore, calendar: int, series_id: int
) -> None:
    exception = backend.add_exception("bob", series_id, day_ms(START + WEEK), {"title": "X"})
    first = ox.changes(str(calendar), None)
    ox.list_every = 3600.0
    quiet = ox.changes(str(calendar), first.cursor)  # the first delta brings a LIST
    backend.delete("bob", exception.id)
    backend.tombstones.clear()
    delta = ox.changes(str(calendar), quiet.cursor)  # no LIST, no DELETE entry
    assert [r.id for r in delta.changed] == [str(series_id)]
    item = ox.fetch(str(calendar), [str(series_id)])[str(series_id)]
    assert isinstance(item, Item) and item.version == delta.changed[0].version
    assert item.record.exceptions == ()  # type: ignore[union-attr]
    assert item.record.recurrence.deleted == ((START + WEEK).date(),)  # type: ignore[union-attr]
