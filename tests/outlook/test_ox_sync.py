"""Two-way sync Outlook (fake object model) <-> OX (in-process test server)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import attrs
import pytest

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.outlook import OutlookStore
from oxsync.adapters.ox import OXStore
from oxsync.core import records as r
from oxsync.core.records import FolderKind, ItemKind
from oxsync.core.store import Update
from oxsync.testing.outlook import Application, constants
from oxsync.testing.samples import comparable, sample
from tests.outlook.helpers import default


def listing(store: Any, folder: str) -> dict[str, Any]:
    """uid -> record of a folder, through a full listing."""
    ids = [ref.id for ref in store.changes(folder, None).changed]
    return {item.record.uid: item.record for item in store.fetch(folder, ids).values()}


def both(a: Any, b: Any, record: Any) -> dict[str, object]:
    """``record`` without what either store cannot keep."""
    data = comparable(record, a.capabilities)
    kind = r.item_kind_of(record)
    for name in b.capabilities.unsupported_fields.get(kind, ()):
        head, _, rest = name.partition(".")
        if rest and isinstance(data.get(head), dict):
            data[head].pop(rest, None)
        else:
            data.pop(name, None)
    return data


def test_outlook_and_ox_sync_both_ways(ox: OXStore) -> None:
    app = Application(tz="Europe/Paris", list_separator=",")  # an en-US Windows
    outlook = OutlookStore(app)
    engine = SyncEngine(
        outlook, ox, state=State(":memory:"), policy=Policy.NEWEST_WINS, backoff=0.0
    )
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    series = r.Event(
        uid="series-1",
        summary="Weekly",
        location="Room 1",
        start=start,
        end=start.replace(hour=10),
        timezone="Europe/Paris",
        sensitivity=r.Sensitivity.PRIVATE,
        categories=("Team; A", "B"),  # ";" is no separator for Outlook here, nor for OX
        recurrence=r.Recurrence(
            frequency=r.Frequency.WEEKLY,
            weekdays=r.Weekday.MONDAY,
            count=6,
            deleted=(date(2026, 3, 9),),
        ),
    )
    person = attrs.evolve(sample(ItemKind.CONTACT, 1), photo=r.Photo(data=b"\xff\xd8jpeg"))
    team = sample(ItemKind.DISTRIBUTION_LIST, 2)
    task = attrs.evolve(sample(ItemKind.TASK, 3), sensitivity=r.Sensitivity.PRIVATE)
    written = {
        FolderKind.CALENDAR: [series],
        FolderKind.CONTACTS: [person, team],
        FolderKind.TASKS: [task],
    }
    for kind, records in written.items():
        from oxsync.core.store import Create

        results = outlook.apply(default(outlook, kind), [Create(x) for x in records])
        assert all(type(x).__name__ == "Applied" for x in results), results
    report = engine.sync()
    assert report.b.created == 4, (report.to_dict(), [str(i) for i in engine.ignored()])
    assert not engine.ignored()
    for kind, records in written.items():
        on_ox = listing(ox, default(ox, kind))
        for record in records:
            assert both(outlook, ox, on_ox[record.uid]) == both(outlook, ox, record), kind
    # an edit on the OX side comes back into Outlook
    contacts = default(ox, FolderKind.CONTACTS)
    ref = next(
        x
        for x in ox.changes(contacts, None).changed
        if listing(ox, contacts).get(person.uid) is not None
        and ox.fetch(contacts, [x.id])[x.id].record.uid == person.uid
    )
    (result,) = ox.apply(
        contacts, [Update(ref.id, attrs.evolve(person, nickname="Countess"), ref.version)]
    )
    assert type(result).__name__ == "Applied", result
    engine.sync()
    folder = app.Session.GetDefaultFolder(constants.olFolderContacts)
    mine = [i for i in folder.Items if i.Class == constants.olContact]
    assert [i.NickName for i in mine] == ["Countess"]
    assert mine[0].HasPicture
    # and nothing moves on a third sync
    report = engine.sync()
    assert report.changed == 0, report.to_dict()


def test_a_category_holding_the_ox_separator_is_ignored_with_a_reason(ox: OXStore) -> None:
    app = Application(tz="Europe/Paris", list_separator=";")  # a French Windows
    outlook = OutlookStore(app)
    engine = SyncEngine(
        outlook, ox, state=State(":memory:"), policy=Policy.NEWEST_WINS, backoff=0.0
    )
    item = app.Session.GetDefaultFolder(constants.olFolderContacts).Items.Add()
    item.LastName, item.Categories = "Curie", "Physics, chemistry;Nobel"
    item.Save()
    engine.sync()
    (ignored,) = engine.ignored()
    assert "Physics, chemistry" in ignored.reason and "separator" in ignored.reason


def _filled(cls: type, prefix: str) -> Any:
    """An instance of an all-text attrs class with every field set."""
    return cls(**{a.name: f"{prefix}-{a.name}" for a in attrs.fields(cls)})


def full_contact() -> r.Contact:
    """A contact with every field of Annex B table 11.1 (and the extras) set."""
    texts = {
        a.name: f"c-{a.name}"
        for a in attrs.fields(r.Contact)
        if a.type in ("str | None", str | None)
        # the HTML note has tests of its own (Outlook derives the plain text from it)
        and a.name not in ("uid", "gender", "selected_mailing_address", "note_html")
    }
    return r.Contact(
        uid="annex-b-contact",
        **texts,
        gender="female",
        selected_mailing_address="business",
        phones=_filled(r.Phones, "+33 1"),
        emails=r.Emails(
            email1="one@example.org",
            email2="two@example.org",
            email3="three@example.org",
            email1_display_name="One",
            email2_display_name="Two",
            email3_display_name="Three",
        ),
        business_address=_filled(r.Address, "b"),
        home_address=_filled(r.Address, "h"),
        other_address=_filled(r.Address, "o"),
        birthday=date(1815, 12, 10),
        anniversary=date(1835, 7, 8),
        categories=("Work", "VIP"),
        sensitivity=r.Sensitivity.PRIVATE,
        user_fields=("u1", "u2"),
        photo=r.Photo(data=b"\xff\xd8\xff\xe0 jpeg"),
    )


def full_task() -> r.Task:
    """A task with every field of Annex B table 11.3 set."""
    return r.Task(
        uid="annex-b-task",
        summary="Annex B task",
        start=date(2026, 3, 2),
        due=date(2026, 3, 9),
        status=r.TaskStatus.IN_PROGRESS,
        importance=r.Importance.HIGH,
        percent_complete=40,
        alarm=r.Alarm(at=datetime(2026, 3, 8, 8, 0, tzinfo=UTC)),
        note="Details",
        categories=("Ops",),
        sensitivity=r.Sensitivity.PRIVATE,
        total_work=480,
        actual_work=120,
        companies="ACME",
        mileage="42 km",
        billing_information="Project X",
        owner="grace@example.org",
    )


def full_event() -> r.Event:
    """An appointment with every field of Annex B table 11.2 set."""
    start = datetime(2026, 3, 3, 13, 0, tzinfo=UTC)
    return r.Event(
        uid="annex-b-event",
        summary="Annex B meeting",
        location="Salle 3",
        start=start,
        end=start.replace(hour=14),
        timezone="Europe/Paris",
        busy_status=r.BusyStatus.TENTATIVE,
        alarm=r.Alarm(minutes_before=30),
        note="Agenda",
        categories=("Meetings",),
        sensitivity=r.Sensitivity.PRIVATE,
        color_label=3,
        attendees=(r.Attendee(email="bob@example.org", name="Bob", kind=r.AttendeeKind.EXTERNAL),),
        recurrence=r.Recurrence(
            frequency=r.Frequency.WEEKLY,
            weekdays=r.Weekday.TUESDAY,
            count=5,
            deleted=(date(2026, 3, 10),),
        ),
        exceptions=(
            r.EventException(
                original_start=datetime(2026, 3, 17, 13, 0, tzinfo=UTC),
                summary="Moved",
                start=datetime(2026, 3, 18, 9, 0, tzinfo=UTC),
                end=datetime(2026, 3, 18, 10, 0, tzinfo=UTC),
            ),
        ),
    )


@pytest.mark.parametrize("make", [full_contact, full_task, full_event])
def test_every_annex_b_field_goes_outlook_to_ox_and_back(ox: OXStore, make: Any) -> None:
    from oxsync.core.store import Create

    app = Application(tz="Europe/Paris", list_separator=";")
    outlook = OutlookStore(app)
    engine = SyncEngine(
        outlook, ox, state=State(":memory:"), policy=Policy.NEWEST_WINS, backoff=0.0
    )
    record = make()
    kind = r.item_kind_of(record)
    folder_kind = {
        ItemKind.CONTACT: FolderKind.CONTACTS,
        ItemKind.TASK: FolderKind.TASKS,
        ItemKind.EVENT: FolderKind.CALENDAR,
    }[kind]
    (made,) = outlook.apply(default(outlook, folder_kind), [Create(record)])
    assert type(made).__name__ == "Applied", made
    engine.sync()
    assert not engine.ignored(), [i.reason for i in engine.ignored()]
    on_ox = listing(ox, default(ox, folder_kind))[record.uid]
    assert both(outlook, ox, on_ox) == both(outlook, ox, record)
    # a change on OX comes back to Outlook with everything else intact
    folder = default(ox, folder_kind)
    ref = next(
        x
        for x in ox.changes(folder, None).changed
        if ox.fetch(folder, [x.id])[x.id].record.uid == record.uid
    )
    edited = attrs.evolve(on_ox, note="edited on OX")
    (result,) = ox.apply(folder, [Update(ref.id, edited, ref.version)])
    assert type(result).__name__ == "Applied", result
    engine.sync()
    back = listing(outlook, default(outlook, folder_kind))[record.uid]
    assert both(outlook, ox, back) == both(outlook, ox, attrs.evolve(record, note="edited on OX"))


def test_series_with_moved_and_deleted_occurrences_syncs_both_ways(ox: OXStore) -> None:
    from datetime import timedelta

    from oxsync.core.store import Applied, Create, Item

    app = Application(tz="Europe/Paris", list_separator=",")
    outlook = OutlookStore(app)
    engine = SyncEngine(
        outlook, ox, state=State(":memory:"), policy=Policy.NEWEST_WINS, backoff=0.0
    )
    start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # Mondays 09:00 in Paris
    week = timedelta(days=7)
    moved = r.EventException(
        original_start=start + week,
        summary="Moved weekly",
        start=start + week + timedelta(days=1, hours=2),
        end=start + week + timedelta(days=1, hours=3),
    )
    series = r.Event(
        uid="moved-and-deleted",
        summary="Weekly",
        start=start,
        end=start + timedelta(hours=1),
        timezone="Europe/Paris",
        recurrence=r.Recurrence(
            frequency=r.Frequency.WEEKLY,
            weekdays=r.Weekday.MONDAY,
            count=6,
            deleted=(date(2026, 3, 16),),
        ),
        exceptions=(moved,),
    )
    calendar = default(outlook, FolderKind.CALENDAR)
    (made,) = outlook.apply(calendar, [Create(series)])
    assert isinstance(made, Applied), made
    report = engine.sync()
    assert report.b.created == 1 and not report.errors, report.to_dict()
    on_ox = listing(ox, default(ox, FolderKind.CALENDAR))["moved-and-deleted"]
    assert on_ox.recurrence.deleted == (date(2026, 3, 16),)
    assert on_ox.exceptions == (moved,)
    assert engine.sync().changed == 0

    # OX moves another occurrence and deletes the moved one; Outlook follows
    ox_calendar = default(ox, FolderKind.CALENDAR)
    ref = next(iter(ox.changes(ox_calendar, None).changed))
    item = ox.fetch(ox_calendar, [ref.id])[ref.id]
    assert isinstance(item, Item), item
    later = r.EventException(original_start=start + 3 * week, location="Annex")
    rule = attrs.evolve(series.recurrence, deleted=(date(2026, 3, 9), date(2026, 3, 16)))
    edited = attrs.evolve(item.record, recurrence=rule, exceptions=(later,))  # type: ignore[union-attr]
    (result,) = ox.apply(ox_calendar, [Update(ref.id, edited, ref.version)])
    assert isinstance(result, Applied), result
    report = engine.sync()
    assert report.a.updated == 1 and not report.errors, report.to_dict()
    (back,) = [x.record for x in outlook.fetch(calendar, [made.id]).values()]  # type: ignore[union-attr]
    assert back.recurrence.deleted == (date(2026, 3, 9), date(2026, 3, 16))
    assert back.exceptions == (later,)
    assert engine.sync().changed == 0
