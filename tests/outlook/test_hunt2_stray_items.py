"""Hunt 2: items of another kind moved into a folder (a task in Contacts, …)."""

from __future__ import annotations

from datetime import datetime

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.adapters.outlook import OutlookStore
from oxsync.core.records import Contact, Event, FolderKind, Task
from oxsync.testing.outlook import Application, constants
from tests.outlook.helpers import default


def test_items_of_another_kind_in_a_folder_are_not_listed() -> None:
    """Outlook's Move to Folder keeps an item's class: a task moved into Contacts stays
    an IPM.Task there. It was listed as one of the folder's items and reached the peer's
    address book (an OX contacts folder made it an empty contact)."""
    app = Application(tz="Europe/Paris")
    session = app.Session
    contacts = session.GetDefaultFolder(constants.olFolderContacts)
    calendar = session.GetDefaultFolder(constants.olFolderCalendar)
    tasks = session.GetDefaultFolder(constants.olFolderTasks)
    task = tasks.Items.Add(constants.olTaskItem)
    task.Subject = "stray task"
    task.Save()
    task.Move(contacts)
    event = calendar.Items.Add(constants.olAppointmentItem)
    event.Subject = "stray event"
    event.Start, event.End = datetime(2026, 3, 2, 9), datetime(2026, 3, 2, 10)
    event.Save()
    event.Move(tasks)
    person = contacts.Items.Add(constants.olContactItem)
    person.LastName = "Lovelace"
    person.Save()
    store = OutlookStore(app)
    listed = store.changes(default(store, FolderKind.CONTACTS), None).changed
    assert len(listed) == 1
    assert store.changes(default(store, FolderKind.TASKS), None).changed == []
    memory = MemoryStore(name="mem")
    engine = SyncEngine(store, memory, state=State(":memory:"), policy=Policy.NEWEST_WINS)
    engine.sync()
    kinds = {
        f.name: sorted(type(rec).__name__ for rec in memory.records(f.id).values())
        for f in memory.folders()
    }
    assert kinds["Contacts"] == [Contact.__name__]
    assert kinds["Tasks"] == [] and kinds["Calendar"] == []
    assert Task.__name__ not in kinds["Contacts"] and Event.__name__ not in kinds["Tasks"]
    assert engine.sync().changed == 0
    assert contacts.Items.Count == 2 and tasks.Items.Count == 1  # left alone in Outlook
