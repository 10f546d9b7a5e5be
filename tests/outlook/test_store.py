"""OutlookStore over the fake object model: listing, identity, time, errors, events."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from typing import Any

import attrs
import pytest

from oxsync.adapters.outlook import KEY_PROPERTY, OutlookStore, OutlookUnavailableError
from oxsync.adapters.outlook._errors import translate
from oxsync.adapters.outlook._time import from_com, to_com, version_of
from oxsync.core import records as r
from oxsync.core.records import FolderKind, ItemKind
from oxsync.core.serial import fingerprint
from oxsync.core.store import Applied, Create, Delete, Failure, FailureKind, Item, Move, Update
from oxsync.errors import ConfigError, InvalidDataError, NotFoundError, TransientError
from oxsync.testing.outlook import Application, com_error, constants
from oxsync.testing.samples import sample
from tests.outlook.helpers import default


@pytest.fixture
def app() -> Application:
    return Application(tz="Europe/Paris", list_separator=";")


@pytest.fixture
def store(app: Application) -> OutlookStore:
    return OutlookStore(app)


def create(store: OutlookStore, folder: str, record: r.Record) -> Applied:
    (result,) = store.apply(folder, [Create(record)])
    assert isinstance(result, Applied), result
    return result


def fetch(store: OutlookStore, folder: str, item_id: str) -> Item:
    got = store.fetch(folder, [item_id])[item_id]
    assert isinstance(got, Item), got
    return got


def outlook_contacts(app: Application) -> Any:
    return app.Session.GetDefaultFolder(constants.olFolderContacts)


# ---------------------------------------------------------------- construction


def test_import_needs_no_pywin32_and_construction_without_outlook_explains() -> None:
    code = (
        "import sys, oxsync.adapters.outlook as o\n"
        "assert 'win32com' not in sys.modules and 'win32com.client' not in sys.modules\n"
        "try:\n    o.OutlookStore()\nexcept o.OutlookUnavailableError as e:\n    print(e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "Windows" in out and "oxsync[outlook]" in out


@pytest.mark.skipif(sys.platform == "win32", reason="the error is for other systems")
def test_constructing_without_application_off_windows_is_a_config_error() -> None:
    with pytest.raises(OutlookUnavailableError) as info:
        OutlookStore()
    assert isinstance(info.value, ConfigError)
    assert "needs Windows" in str(info.value) and "outlook" in str(info.value)


def test_folders_are_the_default_folders_and_their_subfolders(app: Application) -> None:
    outlook_contacts(app).Folders.Add("Friends")
    outlook_contacts(app).Folders.Add("Notes folder", constants.olFolderNotes)
    store = OutlookStore(app)
    folders = store.folders()
    names = {(f.name, f.kind, f.is_default) for f in folders}
    assert ("Friends", FolderKind.CONTACTS, False) in names
    assert "Notes folder" not in {f.name for f in folders}
    friends = next(f for f in folders if f.name == "Friends")
    assert friends.parent_id == default(store, FolderKind.CONTACTS)


def test_default_folders_cannot_be_renamed_or_deleted(store: OutlookStore) -> None:
    contacts = default(store, FolderKind.CONTACTS)
    with pytest.raises(Exception, match="default"):
        store.rename_folder(contacts, "x")
    with pytest.raises(Exception, match="default"):
        store.delete_folder(contacts)


# ---------------------------------------------------------------- listing


def test_listing_costs_a_constant_number_of_calls_per_item(app: Application) -> None:
    store = OutlookStore(app)
    folder = default(store, FolderKind.CONTACTS)
    store.apply(folder, [Create(sample(ItemKind.CONTACT, i)) for i in range(100)])
    before = app.calls
    store.changes(folder, None)
    small = app.calls - before
    store.apply(folder, [Create(sample(ItemKind.CONTACT, i)) for i in range(100, 400)])
    before = app.calls
    listing = store.changes(folder, None)
    large = app.calls - before
    assert len(listing.changed) == 400
    assert (large - small) / 300 <= 2.5  # GetNextRow + GetValues per row, nothing opened


def test_delta_lists_changes_and_deletions_found_by_absence(
    app: Application, store: OutlookStore
) -> None:
    folder = default(store, FolderKind.CONTACTS)
    a = create(store, folder, sample(ItemKind.CONTACT, 1))
    b = create(store, folder, sample(ItemKind.CONTACT, 2))
    first = store.changes(folder, None)
    assert first.full
    app.Session.GetItemFromID(store._entries[folder][b.id].entry_id).Delete()  # by the user
    delta = store.changes(folder, first.cursor)
    assert not delta.full and list(delta.deleted) == [b.id] and not delta.changed
    other = OutlookStore(app)  # another process: the cursor means nothing there
    assert other.changes(folder, delta.cursor).full
    assert {ref.id for ref in other.changes(folder, None).changed} == {a.id}


def test_items_created_in_outlook_get_a_key_once(app: Application, store: OutlookStore) -> None:
    folder = default(store, FolderKind.CONTACTS)
    item = outlook_contacts(app).Items.Add()
    item.LastName = "Hopper"
    item.Save()
    (ref,) = store.changes(folder, None).changed
    assert app.Session.GetItemFromID(item.EntryID).UserProperties.Find(KEY_PROPERTY).Value == ref.id
    again = store.changes(folder, None)
    assert [(x.id, x.version) for x in again.changed] == [(ref.id, ref.version)]
    got = fetch(store, folder, ref.id)
    assert got.record.last_name == "Hopper" and got.record.uid


def test_item_moved_in_outlook_keeps_its_id(app: Application, store: OutlookStore) -> None:
    folder = default(store, FolderKind.CONTACTS)
    sub = store.create_folder("Friends", FolderKind.CONTACTS, folder)
    applied = create(store, folder, sample(ItemKind.CONTACT, 1))
    store.changes(folder, None)
    entry = store._entries[folder][applied.id].entry_id
    app.Session.GetItemFromID(entry).Move(app.Session.GetFolderFromID(sub.id))
    assert applied.id not in {x.id for x in store.changes(folder, None).changed}
    (moved,) = store.changes(sub.id, None).changed
    assert moved.id == applied.id
    assert fetch(store, sub.id, moved.id).record.uid == sample(ItemKind.CONTACT, 1).uid


def test_copies_are_new_items_not_merged(app: Application, store: OutlookStore) -> None:
    folder = default(store, FolderKind.CONTACTS)
    applied = create(store, folder, sample(ItemKind.CONTACT, 1))
    store.changes(folder, None)
    app.clock.advance(seconds=5)
    app.Session.GetItemFromID(store._entries[folder][applied.id].entry_id).Copy()
    ids = [x.id for x in store.changes(folder, None).changed]
    assert len(ids) == 2 and applied.id in ids
    copy_id = next(i for i in ids if i != applied.id)
    original, copy = fetch(store, folder, applied.id), fetch(store, folder, copy_id)
    assert original.record.uid == sample(ItemKind.CONTACT, 1).uid
    assert copy.record.uid != original.record.uid
    assert copy.record.last_name == original.record.last_name


def test_copy_into_another_folder_is_detected_too(app: Application, store: OutlookStore) -> None:
    folder = default(store, FolderKind.CONTACTS)
    sub = store.create_folder("Friends", FolderKind.CONTACTS, folder)
    applied = create(store, folder, sample(ItemKind.CONTACT, 1))
    store.changes(folder, None)
    app.clock.advance(seconds=5)
    item = app.Session.GetItemFromID(store._entries[folder][applied.id].entry_id)
    item.Copy().Move(app.Session.GetFolderFromID(sub.id))
    (there,) = store.changes(sub.id, None).changed
    assert there.id != applied.id
    assert [x.id for x in store.changes(folder, None).changed] == [applied.id]


def test_reminder_dismissal_moves_the_version_not_the_fingerprint(
    app: Application, store: OutlookStore
) -> None:
    folder = default(store, FolderKind.CALENDAR)
    applied = create(store, folder, sample(ItemKind.EVENT, 1))
    before = fetch(store, folder, applied.id)
    app.clock.advance(minutes=1)
    (reminder,) = app.Reminders
    reminder.Dismiss()
    (ref,) = store.changes(folder, None).changed
    after = fetch(store, folder, applied.id)
    assert ref.version != applied.version and after.version == ref.version
    assert fingerprint(after.record) == fingerprint(before.record)


# ---------------------------------------------------------------- writing


def test_stale_version_conflicts_and_gone_items_are_not_found(
    app: Application, store: OutlookStore
) -> None:
    folder = default(store, FolderKind.CONTACTS)
    applied = create(store, folder, sample(ItemKind.CONTACT, 1))
    outlook = app.Session.GetItemFromID(store._entries[folder][applied.id].entry_id)
    outlook.NickName = "changed in Outlook"
    outlook.Save()
    (stale,) = store.apply(
        folder, [Update(applied.id, sample(ItemKind.CONTACT, 1), applied.version)]
    )
    assert isinstance(stale, Failure) and stale.kind is FailureKind.CONFLICT
    store.apply(folder, [Delete(applied.id)])
    (gone,) = store.apply(folder, [Move(applied.id, folder)])
    assert isinstance(gone, Failure) and gone.kind is FailureKind.NOT_FOUND
    deleted = app.Session.GetDefaultFolder(constants.olFolderDeletedItems)
    assert deleted.Items.Count == 1  # sync deletes go to Deleted Items, like a user's


def test_outlook_refusing_an_item_is_an_invalid_failure(store: OutlookStore) -> None:
    folder = default(store, FolderKind.CALENDAR)
    start = datetime(2026, 3, 2, 10, tzinfo=UTC)
    bad = r.Event(summary="backwards", start=start, end=start.replace(hour=9))
    (result,) = store.apply(folder, [Create(bad)])
    assert isinstance(result, Failure) and result.kind is FailureKind.INVALID
    (wrong,) = store.apply(folder, [Create(sample(ItemKind.CONTACT, 1))])
    assert isinstance(wrong, Failure) and wrong.kind is FailureKind.INVALID


def test_event_times_are_local_in_outlook(app: Application, store: OutlookStore) -> None:
    folder = default(store, FolderKind.CALENDAR)
    start = datetime(2026, 7, 1, 7, 30, tzinfo=UTC)
    event = r.Event(
        uid="e1", summary="x", start=start, end=start.replace(hour=8), timezone="America/New_York"
    )
    applied = create(store, folder, event)
    item = app.Session.GetItemFromID(store._entries[folder][applied.id].entry_id)
    assert item.Start.replace(tzinfo=None) == datetime(2026, 7, 1, 9, 30)  # Paris summer
    assert item.StartTimeZone.ID == "Eastern Standard Time"
    assert item.StartInStartTimeZone.replace(tzinfo=None) == datetime(2026, 7, 1, 3, 30)
    got = fetch(store, folder, applied.id).record
    assert got.start == start and got.timezone == "America/New_York"


def test_all_day_events_round_trip_as_dates(app: Application, store: OutlookStore) -> None:
    folder = default(store, FolderKind.CALENDAR)
    event = r.Event(
        uid="d1", summary="Holiday", start=date(2026, 3, 30), end=date(2026, 3, 31), all_day=True
    )
    applied = create(store, folder, event)
    item = app.Session.GetItemFromID(store._entries[folder][applied.id].entry_id)
    assert item.Start.replace(tzinfo=None) == datetime(2026, 3, 30)
    got = fetch(store, folder, applied.id).record
    assert (got.start, got.end, got.all_day) == (date(2026, 3, 30), date(2026, 3, 31), True)


def test_recurring_series_with_deleted_and_moved_occurrences(store: OutlookStore) -> None:
    folder = default(store, FolderKind.CALENDAR)
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Monday 10:00 Paris
    event = r.Event(
        uid="series-1",
        summary="Weekly",
        start=start,
        end=start.replace(hour=10),
        timezone="Europe/Paris",
        recurrence=r.Recurrence(
            frequency=r.Frequency.WEEKLY,
            weekdays=r.Weekday.MONDAY,
            count=6,
            deleted=(date(2026, 3, 9),),
        ),
        exceptions=(
            r.EventException(
                original_start=datetime(2026, 3, 16, 9, 0, tzinfo=UTC),
                summary="Moved one",
                start=datetime(2026, 3, 17, 13, 0, tzinfo=UTC),
                end=datetime(2026, 3, 17, 14, 0, tzinfo=UTC),
            ),
        ),
    )
    applied = create(store, folder, event)
    got = fetch(store, folder, applied.id).record
    assert isinstance(got, r.Event) and got.recurrence is not None
    assert got.recurrence.deleted == (date(2026, 3, 9),)
    (change,) = got.exceptions
    assert change.summary == "Moved one"
    assert change.start == datetime(2026, 3, 17, 13, 0, tzinfo=UTC)
    assert change.location is None  # unchanged fields keep the series value


@pytest.mark.parametrize(("separator", "other"), [(";", ","), (",", ";")])
def test_categories_with_either_list_separator(separator: str, other: str) -> None:
    app = Application(list_separator=separator)
    store = OutlookStore(app)
    folder = default(store, FolderKind.CONTACTS)
    tricky = f"Family{other} Friends"  # the other separator is an ordinary character
    record = attrs.evolve(sample(ItemKind.CONTACT, 1), categories=("Work", tricky))
    applied = create(store, folder, record)
    item = app.Session.GetItemFromID(store._entries[folder][applied.id].entry_id)
    assert item.Categories == f"Work{separator}{tricky}"
    assert fetch(store, folder, applied.id).record.categories == record.categories


def test_private_photo_list_and_delegated_task(app: Application, store: OutlookStore) -> None:
    contacts = default(store, FolderKind.CONTACTS)
    person = attrs.evolve(
        sample(ItemKind.CONTACT, 1),
        sensitivity=r.Sensitivity.PRIVATE,
        photo=r.Photo(data=b"\xff\xd8 jpeg bytes"),
    )
    applied = create(store, contacts, person)
    got = fetch(store, contacts, applied.id).record
    assert got.sensitivity is r.Sensitivity.PRIVATE and got.photo == person.photo
    outlook = app.Session.GetItemFromID(store._entries[contacts][applied.id].entry_id)
    assert outlook.HasPicture and outlook.Sensitivity == constants.olPrivate
    team = sample(ItemKind.DISTRIBUTION_LIST, 1)
    listed = create(store, contacts, team)
    assert fetch(store, contacts, listed.id).record.members == team.members
    tasks = default(store, FolderKind.TASKS)
    task = attrs.evolve(
        sample(ItemKind.TASK, 1),
        owner="grace@example.org",
        delegation_state=r.DelegationState.ACCEPTED,
    )
    made = create(store, tasks, task)
    outlook_task = app.Session.GetItemFromID(store._entries[tasks][made.id].entry_id)
    assert outlook_task.Ownership == constants.olDelegatedTask
    assert "delegation_state" in store.capabilities.unsupported_fields[ItemKind.TASK]


# ---------------------------------------------------------------- events, errors, time


def test_item_events_are_hints_with_the_folder_id(app: Application) -> None:
    hints: list[str] = []
    store = OutlookStore(app, on_change=hints.append)
    folder = default(store, FolderKind.CONTACTS)
    create(store, folder, sample(ItemKind.CONTACT, 1))
    item = outlook_contacts(app).Items.Add()
    item.LastName = "By hand"
    item.Save()
    assert hints and set(hints) == {folder}
    assert store.capabilities.push


def test_com_errors_are_translated_by_code() -> None:
    busy = com_error(-2147418111, "call rejected")  # RPC_E_CALL_REJECTED, wrapped
    assert isinstance(translate(busy), TransientError)
    raw = com_error(-2147417846, "retry later", wrapped=False)
    assert isinstance(translate(raw), TransientError)
    assert isinstance(translate(com_error(-2147221233, "gone")), NotFoundError)
    assert isinstance(translate(com_error(-2147024809, "bad")), InvalidDataError)
    assert "0x8004010F" in str(translate(com_error(-2147221233, "gone"), "open an item"))


def test_time_helpers() -> None:
    labelled = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # local 10:00 as pywin32 labels it
    assert from_com(labelled) == datetime(2026, 3, 2, 10, 0)
    assert from_com(datetime(4501, 1, 1, tzinfo=UTC)) is None
    assert to_com(None) == datetime(4501, 1, 1, tzinfo=UTC)
    assert to_com(date(2026, 3, 2)) == datetime(2026, 3, 2, tzinfo=UTC)
    with pytest.raises(ValueError):
        to_com(labelled)
    assert version_of(labelled) == "2026-03-02T10:00:00.000000+00:00"


def test_rich_text_survives_an_update_that_keeps_the_note(
    app: Application, store: OutlookStore
) -> None:
    folder = default(store, FolderKind.CONTACTS)
    applied = create(store, folder, sample(ItemKind.CONTACT, 1))
    item = app.Session.GetItemFromID(store._entries[folder][applied.id].entry_id)
    assert item.RTFBody.startswith(b"{\\rtf1")
    item.RTFBody = b"{\\rtf1 {\\b bold} note}"  # the user formats the note in Outlook
    item.Save()
    (ref,) = store.changes(folder, None).changed
    same_note = attrs.evolve(sample(ItemKind.CONTACT, 1), nickname="Countess")
    store.apply(folder, [Update(ref.id, same_note, ref.version)])
    kept = app.Session.GetItemFromID(store._entries[folder][applied.id].entry_id)
    assert kept.NickName == "Countess" and kept.RTFBody == b"{\\rtf1 {\\b bold} note}"
    (ref,) = store.changes(folder, None).changed
    store.apply(folder, [Update(ref.id, attrs.evolve(same_note, note="new text"), ref.version)])
    changed = app.Session.GetItemFromID(store._entries[folder][applied.id].entry_id)
    assert changed.Body == "new text" and b"bold" not in changed.RTFBody


def test_unknown_ids_cost_one_table_pass_per_call(app: Application, store: OutlookStore) -> None:
    folder = default(store, FolderKind.CONTACTS)
    store.apply(folder, [Create(sample(ItemKind.CONTACT, i)) for i in range(50)])
    store.changes(folder, None)
    before = app.calls
    got = store.fetch(folder, [f"missing-{i}" for i in range(20)])
    assert all(isinstance(x, Failure) and x.kind is FailureKind.NOT_FOUND for x in got.values())
    assert app.calls - before < 2 * 50 + 20  # one pass over 50 rows, not twenty


def test_any_other_application_object_needs_pywin32() -> None:
    if sys.platform == "win32":
        pytest.skip("pywin32 may be installed here")
    with pytest.raises(OutlookUnavailableError, match="pywin32"):
        OutlookStore(object())


def test_a_copy_found_before_its_original_is_still_the_copy(app: Application) -> None:
    writer = OutlookStore(app)
    folder = default(writer, FolderKind.CONTACTS)
    sub = writer.create_folder("Friends", FolderKind.CONTACTS, folder)
    applied = create(writer, folder, sample(ItemKind.CONTACT, 1))
    writer.changes(folder, None)
    app.clock.advance(seconds=5)
    entry = writer._entries[folder][applied.id].entry_id
    app.Session.GetItemFromID(entry).Copy().Move(app.Session.GetFolderFromID(sub.id))
    fresh = OutlookStore(app)  # a new process lists the copy's folder first
    (copy_ref,) = fresh.changes(sub.id, None).changed
    assert copy_ref.id == applied.id  # nothing to tell yet: the original was not seen
    assert [x.id for x in fresh.changes(folder, None).changed] == [applied.id]
    (renamed,) = fresh.changes(sub.id, None).changed
    assert renamed.id != applied.id
    copy = fresh.fetch(sub.id, [renamed.id])[renamed.id]
    assert isinstance(copy, Item) and copy.record.uid != sample(ItemKind.CONTACT, 1).uid


def test_read_only_store_lists_without_writing(app: Application) -> None:
    item = outlook_contacts(app).Items.Add()
    item.LastName = "Untouched"
    item.Save()
    stamp = item.LastModificationTime
    store = OutlookStore(app, read_only=True)
    folder = default(store, FolderKind.CONTACTS)
    (ref,) = store.changes(folder, None).changed
    got = fetch(store, folder, ref.id)
    assert got.record.last_name == "Untouched"
    again = app.Session.GetItemFromID(item.EntryID)
    assert again.LastModificationTime == stamp
    assert again.UserProperties.Find(KEY_PROPERTY) is None


def test_new_keys_are_version_4_uuids() -> None:
    import uuid

    from oxsync.adapters.outlook._identity import new_key

    keys = {new_key() for _ in range(1000)}
    assert len(keys) == 1000
    for key in keys:
        parsed = uuid.UUID(hex=key)
        assert parsed.hex == key and parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_created_items_open_attachments_only_when_they_have_some(
    app: Application, store: OutlookStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oxsync.testing.outlook._items import OutlookItem

    opened: list[str] = []
    original = OutlookItem.Attachments

    def spy(self: Any) -> Any:
        opened.append(type(self).__name__)
        return original.fget(self)  # type: ignore[misc]

    monkeypatch.setattr(OutlookItem, "Attachments", property(spy))
    contacts = default(store, FolderKind.CONTACTS)
    person = attrs.evolve(sample(ItemKind.CONTACT, 1), photo=r.Photo(data=b"\xff\xd8 jpeg"))
    plain = create(store, contacts, person)
    assert opened == []  # a new item has none to remove: two COM calls saved
    files = (
        r.Attachment(filename="a.txt", content_type="text/plain", data=b"alpha"),
        r.Attachment(filename="b.bin", data=b"\0"),
    )
    calendar = default(store, FolderKind.CALENDAR)
    meeting = attrs.evolve(sample(ItemKind.EVENT, 1), attachments=files)
    with_files = create(store, calendar, meeting)
    assert opened == ["AppointmentItem"]
    assert fetch(store, calendar, with_files.id).record.attachments == files
    assert fetch(store, contacts, plain.id).record.photo == person.photo
    # an update still opens them, to drop attachments the record no longer has
    (updated,) = store.apply(
        calendar, [Update(with_files.id, attrs.evolve(meeting, attachments=()), with_files.version)]
    )
    assert isinstance(updated, Applied)
    assert fetch(store, calendar, with_files.id).record.attachments == ()
