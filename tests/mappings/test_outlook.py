"""Outlook object-model dicts: local wall-clock, no-date sentinel, structured parts, bad input."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oxsync.core import records as r
from oxsync.core.records import ItemKind
from oxsync.errors import MappingError
from oxsync.mappings import outlook, ox_xml
from oxsync.testing import strategies

PARIS = ZoneInfo("Europe/Paris")
KIRITIMATI = ZoneInfo("Pacific/Kiritimati")  # UTC+14: the worst case for birthday shifts
HONOLULU = ZoneInfo("Pacific/Honolulu")  # UTC-10


@pytest.mark.parametrize("tz", [KIRITIMATI, HONOLULU, PARIS])
def test_birthday_keeps_its_day_in_every_zone_and_through_ox(tz):
    props = {"Birthday": datetime(1815, 12, 10), "Anniversary": datetime(4501, 1, 1)}
    contact = outlook.from_outlook(ItemKind.CONTACT, props, tz=tz)
    assert contact.birthday == date(1815, 12, 10) and contact.anniversary is None
    prop = ox_xml.new_prop()
    ox_xml.encode(contact, prop)
    back = outlook.to_outlook(ox_xml.decode(ItemKind.CONTACT, prop), tz=tz)
    assert back["Birthday"] == datetime(1815, 12, 10)
    assert back["Anniversary"] == datetime(4501, 1, 1)


def test_pywin32_utc_label_on_local_dates_is_dropped():
    # pywin32 returns local wall-clock labelled UTC (mhammond/pywin32#1760)
    props = {"Birthday": datetime(1815, 12, 10, tzinfo=UTC)}
    assert outlook.from_outlook(ItemKind.CONTACT, props, tz=KIRITIMATI).birthday == date(
        1815, 12, 10
    )


def test_timed_event_is_local_wall_clock_and_reads_back_as_utc_with_its_zone():
    start = datetime(2026, 3, 29, 7, 0, tzinfo=UTC)  # 09:00 in Paris (after the DST change)
    event = r.Event(start=start, end=start + timedelta(hours=1), timezone="Europe/Paris")
    props = outlook.to_outlook(event, tz=PARIS)
    assert props["Start"] == datetime(2026, 3, 29, 9, 0) and props["AllDayEvent"] is False
    assert props["_timezone"] == "Europe/Paris"
    back = outlook.from_outlook(ItemKind.EVENT, props, tz=PARIS)
    assert back.start == start and back.start.tzinfo is UTC


def test_all_day_event_is_local_midnights_with_exclusive_end():
    event = r.Event(start=date(2026, 3, 29), end=date(2026, 3, 30), all_day=True)
    props = outlook.to_outlook(event, tz=KIRITIMATI)
    assert (props["Start"], props["End"]) == (datetime(2026, 3, 29), datetime(2026, 3, 30))
    assert outlook.from_outlook(ItemKind.EVENT, props, tz=KIRITIMATI) == event


def test_categories_use_the_list_separator():
    event = r.Contact(categories=("Travail", "Équipe"))
    assert outlook.to_outlook(event)["Categories"] == "Travail;Équipe"
    assert outlook.to_outlook(event, list_separator=",")["Categories"] == "Travail,Équipe"
    got = outlook.from_outlook(
        ItemKind.CONTACT, {"Categories": "a, b"}, tz=PARIS, list_separator=","
    )
    assert got.categories == ("a", "b")


def test_empty_strings_read_as_unset():
    got = outlook.from_outlook(ItemKind.CONTACT, {"FirstName": "", "Body": ""}, tz=PARIS)
    assert got == r.Contact()
    assert outlook.to_outlook(r.Contact())["FirstName"] == ""


def test_recurring_event_pattern_and_exceptions():
    start = datetime(2026, 3, 23, 8, 0, tzinfo=UTC)  # 09:00 Paris
    rule = r.Recurrence(
        frequency=r.Frequency.WEEKLY, weekdays=r.Weekday.MONDAY, count=5,
        deleted=(date(2026, 3, 30),),
    )  # fmt: skip
    moved = r.EventException(
        original_start=datetime(2026, 4, 6, 7, 0, tzinfo=UTC),
        start=datetime(2026, 4, 6, 9, 0, tzinfo=UTC),
        summary="Moved",
    )
    event = r.Event(
        start=start, end=start + timedelta(hours=1), timezone="Europe/Paris",
        recurrence=rule, exceptions=(moved,),
    )  # fmt: skip
    props = outlook.to_outlook(event, tz=PARIS)
    assert props["_recurrence"]["RecurrenceType"] == 1
    assert props["_recurrence"]["PatternStartDate"] == datetime(2026, 3, 23)
    deleted, changed = props["_exceptions"]
    # the deleted Monday after the DST change is still at 09:00 local
    assert deleted == {"OriginalDate": datetime(2026, 3, 30, 9, 0), "Deleted": True}
    assert changed["Subject"] == "Moved" and changed["Start"] == datetime(2026, 4, 6, 11, 0)
    assert outlook.from_outlook(ItemKind.EVENT, props, tz=PARIS) == event


def test_recipients_organizer_and_resources():
    event = r.Event(
        start=datetime(2026, 1, 1, tzinfo=UTC),
        end=datetime(2026, 1, 1, tzinfo=UTC),
        organizer=r.Attendee(email="o@x.org", name="O"),
        attendees=(
            r.Attendee(email="a@x.org", role=r.AttendeeRole.OPTIONAL,
                       status=r.ParticipationStatus.DECLINED),
            r.Attendee(email="room@x.org", role=r.AttendeeRole.RESOURCE),
        ),
    )  # fmt: skip
    rows = outlook.to_outlook(event)["_recipients"]
    assert [(x["Address"], x["Type"], x["MeetingResponseStatus"]) for x in rows] == [
        ("o@x.org", 0, 0),
        ("a@x.org", 2, 4),
        ("room@x.org", 3, 0),
    ]
    back = outlook.from_outlook(ItemKind.EVENT, {**outlook.to_outlook(event)}, tz=UTC)
    assert back.organizer.role is r.AttendeeRole.CHAIR
    assert back.attendees[1].kind is r.AttendeeKind.RESOURCE


def test_task_dates_reminder_and_regenerating_recurrence():
    task = r.Task(
        due=date(2026, 4, 1),
        status=r.TaskStatus.COMPLETED,
        date_completed=date(2026, 4, 2),
        alarm=r.Alarm(at=datetime(2026, 3, 31, 6, 30, tzinfo=UTC)),
        start=date(2026, 3, 30),
        recurrence=r.Recurrence(frequency=r.Frequency.DAILY, interval=7, regenerate=True),
        total_work=480,
    )
    props = outlook.to_outlook(task, tz=PARIS)
    assert props["DueDate"] == datetime(2026, 4, 1) and props["Complete"] is True
    assert props["ReminderTime"] == datetime(2026, 3, 31, 8, 30)
    assert props["_recurrence"]["Regenerate"] is True and props["Status"] == 2
    assert outlook.to_outlook(r.Task())["DueDate"] == datetime(4501, 1, 1)
    assert outlook.from_outlook(ItemKind.TASK, props, tz=PARIS) == task


def test_picture_members_and_uid_travel_under_underscore_keys():
    contact = r.Contact(uid="u-1", photo=r.Photo(data=b"jpg"))
    props = outlook.to_outlook(contact)
    assert props["_picture"] == (b"jpg", "image/jpeg")
    assert props["_user_properties"] == {"OxsyncUid": "u-1"}
    assert outlook.from_outlook(ItemKind.CONTACT, props, tz=UTC) == contact
    dl = r.DistributionList(
        display_name="Team", members=(r.DistributionListMember(display_name="G", email="g@x"),)
    )
    props = outlook.to_outlook(dl)
    assert props["DLName"] == "Team" and props["_members"] == [{"Name": "G", "Address": "g@x"}]
    assert outlook.from_outlook(ItemKind.DISTRIBUTION_LIST, props, tz=UTC) == dl


# --------------------------------------------------------------------------- bad input


def test_bad_outlook_values_are_all_reported_with_paths():
    props = {
        "FirstName": 42,  # wrong type
        "LastName": b"\xff\xfeDupont",  # invalid UTF-8
        "Sensitivity": 7,  # out of range
        "Gender": "male",  # wrong type for an enum
        "Birthday": "1815-12-10",  # not a date
        "Body": "x" * (10 * 1024 * 1024),  # 10 MB note
        "SelectedMailingAddress": True,
        "_picture": ("not bytes", "image/jpeg"),
    }
    with pytest.raises(MappingError) as info:
        outlook.from_outlook(ItemKind.CONTACT, props, tz=PARIS)
    assert {e.path for e in info.value.errors} == {
        "first_name", "last_name", "sensitivity", "gender", "birthday", "note",
        "selected_mailing_address", "photo",
    }  # fmt: skip
    assert "10485760 characters" in str(info.value)


def test_bad_event_and_task_values_are_reported():
    with pytest.raises(MappingError) as info:
        outlook.from_outlook(
            ItemKind.EVENT,
            {"Start": "tomorrow", "BusyStatus": 9, "_timezone": "Nowhere/Land",
             "_recipients": [{"Type": 8}], "ReminderSet": "yes"},
            tz=PARIS,
        )  # fmt: skip
    paths = {e.path for e in info.value.errors}
    assert {"timezone", "busy_status", "attendees[0]", "alarm"} <= paths
    with pytest.raises(MappingError) as info:
        outlook.from_outlook(
            ItemKind.TASK,
            {"PercentComplete": 101, "Status": -1, "TotalWork": "lots",
             "_recurrence": {"RecurrenceType": 4}},
            tz=PARIS,
        )  # fmt: skip
    paths = {e.path for e in info.value.errors}
    assert paths == {"percent_complete", "status", "total_work", "recurrence.frequency"}


def test_missing_event_dates_are_reported():
    with pytest.raises(MappingError) as info:
        outlook.from_outlook(ItemKind.EVENT, {"Subject": "x"}, tz=PARIS)
    assert {e.path for e in info.value.errors} == {"start", "end"}


def test_writing_an_inconsistent_record_names_the_fields():
    bad = r.Event(start=date(2026, 1, 1), end=date(2026, 1, 2), all_day=False, importance="high")  # type: ignore[arg-type]
    with pytest.raises(MappingError) as info:
        outlook.to_outlook(bad)
    assert {e.path for e in info.value.errors} == {"start", "importance"}


def test_unsupported_sets_only_name_real_paths():
    import attrs

    for kind, paths in outlook.OUTLOOK_UNSUPPORTED.items():
        fields = attrs.fields_dict(r.record_class(kind))
        for path in paths:
            head, _, tail = path.partition(".")
            assert head in fields, path
            if tail and head != "alarm":
                assert tail in attrs.fields_dict(type(fields[head].default)), path


def test_body_line_ends_are_crlf_in_outlook_and_lf_in_canonical():
    props = outlook.to_outlook(r.Contact(note="a\nb"))
    assert props["Body"] == "a\r\nb"
    got = outlook.from_outlook(ItemKind.CONTACT, {"Body": "a\r\nb"}, tz=UTC)
    assert got.note == "a\nb"


def test_note_unchanged_lets_the_adapter_keep_rich_text():
    assert outlook.note_unchanged("Agenda\r\n- item\r\n", "Agenda\n- item")
    assert outlook.note_unchanged(None, None) and outlook.note_unchanged("", None)
    assert not outlook.note_unchanged("Agenda\r\n- item", "Agenda\n- item 2")


@settings(max_examples=40, deadline=None)
@given(data=st.data(), kind=st.sampled_from(list(ItemKind)))
def test_omit_empty_leaves_out_exactly_the_empty_texts(data: st.DataObject, kind: ItemKind):
    """``omit_empty`` (used for new items) drops only properties that would be written as
    ""; everything else is the same, so a new item gets the same content either way."""
    record = data.draw(strategies.records(kind))
    full = outlook.to_outlook(record, tz=PARIS)
    lean = outlook.to_outlook(record, tz=PARIS, omit_empty=True)
    assert lean == {k: v for k, v in full.items() if k in lean}
    assert all(full[k] == "" for k in full.keys() - lean.keys())


def test_omit_empty_leaves_out_most_of_a_sparse_contact():
    full = outlook.to_outlook(r.Contact(last_name="Curie", emails=r.Emails(email1="m@curie.fr")))
    lean = outlook.to_outlook(
        r.Contact(last_name="Curie", emails=r.Emails(email1="m@curie.fr")), omit_empty=True
    )
    assert lean["LastName"] == "Curie" and lean["Email1Address"] == "m@curie.fr"
    assert "FirstName" not in lean and full["FirstName"] == ""
    assert len(lean) < len(full) - 50
