"""Attachments in sync: OX (webdav.attachments) <-> memory through the engine."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import attrs
import httpx
import pytest

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.adapters.ox import OXStore
from oxsync.core.records import (
    Attachment,
    Contact,
    Event,
    EventException,
    FolderKind,
    Frequency,
    Recurrence,
    Task,
)
from oxsync.core.store import Applied, Create, Failure, FailureKind, Item, Update
from oxsync.testing.oxserver import OXApp, OXBackend
from tests.ox.conftest import CANARY
from tests.ox.helpers import share_with_bob

CONTACT_MODULE = 7
PDF = Attachment(filename="brief.pdf", content_type="application/pdf", data=b"%PDF-1.4 \x00\xff")
NOTE = Attachment(filename="notes é.txt", content_type="text/plain", data=b"hello")


class Counting(httpx.BaseTransport):
    """The in-process transport, recording (method, servlet) of every request."""

    def __init__(self, app: OXApp) -> None:
        self.inner = httpx.WSGITransport(app=app)
        self.seen: list[tuple[str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((request.method, request.url.path.rsplit(".", 1)[-1]))
        return self.inner.handle_request(request)


@pytest.fixture
def wire(app: OXApp) -> Counting:
    return Counting(app)


@pytest.fixture
def ox(wire: Counting) -> Iterator[OXStore]:
    s = OXStore("http://ox.test", "alice", CANARY, transport=wire)
    yield s
    s.close()


@pytest.fixture
def contacts(backend: OXBackend) -> int:
    """alice's contacts, where bob may write."""
    return share_with_bob(backend, "contact")


def _engine(ox: OXStore, mem: MemoryStore) -> SyncEngine:
    return SyncEngine(ox, mem, state=State(":memory:"), policy=Policy.NEWEST_WINS, backoff=0.0)  # type: ignore[arg-type]


def _mem_contact(mem: MemoryStore, uid: str) -> tuple[str, str, Contact]:
    folder = mem.default_folder(FolderKind.CONTACTS).id
    for item_id, record in mem.records(folder).items():
        if record.uid == uid:
            assert isinstance(record, Contact)
            return folder, item_id, record
    raise AssertionError(uid)


def _files_on_ox(backend: OXBackend, object_id: int) -> list[tuple[int, str, str, bytes]]:
    return sorted(
        (a.id, a.filename, a.mimetype, a.data)
        for a in backend.attachments.values()
        if a.target == object_id
    )


def test_server_side_files_reach_memory_and_follow_edits(
    backend: OXBackend, ox: OXStore, contacts: int
) -> None:
    bob = backend.user("bob")
    person = backend.save("bob", contacts, {"uid": "p", "last_name": "Filed"})
    backend.put_attachment(
        bob, CONTACT_MODULE, person.id, contacts, PDF.filename, PDF.content_type, PDF.data
    )
    mem = MemoryStore()
    engine = _engine(ox, mem)
    assert not engine.sync().errors
    assert _mem_contact(mem, "p")[2].attachments == (PDF,)
    assert engine.sync().changed == 0

    # bob replaces the file's content and adds another
    (first,) = _files_on_ox(backend, person.id)
    backend.put_attachment(
        bob,
        CONTACT_MODULE,
        person.id,
        contacts,
        PDF.filename,
        PDF.content_type,
        b"v2",
        replace=first[0],
    )
    backend.put_attachment(
        bob, CONTACT_MODULE, person.id, contacts, NOTE.filename, NOTE.content_type, NOTE.data
    )
    report = engine.sync()
    assert report.b.updated == 1, report.to_dict()
    assert _mem_contact(mem, "p")[2].attachments == (attrs.evolve(PDF, data=b"v2"), NOTE)
    assert engine.sync().changed == 0

    # bob removes both: memory has none left
    for attachment_id, *_ in _files_on_ox(backend, person.id):
        backend.delete_attachment(bob, CONTACT_MODULE, person.id, contacts, attachment_id)
    assert engine.sync().b.updated == 1
    assert _mem_contact(mem, "p")[2].attachments == ()
    assert engine.sync().changed == 0


def test_memory_side_files_reach_ox_and_only_differences_are_written(
    backend: OXBackend, ox: OXStore, wire: Counting, contacts: int
) -> None:
    mem = MemoryStore()
    mem.put("contacts", Contact(uid="m", last_name="Mem", attachments=(PDF, NOTE)))
    engine = _engine(ox, mem)
    report = engine.sync()
    assert report.a.created == 1 and not report.errors, report.to_dict()
    (obj,) = [o for o in backend.objects_in(contacts) if o.text("uid") == "m"]
    before = _files_on_ox(backend, obj.id)
    assert [(name, kind, data) for _, name, kind, data in before] == [
        (PDF.filename, PDF.content_type, PDF.data),
        (NOTE.filename, NOTE.content_type, NOTE.data),
    ]
    assert engine.sync().changed == 0  # the version after the uploads was the final one

    # change one file in memory: the other keeps its OX id, one DELETE and one PUT
    folder, item_id, record = _mem_contact(mem, "m")
    changed = attrs.evolve(NOTE, data=b"hello again")
    mem.replace(folder, item_id, attrs.evolve(record, attachments=(PDF, changed)))
    wire.seen.clear()
    assert engine.sync().a.updated == 1
    assert [m for m, servlet in wire.seen if servlet == "attachments"] == ["DELETE", "PUT"]
    after = _files_on_ox(backend, obj.id)
    assert after[0] == before[0]
    assert after[1][1:] == (NOTE.filename, NOTE.content_type, b"hello again")
    assert engine.sync().changed == 0

    # an edit of other fields sends no file at all
    _, _, record = _mem_contact(mem, "m")
    mem.replace(folder, item_id, attrs.evolve(record, first_name="Only"))
    wire.seen.clear()
    assert engine.sync().a.updated == 1
    assert [m for m, servlet in wire.seen if servlet == "attachments"] == []
    assert engine.sync().changed == 0

    # remove them all in memory: none left on OX
    _, _, record = _mem_contact(mem, "m")
    mem.replace(folder, item_id, attrs.evolve(record, attachments=()))
    assert engine.sync().a.updated == 1
    assert _files_on_ox(backend, obj.id) == []
    assert engine.sync().changed == 0


def test_items_without_attachments_cost_no_request_of_their_own(
    backend: OXBackend, ox: OXStore, wire: Counting, contacts: int
) -> None:
    for i in range(5):
        backend.save("alice", contacts, {"uid": f"c{i}", "last_name": f"n{i}"})
    filed = backend.save("alice", contacts, {"uid": "f", "last_name": "filed"})
    backend.put_attachment(
        backend.user("alice"), CONTACT_MODULE, filed.id, contacts, "a", "text/plain", b"x"
    )
    ox.folders()
    wire.seen.clear()
    refs = ox.changes(str(contacts), None).changed
    got = ox.fetch(str(contacts), [ref.id for ref in refs])
    assert wire.seen == [("PROPFIND", "contacts"), ("GET", "attachments")]
    assert {ref.id: ref.version for ref in refs} == {i: x.version for i, x in got.items()}  # type: ignore[union-attr]
    assert [x.record.attachments for x in got.values() if x.record.attachments] == [  # type: ignore[union-attr]
        (Attachment(filename="a", content_type="text/plain", data=b"x"),)
    ]
    # and writing a contact that had no files sends none
    plain = next(x for x in got.values() if isinstance(x, Item) and not x.record.attachments)
    wire.seen.clear()
    (result,) = ox.apply(
        str(contacts), [Update(plain.id, attrs.evolve(plain.record, nickname="n"), plain.version)]
    )
    assert isinstance(result, Applied)
    assert wire.seen == [("PROPPATCH", "contacts")]


def test_stale_version_after_a_server_file_change_is_a_conflict(
    backend: OXBackend, ox: OXStore, contacts: int
) -> None:
    person = backend.save("alice", contacts, {"uid": "p", "last_name": "x"})
    ref = next(iter(ox.changes(str(contacts), None).changed))
    item = ox.fetch(str(contacts), [ref.id])[ref.id]
    assert isinstance(item, Item)
    backend.put_attachment(
        backend.user("bob"), CONTACT_MODULE, person.id, contacts, "late", "text/plain", b"!"
    )
    (result,) = ox.apply(
        str(contacts),
        [Update(item.id, attrs.evolve(item.record, attachments=(NOTE,)), item.version)],
    )
    assert isinstance(result, Failure) and result.kind is FailureKind.CONFLICT
    assert [name for _, name, *_ in _files_on_ox(backend, person.id)] == ["late"]


def _weekly_with_file() -> Event:
    """A weekly series with one moved occurrence and a PDF attached."""
    start = datetime(2026, 4, 6, 9, tzinfo=UTC)
    return Event(
        uid="s",
        summary="Weekly",
        start=start,
        end=start + timedelta(hours=1),
        recurrence=Recurrence(frequency=Frequency.WEEKLY, weekdays=2, count=4),
        exceptions=(EventException(original_start=start + timedelta(days=7), summary="Moved"),),
        attachments=(PDF,),
    )


def test_events_and_tasks_carry_files_too(backend: OXBackend, ox: OXStore) -> None:
    series = _weekly_with_file()
    task = Task(uid="t", summary="Do", attachments=(NOTE,))
    for kind, record in ((FolderKind.CALENDAR, series), (FolderKind.TASKS, task)):
        folder = next(f.id for f in ox.folders() if f.kind is kind and f.is_default)
        (made,) = ox.apply(folder, [Create(record)])
        assert isinstance(made, Applied), made
        refs = ox.changes(folder, None).changed
        assert [(r.id, r.version) for r in refs] == [(made.id, made.version)]
        got = ox.fetch(folder, [made.id])[made.id]
        assert isinstance(got, Item)
        assert attrs.evolve(got.record, created=None, last_modified=None) == record


def test_a_series_read_for_an_exception_edit_keeps_its_files(
    backend: OXBackend, ox: OXStore
) -> None:
    series = _weekly_with_file()
    folder = next(f.id for f in ox.folders() if f.kind is FolderKind.CALENDAR and f.is_default)
    (made,) = ox.apply(folder, [Create(series)])
    assert isinstance(made, Applied)
    cursor = ox.changes(folder, None).cursor
    (exception,) = backend.exceptions_of(int(made.id))
    backend.save("alice", int(folder), {"title": "Moved again"}, object_id=exception.id)
    delta = ox.changes(folder, cursor)
    assert [r.id for r in delta.changed] == [made.id]  # the series, fetched for the delta
    got = ox.fetch(folder, [made.id])[made.id]
    assert isinstance(got, Item) and got.version == delta.changed[0].version
    assert got.record.attachments == (PDF,)  # type: ignore[union-attr]
    assert [e.summary for e in got.record.exceptions] == ["Moved again"]  # type: ignore[union-attr]
