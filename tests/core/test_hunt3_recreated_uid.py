"""An item deleted on one side and made again there with the same uid (a contact deleted,
then imported again from its vCard), while the other side edited it: the uid ended up
twice on both sides (the edit won over the deletion and was copied back, and the new item
was copied too). The new item now takes the deleted one's place in its pair."""

from __future__ import annotations

from typing import Any

import pytest

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.core.records import Contact, FolderKind

KINDS = frozenset(FolderKind.CONTACTS.item_kinds)
POLICIES = [Policy.A_WINS, Policy.B_WINS, Policy.MERGE, Policy.NEWEST_WINS]


def held(store: MemoryStore) -> list[tuple[str | None, str | None]]:
    return sorted(
        (r.uid, r.nickname) for f in store.folders() for r in store.records(f.id).values()
    )


def setup(delta: bool) -> tuple[MemoryStore, MemoryStore, State]:
    a = MemoryStore(name="a", delta=delta, kinds=KINDS)
    b = MemoryStore(name="b", delta=delta, kinds=KINDS)
    return a, b, State(":memory:")


def engine(a: MemoryStore, b: MemoryStore, state: State, policy: Any) -> SyncEngine:
    return SyncEngine(a, b, state=state, policy=policy, sleep=lambda s: None)


@pytest.mark.parametrize("delta", [True, False], ids=["delta", "full-listing"])
@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
@pytest.mark.parametrize("other", ["edited", "unchanged", "deleted"])
def test_a_uid_deleted_and_made_again_stays_one_item(policy: Any, delta: bool, other: str) -> None:
    a, b, state = setup(delta)
    old = a.put("contacts", Contact(uid="u1", last_name="Ada", nickname="first"))
    engine(a, b, state, policy).sync()
    (item_b,) = b.records("contacts")
    a.remove("contacts", old)
    a.put("contacts", Contact(uid="u1", last_name="Ada", nickname="imported again"))
    if other == "edited":
        b.edit("contacts", item_b, nickname="edited on B")
    elif other == "deleted":
        b.remove("contacts", item_b)
    engine(a, b, state, policy).sync()
    final = held(a)
    assert final == held(b)
    assert [uid for uid, _ in final] == ["u1"], final
    if other == "edited" and policy is Policy.B_WINS:
        assert final == [("u1", "edited on B")]
    elif other != "edited" or policy is Policy.A_WINS:
        assert final == [("u1", "imported again")]
    if other == "unchanged":
        assert list(b.records("contacts")) == [item_b]  # updated in place, not re-created
    assert engine(a, b, state, policy).sync().changed == 0


def test_made_again_with_the_same_content_is_no_change() -> None:
    a, b, state = setup(True)
    old = b.put("contacts", Contact(uid="u1", last_name="Ada"))
    engine(a, b, state, Policy.MERGE).sync()
    b.remove("contacts", old)
    b.put("contacts", Contact(uid="u1", last_name="Ada"))
    assert engine(a, b, state, Policy.MERGE).sync().changed == 0
    assert held(a) == held(b) == [("u1", None)]
    assert engine(a, b, state, Policy.MERGE).sync().changed == 0


def test_made_again_in_place_is_not_a_move_from_another_folder_with_the_uid() -> None:
    """Found by the engine state machine: with the uid in two folders (kept so after a move
    raced a re-creation), one copy deleted and the other made again in place were taken
    for a move of the first into the second's folder: the uid twice in one folder."""
    a, b, state = setup(False)
    sub_a = a.add_folder("Sub", FolderKind.CONTACTS).id
    a.put("contacts", Contact(uid="u1", last_name="Ada"))
    a.put(sub_a, Contact(uid="u1", last_name="Ada"))
    engine(a, b, state, Policy.A_WINS).sync()
    sub_b = next(f.id for f in b.folders() if f.name == "Sub")
    (in_contacts,) = b.records("contacts")
    (in_sub,) = b.records(sub_b)
    b.remove("contacts", in_contacts)
    b.remove(sub_b, in_sub)
    b.put(sub_b, Contact(uid="u1", last_name="Ada", nickname="again"))
    report = engine(a, b, state, Policy.A_WINS).sync()
    assert report.a.moved == 0
    for store, sub in ((a, sub_a), (b, sub_b)):
        assert list(store.records("contacts").values()) == []
        assert [r.nickname for r in store.records(sub).values()] == ["again"]
    assert engine(a, b, state, Policy.A_WINS).sync().changed == 0
