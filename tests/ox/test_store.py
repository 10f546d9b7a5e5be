"""OXStore specifics beyond the conformance suite: rich items, OX errors, folders, LIST."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import attrs
import pytest

from oxsync.adapters.ox import OXResponse, OXStore, failure_of, permission_for
from oxsync.adapters.ox._codec import new_prop
from oxsync.adapters.ox._permissions import OutlookRole
from oxsync.core.records import (
    Alarm,
    Attendee,
    AttendeeKind,
    Contact,
    DistributionList,
    DistributionListMember,
    Emails,
    Event,
    FolderKind,
    FolderType,
    Frequency,
    ParticipationStatus,
    Photo,
    Recurrence,
    Task,
    Weekday,
)
from oxsync.core.store import Applied, Create, Failure, FailureKind, Item, Move, Update
from oxsync.errors import (
    InvalidDataError,
    NotFoundError,
    PermissionDeniedError,
    ReadOnlyStoreError,
)
from oxsync.testing.oxserver import OXBackend, OXPermission
from oxsync.testing.samples import comparable

OWNER = (128, 128, 128, 128, True)
START = datetime(2026, 6, 1, 9, tzinfo=UTC)


def _default(store: OXStore, name: str) -> str:
    return next(f.id for f in store.folders() if f.name == name and f.is_default)


def _create(store: OXStore, folder: str, record: object) -> Applied:
    (result,) = store.apply(folder, [Create(record)])  # type: ignore[arg-type]
    assert isinstance(result, Applied), result
    return result


def _fetch(store: OXStore, folder: str, item_id: str) -> Item:
    got = store.fetch(folder, [item_id])[item_id]
    assert isinstance(got, Item), got
    return got


def test_photo_distribution_list_and_recurrence_round_trip(store: OXStore) -> None:
    contacts, calendar = _default(store, "Contacts"), _default(store, "Calendar")
    tasks = _default(store, "Tasks")
    person = Contact(
        uid="grace",
        first_name="Grace",
        last_name="Hopper",
        emails=Emails(email1="grace@navy.mil"),
        photo=Photo(data=b"\x89PNG\r\n\x1a\n fake", content_type="image/png"),
    )
    team = DistributionList(
        uid="team",
        display_name="Team",
        members=(
            DistributionListMember(
                display_name="Grace", email="grace@navy.mil", contact_uid="grace", email_slot=1
            ),
            DistributionListMember(display_name="Ext", email="ext@example.org"),
        ),
    )
    weekly = Event(
        uid="weekly",
        summary="Standup",
        start=START,
        end=START + timedelta(minutes=15),
        timezone="Europe/Berlin",
        alarm=Alarm(minutes_before=5),
        recurrence=Recurrence(
            frequency=Frequency.WEEKLY,
            weekdays=Weekday.MONDAY | Weekday.THURSDAY,
            until=date(2026, 12, 31),
        ),
    )
    chore = Task(
        uid="chore",
        summary="Report",
        due=date(2026, 6, 30),
        alarm=Alarm(at=datetime(2026, 6, 29, 8, tzinfo=UTC)),
        recurrence=Recurrence(frequency=Frequency.MONTHLY, day_of_month=30, count=6),
    )
    caps = store.capabilities
    for folder, record in (
        (contacts, person),
        (contacts, team),
        (calendar, weekly),
        (tasks, chore),
    ):
        applied = _create(store, folder, record)
        got = _fetch(store, folder, applied.id).record
        assert comparable(got, caps) == comparable(record, caps), type(record).__name__


def test_move_keeps_the_recurrence_and_alarm_of_an_appointment(store: OXStore) -> None:
    calendar = _default(store, "Calendar")
    other = store.create_folder("Other calendar", FolderKind.CALENDAR)
    series = Event(
        uid="s",
        summary="Series",
        start=START,
        end=START + timedelta(hours=1),
        alarm=Alarm(minutes_before=10),
        recurrence=Recurrence(frequency=Frequency.DAILY, interval=2, count=5),
    )
    applied = _create(store, calendar, series)
    (moved,) = store.apply(calendar, [Move(applied.id, other.id, applied.version)])
    assert isinstance(moved, Applied)
    got = _fetch(store, other.id, moved.id).record
    assert got.recurrence == series.recurrence and got.alarm == series.alarm  # type: ignore[union-attr]


def test_appointment_clash_is_saved_with_a_warning_but_a_booked_room_is_refused(
    store: OXStore, backend: OXBackend
) -> None:
    calendar = _default(store, "Calendar")
    first = Event(uid="a", summary="Planning", start=START, end=START + timedelta(hours=2))
    _create(store, calendar, first)
    second = attrs.evolve(
        first,
        uid="b",
        summary="Overlap",
        start=START + timedelta(hours=1),
        end=START + timedelta(hours=3),
    )
    _create(store, calendar, second)
    assert len(store.warnings) == 1 and "'Planning'" in store.warnings[0]

    room = backend.add_resource("Room 7")
    attendee = Attendee(kind=AttendeeKind.RESOURCE, user_id=str(room.id), name="Room 7")
    booked = attrs.evolve(first, uid="c", summary="Booked", attendees=(attendee,))
    backend.save(
        "bob",
        backend.default_folder("bob", "calendar"),
        {
            "title": "Bob has the room",
            "start_date": int(START.timestamp() * 1000),
            "end_date": int((START + timedelta(hours=1)).timestamp() * 1000),
            "participants": _participants(room.id),
        },
    )
    (refused,) = store.apply(calendar, [Create(booked)])
    assert isinstance(refused, Failure) and refused.kind is FailureKind.INVALID
    assert "[1006]" in refused.message and "Bob has the room" in refused.message


def _participants(resource_id: int):  # type: ignore[no-untyped-def]
    from lxml import etree

    return etree.fromstring(
        f'<ox:participants xmlns:ox="http://www.open-xchange.org"><ox:resource '
        f'ox:external="false">{resource_id}</ox:resource></ox:participants>'
    )


def test_stale_update_is_a_conflict_and_missing_item_not_found(store: OXStore) -> None:
    contacts = _default(store, "Contacts")
    first = _create(store, contacts, Contact(uid="x", last_name="One"))
    (ok,) = store.apply(
        contacts, [Update(first.id, Contact(uid="x", last_name="Two"), first.version)]
    )
    assert isinstance(ok, Applied)
    stale, gone = store.apply(
        contacts,
        [
            Update(first.id, Contact(uid="x", last_name="Three"), first.version),
            Update("987654", Contact(uid="y"), "1"),
        ],
    )
    assert isinstance(stale, Failure) and stale.kind is FailureKind.CONFLICT
    assert "[1000]" in stale.message
    assert isinstance(gone, Failure) and gone.kind is FailureKind.NOT_FOUND


def test_new_style_error_codes_are_understood() -> None:
    def resp(status: int, text: str) -> OXResponse:
        return OXResponse("0", status, text, None, new_prop())

    assert failure_of(resp(409, "[CON-0119] Conflict")).kind is FailureKind.CONFLICT
    assert failure_of(resp(409, "[APP-0042] Missing field")).kind is FailureKind.INVALID
    assert failure_of(resp(403, "[CON-0004] No permission")).kind is FailureKind.PERMISSION
    assert failure_of(resp(500, "[CON-0500] Server Error - x")).kind is FailureKind.TRANSIENT
    old = OXResponse("0", 409, "[1003] Conflict", 1003, new_prop())
    assert failure_of(old).kind is FailureKind.INVALID


def test_missed_deletion_is_found_through_the_list_entry(
    store: OXStore, backend: OXBackend
) -> None:
    contacts = _default(store, "Contacts")
    keep = _create(store, contacts, Contact(uid="keep", last_name="Keep"))
    doomed = _create(store, contacts, Contact(uid="doomed", last_name="Doomed"))
    cursor = store.changes(contacts, None).cursor
    store.list_every = 3600.0
    first = store.changes(contacts, cursor)  # LIST on the first delta: nothing missed
    assert not first.changed and not first.deleted
    backend.delete("alice", int(doomed.id))
    backend.tombstones.clear()  # the server forgot its tombstones
    quiet = store.changes(contacts, first.cursor)  # no LIST this time: not seen yet
    assert not quiet.deleted
    store.list_every = 0.0
    changes = store.changes(contacts, quiet.cursor)
    assert list(changes.deleted) == [doomed.id] and not changes.changed
    assert keep.id not in changes.deleted


def test_folders_shared_gal_permissions_and_default_protection(
    store: OXStore, backend: OXBackend
) -> None:
    shared = backend.add_folder("bob", "Projects", "contact")
    backend.share(
        shared.id, [OXPermission(3, False, *OWNER), OXPermission(2, False, 2, 4, 0, 0, False)]
    )
    folders = {f.id: f for f in store.folders()}
    theirs = folders[str(shared.id)]
    assert (theirs.name, theirs.type, theirs.read_only, theirs.parent_id) == (
        "Bob Brown – Projects",
        FolderType.SHARED,
        True,
        None,
    )
    gal = folders["6"]
    assert gal.type is FolderType.SYSTEM and gal.read_only
    gal_names = {
        i.record.display_name
        for i in store.fetch(  # type: ignore[union-attr]
            "6", [r.id for r in store.changes("6", None).changed]
        ).values()
    }
    assert {"Alice Adams", "Bob Brown", "Carol Clark"} <= gal_names

    mine = store.create_folder("Shared by Alice", theirs.kind)
    carol = str(backend.user("carol").id)
    reviewer = permission_for(OutlookRole.REVIEWER, carol)
    owner = permission_for(OutlookRole.OWNER, "2")
    updated = store.set_permissions(mine.id, [owner, reviewer])
    assert set(updated.permissions) == {owner, reviewer}
    carol_view = OXStore(
        "http://ox.test", "carol", "carol-pw", transport=store.client._http._transport
    )
    assert any(f.name == "Alice Adams – Shared by Alice" for f in carol_view.folders())
    with pytest.raises(PermissionDeniedError):
        store.delete_folder(_default(store, "Contacts"))


def test_confirm_answers_an_invitation(store: OXStore, backend: OXBackend) -> None:
    cal = backend.default_folder("bob", "calendar")
    backend.share(cal, [OXPermission(3, False, *OWNER), OXPermission(2, False, 2, 4, 4, 0, False)])
    meeting = backend.save("bob", cal, {"title": "Invite", "start_date": 0, "end_date": 1})
    result = store.confirm(str(cal), str(meeting.id), ParticipationStatus.TENTATIVE, "maybe")
    assert isinstance(result, Applied)
    (entry,) = backend.objects[meeting.id].fields["participants"]
    assert entry.get("{http://www.open-xchange.org}confirm") == "tentative"


def test_directory_and_groups_as_distribution_lists(store: OXStore, backend: OXBackend) -> None:
    backend.add_group("Sales", ["alice", "carol"])
    backend.add_resource("Projector")
    directory = store.directory()
    assert directory.me is not None and directory.me.display_name == "Alice Adams"
    assert [r.name for r in directory.resources] == ["Projector"]
    (sales,) = store.group_lists()
    assert sales.display_name == "Sales"
    assert [m.email for m in sales.members] == ["alice@example.org", "carol@example.org"]


def test_list_member_points_at_a_contact_created_earlier_in_the_same_apply(
    store: OXStore, backend: OXBackend
) -> None:
    contacts = _default(store, "Contacts")
    person = Contact(uid="ada", last_name="Lovelace", emails=Emails(email1="ada@x.org"))
    group = DistributionList(
        uid="g",
        display_name="G",
        members=(DistributionListMember(email="ada@x.org", contact_uid="ada", email_slot=1),),
    )
    store.batch_size = 1  # the contact's answer is in before the list is written
    first, second = store.apply(contacts, [Create(person), Create(group)])
    assert isinstance(first, Applied) and isinstance(second, Applied)
    (entry,) = backend.objects[int(second.id)].fields["distributionlist"]
    assert entry.get("{http://www.open-xchange.org}id") == first.id


@pytest.mark.parametrize("name", ["Contacts", "Calendar", "Tasks"])
def test_attachments_put_get_list_delete(store: OXStore, backend: OXBackend, name: str) -> None:
    from oxsync.core.records import Attachment

    folder = _default(store, name)
    record = {
        "Contacts": Contact(uid="att", last_name="Files"),
        "Calendar": Event(uid="att", summary="Files", start=START, end=START + timedelta(hours=1)),
        "Tasks": Task(uid="att", summary="Files"),
    }[name]
    item = _create(store, folder, record)
    doc = Attachment(
        filename="Relevé août.pdf", content_type="application/pdf", data=b"%PDF-1.4 \x00\xff binary"
    )
    att_id = store.add_attachment(folder, item.id, doc)
    (info,) = store.attachments(folder, item.id)
    assert (info.id, info.filename, info.content_type, info.rtf) == (
        att_id,
        "Relevé août.pdf",
        "application/pdf",
        False,
    )
    assert store.read_attachment(folder, item.id, att_id) == doc
    # the item's version moved, and a listing shows the attachment element
    assert _fetch(store, folder, item.id).version != item.version
    store.remove_attachment(folder, item.id, att_id)
    assert store.attachments(folder, item.id) == []
    with pytest.raises(NotFoundError):
        store.remove_attachment(folder, item.id, att_id)


def test_attachments_need_write_rights(store: OXStore, backend: OXBackend) -> None:
    from oxsync.core.records import Attachment

    shared = backend.add_folder("bob", "Read only", "contact")
    backend.share(
        shared.id, [OXPermission(3, False, *OWNER), OXPermission(2, False, 2, 4, 0, 0, False)]
    )
    obj = backend.save("bob", shared.id, {"last_name": "Bob's"})
    with pytest.raises(PermissionDeniedError):
        store.client.put_attachment(7, str(shared.id), str(obj.id), "x.txt", b"x")
    assert store.attachments(str(shared.id), str(obj.id)) == []
    with pytest.raises(ReadOnlyStoreError):
        OXStore(
            "http://ox.test", "alice", "x", read_only=True, transport=store.client._http._transport
        ).add_attachment(str(shared.id), str(obj.id), Attachment(filename="y"))


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("batch_size", 0),  # range(0, n, 0) stopped every write with a bare ValueError
        ("batch_size", 2.5),
        ("max_bytes", 0),
        ("push_port", 0),
        ("push_port", 65536),  # the socket raised OverflowError when push started
        ("timeout", 0),  # every request would time out at once
        ("timeout", float("nan")),
        ("list_every", -1.0),
        ("list_every", float("inf")),
    ],
)
def test_option_values_that_could_only_fail_later_are_refused_at_once(
    option: str, value: object
) -> None:
    with pytest.raises(InvalidDataError, match=option):
        OXStore("https://ox.example", "u", "secret", **{option: value})  # type: ignore[arg-type]


def test_batch_size_one_and_the_edges_of_the_port_range_are_accepted() -> None:
    for options in ({"batch_size": 1, "push_port": 1}, {"push_port": 65535, "list_every": 0}):
        OXStore("https://ox.example", "u", "secret", **options).close()  # type: ignore[arg-type]
