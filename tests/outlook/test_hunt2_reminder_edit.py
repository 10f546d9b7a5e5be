"""Hunt 2: a dismissed reminder in Outlook must not beat a real edit on the other side."""

from __future__ import annotations

from datetime import UTC, datetime

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.adapters.outlook import OutlookStore
from oxsync.core import records as r
from oxsync.core.store import Create, Item
from oxsync.testing.outlook import Application, constants
from tests.outlook.helpers import default


def test_an_event_without_a_zone_reads_back_without_one() -> None:
    app = Application(tz="Europe/Paris")
    store = OutlookStore(app)
    folder = default(store, r.FolderKind.CALENDAR)
    start = datetime(2026, 11, 28, 8, tzinfo=UTC)
    event = r.Event(uid="e1", summary="x", start=start, end=start.replace(hour=9))
    (done,) = store.apply(folder, [Create(event)])
    got = store.fetch(folder, [done.id])[done.id]  # type: ignore[union-attr]
    assert isinstance(got, Item) and got.record.timezone is None
    # a zone the user then picks in Outlook is read
    (item,) = app.Session.GetDefaultFolder(constants.olFolderCalendar).Items
    item.StartTimeZone = app.TimeZones.Item("Tokyo Standard Time")
    item.Save()
    got = store.fetch(folder, [done.id])[done.id]  # type: ignore[union-attr]
    assert isinstance(got, Item) and got.record.timezone == "Asia/Tokyo"


def test_a_dismissed_reminder_does_not_undo_an_edit_made_elsewhere() -> None:
    """Dismissing a reminder moves LastModificationTime, nothing else. An event written
    without a zone read back with the session's zone, so the engine took the
    dismissal for an Outlook edit: with an edit on the other side in the same sync,
    a conflict that NEWEST_WINS gave to Outlook, undoing the real edit."""
    app = Application(tz="Europe/Paris")
    outlook, memory = OutlookStore(app), MemoryStore(name="mem")
    engine = SyncEngine(outlook, memory, state=State(":memory:"), policy=Policy.NEWEST_WINS)
    start = datetime(2026, 11, 28, 8, tzinfo=UTC)
    event_id = memory.put(
        "calendar",
        r.Event(uid="e1", summary="Planning", start=start, end=start.replace(hour=9),
                alarm=r.Alarm(minutes_before=15)),
    )  # fmt: skip
    engine.sync()
    app.clock.advance(minutes=1)
    for reminder in app.Reminders:
        reminder.Dismiss()
    memory.edit("calendar", event_id, summary="Planning (moved to room 2)")
    report = engine.sync()
    assert report.conflicts == 0
    (item,) = app.Session.GetDefaultFolder(constants.olFolderCalendar).Items
    assert item.Subject == "Planning (moved to room 2)"
    assert memory.records("calendar")[event_id].summary == "Planning (moved to room 2)"  # type: ignore[union-attr]
    assert engine.sync().changed == 0
