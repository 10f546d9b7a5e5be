"""An item update cut off between its PROPPATCH and its file requests: nothing lost."""

from __future__ import annotations

import pytest

from oxsync.adapters.memory import MemoryStore
from oxsync.adapters.ox import OXStore
from oxsync.core.records import Attachment, Contact, FolderKind
from oxsync.testing.oxserver import OXApp, OXBackend
from tests.ox.conftest import CANARY
from tests.ox.helpers import Failing, failing_ox, one_kind_engine, sync_through_fault

ONE = Attachment(filename="one.txt", content_type="text/plain", data=b"one")
TWO = Attachment(filename="two.txt", content_type="text/plain", data=b"two")


def _seen(records: object) -> list[tuple[str | None, tuple[str, ...]]]:
    return sorted(
        (r.last_name, tuple(a.filename for a in r.attachments))
        for r in records  # type: ignore[attr-defined]
    )


@pytest.mark.parametrize("fault", ["before", "after", "timeout"])
@pytest.mark.parametrize("first", range(1, 9))
def test_a_file_edit_cut_off_at_any_request_is_not_lost(fault: str, first: int) -> None:
    # The item's PROPPATCH landed and the server was gone before its files were
    # written (or the PROPPATCH's answer was lost, or the old file was deleted and the new
    # one never uploaded): OX had the new fields with the old files (or none), newer than
    # the memory store's edit, and the next run copied that over it. The file edit was
    # lost on both sides, and once both files.
    backend, transport, ox = failing_ox()
    mem = MemoryStore()
    item = mem.put("contacts", Contact(uid="c", last_name="L", attachments=(ONE,)))
    engine = one_kind_engine(ox, mem, FolderKind.CONTACTS)
    engine.sync()
    mem.edit("contacts", item, last_name="L2", attachments=(TWO,))
    sync_through_fault(engine, transport, first, fault)
    folder = str(backend.default_folder("alice", "contact"))
    reader = OXStore("http://ox.test", "alice", CANARY, transport=transport)
    on_ox = reader.fetch(folder, [ref.id for ref in reader.changes(folder, None).changed])
    assert _seen(mem.records("contacts").values()) == [("L2", ("two.txt",))]
    assert _seen(i.record for i in on_ox.values()) == [("L2", ("two.txt",))]  # type: ignore[union-attr]
    ox.close()


@pytest.mark.parametrize("fault", ["html_after", "404_after", "502_after"])
@pytest.mark.parametrize("first", range(2, 10))
def test_an_unreadable_answer_mid_write_loses_no_file(fault: str, first: int) -> None:
    # An error page instead of OX's answer (HTML, a proxy's 404) after the request was
    # done was a ProtocolError or NotFoundError: raised out of apply for a PROPPATCH, an
    # INVALID or NOT_FOUND failure for a file request. Either way the update's fields had
    # landed without its files, and the next run copied that over the memory store (a
    # 404 page after the old file's DELETE lost both files).
    backend, transport, ox = failing_ox(batch_size=1)
    mem = MemoryStore()
    item = mem.put("contacts", Contact(uid="c", last_name="L", attachments=(ONE,)))
    mem.put("contacts", Contact(uid="d", last_name="D"))
    engine = one_kind_engine(ox, mem, FolderKind.CONTACTS)
    engine.sync()
    mem.edit("contacts", item, last_name="L2", attachments=(TWO,))
    mem.put("contacts", Contact(uid="e", last_name="E", attachments=(ONE,)))
    mem.put("contacts", Contact(uid="f", last_name="F"))
    sync_through_fault(engine, transport, first, fault)
    folder = str(backend.default_folder("alice", "contact"))
    reader = OXStore("http://ox.test", "alice", CANARY, transport=transport)
    on_ox = reader.fetch(folder, [ref.id for ref in reader.changes(folder, None).changed])
    expected = [("D", ()), ("E", ("one.txt",)), ("F", ()), ("L2", ("two.txt",))]
    assert _seen(mem.records("contacts").values()) == expected
    assert _seen(i.record for i in on_ox.values()) == expected  # type: ignore[union-attr]
    ox.close()


@pytest.mark.parametrize("first", range(1, 10))
def test_a_series_with_files_cut_off_at_any_request_keeps_its_file_edit(first: int) -> None:
    # a series update with exceptions goes through its own path; its lost answer was not
    # remembered, so OX's series with the new fields and the old file won the next run
    from datetime import UTC, datetime, timedelta

    from oxsync.core.records import Event, EventException, Frequency, Recurrence, Weekday

    monday = datetime(2026, 4, 6, 9, tzinfo=UTC)

    def series(summary: str, file: Attachment) -> Event:
        return Event(
            uid="series",
            summary=summary,
            start=monday,
            end=monday + timedelta(hours=1),
            recurrence=Recurrence(frequency=Frequency.WEEKLY, weekdays=Weekday.MONDAY, count=5),
            exceptions=(
                EventException(original_start=monday + timedelta(days=7), summary="Moved"),
            ),
            attachments=(file,),
        )

    backend, transport, ox = failing_ox()
    mem = MemoryStore()
    item = mem.put("calendar", series("Standup", ONE))
    engine = one_kind_engine(ox, mem, FolderKind.CALENDAR)
    engine.sync()
    mem.edit("calendar", item, summary="Standup 2", attachments=(TWO,))
    sync_through_fault(engine, transport, first, "after")
    calendar = str(backend.default_folder("alice", "calendar"))
    reader = OXStore("http://ox.test", "alice", CANARY, transport=transport)
    on_ox = reader.fetch(calendar, [ref.id for ref in reader.changes(calendar, None).changed])

    def seen(records: object) -> list[tuple[str | None, tuple[str, ...]]]:
        return sorted(
            (r.summary, tuple(a.filename for a in r.attachments))
            for r in records  # type: ignore[attr-defined]
        )

    assert seen(mem.records("calendar").values()) == [("Standup 2", ("two.txt",))]
    assert seen(i.record for i in on_ox.values()) == [("Standup 2", ("two.txt",))]  # type: ignore[union-attr]
    ox.close()


def test_a_lost_create_is_not_sent_again_while_ox_cannot_list_it() -> None:
    # after a lost answer the store lists the folder for creates that landed; an entry
    # OX failed to serialise (500, href 0) hid the one that had, and it was created twice
    from lxml import etree

    from oxsync.core.store import Applied, Create, Failure, FailureKind
    from tests.ox.test_hunt3_listing import NS, _Switchable, _tree

    backend = OXBackend()
    backend.add_user("alice", CANARY)
    transport = Failing(OXApp(backend))
    switch = _Switchable(OXApp(backend))
    transport.inner = switch  # type: ignore[assignment]
    ox = OXStore("http://ox.test", "alice", CANARY, transport=transport)
    folder = str(backend.default_folder("alice", "contact"))
    ox.changes(folder, None)
    create = Create(Contact(uid="x", last_name="X"))
    transport.arm(1, "after")
    (lost,) = ox.apply(folder, [create])
    assert isinstance(lost, Failure) and lost.kind is FailureKind.TRANSIENT
    transport.disarm()

    def damage(root: etree._Element) -> None:
        for response in root:
            if response.findtext(f".//{{{NS}}}uid") == "x":
                response[:] = etree.fromstring(
                    '<D:x xmlns:D="DAV:"><D:href>0</D:href><D:propstat><D:prop/>'
                    "<D:status>500</D:status><D:responsedescription>Server Error"
                    "</D:responsedescription></D:propstat></D:x>"
                )[:]

    switch.rewrite = _tree(damage)
    (again,) = ox.apply(folder, [create])
    assert isinstance(again, Failure) and again.kind is FailureKind.TRANSIENT, again
    switch.rewrite = None
    (done,) = ox.apply(folder, [create])
    assert isinstance(done, Applied)
    assert [o.text("uid") for o in backend.objects_in(int(folder))] == ["x"]
    ox.close()
