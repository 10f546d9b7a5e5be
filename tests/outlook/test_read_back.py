"""Outlook re-saving an item by itself (a dismissed reminder, an open-and-close) must not
push Outlook's lossy copy of it over the richer original on the other side."""

from __future__ import annotations

from datetime import UTC, datetime

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
