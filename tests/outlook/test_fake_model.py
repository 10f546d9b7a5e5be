"""The fake object model behaves as the reference says Outlook does."""

from __future__ import annotations

import gc
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from oxsync.testing.outlook import (
    NO_DATE,
    PS_PUBLIC_STRINGS,
    Application,
    Clock,
    DispatchWithEvents,
    com_error,
    constants,
)

FIXED = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def app() -> Application:
    return Application(tz="Europe/Paris", clock=Clock(lambda: FIXED))


def folder(app: Application, number: int) -> Any:
    return app.GetNamespace("MAPI").GetDefaultFolder(number)


def contact(app: Application, last: str, **props: Any) -> Any:
    item = folder(app, constants.olFolderContacts).Items.Add(constants.olContactItem)
    item.LastName = last
    for name, value in props.items():
        setattr(item, name, value)
    item.Save()
    return item


# ---------------------------------------------------------------- dates and properties


def test_dates_are_local_wall_clock_labelled_utc(app: Application) -> None:
    item = contact(app, "Curie")
    # saved at 08:00 UTC = 09:00 in Paris, handed out as "09:00 UTC" like pywin32 does
    assert item.LastModificationTime.tzinfo is UTC
    assert item.LastModificationTime.replace(tzinfo=None) == datetime(2026, 3, 2, 9, 0)


def test_empty_dates_are_4501(app: Application) -> None:
    item = contact(app, "Curie")
    assert item.Birthday.replace(tzinfo=None) == NO_DATE


def test_aware_values_are_converted_to_utc_like_pywin32(app: Application) -> None:
    item = folder(app, constants.olFolderCalendar).Items.Add()
    item.Start = datetime(2026, 3, 2, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    # pywin32 turns the aware value into 09:00 UTC and Outlook reads that as local time
    assert item.Start.replace(tzinfo=None) == datetime(2026, 3, 2, 9, 0)
    assert item.StartUTC.replace(tzinfo=None) == datetime(2026, 3, 2, 8, 0)


def test_unknown_and_read_only_properties_refuse(app: Application) -> None:
    item = contact(app, "Curie")
    with pytest.raises(AttributeError):
        item.NoSuchProperty  # noqa: B018
    with pytest.raises(AttributeError):
        item.EntryID = "x"
    with pytest.raises(AttributeError):
        item.HasPicture = True


def test_all_day_events_are_saved_as_local_midnights(app: Application) -> None:
    item = folder(app, constants.olFolderCalendar).Items.Add()
    item.Start = datetime(2026, 3, 2, 10, 0)
    item.End = datetime(2026, 3, 2, 11, 0)
    item.AllDayEvent = True
    item.Save()
    assert item.Start.replace(tzinfo=None) == datetime(2026, 3, 2)
    assert item.End.replace(tzinfo=None) == datetime(2026, 3, 3)


def test_task_percent_status_and_complete_are_coupled(app: Application) -> None:
    task = folder(app, constants.olFolderTasks).Items.Add()
    task.PercentComplete = 100
    assert task.Status == constants.olTaskComplete and task.Complete
    assert task.DateCompleted.replace(tzinfo=None) == datetime(2026, 3, 2)
    task.PercentComplete = 40
    assert task.Status == constants.olTaskInProgress and not task.Complete
    with pytest.raises(AttributeError):
        task.DelegationState = constants.olTaskDelegationAccepted
    task.Assign()
    assert task.Ownership == constants.olDelegatedTask
    assert task.DelegationState == constants.olTaskDelegationUnknown


def test_save_stamps_last_modification_and_reminder_dismissal_too(app: Application) -> None:
    item = folder(app, constants.olFolderCalendar).Items.Add()
    item.Subject = "Standup"
    item.Save()
    first = item.LastModificationTime
    app.clock.advance(minutes=5)
    (reminder,) = app.Reminders
    reminder.Dismiss()
    again = app.Session.GetItemFromID(item.EntryID)
    assert again.LastModificationTime - first == timedelta(minutes=5)
    assert again.Subject == "Standup"


def test_open_copies_are_independent_until_saved(app: Application) -> None:
    item = contact(app, "Curie")
    other = app.Session.GetItemFromID(item.EntryID)
    other.LastName = "Sklodowska"
    assert not other.Saved
    assert app.Session.GetItemFromID(item.EntryID).LastName == "Curie"
    other.Save()
    assert app.Session.GetItemFromID(item.EntryID).LastName == "Sklodowska"


def test_full_name_writes_reparse_the_parts(app: Application) -> None:
    item = contact(app, "Curie", FirstName="Marie")
    assert item.FullName == "Marie Curie"
    item.FullName = "Pierre Paul Curie"
    assert (item.FirstName, item.MiddleName, item.LastName) == ("Pierre", "Paul", "Curie")


# ---------------------------------------------------------------- identity


def test_entry_id_changes_on_move_and_the_old_object_dies(app: Application) -> None:
    contacts = folder(app, constants.olFolderContacts)
    sub = contacts.Folders.Add("Friends")
    item = contact(app, "Curie")
    old_id = item.EntryID
    moved = item.Move(sub)
    assert moved.EntryID and moved.EntryID != old_id
    assert moved.LastName == "Curie"
    with pytest.raises(com_error):
        item.LastName  # noqa: B018
    with pytest.raises(com_error):
        app.Session.GetItemFromID(old_id)
    assert app.Session.GetItemFromID(moved.EntryID).Parent is sub


def test_delete_moves_to_deleted_items_and_deletes_there_for_good(app: Application) -> None:
    item = contact(app, "Curie")
    item.Delete()
    trash = folder(app, constants.olFolderDeletedItems)
    assert folder(app, constants.olFolderContacts).Items.Count == 0
    (in_trash,) = list(trash.Items)
    assert in_trash.LastName == "Curie"
    in_trash.Delete()
    assert trash.Items.Count == 0


def test_copy_keeps_user_properties_and_global_appointment_id(app: Application) -> None:
    item = folder(app, constants.olFolderCalendar).Items.Add()
    item.UserProperties.Add("OxsyncKey", constants.olText).Value = "k1"
    item.Save()
    copy = item.Copy()
    assert copy.EntryID != item.EntryID
    assert copy.UserProperties.Find("OxsyncKey").Value == "k1"
    assert copy.GlobalAppointmentID == item.GlobalAppointmentID


def test_user_property_names_are_checked(app: Application) -> None:
    item = folder(app, constants.olFolderContacts).Items.Add()
    for bad in ("with_underscore", "[x]", "a#b", "x" * 65):
        with pytest.raises(com_error):
            item.UserProperties.Add(bad, constants.olText)
    item.UserProperties.Add("Good", constants.olText)
    with pytest.raises(com_error):
        item.UserProperties.Add("Good", constants.olText)
    assert item.UserProperties.Find("Missing") is None


def test_picture_is_a_hidden_contact_picture_attachment(app: Application, tmp_path: Any) -> None:
    path = tmp_path / "me.png"
    path.write_bytes(b"\x89PNG fake")
    item = folder(app, constants.olFolderContacts).Items.Add()
    item.AddPicture(str(path))
    item.Save()
    assert item.HasPicture
    (att,) = list(item.Attachments)
    assert att.DisplayName == "ContactPicture.jpg"
    with pytest.raises(com_error):
        item.AddPicture(str(tmp_path / "notes.txt"))


# ---------------------------------------------------------------- Restrict


def test_restrict_on_last_modification_time(app: Application) -> None:
    contact(app, "Old")
    app.clock.advance(hours=2)
    contact(app, "New")
    items = folder(app, constants.olFolderContacts).Items
    # 09:00 local for Old, 11:00 local for New
    recent = items.Restrict("[LastModificationTime] > '03/02/2026 10:00 AM'")
    assert [i.LastName for i in recent] == ["New"]
    both = items.Restrict("[LastModificationTime] >= '03/02/2026 9:00 AM'")
    assert both.Count == 2


def test_restrict_dates_ignore_seconds_and_reject_them(app: Application) -> None:
    contact(app, "Curie")  # 09:00:00.000 local
    items = folder(app, constants.olFolderContacts).Items
    assert items.Restrict("[LastModificationTime] = '03/02/2026 9:00 AM'").Count == 1
    with pytest.raises(com_error):
        items.Restrict("[LastModificationTime] > '03/02/2026 9:00:30 AM'").Count  # noqa: B018


def test_restrict_parses_dates_with_the_locale_format() -> None:
    app = Application(tz="Europe/Paris", date_format="%d/%m/%Y %H:%M", clock=Clock(lambda: FIXED))
    contact(app, "Curie")
    items = folder(app, constants.olFolderContacts).Items
    assert items.Restrict("[LastModificationTime] > '01/03/2026 23:00'").Count == 1
    with pytest.raises(com_error):
        items.Restrict("[LastModificationTime] > '03/15/2026 11:00 PM'").Count  # noqa: B018


def test_restrict_strings_booleans_and_logic(app: Application) -> None:
    contact(app, "O'Brien", FirstName="Ann")
    contact(app, "Curie", FirstName="Marie")
    items = folder(app, constants.olFolderContacts).Items
    assert [i.FirstName for i in items.Restrict("[LastName] = 'O''Brien'")] == ["Ann"]
    assert items.Restrict("[LastName] = \"curie\" OR [FirstName] = 'Ann'").Count == 2
    assert items.Restrict("NOT ([LastName] = 'Curie') AND [FirstName] <> 'X'").Count == 1


def test_restrict_refuses_forbidden_and_undefined_properties(app: Application) -> None:
    items = folder(app, constants.olFolderContacts).Items
    for text in (
        "[Body] = 'x'",
        "[Categories] = 'Work'",
        "[EntryID] = 'x'",
        "[OxsyncKey] = 'x'",
        "@SQL=\"urn:schemas:httpmail:subject\" = 'x'",
    ):
        with pytest.raises(com_error):
            items.Restrict(text)
    item = contact(app, "Curie")
    item.UserProperties.Add("OxsyncKey", constants.olText, True).Value = "abc"
    item.Save()
    assert items.Restrict("[OxsyncKey] = 'abc'").Count == 1


def test_sort_and_one_based_item(app: Application) -> None:
    for last in ("b", "c", "a"):
        contact(app, last)
    items = folder(app, constants.olFolderContacts).Items
    items.Sort("[LastName]", True)
    assert [items.Item(i).LastName for i in (1, 2, 3)] == ["c", "b", "a"]
    with pytest.raises(com_error):
        items.Item(0)
    with pytest.raises(com_error):
        items.Sort("[Categories]")


# ---------------------------------------------------------------- Table


def test_table_lists_rows_with_chosen_columns(app: Application) -> None:
    item = contact(app, "Curie", Body="x" * 300)
    item.UserProperties.Add("OxsyncKey", constants.olText).Value = "k"
    item.Save()
    contact(app, "Noether")
    table = folder(app, constants.olFolderContacts).GetTable()
    assert table.Columns.Count == 8  # 5 common default columns + 3 for contacts
    table.Columns.RemoveAll()
    for name in (
        "EntryID",
        "LastName",
        "LastModificationTime",
        "Body",
        "http://schemas.microsoft.com/mapi/proptag/0x30080040",
        f"http://schemas.microsoft.com/mapi/string/{PS_PUBLIC_STRINGS}/OxsyncKey",
    ):
        table.Columns.Add(name)
    rows = []
    while not table.EndOfTable:
        rows.append(table.GetNextRow().GetValues())
    assert table.GetNextRow() is None
    first, second = rows
    assert first[0] == item.EntryID and first[1] == "Curie"
    assert first[2].replace(tzinfo=None, microsecond=0) == datetime(
        2026, 3, 2, 9, 0
    )  # local, labelled UTC
    assert first[3] == "x" * 255  # table strings are cut at 255
    assert first[4].replace(microsecond=0) == datetime(
        2026, 3, 2, 8, 0, tzinfo=UTC
    )  # namespace column: true UTC
    assert first[5] == "k" and second[5] is None


def test_table_refuses_computed_columns_and_restricts(app: Application) -> None:
    contact(app, "Curie")
    contact(app, "Noether")
    table = folder(app, constants.olFolderContacts).GetTable("[LastName] = 'Curie'")
    assert table.GetRowCount() == 1
    for name in ("Class", "MemberCount", "NoSuchThing"):
        with pytest.raises(com_error):
            table.Columns.Add(name)


# ---------------------------------------------------------------- events


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def OnItemAdd(self, item: Any) -> None:
        self.events.append(("add", item.LastName))

    def OnItemChange(self, item: Any) -> None:
        self.events.append(("change", item.LastName))

    def OnItemRemove(self, *args: Any) -> None:
        self.events.append(("remove", args))


def test_item_events_and_item_remove_carries_no_item(app: Application) -> None:
    contacts = folder(app, constants.olFolderContacts)
    sink = DispatchWithEvents(contacts.Items, Recorder)
    keep = contact(app, "Keep")
    item = contact(app, "Curie")
    item.FirstName = "Marie"
    item.Save()
    item.Delete()
    assert sink.events == [("add", "Keep"), ("add", "Curie"), ("change", "Curie"), ("remove", ())]
    keep.Delete()  # the folder's last item: Outlook fires nothing
    assert len(sink.events) == 4


def test_bulk_deletes_drop_item_remove(app: Application) -> None:
    contacts = folder(app, constants.olFolderContacts)
    items = [contact(app, f"c{i}") for i in range(25)]
    sink = DispatchWithEvents(contacts.Items, Recorder)
    with app.bulk():
        for item in items[:3]:
            item.Delete()
    assert [e for e, _ in sink.events] == ["remove"] * 3
    with app.bulk():
        for item in items[3:23]:
            item.Delete()
    assert len(sink.events) == 3  # 20 at once: no ItemRemove at all
    assert contacts.Items.Count == 2


def test_events_stop_when_the_sink_is_released(app: Application) -> None:
    contacts = folder(app, constants.olFolderContacts)
    sink = DispatchWithEvents(contacts.Items, Recorder)
    events = sink.events
    del sink
    gc.collect()
    contact(app, "Curie")
    assert events == []


# ---------------------------------------------------------------- recurrence


def weekly_series(app: Application, occurrences: int = 5) -> Any:
    item = folder(app, constants.olFolderCalendar).Items.Add()
    item.Subject = "Weekly"
    item.Start = datetime(2026, 3, 2, 10, 0)  # a Monday
    item.End = datetime(2026, 3, 2, 11, 0)
    pattern = item.GetRecurrencePattern()
    pattern.RecurrenceType = constants.olRecursWeekly
    pattern.DayOfWeekMask = constants.olMonday
    pattern.Interval = 1
    pattern.Occurrences = occurrences
    item.Save()
    return item


def test_pattern_occurrences_compute_the_end_date(app: Application) -> None:
    item = weekly_series(app)
    pattern = item.GetRecurrencePattern()
    assert not pattern.NoEndDate
    assert pattern.PatternEndDate.replace(tzinfo=None) == datetime(2026, 3, 30)
    assert item.IsRecurring and item.RecurrenceState == constants.olApptMaster
    with pytest.raises(com_error):
        pattern.Instance = 6


def test_get_occurrence_needs_a_saved_master_and_an_occurrence(app: Application) -> None:
    item = folder(app, constants.olFolderCalendar).Items.Add()
    item.Start = datetime(2026, 3, 2, 10, 0)
    item.End = datetime(2026, 3, 2, 11, 0)
    pattern = item.GetRecurrencePattern()
    with pytest.raises(com_error):
        pattern.GetOccurrence(datetime(2026, 3, 9, 10, 0))
    item.Save()
    with pytest.raises(com_error):
        item.GetRecurrencePattern().GetOccurrence(datetime(2026, 3, 10, 10, 0))  # a Tuesday


def test_deleted_and_changed_occurrences_become_exceptions(app: Application) -> None:
    item = weekly_series(app)
    pattern = item.GetRecurrencePattern()
    pattern.GetOccurrence(datetime(2026, 3, 9, 10, 0)).Delete()
    moved = pattern.GetOccurrence(datetime(2026, 3, 16, 10, 0))
    assert moved.RecurrenceState == constants.olApptOccurrence
    moved.Start = datetime(2026, 3, 17, 14, 0)
    moved.End = datetime(2026, 3, 17, 15, 0)
    moved.Subject = "Moved"
    moved.Save()
    again = app.Session.GetItemFromID(item.EntryID)
    deleted, changed = list(again.GetRecurrencePattern().Exceptions)
    assert deleted.Deleted and deleted.OriginalDate.replace(tzinfo=None) == datetime(2026, 3, 9)
    with pytest.raises(com_error):
        deleted.AppointmentItem  # noqa: B018
    assert not changed.Deleted
    assert changed.OriginalDate.replace(tzinfo=None) == datetime(2026, 3, 16, 10, 0)
    occ = changed.AppointmentItem
    assert occ.Subject == "Moved" and occ.RecurrenceState == constants.olApptException
    assert occ.Start.replace(tzinfo=None) == datetime(2026, 3, 17, 14, 0)
    with pytest.raises(com_error):
        again.GetRecurrencePattern().GetOccurrence(datetime(2026, 3, 9, 10, 0))


def test_include_recurrences_expands_only_when_sorted_by_start(app: Application) -> None:
    item = weekly_series(app, occurrences=4)
    item.GetRecurrencePattern().GetOccurrence(datetime(2026, 3, 9, 10, 0)).Delete()
    items = folder(app, constants.olFolderCalendar).Items
    items.IncludeRecurrences = True
    assert items.Count == 1  # not sorted by Start: no expansion
    items.Sort("[Start]")
    items.IncludeRecurrences = True
    assert items.Count == 2147483647
    window = items.Restrict("[Start] >= '03/01/2026 12:00 AM' AND [Start] < '04/01/2026 12:00 AM'")
    starts = [i.Start.replace(tzinfo=None).day for i in window]
    assert starts == [2, 16, 23]


def test_monthly_on_day_31_falls_on_the_last_day(app: Application) -> None:
    item = folder(app, constants.olFolderCalendar).Items.Add()
    item.Start = datetime(2026, 1, 31, 9, 0)
    item.End = datetime(2026, 1, 31, 10, 0)
    pattern = item.GetRecurrencePattern()
    pattern.RecurrenceType = constants.olRecursMonthly
    pattern.DayOfMonth = 31
    pattern.Occurrences = 3
    item.Save()
    assert pattern.PatternEndDate.replace(tzinfo=None) == datetime(2026, 3, 31)
    feb = item.GetRecurrencePattern().GetOccurrence(datetime(2026, 2, 28, 9, 0))
    assert feb.Start.replace(tzinfo=None) == datetime(2026, 2, 28, 9, 0)


def test_an_item_class_overriding_set_must_name_its_hooks() -> None:
    from oxsync.testing.outlook._items import OutlookItem

    with pytest.raises(TypeError, match="_SET_HOOKS"):

        class Coupled(OutlookItem):  # a _set the direct write path would bypass
            def _set(self, name: str, value: Any) -> None:
                super()._set(name, value)


def test_direct_writes_convert_and_mark_the_item_dirty(app: Application) -> None:
    contact = app.Session.GetDefaultFolder(constants.olFolderContacts).Items.Add()
    contact.Save()
    assert contact.Saved
    contact.LastName = 42  # COM converts to the declared type
    assert contact.LastName == "42" and not contact.Saved
    contact.Body = "plain"  # a hooked name still couples the rich text
    assert contact.BodyFormat == constants.olFormatPlain and "plain" in contact.RTFBody.decode(
        "latin-1"
    )


def test_the_fake_knows_every_time_zone_the_adapter_writes() -> None:
    # Moscow, Warsaw, Kyiv, Bucharest, Reykjavik and Shanghai events were refused by the
    # fake ("unknown time zone") though the adapter maps them and Outlook knows them
    from oxsync.adapters.outlook._time import WINDOWS_TO_IANA
    from oxsync.testing.outlook import WINDOWS_ZONES

    assert {k: WINDOWS_ZONES.get(k) for k in WINDOWS_TO_IANA} == WINDOWS_TO_IANA
