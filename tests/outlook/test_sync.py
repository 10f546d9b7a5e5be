"""Two-way sync Outlook (fake) <-> memory store through the engine."""

from __future__ import annotations

from typing import Any

import pytest

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.adapters.outlook import OutlookStore
from oxsync.core.records import Contact, FolderKind, ItemKind
from oxsync.testing.outlook import Application, constants
from oxsync.testing.samples import comparable, sample


@pytest.fixture
def app() -> Application:
    return Application(tz="Europe/Paris")


def setup(
    app: Application, hints: list[str] | None = None
) -> tuple[OutlookStore, MemoryStore, SyncEngine]:
    outlook = OutlookStore(app, on_change=None if hints is None else hints.append)
    memory = MemoryStore(name="mem")
    engine = SyncEngine(outlook, memory, state=State(":memory:"), policy=Policy.NEWEST_WINS)
    return outlook, memory, engine


def outlook_contact(folder: Any, last: str) -> Any:
    item = folder.Items.Add(constants.olContactItem)
    item.FirstName, item.LastName = "Ada", last
    item.Save()
    return item


def memory_folder(memory: MemoryStore, name: str) -> str:
    return next(f.id for f in memory.folders() if f.name == name)


def names(memory: MemoryStore, folder: str) -> list[str]:
    return sorted(
        r.last_name or "" for r in memory.records(folder).values() if isinstance(r, Contact)
    )


def test_initial_two_way_sync_and_edits(app: Application) -> None:
    outlook, memory, engine = setup(app)
    contacts = app.Session.GetDefaultFolder(constants.olFolderContacts)
    outlook_contact(contacts, "FromOutlook")
    memory.put("contacts", sample(ItemKind.CONTACT, 1))
    memory.put("calendar", sample(ItemKind.EVENT, 2))
    memory.put("tasks", sample(ItemKind.TASK, 3))
    engine.sync()
    assert names(memory, "contacts") == ["FromOutlook", "Lovelace-1"]
    assert contacts.Items.Count == 2
    calendar = app.Session.GetDefaultFolder(constants.olFolderCalendar)
    (event,) = list(calendar.Items)
    assert event.Subject == "Réunion 2"
    back = OutlookStore(app)
    folder = next(f.id for f in back.folders() if f.kind is FolderKind.CALENDAR)
    (ref,) = back.changes(folder, None).changed
    got = back.fetch(folder, [ref.id])[ref.id]
    caps = outlook.capabilities
    assert comparable(got.record, caps) == comparable(sample(ItemKind.EVENT, 2), caps)
    # an edit in Outlook flows to memory, a dismissed reminder changes nothing
    item = next(i for i in contacts.Items if i.LastName == "FromOutlook")
    item.JobTitle = "Engineer"
    item.Save()
    engine.sync()
    assert any(
        getattr(r, "job_title", None) == "Engineer" for r in memory.records("contacts").values()
    )
    app.clock.advance(minutes=1)
    for reminder in app.Reminders:
        reminder.Dismiss()
    report = engine.sync()
    assert report.a.created == report.a.updated == report.b.updated == report.b.created == 0


def test_items_moved_between_outlook_folders_are_neither_lost_nor_doubled(
    app: Application,
) -> None:
    _outlook, memory, engine = setup(app)
    contacts = app.Session.GetDefaultFolder(constants.olFolderContacts)
    friends = contacts.Folders.Add("Friends")
    for i in range(6):
        outlook_contact(contacts, f"c{i}")
    engine.sync()
    mem_contacts, mem_friends = memory_folder(memory, "Contacts"), memory_folder(memory, "Friends")
    assert names(memory, mem_contacts) == [f"c{i}" for i in range(6)]
    for item in [i for i in contacts.Items if i.LastName in ("c1", "c2")]:
        item.Move(friends)
    engine.sync()
    assert names(memory, mem_contacts) == ["c0", "c3", "c4", "c5"]
    assert names(memory, mem_friends) == ["c1", "c2"]
    engine.sync()  # and it stays that way
    assert names(memory, mem_friends) == ["c1", "c2"]
    assert contacts.Items.Count == 4 and friends.Items.Count == 2


def test_twenty_deleted_at_once_without_events_still_propagate(app: Application) -> None:
    hints: list[str] = []
    _outlook, memory, engine = setup(app, hints)
    contacts = app.Session.GetDefaultFolder(constants.olFolderContacts)
    for i in range(50):
        outlook_contact(contacts, f"c{i:02d}")
    engine.sync()
    assert len(memory.records("contacts")) == 50
    doomed = [i for i in contacts.Items if i.LastName < "c20"]
    hints.clear()
    with app.bulk():
        for item in doomed:
            item.Delete()
    assert hints == []  # Outlook fired no ItemRemove for a 20-item delete
    engine.sync()  # the periodic reconcile
    assert names(memory, "contacts") == [f"c{i:02d}" for i in range(20, 50)]


def test_memory_side_changes_reach_outlook(app: Application) -> None:
    _outlook, memory, engine = setup(app)
    item_id = memory.put("contacts", sample(ItemKind.CONTACT, 7))
    engine.sync()
    memory.edit("contacts", item_id, nickname="Countess")
    engine.sync()
    contacts = app.Session.GetDefaultFolder(constants.olFolderContacts)
    (item,) = list(contacts.Items)
    assert item.NickName == "Countess"
    memory.remove("contacts", item_id)
    engine.sync()
    assert contacts.Items.Count == 0
