"""OX saving an object again by itself is no edit: ``OXStore.stored_form`` end to end.

Memory holds values OX keeps only in a lossier form (sensitivity PERSONAL reads back
PRIVATE, a yearly rule every 2 years as monthly every 24 months, an attendee's role and
comment are dropped, a task due at UTC midnight reads back as a date, a list member's
contact reference without an e-mail slot is dropped). When the OX server re-saves the
objects without a real change (their ``last_modified`` moves), the engine must not take
OX's renderings for edits and push them over memory's originals.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.adapters.ox import OXStore
from oxsync.core.records import (
    Attendee,
    AttendeeKind,
    AttendeeRole,
    Contact,
    DistributionList,
    DistributionListMember,
    Emails,
    Event,
    EventException,
    Frequency,
    Record,
    Recurrence,
    Sensitivity,
    Task,
)
from oxsync.core.store import Item
from oxsync.testing.oxserver import OXApp, OXBackend
from oxsync.testing.oxserver._rules import OBJECT_LEVEL
from tests.ox.conftest import CANARY

_START = datetime(2026, 6, 15, 10, tzinfo=UTC)

RECORDS: dict[str, tuple[Record, ...]] = {
    "contacts": (
        Contact(
            uid="c-personal",
            last_name="Curie",
            emails=Emails(email1="marie@example.org"),
            sensitivity=Sensitivity.PERSONAL,
        ),
        DistributionList(
            uid="dl-1",
            display_name="Lab",
            sensitivity=Sensitivity.CONFIDENTIAL,
            members=(
                DistributionListMember(
                    display_name="Marie",
                    email="marie@example.org",
                    contact_uid="c-personal",
                    email_slot=1,
                ),
                DistributionListMember(  # a reference without slot: OX keeps the address
                    display_name="Pierre",
                    email="pierre@example.org",
                    contact_uid="c-other",
                    email_slot=0,
                ),
            ),
        ),
    ),
    "calendar": (
        Event(
            uid="ev-biennial",
            summary="Conference",
            start=_START,
            end=_START + timedelta(hours=2),
            timezone="Europe/Berlin",
            sensitivity=Sensitivity.PERSONAL,
            recurrence=Recurrence(frequency=Frequency.YEARLY, interval=2, day_of_month=15, month=6),
            exceptions=(
                EventException(
                    original_start=_START.replace(year=2028), summary="Conference (moved room)"
                ),
            ),
            attendees=(
                Attendee(
                    email="guest@example.net",
                    name="Guest",
                    kind=AttendeeKind.EXTERNAL,
                    role=AttendeeRole.OPTIONAL,
                    comment="may come late",
                ),
            ),
        ),
    ),
    "tasks": (
        Task(
            uid="task-midnight",
            summary="Report",
            due=datetime(2026, 7, 1, tzinfo=UTC),
            sensitivity=Sensitivity.CONFIDENTIAL,
        ),
    ),
}


def _engine(ox: OXStore, mem: MemoryStore) -> SyncEngine:
    return SyncEngine(ox, mem, state=State(":memory:"), policy=Policy.NEWEST_WINS, backoff=0.0)


@pytest.fixture
def synced(backend: OXBackend, app: OXApp) -> Iterator[tuple[SyncEngine, MemoryStore]]:
    """Memory's lossy records synced to OX, steady (a second sync changes nothing)."""
    ox = OXStore("http://ox.test", "alice", CANARY, transport=httpx.WSGITransport(app=app))
    mem = MemoryStore()
    for folder, records in RECORDS.items():
        for record in records:
            mem.put(folder, record)
    engine = _engine(ox, mem)
    first = engine.sync()
    assert not first.errors, first.errors
    assert first.a.created == 4  # the change exception is part of its series' item
    steady = engine.sync()
    assert steady.changed == 0 and not steady.errors
    yield engine, mem
    ox.close()


def _resave_everything(backend: OXBackend) -> int:
    """Every object of alice's default folders saved again by OX with the fields it has:
    no real change, but each ``last_modified`` moves (like OX touching an object)."""
    count = 0
    for module in ("contact", "calendar", "task"):
        folder = backend.default_folder("alice", module)
        for obj in backend.objects_in(folder):
            before = obj.last_modified
            fields = {
                name: el
                for name, el in obj.fields.items()
                if name not in OBJECT_LEVEL and name != "changeexceptions"
            }
            backend.save("alice", folder, fields, object_id=obj.id)
            assert backend.objects[obj.id].last_modified > before
            count += 1
    return count


def _memory(mem: MemoryStore) -> dict[str | None, Record]:
    return {
        r.uid: r
        for name in RECORDS
        for r in mem.records(next(f.id for f in mem.folders() if f.id == name)).values()
    }


def _wanted() -> dict[str | None, Record]:
    return {r.uid: r for records in RECORDS.values() for r in records}


def test_an_ox_resave_without_change_leaves_the_other_side_alone(
    backend: OXBackend, synced: tuple[SyncEngine, MemoryStore]
) -> None:
    engine, mem = synced
    assert _memory(mem) == _wanted()
    assert _resave_everything(backend) == 5  # the 4 items' objects, 1 change exception

    again = engine.sync()
    assert not again.errors, again.errors
    assert again.b.updated == 0 and again.a.updated == 0, again
    assert _memory(mem) == _wanted()  # PERSONAL stays PERSONAL, the comment stays, ...

    third = engine.sync()
    assert third.changed == 0 and not third.errors, third
    assert _memory(mem) == _wanted()


def test_without_stored_form_the_resave_overwrites_memory(
    backend: OXBackend,
    synced: tuple[SyncEngine, MemoryStore],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The contrast: without the method the engine takes OX's renderings for edits (this
    is what the test above guards against)."""
    engine, mem = synced
    monkeypatch.delattr(OXStore, "stored_form")
    _resave_everything(backend)
    engine.sync()
    got = _memory(mem)
    assert got["c-personal"].sensitivity is Sensitivity.PRIVATE
    event = got["ev-biennial"]
    assert isinstance(event, Event)
    assert event.recurrence is not None and event.recurrence.frequency is Frequency.MONTHLY
    assert event.attendees[0].comment is None
    task = got["task-midnight"]
    assert isinstance(task, Task) and task.due == date(2026, 7, 1)


def test_stored_form_is_what_fetch_returns(app: OXApp) -> None:
    """Written, then read back by a store that never wrote it: ``stored_form`` of each
    record is the record read (apart from the server's time stamps)."""
    import attrs

    writer = OXStore("http://ox.test", "alice", CANARY, transport=httpx.WSGITransport(app=app))
    mem = MemoryStore()
    for name, records in RECORDS.items():
        for lossy in records:
            mem.put(name, lossy)
    assert not _engine(writer, mem).sync().errors
    reader = OXStore("http://ox.test", "alice", CANARY, transport=httpx.WSGITransport(app=app))
    seen = 0
    for folder in reader.folders():
        if folder.read_only:
            continue
        ids = [ref.id for ref in reader.changes(folder.id, None).changed]
        for item in reader.fetch(folder.id, ids).values():
            assert isinstance(item, Item), item
            record = item.record
            wanted = _wanted()[record.uid]
            assert reader.stored_form(wanted) == attrs.evolve(
                record, created=None, last_modified=None
            )
            assert reader.stored_form(wanted) != wanted  # each record is lossy in OX
            seen += 1
    assert seen == 4
    writer.close()
    reader.close()
