"""Outlook failing at any object-model call during a sync loses and duplicates nothing.

The fake's fault hook (``Application.fail_on``) makes a chosen call raise ``com_error``:
the N-th call from now, or the k-th call of one kind (``Save``, ``Items.Add``, a property
write, ``UserProperties``, ``GetNextRow``, ``Move``, ``Delete`` ...), with a code Outlook
really answers (busy and disconnected ones, which are transient, and lasting ones). The
properties drive a :class:`MemoryStore` ⇄ :class:`OutlookStore` pair through the engine
with user edits on both sides, run one sync with the fault armed — only oxsync's typed
errors may come out of it — then disarm it, retry the ignored items and sync again: both
sides must then hold the same records (by uid and content), each uid once, and every
record the user did not delete.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.adapters.outlook import OutlookStore
from oxsync.core.records import Contact, Event, ItemKind, Record, Task
from oxsync.errors import OxsyncError
from oxsync.testing.outlook import MAPI_E_NOT_FOUND, Application, FaultCall, constants
from oxsync.testing.samples import comparable, sample


def _s(code: int) -> int:
    return code - (1 << 32) if code & 0x80000000 else code


TRANSIENT_CODES = [
    _s(0x80010001),  # RPC_E_CALL_REJECTED
    _s(0x8001010A),  # RPC_E_SERVERCALL_RETRYLATER
    _s(0x80010108),  # RPC_E_DISCONNECTED
    _s(0x800706BA),  # RPC_S_SERVER_UNAVAILABLE
    _s(0x80040115),  # MAPI_E_NETWORK_ERROR
    _s(0x8004010B),  # MAPI_E_BUSY
]
LASTING_CODES = [
    _s(0x80004005),  # E_FAIL
    _s(0x8004010F),  # MAPI_E_NOT_FOUND
    _s(0x80070005),  # E_ACCESSDENIED / MAPI_E_NO_ACCESS
    _s(0x80040109),  # MAPI_E_OBJECT_CHANGED
    _s(0x80070057),  # E_INVALIDARG
]
CALL_NAMES = [
    "Save",
    "Add",  # Items.Add, UserProperties.Add, Columns.Add
    "Find",  # UserProperties.Find
    "Value",  # a user property's value
    "GetNextRow",
    "GetValues",
    "GetTable",
    "GetItemFromID",
    "Move",
    "Delete",
    "EntryID",
    "LastModificationTime",
    "JobTitle",
    "Subject",
    "StartTimeZone",
    "SetProperty",
]
FOLDERS = ("Contacts", "Friends", "Tasks", "Calendar")


# --------------------------------------------------------------------------- the pair


@dataclass
class Pair:
    app: Application
    outlook: OutlookStore
    memory: MemoryStore
    engine: SyncEngine
    mem_folder: dict[str, str]
    ol_folder: dict[str, Any]
    expected: dict[str, tuple[str, str]] = field(default_factory=dict)  # uid -> folder, mark
    serial: int = 0


def marker(record: Record) -> str:
    if isinstance(record, Contact):
        return record.job_title or ""
    assert isinstance(record, Task | Event)
    return record.summary or ""


def kind_of(folder: str) -> ItemKind:
    return {"Tasks": ItemKind.TASK, "Calendar": ItemKind.EVENT}.get(folder, ItemKind.CONTACT)


def new_pair() -> Pair:
    app = Application(tz="Europe/Paris")
    session = app.Session
    contacts = session.GetDefaultFolder(constants.olFolderContacts)
    ol_folder = {
        "Contacts": contacts,
        "Friends": contacts.Folders.Add("Friends"),
        "Tasks": session.GetDefaultFolder(constants.olFolderTasks),
        "Calendar": session.GetDefaultFolder(constants.olFolderCalendar),
    }
    outlook = OutlookStore(app)
    memory = MemoryStore(name="mem")
    engine = SyncEngine(
        outlook,
        memory,
        state=State(":memory:"),
        policy=Policy.NEWEST_WINS,
        backoff=0,
        sleep=lambda _s: None,
    )
    pair = Pair(app, outlook, memory, engine, {}, ol_folder)
    engine.sync()  # pairs the folders (Friends reaches memory)
    pair.mem_folder = {f.name: f.id for f in memory.folders()}
    for folder in ("Contacts", "Contacts", "Friends", "Tasks", "Calendar"):
        create_in_memory(pair, folder)
    for folder in ("Contacts", "Tasks"):
        create_in_outlook(pair, folder)
    report = engine.sync()
    assert not report.errors, report.errors
    check_converged(pair)
    return pair


def create_in_memory(pair: Pair, folder: str) -> None:
    pair.serial += 1
    record = sample(kind_of(folder), pair.serial)
    record = attrs.evolve(record, uid=f"mem-{pair.serial}")
    pair.memory.put(pair.mem_folder[folder], record)
    pair.expected[str(record.uid)] = (folder, marker(record))


def create_in_outlook(pair: Pair, folder: str) -> None:
    pair.serial += 1
    mark = f"ol-{pair.serial}"
    obj = pair.ol_folder[folder]
    if kind_of(folder) is ItemKind.CONTACT:
        item = obj.Items.Add(constants.olContactItem)
        item.FirstName, item.LastName, item.JobTitle = "Ada", f"O{pair.serial}", mark
    else:
        item = obj.Items.Add(constants.olTaskItem)
        item.Subject = mark
    item.Save()
    pair.expected[f"?{mark}"] = (folder, mark)  # its uid is given by the first listing


# --------------------------------------------------------------------------- user edits


def memory_items(pair: Pair) -> list[tuple[str, str, Record]]:
    out = []
    for name in FOLDERS:
        for item_id, record in pair.memory.records(pair.mem_folder[name]).items():
            out.append((name, item_id, record))
    return out


def outlook_items(pair: Pair) -> list[tuple[str, Any]]:
    return [(name, item) for name in FOLDERS for item in pair.ol_folder[name].Items]


def user_edit(pair: Pair, side: str, action: str, pick: int, touched: set[str]) -> None:
    """One user action on one side, on an item no other action of the round touched."""
    pair.serial += 1
    mark = f"edit-{pair.serial}"
    if side == "mem":
        if action == "create":
            create_in_memory(pair, FOLDERS[pick % len(FOLDERS)])
            return
        items = [x for x in memory_items(pair) if x[2].uid not in touched]
        if not items:
            return
        folder, item_id, record = items[pick % len(items)]
        uid = str(record.uid)
        touched.add(uid)
        mem_id = pair.mem_folder[folder]
        if action == "update":
            field_name = "job_title" if isinstance(record, Contact) else "summary"
            pair.memory.edit(mem_id, item_id, **{field_name: mark})
            pair.expected[uid] = (folder, mark)
        elif action == "delete":
            pair.memory.remove(mem_id, item_id)
            del pair.expected[uid]
        elif folder in ("Contacts", "Friends"):  # move
            to = "Friends" if folder == "Contacts" else "Contacts"
            pair.memory.move_item(item_id, mem_id, pair.mem_folder[to])
            pair.expected[uid] = (to, pair.expected[uid][1])
        return
    if action == "create":
        create_in_outlook(pair, ("Contacts", "Friends", "Tasks")[pick % 3])
        return
    ol_items = [(f, i) for f, i in outlook_items(pair) if uid_of(i) not in touched and uid_of(i)]
    if not ol_items:
        return
    folder, item = ol_items[pick % len(ol_items)]
    uid = uid_of(item)
    touched.add(uid)
    if action == "update":
        if kind_of(folder) is ItemKind.CONTACT:
            item.JobTitle = mark
        else:
            item.Subject = mark
        item.Save()
        pair.expected[uid] = (folder, mark)
    elif action == "delete":
        item.Delete()
        del pair.expected[uid]
    elif folder in ("Contacts", "Friends"):
        to = "Friends" if folder == "Contacts" else "Contacts"
        item.Move(pair.ol_folder[to])
        pair.expected[uid] = (to, pair.expected[uid][1])


def uid_of(item: Any) -> str:
    found = item.UserProperties.Find("OxsyncUid")
    return str(found.Value) if found is not None else ""


# --------------------------------------------------------------------------- checks


def outlook_records(pair: Pair) -> dict[str, list[tuple[str, Record]]]:
    """Every record Outlook holds, read by a fresh store, by uid."""
    reader = OutlookStore(pair.app)
    out: dict[str, list[tuple[str, Record]]] = {}
    for folder in reader.folders():
        listing = reader.changes(folder.id, None)
        got = reader.fetch(folder.id, [ref.id for ref in listing.changed])
        for result in got.values():
            assert hasattr(result, "record"), result
            out.setdefault(str(result.record.uid), []).append((folder.name, result.record))
    return out


def memory_records(pair: Pair) -> dict[str, list[tuple[str, Record]]]:
    out: dict[str, list[tuple[str, Record]]] = {}
    for folder, _item_id, record in memory_items(pair):
        out.setdefault(str(record.uid), []).append((folder, record))
    return out


def check_converged(pair: Pair, *, strict: bool = True) -> None:
    """Both sides hold the expected records, each uid once, with the same content.

    Not ``strict`` (after a lasting fault): the engine parks what a store refused for a
    lasting reason (a refused delete leaves the item, and the pair is forgotten), so
    only "nothing the user kept is gone" is checked.
    """
    ol, mem = outlook_records(pair), memory_records(pair)
    for side, records in (("outlook", ol), ("memory", mem)):
        if not strict:
            continue
        doubled = {uid: [f for f, _ in v] for uid, v in records.items() if len(v) > 1}
        assert not doubled, f"{side} holds these uids more than once: {doubled}"
    # Outlook-made items get their uid at the first listing: learn it
    by_mark = {marker(r): uid for uid, v in ol.items() for _f, r in v}
    for key in [k for k in pair.expected if k.startswith("?")]:
        folder, mark = pair.expected.pop(key)
        assert mark in by_mark, f"the Outlook item {mark!r} is gone"
        pair.expected[by_mark[mark]] = (folder, mark)
    want = dict(pair.expected)
    for side, records in (("outlook", ol), ("memory", mem)):
        if strict:
            have = {uid: (v[0][0], marker(v[0][1])) for uid, v in records.items()}
            assert have == want, f"{side}: {have} != expected {want}"
        else:
            gone = set(want) - set(records)
            assert not gone, f"{side} lost {gone}"
    if strict:
        caps = pair.outlook.capabilities
        for uid, [(_f, record)] in ol.items():
            assert comparable(record, caps) == comparable(mem[uid][0][1], caps), uid


# --------------------------------------------------------------------------- regressions


def outlook_item(pair: Pair, folder: str, uid: str) -> Any:
    return next(i for i in pair.ol_folder[folder].Items if uid_of(i) == uid)


def memory_uids(pair: Pair) -> dict[str, str]:
    return {str(r.uid): f for f, _i, r in memory_items(pair)}


def test_a_delete_in_outlook_of_an_item_the_last_sync_created_reaches_memory() -> None:
    # The store's listing snapshot did not hold the items its own apply had created, so
    # the next delta never reported them deleted: the memory copy stayed forever.
    pair = new_pair()
    outlook_item(pair, "Contacts", "mem-1").Delete()
    pair.engine.sync()
    assert "mem-1" not in memory_uids(pair)


def test_a_move_in_outlook_of_an_item_the_last_sync_created_is_no_copy() -> None:
    # Same cause: the move's removal from Contacts went unseen, memory got a second copy.
    pair = new_pair()
    outlook_item(pair, "Contacts", "mem-1").Move(pair.ol_folder["Friends"])
    pair.engine.sync()
    assert [f for f, _i, r in memory_items(pair) if r.uid == "mem-1"] == ["Friends"]


def test_not_found_reading_a_property_deletes_nothing() -> None:
    # MAPI_E_NOT_FOUND from a property read of an item that is there was a NOT_FOUND
    # failure of the fetch, which the engine takes for a deletion: memory lost the item.
    pair = new_pair()
    item = outlook_item(pair, "Contacts", "mem-1")
    item.JobTitle = "edited"
    item.Save()
    pair.expected["mem-1"] = ("Contacts", "edited")
    pair.app.fail_on(lambda call: call.name == "Birthday", MAPI_E_NOT_FOUND)
    pair.engine.sync()
    assert "mem-1" in memory_uids(pair)
    assert len(pair.engine.ignored()) == 1
    pair.engine.retry_ignored()
    pair.engine.sync()
    check_converged(pair)


def test_not_found_opening_an_item_still_listed_is_no_deletion() -> None:
    # GetItemFromID answering MAPI_E_NOT_FOUND for an item the Table lists was reported
    # NOT_FOUND: the engine read a deletion of an item it did not know yet, moved its
    # cursor on, and the new Outlook item never reached memory.
    pair = new_pair()
    create_in_outlook(pair, "Contacts")
    pair.app.fail_on(
        lambda call: call.name == "GetItemFromID" and call.number > 0, MAPI_E_NOT_FOUND
    )
    opened = [0]

    def second_open(call: FaultCall) -> bool:  # the 1st gives it a key, the 2nd is fetch's
        opened[0] += call.name == "GetItemFromID"
        return call.name == "GetItemFromID" and opened[0] == 2

    pair.app.fail_on(second_open, MAPI_E_NOT_FOUND)
    pair.engine.sync()
    pair.engine.sync()
    check_converged(pair)


def test_not_found_deleting_an_item_that_is_there_is_no_delete() -> None:
    # ... and from Delete() itself it counted as "already deleted": the pair was dropped
    # and the Outlook item left behind, unknown to the engine.
    pair = new_pair()
    mem_id = next(i for f, i, r in memory_items(pair) if r.uid == "mem-1")
    pair.memory.remove(pair.mem_folder["Contacts"], mem_id)
    del pair.expected["mem-1"]
    pair.app.fail_on(lambda call: call.name == "Delete", MAPI_E_NOT_FOUND)
    report = pair.engine.sync()
    assert report.a.deleted == 0
    assert [x.item_id for x in pair.engine.ignored()] != []


# --------------------------------------------------------------------------- faults


@st.composite
def faults(draw: st.DrawFn) -> tuple[Any, int, int | None, bool]:
    """(when, scode, times, wrapped) for ``Application.fail_on``."""
    code = draw(st.sampled_from(TRANSIENT_CODES + LASTING_CODES))
    times = draw(st.sampled_from([1, 1, 2, 5, None]))
    wrapped = draw(st.booleans())
    if draw(st.booleans()):
        n = draw(st.integers(1, 250))
        return ("nth", n), code, times, wrapped
    name = draw(st.sampled_from(CALL_NAMES))
    skip = draw(st.integers(0, 6))
    return ("name", name, skip), code, times, wrapped


def arm(app: Application, spec: tuple[Any, int, int | None, bool]) -> None:
    how, code, times, wrapped = spec
    if how[0] == "nth":
        start = app.calls

        def at_number(call: FaultCall) -> bool:
            return call.number >= start + how[1]

        app.fail_on(at_number, code, times=times, wrapped=wrapped)
        return
    _, name, skip = how
    seen = [0]

    def by_name(call: FaultCall) -> bool:
        if call.name != name:
            return False
        seen[0] += 1
        return seen[0] > skip

    app.fail_on(by_name, code, times=times, wrapped=wrapped)


actions = st.tuples(
    st.sampled_from(["mem", "ol"]),
    st.sampled_from(["create", "update", "delete", "move"]),
    st.integers(0, 50),
)


@settings(max_examples=80, deadline=None)
@given(edits=st.lists(actions, max_size=5), fault=faults())
def test_a_fault_anywhere_loses_and_duplicates_nothing(
    edits: list[tuple[str, str, int]], fault: tuple[Any, int, int | None, bool]
) -> None:
    pair = new_pair()
    touched: set[str] = set()
    for side, action, pick in edits:
        user_edit(pair, side, action, pick, touched)
    arm(pair.app, fault)
    with contextlib.suppress(OxsyncError):  # typed: the next run finishes the job
        pair.engine.sync()
    pair.app.clear_faults()
    pair.engine.retry_ignored()
    pair.engine.sync()
    report = pair.engine.sync()
    assert not report.errors, report.errors
    check_converged(pair, strict=fault[1] in TRANSIENT_CODES)


def test_a_create_failing_after_its_save_leaves_no_item_behind() -> None:
    # A create that failed for a lasting reason after Save (adding an attachment, which
    # needs a saved item) left a half-made item in Outlook with the record's uid while the
    # engine closed the journal entry: the next sync copied it back to memory as new, a
    # duplicate there.
    from oxsync.core.records import Attachment
    from oxsync.testing.outlook import E_FAIL

    pair = new_pair()
    pair.serial += 1
    uid = f"mem-{pair.serial}"
    record = attrs.evolve(
        sample(ItemKind.CONTACT, pair.serial),
        uid=uid,
        attachments=(Attachment(filename="cv.txt", content_type="text/plain", data=b"cv"),),
    )
    pair.memory.put(pair.mem_folder["Contacts"], record)
    pair.expected[uid] = ("Contacts", marker(record))
    saved = {"yet": False}

    def after_save(call: FaultCall) -> bool:
        if call.name == "Save":
            saved["yet"] = True
        return saved["yet"] and call.name == "Add"  # Attachments.Add

    pair.app.fail_on(after_save, E_FAIL)
    pair.engine.sync()
    assert [x.item_id for x in pair.engine.ignored()] != []
    assert uid not in {uid_of(i) for _f, i in outlook_items(pair)}  # rolled back
    pair.app.clear_faults()
    pair.engine.retry_ignored()
    pair.engine.sync()
    pair.engine.sync()
    check_converged(pair)  # one copy on each side
