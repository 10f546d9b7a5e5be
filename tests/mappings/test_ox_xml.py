"""OX WebDAV/XML shapes (ox-webdav-xml.md §3) and bad input."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta

import attrs
import pytest
from lxml import etree

from oxsync.core import records as r
from oxsync.core.records import FolderKind, ItemKind
from oxsync.errors import MappingError
from oxsync.mappings import ox_xml

NS = ox_xml.OX_NS
START = datetime(2026, 3, 29, 7, 0, tzinfo=UTC)


def _prop(xml: str) -> etree._Element:
    return etree.fromstring(
        f'<D:prop xmlns:D="DAV:" xmlns:ox="{NS}" xmlns:x="urn:other">{xml}</D:prop>'
    )


def _encode(record, **kw) -> etree._Element:
    prop = ox_xml.new_prop()
    ox_xml.encode(record, prop, **kw)
    return prop


def _text(prop, name):
    el = prop.find(f"{{{NS}}}{name}")
    return None if el is None else (el.text or "")


def test_elements_are_in_the_ox_namespace_with_the_ox_prefix():
    wire = etree.tostring(_encode(r.Contact(first_name="Ada"), full=False)).decode()
    assert "<ox:first_name>Ada</ox:first_name>" in wire
    assert 'xmlns:ox="http://www.open-xchange.org"' in wire


def test_full_write_clears_unset_fields_with_empty_elements_sparse_does_not():
    full = _encode(r.Contact(first_name="Ada"))
    assert _text(full, "last_name") == "" and _text(full, "image1") == ""
    sparse = _encode(r.Contact(first_name="Ada"), full=False)
    assert _text(sparse, "last_name") is None and _text(sparse, "image1") is None


def test_object_level_elements_are_not_written_and_are_ignored_on_read():
    prop = _encode(r.Contact(first_name="Ada"))
    for name in ("object_id", "folder_id", "client_id", "last_modified", "creation_time"):
        assert _text(prop, name) is None
    got = ox_xml.decode(
        ItemKind.CONTACT,
        _prop(
            "<ox:object_id>4711</ox:object_id><ox:folder_id>25</ox:folder_id>"
            "<ox:last_modified>1215000000000</ox:last_modified><ox:object_status>CREATE"
            "</ox:object_status><ox:unknown_thing>1</ox:unknown_thing>"
            "<x:first_name>not ox</x:first_name><ox:first_name>Ada</ox:first_name><!-- c -->"
        ),
    )
    assert got.first_name == "Ada"
    assert got.last_modified == datetime(2008, 7, 2, 12, tzinfo=UTC)


def test_contact_elements_follow_the_reference_names():
    contact = r.Contact(
        middle_name="M",
        display_name="D",
        marital_status="married",
        info="more",
        phones=r.Phones(mobile="1", ttytdd="2", ip="3", business_fax="4"),
        home_address=r.Address(street="Rue"),
        other_address=r.Address(city="Lyon"),
        business_address=r.Address(country="FR"),
        office_location="B-2",
        manager_name="Boss",
        birthday=date(1815, 12, 10),
        selected_mailing_address="home",
        user_fields=("u1", None, "u3"),
    )
    prop = _encode(contact, full=False)
    expected = {
        "second_name": "M", "displayname": "D", "martital_status": "married",
        "more_info": "more", "mobile1": "1", "tty_tdd": "2", "ip_phone": "3",
        "fax_business": "4", "street": "Rue", "second_city": "Lyon",
        "business_country": "FR", "room_number": "B-2", "managers_name": "Boss",
        "birthday": str((date(1815, 12, 10) - date(1970, 1, 1)).days * 86_400_000),
        "defaultaddress": "2", "userfield01": "u1", "userfield03": "u3",
        "distributionlist_flag": "false", "private_flag": "false",
    }  # fmt: skip
    assert {name: _text(prop, name) for name in expected} == expected
    assert _text(prop, "userfield02") is None
    assert ox_xml.decode(ItemKind.CONTACT, prop) == contact


def test_photo_is_base64_with_content_type_and_empty_image_means_none():
    photo = r.Photo(data=b"\x89PNG\r\n", content_type="image/png")
    prop = _encode(r.Contact(photo=photo), full=False)
    assert _text(prop, "image1") == base64.b64encode(b"\x89PNG\r\n").decode()
    assert _text(prop, "image_content_type") == "image/png"
    assert ox_xml.decode(ItemKind.CONTACT, prop).photo == photo
    assert ox_xml.decode(ItemKind.CONTACT, _prop("<ox:image1></ox:image1>")).photo is None


def test_distribution_list_members_and_kind_detection():
    dl = r.DistributionList(
        display_name="Team",
        members=(
            r.DistributionListMember(display_name="Grace", email="g@x.org"),
            r.DistributionListMember(email="a@x.org", contact_uid="c-1", email_slot=2),
        ),
    )
    prop = _encode(dl, contact_ref=lambda uid: ("77", "25"))
    entries = prop.findall(f"{{{NS}}}distributionlist/{{{NS}}}email")
    assert [e.get(f"{{{NS}}}emailfield") for e in entries] == ["0", "2"]
    assert entries[1].get(f"{{{NS}}}id") == "77" and entries[1].get(f"{{{NS}}}folder_id") == "25"
    assert ox_xml.kind_of(prop, FolderKind.CONTACTS) is ItemKind.DISTRIBUTION_LIST
    assert ox_xml.kind_of(_encode(r.Contact()), FolderKind.CONTACTS) is ItemKind.CONTACT
    assert ox_xml.kind_of(prop, FolderKind.CALENDAR) is ItemKind.EVENT
    assert ox_xml.kind_of(prop, FolderKind.TASKS) is ItemKind.TASK
    back = ox_xml.decode(ItemKind.DISTRIBUTION_LIST, prop, contact_uid=lambda i, f: f"{f}/{i}")
    assert back.members[1].contact_uid == "25/77"
    assert back.members[0] == dl.members[0]


def test_event_timing_alarm_and_participants():
    event = r.Event(
        summary="Réunion",
        start=START,
        end=START + timedelta(hours=1),
        timezone="Europe/Paris",
        busy_status=r.BusyStatus.TENTATIVE,
        alarm=r.Alarm(minutes_before=15),
        attendees=(
            r.Attendee(user_id="17", status=r.ParticipationStatus.ACCEPTED),
            r.Attendee(email="a@b.c", name="A B", kind=r.AttendeeKind.EXTERNAL),
            r.Attendee(user_id="5", kind=r.AttendeeKind.GROUP),
            r.Attendee(user_id="3", kind=r.AttendeeKind.RESOURCE, role=r.AttendeeRole.RESOURCE),
        ),
    )
    prop = _encode(event, full=False)
    assert _text(prop, "start_date") == str(int(START.timestamp() * 1000))
    assert _text(prop, "full_time") == "false" and _text(prop, "shown_as") == "2"
    assert _text(prop, "alarm") == "15" and _text(prop, "alarm_flag") == "true"
    assert _text(prop, "timezone") == "Europe/Paris"
    people = list(prop.find(f"{{{NS}}}participants"))
    assert [etree.QName(p).localname for p in people] == ["user", "user", "group", "resource"]
    assert people[0].get(f"{{{NS}}}confirm") == "accept" and people[0].text == "17"
    assert people[1].get(f"{{{NS}}}external") == "true" and people[1].text == "0"
    assert people[1].get(f"{{{NS}}}mail") == "a@b.c"
    assert ox_xml.decode(ItemKind.EVENT, prop) == event


def test_full_time_event_uses_utc_midnight_dates_with_exclusive_end():
    event = r.Event(start=date(2026, 3, 29), end=date(2026, 3, 30), all_day=True)
    prop = _encode(event)
    assert int(_text(prop, "end_date")) - int(_text(prop, "start_date")) == 86_400_000
    assert int(_text(prop, "start_date")) % 86_400_000 == 0
    assert ox_xml.decode(ItemKind.EVENT, prop) == event


def test_no_alarm_is_written_as_alarm_flag_false_and_recurrence_type_none():
    prop = _encode(r.Event(start=START, end=START))
    assert _text(prop, "alarm_flag") == "false" and _text(prop, "recurrence_type") == "none"
    got = ox_xml.decode(
        ItemKind.EVENT,
        _prop(
            "<ox:start_date>0</ox:start_date><ox:end_date>0</ox:end_date>"
            "<ox:alarm>-1</ox:alarm><ox:alarm_flag>true</ox:alarm_flag>"
        ),
    )
    assert got.alarm is None


def test_recurring_event_writes_deleteexceptions_and_zero_based_month():
    rule = r.Recurrence(
        frequency=r.Frequency.YEARLY, month=3, day_of_month=29, deleted=(date(2027, 3, 29),)
    )
    prop = _encode(r.Event(start=START, end=START, recurrence=rule), full=False)
    assert _text(prop, "recurrence_type") == "yearly" and _text(prop, "month") == "2"
    assert _text(prop, "deleteexceptions") == str(
        (date(2027, 3, 29) - date(1970, 1, 1)).days * 86_400_000
    )
    assert ox_xml.decode(ItemKind.EVENT, prop).recurrence == rule


def test_task_fields_durations_and_absolute_alarm():
    task = r.Task(
        summary="T",
        due=date(2026, 4, 1),
        start=datetime(2026, 3, 30, 8, 15, tzinfo=UTC),
        status=r.TaskStatus.WAITING,
        importance=r.Importance.HIGH,
        percent_complete=42,
        date_completed=date(2026, 4, 2),
        total_work=480,
        actual_work=90,
        mileage="12 km",
        actual_costs="10.50",
        currency="EUR",
        alarm=r.Alarm(at=datetime(2026, 3, 31, 6, 30, tzinfo=UTC)),
        recurrence=r.Recurrence(frequency=r.Frequency.WEEKLY, weekdays=2, count=3),
    )
    prop = _encode(task, full=False)
    assert _text(prop, "status") == "4" and _text(prop, "priority") == "3"
    assert _text(prop, "target_duration") == "480" and _text(prop, "trip_meter") == "12 km"
    assert _text(prop, "alarm") == str(int(task.alarm.at.timestamp() * 1000))
    assert ox_xml.decode(ItemKind.TASK, prop) == task


# --------------------------------------------------------------------------- bad input


def test_decode_reports_every_bad_field_with_its_path():
    prop = _prop(
        "<ox:birthday>yesterday</ox:birthday><ox:private_flag>true</ox:private_flag>"
        "<ox:number_of_children>-2</ox:number_of_children><ox:image1>@@@</ox:image1>"
        "<ox:defaultaddress>9</ox:defaultaddress><ox:color_label>11</ox:color_label>"
        f"<ox:note>{'x' * (2 * 1024 * 1024)}</ox:note>"
    )
    with pytest.raises(MappingError) as info:
        ox_xml.decode(ItemKind.CONTACT, prop)
    paths = {e.path for e in info.value.errors}
    assert paths == {
        "birthday", "number_of_children", "photo", "selected_mailing_address",
        "color_label", "note",
    }  # fmt: skip


def test_ten_megabyte_note_is_refused_naming_the_field():
    with pytest.raises(MappingError, match="note") as info:
        _encode(r.Contact(note="é" * (10 * 1024 * 1024)))
    assert [e.path for e in info.value.errors] == ["note"]


def test_event_errors_name_start_end_shown_as_and_participants():
    prop = _prop(
        "<ox:start_date>nope</ox:start_date><ox:shown_as>7</ox:shown_as>"
        "<ox:timezone>Mars/Olympus</ox:timezone>"
        '<ox:participants><ox:user ox:confirm="maybe">1</ox:user><ox:robot/></ox:participants>'
        "<ox:recurrence_type>weekly</ox:recurrence_type><ox:interval>x</ox:interval>"
    )
    with pytest.raises(MappingError) as info:
        ox_xml.decode(ItemKind.EVENT, prop)
    paths = {e.path for e in info.value.errors}
    assert {"busy_status", "timezone", "attendees[0]", "attendees[1]"} <= paths
    assert "recurrence.interval" in paths


def test_missing_dates_of_an_event_are_reported():
    with pytest.raises(MappingError) as info:
        ox_xml.decode(ItemKind.EVENT, _prop("<ox:title>x</ox:title>"))
    assert {e.path for e in info.value.errors} == {"start", "end"}


def test_impossible_dates_are_reported():
    with pytest.raises(MappingError) as info:
        ox_xml.decode(ItemKind.CONTACT, _prop(f"<ox:birthday>{10**18}</ox:birthday>"))
    assert [e.path for e in info.value.errors] == ["birthday"]


def test_encode_reports_every_bad_field():
    bad = r.Task(
        percent_complete=150,
        total_work=-1,
        summary="a\ud800b",
        categories=("a,b",),
        start=datetime(2026, 1, 1),  # naive
    )
    with pytest.raises(MappingError) as info:
        _encode(bad)
    paths = {e.path for e in info.value.errors}
    assert paths == {"percent_complete", "total_work", "summary", "categories", "start"}


def test_wrongly_typed_record_values_are_reported():
    with pytest.raises(MappingError) as info:
        _encode(r.Contact(first_name=42, birthday="1815-12-10"))  # type: ignore[arg-type]
    assert {e.path for e in info.value.errors} == {"first_name", "birthday"}


def test_illegal_xml_characters_are_stripped_like_the_server_does():
    prop = _encode(r.Contact(first_name="A\x00d\x0ba"), full=False)
    assert _text(prop, "first_name") == "Ada"


def test_unsupported_sets_only_name_real_paths():
    import attrs

    optional_parts = {"alarm": r.Alarm, "recurrence": r.Recurrence}
    for kind, paths in ox_xml.OX_UNSUPPORTED.items():
        fields = attrs.fields_dict(r.record_class(kind))
        for path in paths:
            head, _, tail = path.partition(".")
            assert head in fields, path
            if tail:
                part = optional_parts.get(head) or type(fields[head].default)
                assert tail in attrs.fields_dict(part), path


def test_a_required_field_no_element_filled_is_an_error_not_a_placeholder(monkeypatch):
    # Records are built by position from a list of defaults; a field without a default
    # that nothing read must be reported, never reach the record as attrs.NOTHING.
    plan = ox_xml._PLANS[ItemKind.EVENT]
    monkeypatch.setitem(
        ox_xml._PLANS,
        ItemKind.EVENT,
        attrs.evolve(plan, parts=tuple(p for p in plan.parts if "start" not in p[0].paths)),
    )
    prop = ox_xml.new_prop()
    etree.SubElement(prop, f"{{{ox_xml.OX_NS}}}title").text = "x"
    with pytest.raises(MappingError) as info:
        ox_xml.decode(ItemKind.EVENT, prop)
    assert {e.path for e in info.value.errors} >= {"start"}


def test_nested_records_of_a_plan_must_have_defaults_for_every_field(monkeypatch):
    @attrs.frozen(kw_only=True, weakref_slot=False)
    class Pair:
        left: str
        right: str | None = None

    @attrs.frozen(kw_only=True, weakref_slot=False)
    class Holder:
        pair: Pair = Pair(left="x")

    monkeypatch.setattr(ox_xml.r, "record_class", lambda kind: Holder)
    with pytest.raises(TypeError, match="Pair has a field without a default"):
        ox_xml._decode_plan(ItemKind.CONTACT, (ox_xml.Field("pair.right", "right", ox_xml._TEXT),))
