"""First sync of two stores that already hold the same items (a user moving from the
OXtender): a copy that is only one store's rendering of the other's is paired as it is,
not weighed against it as a conflict (newest-wins would push the lossier copy over the
richer one: OX users turned external, list members without their contact references)."""

from __future__ import annotations

from datetime import UTC, datetime

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.outlook import OutlookStore
from oxsync.adapters.ox import OXStore
from oxsync.core import records as r
from oxsync.core.records import FolderKind
from oxsync.core.store import Create
from oxsync.testing.outlook import Application, constants
from oxsync.testing.oxserver import OXBackend
from tests.outlook.helpers import default
from tests.outlook.test_ox_sync import listing


def test_a_copy_that_is_outlooks_rendering_is_paired_not_overwritten(
    backend: OXBackend, ox: OXStore
) -> None:
    bob = backend.add_user("bob", "bob-pw", display_name="Bob Brown", email="bob@example.org")
    start = datetime(2026, 4, 7, 8, tzinfo=UTC)
    meeting = r.Event(
        uid="ox-meeting",
        summary="With Bob",
        start=start,
        end=start.replace(hour=9),
        timezone="Europe/Paris",
        attendees=(r.Attendee(email="bob@example.org", name="Bob Brown", user_id=str(bob.id)),),
    )
    (done,) = ox.apply(default(ox, FolderKind.CALENDAR), [Create(meeting)])
    assert type(done).__name__ == "Applied", done
    app = Application(tz="Europe/Paris", list_separator=";")
    outlook = OutlookStore(app)
    app.clock.advance(minutes=30)  # Outlook's copy is the newer one
    (done,) = outlook.apply(default(outlook, FolderKind.CALENDAR), [Create(meeting)])
    assert type(done).__name__ == "Applied", done
    engine = SyncEngine(
        outlook, ox, state=State(":memory:"), policy=Policy.NEWEST_WINS, backoff=0.0
    )
    report = engine.sync()
    assert report.a.updated == report.b.updated == 0 and report.conflicts == 0, report
    on_ox = listing(ox, default(ox, FolderKind.CALENDAR))["ox-meeting"]
    assert on_ox.attendees == meeting.attendees
    # and paired for good: Outlook saving it again is no edit either
    app.clock.advance(minutes=5)
    (item,) = app.Session.GetDefaultFolder(constants.olFolderCalendar).Items
    item.Save()
    assert engine.sync().changed == 0
    assert listing(ox, default(ox, FolderKind.CALENDAR))["ox-meeting"].attendees == (
        meeting.attendees
    )
