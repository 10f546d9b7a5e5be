"""Real-world-like iCalendar files (Outlook, Google, Thunderbird, Apple, OX, RFC 5545
examples, broken input) import without crash; what cannot be read is a per-item error."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from oxsync.core import records as r
from oxsync.errors import MappingError
from oxsync.mappings.ical import ical_to_records, ical_to_results, record_to_ical

FIXTURES = Path(__file__).parent / "fixtures"
ICS = sorted(FIXTURES.glob("*.ics"))


def _by_uid(name: str) -> dict[str | None, r.Record | MappingError]:
    out: dict[str | None, r.Record | MappingError] = {}
    for result in ical_to_results((FIXTURES / name).read_bytes()):
        if isinstance(result, MappingError):
            out[str(result).split("'")[1] if "'" in str(result) else str(result)] = result
        else:
            out[result.uid] = result
    return out


@pytest.mark.parametrize("path", ICS, ids=lambda p: p.name)
def test_every_fixture_imports_without_crash_and_rewrites_identically(path: Path) -> None:
    results = ical_to_results(path.read_bytes())
    assert results, "every fixture holds items"
    for result in results:
        if isinstance(result, MappingError):
            assert result.errors, "an item error names its fields"
            continue
        # what we read, we write back and read again unchanged
        assert ical_to_records(record_to_ical(result)) == [result]


def test_outlook_windows_zone_keeps_wall_clock_and_overrides_become_exceptions() -> None:
    (event,) = ical_to_records((FIXTURES / "outlook_recurring.ics").read_bytes())
    assert isinstance(event, r.Event)
    assert event.timezone == "Europe/Berlin"  # "W. Europe Standard Time"
    assert event.start.astimezone(ZoneInfo("Europe/Berlin")).hour == 9  # 09:30 wall clock
    assert event.start == datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    assert event.recurrence is not None
    assert event.recurrence.frequency is r.Frequency.WEEKLY
    assert event.recurrence.weekdays == r.Weekday.MONDAY
    assert event.recurrence.until == date(2026, 4, 27)
    assert event.recurrence.deleted == (date(2026, 3, 16),)
    (moved,) = event.exceptions
    assert moved.original_start == datetime(2026, 3, 23, 8, 30, tzinfo=UTC)
    assert moved.start == datetime(2026, 3, 23, 10, 0, tzinfo=UTC)
    assert moved.summary == "Réunion d'équipe (déplacée)"
    assert moved.location == "Salle Lovelace"
    assert moved.busy_status is r.BusyStatus.OUT_OF_OFFICE
    assert moved.note is None  # same as the series
    assert event.note_html is not None and "<b>hebdomadaire</b>" in event.note_html
    assert event.note == (
        "Point hebdomadaire, ordre du jour en pièce jointe.\n\nMerci de venir à l'heure."
    )
    assert event.sensitivity is r.Sensitivity.PRIVATE
    assert event.alarm == r.Alarm(minutes_before=15)
    assert event.organizer is not None and event.organizer.name == "Martin, Paul"
    roles = [(a.email, a.role, a.kind, a.status) for a in event.attendees]
    assert roles == [
        (
            "marie.dupont@example.fr",
            r.AttendeeRole.REQUIRED,
            r.AttendeeKind.USER,
            r.ParticipationStatus.ACCEPTED,
        ),
        (
            "turing@example.fr",
            r.AttendeeRole.RESOURCE,
            r.AttendeeKind.RESOURCE,
            r.ParticipationStatus.NONE,
        ),
        (
            "jean@example.fr",
            r.AttendeeRole.OPTIONAL,
            r.AttendeeKind.USER,
            r.ParticipationStatus.NONE,
        ),
    ]


def test_google_nth_weekday_rule_link_attachment_and_all_day_holiday() -> None:
    items = _by_uid("google_calendar.ics")
    sync = items["7kukuqrfedlm2f9t2d8ab6lm0c@google.com"]
    assert isinstance(sync, r.Event) and sync.recurrence is not None
    assert (sync.recurrence.frequency, sync.recurrence.nth, sync.recurrence.weekdays) == (
        r.Frequency.MONTHLY,
        2,
        r.Weekday.TUESDAY,
    )
    assert sync.timezone == "America/New_York"
    (attachment,) = sync.attachments
    assert attachment.content_type == "text/uri-list"
    assert attachment.data == b"https://drive.example.com/file/d/1AbC/view"
    assert sync.alarm == r.Alarm(minutes_before=10)  # first relative alarm kept
    holiday = items["20260704_holiday@google.com"]
    assert isinstance(holiday, r.Event)
    assert holiday.all_day and holiday.start == date(2026, 7, 4) and holiday.end == date(2026, 7, 5)
    assert holiday.busy_status is r.BusyStatus.FREE


def test_thunderbird_tasks_mozilla_zone_and_recurring_task() -> None:
    items = _by_uid("thunderbird_tasks.ics")
    budget = items["1c9d2f2e-5a1b-4e8e-9c55-0d2b7e6f0a11"]
    assert isinstance(budget, r.Task)
    assert budget.start == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # 09:00 Paris
    assert budget.status is r.TaskStatus.IN_PROGRESS and budget.percent_complete == 40
    assert budget.importance is r.Importance.HIGH
    assert budget.categories == ("Travail", "Finances")
    assert budget.alarm == r.Alarm(at=datetime(2026, 3, 13, 8, 0, tzinfo=UTC))
    plants = items["5e0b1c77-2f44-4b0f-8d7a-9a3c1f6e2b90"]
    assert isinstance(plants, r.Task) and plants.recurrence is not None
    assert plants.recurrence.weekdays == r.Weekday.MONDAY | r.Weekday.THURSDAY
    assert plants.date_completed == datetime(2026, 1, 10, 7, 59, tzinfo=UTC)
    idea = items["9a9a9a9a-0000-4000-8000-000000000001"]
    assert isinstance(idea, r.Task)
    assert idea.importance is r.Importance.LOW
    assert idea.sensitivity is r.Sensitivity.CONFIDENTIAL


def test_apple_no_alarm_placeholder_is_not_an_alarm_and_alarm_after_end() -> None:
    items = _by_uid("apple_calendar.ics")
    holiday = items["8F3E9B1A-2C4D-4E5F-9A6B-7C8D9E0F1A2B"]
    assert isinstance(holiday, r.Event) and holiday.alarm is None
    call = items["0B1C2D3E-4F50-6172-8394-A5B6C7D8E9F0"]
    assert isinstance(call, r.Event)
    assert call.timezone == "Pacific/Fiji"
    assert call.alarm == r.Alarm(minutes_before=-30)  # 30 min before a 1 h event's end
    assert call.location == "Suva\nFiji"


def test_ox_export_yearly_birthday_and_last_tuesday_rule() -> None:
    items = _by_uid("ox_export.ics")
    birthday = items["5c3b2a1e-ox-4711@ox.example.de"]
    assert isinstance(birthday, r.Event) and birthday.recurrence is not None
    assert (birthday.recurrence.month, birthday.recurrence.day_of_month) == (5, 12)
    assert birthday.color_label == 1  # COLOR:red
    closing = items["5c3b2a1e-ox-4712@ox.example.de"]
    assert isinstance(closing, r.Event) and closing.recurrence is not None
    assert (closing.recurrence.nth, closing.recurrence.count) == (5, 8)
    assert closing.busy_status is r.BusyStatus.TENTATIVE
    tax = items["5c3b2a1e-ox-4713@ox.example.de"]
    assert isinstance(tax, r.Task) and tax.due == date(2026, 7, 31)


def test_rfc_examples_duration_floating_time_and_unsupported_components() -> None:
    items = _by_uid("rfc5545_examples.ics")
    review = items["guid-1.example.com"]
    assert isinstance(review, r.Event)
    assert review.end == datetime(1998, 3, 12, 9, 30, tzinfo=UTC)  # DTSTART + DURATION
    assert review.attendees[0].kind is r.AttendeeKind.GROUP
    floating = items["20070423T123432Z-541111@example.com"]
    assert isinstance(floating, r.Event) and floating.timezone is None
    assert floating.start == datetime(2007, 6, 28, 9, 0, tzinfo=UTC)
    journal = items["19970901T130000Z-123405@example.com"]
    freebusy = items["19970901T115957Z-76A912@example.com"]
    assert isinstance(journal, MappingError) and "VJOURNAL" in str(journal)
    assert isinstance(freebusy, MappingError) and "VFREEBUSY" in str(freebusy)


def test_broken_items_each_get_their_own_error_and_the_good_one_survives() -> None:
    items = _by_uid("broken.ics")
    good = items["fine-event"]
    assert isinstance(good, r.Event) and good.summary == "The one good item"
    paths = {
        uid: {e.path for e in result.errors}
        for uid, result in items.items()
        if isinstance(result, MappingError)
    }
    assert paths == {
        "impossible-date": {"start", "end"},
        "hourly": {"recurrence.frequency"},
        "orphan-instance": {"RECURRENCE-ID"},
        "bad-task": {"status", "importance", "percent_complete"},
    }
    with pytest.raises(MappingError) as caught:
        ical_to_records((FIXTURES / "broken.ics").read_bytes())
    assert "4 of 5" in str(caught.value)
