"""Outlook re-saving an item by itself (a dismissed reminder, an open-and-close) must not
push Outlook's lossy copy of it over the richer original on the other side."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.adapters.outlook import OutlookStore
from oxsync.core import records as r
from oxsync.testing.outlook import Application, constants

START = datetime(2026, 11, 28, 8, tzinfo=UTC)


def _pair() -> tuple[Application, MemoryStore, SyncEngine]:
    app = Application(tz="Europe/Paris")
    memory = MemoryStore(name="mem")
    engine = SyncEngine(
        memory, OutlookStore(app), state=State(":memory:"), policy=Policy.NEWEST_WINS
    )
    return app, memory, engine


def _resave_all(app: Application, folder: int) -> None:
    app.clock.advance(minutes=1)
    for item in list(app.Session.GetDefaultFolder(folder).Items):
        item.Save()  # no change: Outlook still moves LastModificationTime


def test_internal_attendees_survive_an_outlook_resave() -> None:
    app, memory, engine = _pair()
    event = r.Event(
        uid="e1",
        summary="Planning",
        start=START,
        end=START.replace(hour=9),
        alarm=r.Alarm(minutes_before=15),
        attendees=(
            r.Attendee(email="bob@example.org", name="Bob", user_id="42"),
            r.Attendee(email="room@example.org", kind=r.AttendeeKind.RESOURCE,
                       role=r.AttendeeRole.RESOURCE, user_id="7"),
        ),
    )  # fmt: skip
    event_id = memory.put("calendar", event)
    engine.sync()
    _resave_all(app, constants.olFolderCalendar)
    engine.sync()
    assert memory.records("calendar")[event_id] == memory.records("calendar")[event_id]
    got = memory.records("calendar")[event_id]
    assert got.attendees == event.attendees  # type: ignore[union-attr]
    assert engine.sync().changed == 0


def test_list_member_references_survive_an_outlook_resave() -> None:
    app, memory, engine = _pair()
    dl = r.DistributionList(
        uid="dl1",
        display_name="Team",
        members=(
            r.DistributionListMember(display_name="Ada", email="ada@example.org",
                                     contact_uid="c1", email_slot=1),
            r.DistributionListMember(email="x@example.org"),
        ),
    )  # fmt: skip
    dl_id = memory.put("contacts", dl)
    engine.sync()
    _resave_all(app, constants.olFolderContacts)
    engine.sync()
    assert memory.records("contacts")[dl_id] == dl


def test_an_html_note_survives_a_resave_on_an_outlook_whose_items_lack_htmlbody(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The documented object model gives HTMLBody to mail-like items only: on such an
    Outlook a record's HTML note is written as its plain text and reads back without HTML.
    A re-save there must not erase the HTML the other side keeps."""
    from oxsync.adapters.outlook import _itemio, _recordio

    monkeypatch.setattr(_itemio, "body_format_of", lambda item: None)
    monkeypatch.setattr(_recordio, "body_format_of", lambda item: None)
    app, memory, engine = _pair()
    contact = r.Contact(
        uid="c-html", last_name="Lovelace", note="Bold note", note_html="<p><b>Bold</b> note</p>"
    )
    contact_id = memory.put("contacts", contact)
    engine.sync()
    (item,) = app.Session.GetDefaultFolder(constants.olFolderContacts).Items
    assert item.Body == "Bold note"  # written as plain text
    _resave_all(app, constants.olFolderContacts)
    report = engine.sync()
    assert report.a.updated == 0, report
    assert memory.records("contacts")[contact_id] == contact
    assert engine.sync().changed == 0


def test_a_completed_task_without_a_date_stays_so_after_a_later_resave() -> None:
    """Outlook stamps today on a task completed without a completion date. The store
    writes that date itself and reads it back as no date, so a re-save days later is no
    edit; a date the user then sets in Outlook is a real one and syncs."""
    app, memory, engine = _pair()
    task = r.Task(uid="t-done", summary="Report", status=r.TaskStatus.COMPLETED,
                  percent_complete=100)  # fmt: skip
    task_id = memory.put("tasks", task)
    engine.sync()
    (item,) = app.Session.GetDefaultFolder(constants.olFolderTasks).Items
    assert item.Complete and item.DateCompleted.year < 4501  # Outlook shows a date
    app.clock.advance(days=3)
    _resave_all(app, constants.olFolderTasks)
    report = engine.sync()
    assert report.a.updated == 0, report
    assert memory.records("tasks")[task_id] == task
    (item,) = app.Session.GetDefaultFolder(constants.olFolderTasks).Items
    item.DateCompleted = datetime(2026, 11, 2)
    item.Save()
    engine.sync()
    got = memory.records("tasks")[task_id]
    assert got.date_completed is not None and got.date_completed.isoformat()[:10] == "2026-11-02"  # type: ignore[union-attr]


def test_a_series_starting_off_its_rule_survives_an_outlook_resave() -> None:
    """Outlook moves a series' start that is no occurrence (Monday, for a Tuesday rule)
    to its first occurrence: a re-save is no edit, the other side keeps its start."""
    app, memory, engine = _pair()
    monday = datetime(2026, 3, 2, 8, tzinfo=UTC)
    series = r.Event(uid="e-off", summary="Tuesdays", start=monday, end=monday.replace(hour=9),
                     timezone="Europe/Paris",
                     recurrence=r.Recurrence(frequency=r.Frequency.WEEKLY,
                                             weekdays=r.Weekday.TUESDAY, count=4))  # fmt: skip
    event_id = memory.put("calendar", series)
    engine.sync()
    (item,) = app.Session.GetDefaultFolder(constants.olFolderCalendar).Items
    assert item.Start.day == 3  # Outlook's master starts on the first Tuesday
    _resave_all(app, constants.olFolderCalendar)
    report = engine.sync()
    assert report.a.updated == 0, report
    assert memory.records("calendar")[event_id] == series
