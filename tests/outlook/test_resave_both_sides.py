"""Outlook ⇄ OX: each side saving every item again by itself (Outlook on a dismissed
reminder or an open-and-close, OX touching its objects) is no edit: nothing is written
anywhere, and every Annex B value, OX users and list references included, stays put."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.outlook import OutlookStore
from oxsync.adapters.ox import OXStore
from oxsync.core import records as r
from oxsync.core.records import FolderKind
from oxsync.core.store import Create
from oxsync.testing.outlook import Application, constants
from oxsync.testing.oxserver import OXBackend
from oxsync.testing.oxserver._rules import OBJECT_LEVEL
from tests.outlook.helpers import default
from tests.outlook.test_ox_sync import full_contact, full_event, full_task, listing


def _ox_resave(backend: OXBackend) -> int:
    count = 0
    for module in ("contact", "calendar", "task"):
        folder = backend.default_folder("alice", module)
        for obj in backend.objects_in(folder):
            fields = {
                n: el
                for n, el in obj.fields.items()
                if n not in OBJECT_LEVEL and n != "changeexceptions"
            }
            backend.save("alice", folder, fields, object_id=obj.id)
            count += 1
    return count


def _outlook_resave(app: Application) -> int:
    app.clock.advance(minutes=5)
    count = 0
    for number in (constants.olFolderContacts, constants.olFolderCalendar,
                   constants.olFolderTasks):  # fmt: skip
        for item in list(app.Session.GetDefaultFolder(number).Items):
            item.Save()
            count += 1
    return count


def _everything(outlook: OutlookStore, ox: OXStore) -> dict[str, Any]:
    out = {}
    for store in (outlook, ox):
        for kind in (FolderKind.CONTACTS, FolderKind.CALENDAR, FolderKind.TASKS):
            for uid, record in listing(store, default(store, kind)).items():
                out[f"{store.name}:{uid}"] = attrs_plain(record)
    return out


def attrs_plain(record: Any) -> Any:
    from oxsync.core.serial import to_data

    data = to_data(record)
    data.pop("created", None)
    data.pop("last_modified", None)
    return data


def test_resaves_on_both_sides_write_nothing(backend: OXBackend, ox: OXStore) -> None:
    app = Application(tz="Europe/Paris", list_separator=";")
    outlook = OutlookStore(app)
    engine = SyncEngine(outlook, ox, state=State(":memory:"), policy=Policy.NEWEST_WINS,
                        backoff=0.0)  # fmt: skip
    for make, kind in ((full_contact, FolderKind.CONTACTS), (full_event, FolderKind.CALENDAR),
                       (full_task, FolderKind.TASKS)):  # fmt: skip
        (made,) = outlook.apply(default(outlook, kind), [Create(make())])
        assert type(made).__name__ == "Applied", made
    # from OX: a meeting with an OX user and a resource, a list pointing at a contact
    start = datetime(2026, 4, 7, 8, tzinfo=UTC)
    bob = backend.add_user("bob", "bob-pw", display_name="Bob Brown", email="bob@example.org")
    meeting = r.Event(
        uid="ox-meeting",
        summary="With Bob",
        start=start,
        end=start.replace(hour=9),
        timezone="Europe/Paris",
        alarm=r.Alarm(minutes_before=10),
        sensitivity=r.Sensitivity.PERSONAL,
        attendees=(
            r.Attendee(email="bob@example.org", name="Bob Brown",
                       user_id=str(bob.id)),
            r.Attendee(email="x@example.org", name="X", kind=r.AttendeeKind.EXTERNAL,
                       role=r.AttendeeRole.OPTIONAL, comment="maybe"),
        ),
    )  # fmt: skip
    contacts = default(ox, FolderKind.CONTACTS)
    ada = r.Contact(uid="ox-ada", first_name="Ada", last_name="Lovelace",
                    emails=r.Emails(email1="ada@example.org"))  # fmt: skip
    (done,) = ox.apply(contacts, [Create(ada)])
    assert type(done).__name__ == "Applied", done
    team = r.DistributionList(
        uid="ox-team",
        display_name="Team",
        members=(
            r.DistributionListMember(display_name="Ada", email="ada@example.org",
                                     contact_uid="ox-ada", email_slot=1),
            r.DistributionListMember(display_name="Zed", email="zed@example.org"),
        ),
    )  # fmt: skip
    for folder, record in ((default(ox, FolderKind.CALENDAR), meeting), (contacts, team)):
        (done,) = ox.apply(folder, [Create(record)])
        assert type(done).__name__ == "Applied", done

    first = engine.sync()
    assert not first.errors and not engine.ignored(), (first.errors, engine.ignored())
    assert engine.sync().changed == 0
    before = _everything(outlook, ox)
    assert before[f"{ox.name}:ox-meeting"]["attendees"][0].get("user_id")
    assert before[f"{ox.name}:ox-team"]["members"][0].get("contact_uid") == "ox-ada"

    assert _ox_resave(backend) >= 6
    assert _outlook_resave(app) >= 6
    report = engine.sync()
    assert not report.errors, report.errors
    assert report.a.updated == report.b.updated == 0, report
    assert report.a.created == report.b.created == 0, report
    after = _everything(outlook, ox)
    changed = {k for k in before if before[k] != after.get(k)}
    assert not changed, {k: (before[k], after.get(k)) for k in changed}
    assert engine.sync().changed == 0


def test_an_outlook_edit_carries_only_the_edit(backend: OXBackend, ox: OXStore) -> None:
    """An edit made in Outlook reaches OX without Outlook's lossier rest: the OX user
    stays a user, the list member keeps its contact reference."""
    app = Application(tz="Europe/Paris", list_separator=";")
    outlook = OutlookStore(app)
    engine = SyncEngine(
        outlook, ox, state=State(":memory:"), policy=Policy.NEWEST_WINS, backoff=0.0
    )
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
    contacts = default(ox, FolderKind.CONTACTS)
    ada = r.Contact(uid="ox-ada", first_name="Ada", emails=r.Emails(email1="ada@example.org"))
    team = r.DistributionList(
        uid="ox-team",
        display_name="Team",
        members=(
            r.DistributionListMember(
                display_name="Ada", email="ada@example.org", contact_uid="ox-ada", email_slot=1
            ),
        ),
    )
    for folder, record in (
        (contacts, ada),
        (default(ox, FolderKind.CALENDAR), meeting),
        (contacts, team),
    ):
        (done,) = ox.apply(folder, [Create(record)])
        assert type(done).__name__ == "Applied", done
    engine.sync()
    app.clock.advance(minutes=5)
    (item,) = app.Session.GetDefaultFolder(constants.olFolderCalendar).Items
    item.Subject = "With Bob (room 2)"
    item.Save()
    for item in app.Session.GetDefaultFolder(constants.olFolderContacts).Items:
        if item.Class == constants.olDistributionList:
            item.DLName = "Team (all)"
            item.Save()
    report = engine.sync()
    assert report.b.updated == 2 and not report.errors, report
    on_ox = listing(ox, default(ox, FolderKind.CALENDAR))["ox-meeting"]
    assert on_ox.summary == "With Bob (room 2)"
    assert on_ox.attendees == meeting.attendees
    got_team = listing(ox, contacts)["ox-team"]
    assert got_team.display_name == "Team (all)" and got_team.members == team.members


def test_removing_one_attendee_in_outlook_keeps_the_others_ox_users(
    backend: OXBackend, ox: OXStore
) -> None:
    app = Application(tz="Europe/Paris", list_separator=";")
    outlook = OutlookStore(app)
    engine = SyncEngine(
        outlook, ox, state=State(":memory:"), policy=Policy.NEWEST_WINS, backoff=0.0
    )
    bob = backend.add_user("bob", "bob-pw", display_name="Bob Brown", email="bob@example.org")
    carol = backend.add_user("carol", "c-pw", display_name="Carol", email="carol@example.org")
    start = datetime(2026, 4, 7, 8, tzinfo=UTC)
    people = (
        r.Attendee(email="bob@example.org", name="Bob Brown", user_id=str(bob.id)),
        r.Attendee(email="carol@example.org", name="Carol", user_id=str(carol.id)),
        r.Attendee(email="x@example.org", name="X", kind=r.AttendeeKind.EXTERNAL),
    )
    meeting = r.Event(uid="ox-meeting", summary="Three", start=start, end=start.replace(hour=9),
                      timezone="Europe/Paris", attendees=people)  # fmt: skip
    (done,) = ox.apply(default(ox, FolderKind.CALENDAR), [Create(meeting)])
    assert type(done).__name__ == "Applied", done
    engine.sync()
    app.clock.advance(minutes=5)
    (item,) = app.Session.GetDefaultFolder(constants.olFolderCalendar).Items
    recipients = item.Recipients
    for i in range(recipients.Count, 0, -1):
        if recipients.Item(i).Address == "x@example.org":
            recipients.Remove(i)
    item.Save()
    report = engine.sync()
    assert report.b.updated == 1 and not report.errors, report
    on_ox = listing(ox, default(ox, FolderKind.CALENDAR))["ox-meeting"]
    assert on_ox.attendees == people[:2]  # Bob and Carol still OX users
