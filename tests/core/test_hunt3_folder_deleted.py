"""A folder deleted on one side took with it, on the other side, items that were new or
changed there since the last sync: a contact made there, an edit made there, and even an
item moved there from another folder (gone from both sides: the move's source saw a
deletion). As an edit wins over a deletion for an item, such items now keep their folder,
which is made again on the side that deleted it; only the unchanged synced items go."""

from __future__ import annotations

import pytest

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.core.records import Contact, FolderKind

KINDS = frozenset(FolderKind.CONTACTS.item_kinds)


def tree(store: MemoryStore) -> dict[str, list[tuple[str | None, str | None]]]:
    return {
        f.name: sorted((r.uid, r.nickname) for r in store.records(f.id).values())
        for f in store.folders()
    }


def setup(delta: bool) -> tuple[MemoryStore, MemoryStore, State, str, str]:
    a = MemoryStore(name="a", delta=delta, kinds=KINDS)
    b = MemoryStore(name="b", delta=delta, kinds=KINDS)
    state = State(":memory:")
    sub_a = a.add_folder("Sub", FolderKind.CONTACTS).id
    a.put(sub_a, Contact(uid="old", last_name="Old"))
    a.put(sub_a, Contact(uid="kept", last_name="Kept"))
    a.put("contacts", Contact(uid="u1", last_name="Ada"))
    engine(a, b, state).sync()
    sub_b = next(f.id for f in b.folders() if f.name == "Sub")
    return a, b, state, sub_a, sub_b


def engine(a: MemoryStore, b: MemoryStore, state: State) -> SyncEngine:
    return SyncEngine(a, b, state=state, policy=Policy.NEWEST_WINS, sleep=lambda s: None)


def by_uid(store: MemoryStore, folder: str, uid: str) -> str:
    return next(i for i, r in store.records(folder).items() if r.uid == uid)


@pytest.mark.parametrize("delta", [True, False], ids=["delta", "full-listing"])
@pytest.mark.parametrize("change", ["made", "moved", "edited"])
def test_a_folder_deleted_on_one_side_keeps_what_changed_in_it_on_the_other(
    change: str, delta: bool
) -> None:
    a, b, state, sub_a, sub_b = setup(delta)
    if change == "made":
        b.put(sub_b, Contact(uid="new", last_name="New"))
        expected = {"Contacts": [("u1", None)], "Sub": [("new", None)]}
    elif change == "moved":
        b.move_item(by_uid(b, "contacts", "u1"), "contacts", sub_b)
        expected = {"Contacts": [], "Sub": [("u1", None)]}
    else:
        b.edit(sub_b, by_uid(b, sub_b, "kept"), nickname="edited")
        expected = {"Contacts": [("u1", None)], "Sub": [("kept", "edited")]}
    a.delete_folder(sub_a)
    report = engine(a, b, state).sync()
    assert not report.errors
    assert tree(a) == tree(b) == expected
    if change == "moved":
        assert report.a.moved == 1  # moved into the folder made again, not copied
    assert engine(a, b, state).sync().changed == 0


@pytest.mark.parametrize("delta", [True, False], ids=["delta", "full-listing"])
def test_a_folder_with_nothing_new_is_still_deleted(delta: bool) -> None:
    a, b, state, sub_a, sub_b = setup(delta)
    b.touch(sub_b, by_uid(b, sub_b, "old"))  # a new version, the same content
    a.delete_folder(sub_a)
    engine(a, b, state).sync()
    assert tree(a) == tree(b) == {"Contacts": [("u1", None)]}
    assert engine(a, b, state).sync().changed == 0


def test_a_parent_deleted_keeps_a_child_holding_a_new_item() -> None:
    a, b, state, sub_a, _ = setup(True)
    child_a = a.add_folder("Child", FolderKind.CONTACTS, parent_id=sub_a).id
    engine(a, b, state).sync()
    child_b = next(f.id for f in b.folders() if f.name == "Child")
    b.put(child_b, Contact(uid="new", last_name="New"))
    a.delete_folder(sub_a)  # and its child
    assert child_a not in {f.id for f in a.folders()}
    report = engine(a, b, state).sync()
    assert not report.errors
    assert tree(a) == tree(b) == {"Contacts": [("u1", None)], "Sub": [], "Child": [("new", None)]}
    child = next(f for f in a.folders() if f.name == "Child")
    assert child.parent_id == next(f.id for f in a.folders() if f.name == "Sub")
    assert engine(a, b, state).sync().changed == 0


def test_a_parent_and_child_deleted_with_nothing_new_go() -> None:
    a, b, state, sub_a, _ = setup(True)
    a.add_folder("Child", FolderKind.CONTACTS, parent_id=sub_a)
    engine(a, b, state).sync()
    a.delete_folder(sub_a)  # and its child
    report = engine(a, b, state).sync()
    assert not report.errors
    assert tree(a) == tree(b) == {"Contacts": [("u1", None)]}


def test_a_folder_deleted_on_one_side_keeps_a_new_subfolder_made_in_it_on_the_other() -> None:
    """Found by the engine state machine: the new subfolder was copied, then deleted with
    its parent, and the next run deleted the copy too."""
    a, b, state, sub_a, sub_b = setup(True)
    new_b = b.add_folder("New", FolderKind.CONTACTS, parent_id=sub_b).id
    b.put(new_b, Contact(uid="new", last_name="New"))
    a.delete_folder(sub_a)
    report = engine(a, b, state).sync()
    assert not report.errors
    assert tree(a) == tree(b) == {"Contacts": [("u1", None)], "Sub": [], "New": [("new", None)]}
    assert engine(a, b, state).sync().changed == 0
    assert tree(a) == tree(b)


def test_with_delete_wins_an_edit_goes_with_its_folder_but_a_new_item_stays() -> None:
    a, b, state, sub_a, sub_b = setup(True)
    b.edit(sub_b, by_uid(b, sub_b, "kept"), nickname="edited")
    b.put(sub_b, Contact(uid="new", last_name="New"))
    a.delete_folder(sub_a)
    policy = Policy.NEWEST_WINS.with_options(delete_wins=True)
    SyncEngine(a, b, state=state, policy=policy, sleep=lambda s: None).sync()
    assert tree(a) == tree(b) == {"Contacts": [("u1", None)], "Sub": [("new", None)]}
