"""Two-way sync OX <-> memory through the engine, over the OX test server."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import attrs
import httpx
import pytest

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.adapters.ox import OXStore
from oxsync.core.records import Contact, Event, FolderKind, Record
from oxsync.core.triggers import TriggerQueue
from oxsync.testing.oxserver import Fault, OXApp, OXBackend, OXPermission, OXTestServer
from tests.ox.conftest import CANARY

OWNER = (128, 128, 128, 128, True)


def _engine(ox: OXStore, mem: MemoryStore, **kw: object) -> SyncEngine:
    return SyncEngine(
        ox, mem, state=State(":memory:"), policy=Policy.NEWEST_WINS, backoff=0.0, **kw
    )  # type: ignore[arg-type]


def ox_records(store: OXStore, folder: str) -> dict[str, Record]:
    """uid -> record of an OX folder, read through a fresh full listing."""
    ids = [ref.id for ref in store.changes(folder, None).changed]
    items = store.fetch(folder, ids)
    out = {}
    for item in items.values():
        assert not hasattr(item, "kind"), item
        out[item.record.uid] = item.record  # type: ignore[union-attr]
    return out


def mem_records(mem: MemoryStore, name: str) -> dict[str | None, Record]:
    """uid -> record of the memory folder called ``name``."""
    folder = next(f for f in mem.folders() if f.name == name)
    return {r.uid: r for r in mem.records(folder.id).values()}


@pytest.fixture
def pair(backend: OXBackend, app: OXApp) -> Iterator[tuple[OXStore, MemoryStore]]:
    ox = OXStore("http://ox.test", "alice", CANARY, transport=httpx.WSGITransport(app=app))
    yield ox, MemoryStore()
    ox.close()


def test_edits_on_both_sides_converge(
    backend: OXBackend, pair: tuple[OXStore, MemoryStore]
) -> None:
    ox, mem = pair
    contacts = backend.default_folder("alice", "contact")
    calendar = backend.default_folder("alice", "calendar")
    server_side = backend.save("alice", contacts, {"uid": "u-ox", "last_name": "FromOX"})
    mem.put("contacts", Contact(uid="u-mem", last_name="FromMemory"))
    mem.put(
        "calendar",
        Event(
            uid="ev-1",
            summary="Lunch",
            start=datetime(2026, 5, 1, 12, tzinfo=UTC),
            end=datetime(2026, 5, 1, 13, tzinfo=UTC),
        ),
    )
    engine = _engine(ox, mem)
    report = engine.sync()
    assert not report.errors
    assert set(ox_records(ox, str(contacts))) == {"u-ox", "u-mem"}
    assert set(mem_records(mem, "Contacts")) >= {"u-ox", "u-mem"}
    assert ox_records(ox, str(calendar))["ev-1"].summary == "Lunch"  # type: ignore[union-attr]

    backend.save("alice", contacts, {"first_name": "Edited"}, object_id=server_side.id)
    mem_id = next(i for i, r in mem.records("contacts").items() if r.uid == "u-mem")
    mem.edit("contacts", mem_id, nickname="Memo")
    report = engine.sync()
    assert not report.errors and report.a.updated == 1 and report.b.updated == 1
    assert mem_records(mem, "Contacts")["u-ox"].first_name == "Edited"  # type: ignore[union-attr]
    assert ox_records(ox, str(contacts))["u-mem"].nickname == "Memo"  # type: ignore[union-attr]
    assert engine.sync().changed == 0  # converged: a noop

    backend.delete("alice", server_side.id)
    engine.sync()
    assert "u-ox" not in mem_records(mem, "Contacts")


def test_server_edit_racing_a_client_edit_is_a_conflict_resolved_later(
    backend: OXBackend, pair: tuple[OXStore, MemoryStore]
) -> None:
    ox, mem = pair
    contacts = backend.default_folder("alice", "contact")
    obj = backend.save("alice", contacts, {"uid": "race", "last_name": "Base"})
    engine = _engine(ox, mem)
    engine.sync()
    mem_id = next(i for i, r in mem.records("contacts").items() if r.uid == "race")
    mem.edit("contacts", mem_id, last_name="Client")
    real_apply = ox._apply

    def racing(folder_id: str, ops):  # type: ignore[no-untyped-def]
        # bob-the-server edits the item between the engine's detect and its write
        backend.save("alice", contacts, {"note": "server wins the race"}, object_id=obj.id)
        ox._apply = real_apply  # type: ignore[method-assign]
        return real_apply(folder_id, ops)

    ox._apply = racing  # type: ignore[method-assign]
    first = engine.sync()
    assert first.errors or first.incomplete or first.conflicts  # the stale write was refused
    engine.sync()
    engine.sync()
    on_ox = ox_records(ox, str(contacts))
    on_mem = mem_records(mem, "Contacts")
    assert len([u for u in on_ox if u == "race"]) == 1
    assert on_ox["race"] == attrs.evolve(
        on_mem["race"], created=on_ox["race"].created, last_modified=on_ox["race"].last_modified
    )
    assert on_ox["race"].note == "server wins the race"  # type: ignore[union-attr]


def test_permission_denied_item_goes_to_the_ignored_list(
    backend: OXBackend, pair: tuple[OXStore, MemoryStore]
) -> None:
    ox, mem = pair
    shared = backend.add_folder("bob", "Team", "contact")
    backend.share(
        shared.id, [OXPermission(3, False, *OWNER), OXPermission(2, False, 4, 4, 2, 2, False)]
    )  # author
    bobs = backend.save("bob", shared.id, {"uid": "bobs", "last_name": "Bob's"})
    engine = _engine(ox, mem)
    engine.sync()
    team = next(f for f in mem.folders() if f.name == "Bob Brown – Team")
    mem_id = next(i for i, r in mem.records(team.id).items() if r.uid == "bobs")
    mem.edit(team.id, mem_id, last_name="Not allowed")
    mem.put(team.id, Contact(uid="alices", last_name="Mine"))
    report = engine.sync()
    assert report.ignored == 1
    (ignored,) = engine.ignored()
    assert ignored.failure == "permission" and "[1002]" in ignored.reason
    assert backend.objects[bobs.id].text("last_name") == "Bob's"
    assert "alices" in ox_records(ox, str(shared.id))  # the rest of the folder went on


def test_private_items_of_others_are_never_visible(
    backend: OXBackend, pair: tuple[OXStore, MemoryStore]
) -> None:
    ox, mem = pair
    cal = backend.default_folder("bob", "calendar")
    backend.share(cal, [OXPermission(3, False, *OWNER), OXPermission(2, False, 2, 4, 0, 0, False)])
    times = {"start_date": 1_780_000_000_000, "end_date": 1_780_003_600_000}
    backend.save("bob", cal, {"uid": "secret", "title": "Doctor", "private_flag": "true", **times})
    public = backend.save("bob", cal, {"uid": "open", "title": "Standup", **times})
    engine = _engine(ox, mem)
    engine.sync()
    name = "Bob Brown – Calendar"
    assert set(mem_records(mem, name)) == {"open"}
    backend.save("bob", cal, {"private_flag": "true"}, object_id=public.id)
    engine.sync()
    assert mem_records(mem, name) == {}


def test_folder_create_and_delete_follow(
    backend: OXBackend, pair: tuple[OXStore, MemoryStore]
) -> None:
    ox, mem = pair
    mem.put("contacts", Contact(uid="kept", last_name="Kept"))  # not all of mem's items go
    engine = _engine(ox, mem)
    engine.sync()
    made = mem.add_folder("Projects", FolderKind.CONTACTS)
    mem.put(made.id, Contact(uid="p1", last_name="Project"))
    engine.sync()
    ox_folder = next(f for f in ox.folders() if f.name == "Projects")
    assert set(ox_records(ox, ox_folder.id)) == {"p1"}
    ox.delete_folder(ox_folder.id)
    engine.sync()
    assert all(f.name != "Projects" for f in mem.folders())


def test_server_restart_between_batches_loses_and_duplicates_nothing(backend: OXBackend) -> None:
    with OXTestServer(backend) as server:
        ox = OXStore(server.url, "alice", CANARY, timeout=5.0, batch_size=10)
        mem = MemoryStore()
        for i in range(35):
            mem.put("contacts", Contact(uid=f"r{i}", last_name=f"R{i}"))
        calls = {"n": 0}
        real = ox.client.proppatch

        def restarting(servlet, props):  # type: ignore[no-untyped-def]
            calls["n"] += 1
            if calls["n"] == 2:
                server.restart()
            return real(servlet, props)

        ox.client.proppatch = restarting  # type: ignore[method-assign]
        engine = _engine(ox, mem, folder_kinds={FolderKind.CONTACTS})
        engine.sync()
        engine.sync()
        folder = str(backend.default_folder("alice", "contact"))
        uids = [o.text("uid") for o in backend.objects_in(int(folder))]
        assert sorted(uids) == sorted(f"r{i}" for i in range(35))
        assert len(mem.records("contacts")) == 35
        ox.close()


def test_connection_dropped_mid_response_does_not_duplicate(
    backend: OXBackend, caplog: pytest.LogCaptureFixture
) -> None:
    with OXTestServer(backend) as server:
        ox = OXStore(server.url, "alice", CANARY, timeout=5.0)
        mem = MemoryStore()
        for i in range(5):
            mem.put("contacts", Contact(uid=f"d{i}", last_name=f"D{i}"))
        engine = _engine(ox, mem, folder_kinds={FolderKind.CONTACTS})
        engine.sync()  # pairs folders; creates go over
        for i in range(5, 10):
            mem.put("contacts", Contact(uid=f"d{i}", last_name=f"D{i}"))
        # the server applies the batch, then the answer is cut halfway
        server.faults.add(Fault(truncate=True, path="contacts", method="PROPPATCH"), count=2)
        with caplog.at_level(logging.INFO, logger="oxsync.adapters.ox"):
            engine.sync()
        assert "had reached OX before the answer was lost" in caplog.text
        engine.sync()
        folder = backend.default_folder("alice", "contact")
        uids = sorted(o.text("uid") or "" for o in backend.objects_in(folder))
        assert uids == sorted(f"d{i}" for i in range(10))
        assert sorted(r.uid or "" for r in mem.records("contacts").values()) == uids
        ox.close()


def test_hostile_listing_writes_nothing(
    backend: OXBackend, app: OXApp, pair: tuple[OXStore, MemoryStore]
) -> None:
    ox, mem = pair
    contacts = backend.default_folder("alice", "contact")
    engine = _engine(ox, mem, folder_kinds={FolderKind.CONTACTS})
    engine.sync()
    backend.save("alice", contacts, {"uid": "evil", "last_name": "x"})
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaaaaaaaa">]>'
        b'<D:multistatus xmlns:D="DAV:"/>'
    )
    app.faults.add(Fault(status=207, body=bomb, path="contacts"), count=10)
    before = dict(mem.records("contacts"))
    report = engine.sync()
    assert report.errors
    assert mem.records("contacts") == before
    app.faults.clear()
    engine.sync()
    assert "evil" in mem_records(mem, "Contacts")


def test_push_triggers_a_delta_sync_of_that_folder_within_a_second(backend: OXBackend) -> None:
    with OXTestServer(backend, push_delay=0.0) as server:
        ox = OXStore(server.url, "alice", CANARY, timeout=5.0)
        mem = MemoryStore()
        engine = _engine(ox, mem, folder_kinds={FolderKind.CONTACTS})
        engine.sync()
        queue = TriggerQueue()
        folder = backend.default_folder("alice", "contact")
        listener = ox.push_listener(
            queue.notify, host="127.0.0.1", port=server.push_address[1], bind=("127.0.0.1", 0)
        )
        with listener:
            assert listener.registered.wait(2.0)
            edited = time.monotonic()
            backend.save("alice", folder, {"uid": "pushed", "last_name": "Push"})
            got = queue.wait(timeout=2.0)
            assert got == frozenset({str(folder)})
            engine.sync(folders=got)
            assert time.monotonic() - edited < 1.0
        assert "pushed" in mem_records(mem, "Contacts")
        ox.close()


def test_push_listener_reregisters_and_survives_a_bad_callback(backend: OXBackend) -> None:
    with OXTestServer(backend, push_delay=0.0) as server:
        ox = OXStore(server.url, "alice", CANARY, timeout=5.0)
        seen: list[str] = []
        done = threading.Event()

        def callback(folder: str) -> None:
            seen.append(folder)
            if len(seen) == 1:
                raise RuntimeError("boom")
            done.set()

        folder = backend.default_folder("alice", "contact")
        with ox.push_listener(
            callback,
            host="127.0.0.1",
            port=server.push_address[1],
            bind=("127.0.0.1", 0),
            reregister_every=0.1,
        ) as listener:
            assert listener.registered.wait(2.0)
            server.push.registrations.clear()  # the server forgot us
            deadline = time.monotonic() + 2.0
            while 2 not in server.push.registrations and time.monotonic() < deadline:
                time.sleep(0.02)
            backend.save("alice", folder, {"last_name": "one"})
            time.sleep(0.1)
            backend.save("alice", folder, {"last_name": "two"})
            assert done.wait(2.0)
        assert seen == [str(folder), str(folder)]
        ox.close()


def test_photos_lists_and_series_with_exceptions_survive_round_trips(
    backend: OXBackend, pair: tuple[OXStore, MemoryStore]
) -> None:
    from datetime import timedelta

    from oxsync.core.records import (
        DistributionList,
        DistributionListMember,
        Emails,
        EventException,
        Frequency,
        Photo,
        Recurrence,
    )

    ox, mem = pair
    start = datetime(2026, 4, 6, 9, tzinfo=UTC)
    mem.put(
        "contacts",
        Contact(
            uid="pic",
            last_name="Pictured",
            emails=Emails(email1="p@x.org"),
            photo=Photo(data=b"\xff\xd8\xff jpeg", content_type="image/jpeg"),
        ),
    )
    mem.put(
        "contacts",
        DistributionList(
            uid="dl",
            display_name="Friends",
            members=(
                DistributionListMember(email="p@x.org", contact_uid="pic", email_slot=1),
                DistributionListMember(display_name="Solo", email="solo@x.org"),
            ),
        ),
    )
    moved = EventException(
        original_start=start + timedelta(days=7),
        summary="Moved standup",
        start=start + timedelta(days=7, hours=2),
        end=start + timedelta(days=7, hours=3),
    )
    mem.put(
        "calendar",
        Event(
            uid="series",
            summary="Standup",
            start=start,
            end=start + timedelta(hours=1),
            recurrence=Recurrence(frequency=Frequency.WEEKLY, weekdays=2, count=10),
            exceptions=(moved,),
        ),
    )
    engine = _engine(ox, mem)
    engine.sync()
    contacts = str(backend.default_folder("alice", "contact"))
    calendar = str(backend.default_folder("alice", "calendar"))
    on_ox = ox_records(ox, contacts)
    assert on_ox["pic"].photo == Photo(data=b"\xff\xd8\xff jpeg")  # type: ignore[union-attr]
    assert [m.contact_uid for m in on_ox["dl"].members] == ["pic", None]  # type: ignore[union-attr]
    series = ox_records(ox, calendar)["series"]
    assert series.recurrence.count == 10  # type: ignore[union-attr]

    # the server edits the series; OX cannot hold the exception, the memory copy keeps it
    obj = next(o for o in backend.objects_in(int(calendar)) if o.text("uid") == "series")
    backend.save(
        "alice",
        int(calendar),
        {
            "title": "Daily standup",
            "recurrence_type": "weekly",
            "days": 2,
            "interval": 1,
            "occurrences": 10,
        },
        object_id=obj.id,
    )
    engine.sync()
    back = mem_records(mem, "Calendar")["series"]
    assert back.summary == "Daily standup"  # type: ignore[union-attr]
    assert back.exceptions == (moved,)  # type: ignore[union-attr]
    assert back.recurrence.count == 10  # type: ignore[union-attr]


def test_moves_travel_both_ways(backend: OXBackend, pair: tuple[OXStore, MemoryStore]) -> None:
    ox, mem = pair
    contacts = backend.default_folder("alice", "contact")
    projects = backend.add_folder("alice", "Projects", "contact").id
    obj = backend.save("alice", contacts, {"uid": "mover", "last_name": "Mover"})
    mem_projects = mem.add_folder("Projects", FolderKind.CONTACTS)
    engine = _engine(ox, mem, folder_kinds={FolderKind.CONTACTS})
    engine.sync()
    mem_id = next(i for i, r in mem.records("contacts").items() if r.uid == "mover")

    # memory -> OX: the OX object moves (same object id), nothing is duplicated
    mem.move_item(mem_id, "contacts", mem_projects.id)
    engine.sync()
    assert [o.id for o in backend.objects_in(projects)] == [obj.id]
    assert backend.objects_in(contacts) == []

    # OX -> memory: a move on the server (folder element) moves the memory copy back
    current = backend.objects[obj.id]
    backend.save("alice", projects, {"folder": str(contacts)}, object_id=current.id)
    engine.sync()
    assert {r.uid for r in mem.records("contacts").values()} == {"mover"}
    assert mem.records(mem_projects.id) == {}
    assert len(backend.objects_in(contacts)) == 1


def test_server_errors_mid_sync_lose_nothing(
    backend: OXBackend, app: OXApp, pair: tuple[OXStore, MemoryStore]
) -> None:
    ox, mem = pair
    for i in range(12):
        mem.put("contacts", Contact(uid=f"e{i}", last_name=f"E{i}"))
    contacts = backend.default_folder("alice", "contact")
    backend.save("alice", contacts, {"uid": "srv", "last_name": "Server"})
    engine = _engine(ox, mem, folder_kinds={FolderKind.CONTACTS}, retries=1)
    ox.batch_size = 5
    app.faults.add(Fault(status=500, path="contacts", method="PROPPATCH"), count=4)
    first = engine.sync()
    assert first.errors or first.incomplete
    for _ in range(3):
        engine.sync()
    uids = sorted(o.text("uid") or "" for o in backend.objects_in(contacts))
    assert uids == sorted([*(f"e{i}" for i in range(12)), "srv"])
    assert sorted(r.uid or "" for r in mem.records("contacts").values()) == uids


def test_one_object_listed_unreadably_does_not_stop_its_folder(
    backend: OXBackend, app: OXApp
) -> None:
    # A last_modified that is no number, or an object_status this store does not know,
    # made changes() raise ProtocolError for the whole folder: nothing in it synced again.
    import re

    contacts = backend.default_folder("alice", "contact")
    ids = {
        uid: backend.save("alice", contacts, {"uid": uid, "last_name": uid.title()}).id
        for uid in ("ada", "bob", "cyd")
    }
    spoil: dict[str, bytes | None] = {"with": None}

    class Spoiling(httpx.BaseTransport):
        inner = httpx.WSGITransport(app=app)

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            answer = self.inner.handle_request(request)
            body = answer.read()
            if spoil["with"] is not None:  # bob's response only
                body = re.sub(
                    rb"(<D:response\b(?:(?!</D:response>).)*Robert(?:(?!</D:response>).)*)",
                    lambda m: spoil["with"](m.group(1)),  # type: ignore[misc]
                    body,
                    flags=re.S,
                )
            headers = [(k, v) for k, v in answer.headers.items() if k.lower() != "content-length"]
            return httpx.Response(answer.status_code, headers=headers, content=body)

    ox = OXStore("http://ox.test", "alice", CANARY, transport=Spoiling())
    mem = MemoryStore()
    engine = _engine(ox, mem)
    engine.sync()
    assert set(mem_records(mem, "Contacts")) == {"ada", "bob", "cyd"}
    for spoiler, why in (
        (lambda r: re.sub(rb"(<ox:last_modified>)\d+", rb"\1yesterday", r), "timestamp"),
        (lambda r: r.replace(b">CREATE<", b">RENAMED<"), "object_status"),
    ):
        # bob is edited and listed unreadably while ada changes and a contact appears
        backend.save("alice", contacts, {"uid": "bob", "last_name": "Robert"}, object_id=ids["bob"])
        backend.save("alice", contacts, {"uid": "ada", "last_name": why}, object_id=ids["ada"])
        backend.save("alice", contacts, {"uid": why, "last_name": "New"})
        spoil["with"] = spoiler
        engine.sync()
        records = mem_records(mem, "Contacts")
        assert records["ada"].last_name == why and why in records  # the folder went on
        assert records["bob"].last_name == "Bob"  # kept as it was, not deleted
        (ignored,) = engine.ignored()
        assert ignored.failure == "invalid" and why in ignored.reason, ignored
        spoil["with"] = None  # listed readably again: bob's edit arrives, nothing lost
        engine.sync()
        assert mem_records(mem, "Contacts")["bob"].last_name == "Robert"
        assert engine.ignored() == []
        backend.save("alice", contacts, {"uid": "bob", "last_name": "Bob"}, object_id=ids["bob"])
        engine.sync()


def test_an_appointment_clash_warning_reaches_the_sync_report(
    pair: tuple[OXStore, MemoryStore],
) -> None:
    # OXStore keeps its warnings in a bounded deque; the engine collected lists only, so
    # a clash saved with a warning never reached SyncReport.warnings (nor the CLI)
    ox, mem = pair
    start = datetime(2026, 5, 1, 12, tzinfo=UTC)
    for uid, hours in (("first", 0), ("second", 1)):
        mem.put(
            "calendar",
            Event(uid=uid, summary=uid.title(), start=start, end=start.replace(hour=14 + hours)),
        )
    report = _engine(ox, mem).sync()
    assert not report.errors
    assert any("clash" in w.lower() or "conflict" in w.lower() for w in report.warnings), report
    assert not ox.warnings  # handed over once
