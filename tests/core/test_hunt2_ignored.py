"""An item whose copy the other store refused (on the ignored list, unpaired) still
takes part in matching by uid: when an item with its uid later appears on that other
side (another client added it), the two are the same item. It was copied back as a
second item with that uid."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.core.records import Contact, FolderKind
from oxsync.core.store import FailureKind

from .helpers import assert_converged, contents

C = "contacts"
POLICIES = [Policy.A_WINS, Policy.B_WINS, Policy.NEWEST_WINS, Policy.MERGE, Policy.KEEP_BOTH]


@pytest.mark.parametrize("delta", [True, False], ids=["delta", "full-listing"])
@pytest.mark.parametrize("same", [True, False], ids=["same-content", "other-content"])
@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_a_refused_create_is_matched_with_its_uid_on_the_other_side(
    delta: bool, same: bool, policy: Any
) -> None:
    a, b = MemoryStore(name="a", delta=delta), MemoryStore(name="b", delta=delta)
    mine = Contact(uid="u1", last_name="Curie", nickname="A's")
    a.put(C, mine)
    b.faults.reject["u1"] = FailureKind.INVALID  # B refuses the copy for good
    engine = SyncEngine(a, b, state=State(":memory:"), policy=policy, sleep=lambda s: None)
    assert engine.sync().ignored == 1
    assert b.records(C) == {}
    # another client of B adds the same contact (same uid)
    b.put(C, mine if same else Contact(uid="u1", last_name="Curie", nickname="B's"))
    engine.sync()
    uids = {store.name: set(contents(store, C)) for store in (a, b)}  # no uid twice
    assert "u1" in uids["a"] and "u1" in uids["b"]
    if policy is not Policy.KEEP_BOTH or same:
        assert uids == {"a": {"u1"}, "b": {"u1"}}
    for _ in range(2):
        assert engine.sync().changed == 0
        assert {store.name: set(contents(store, C)) for store in (a, b)} == uids
    if same:
        assert engine.ignored() == []
    b.faults.reject.clear()
    engine.retry_ignored()
    engine.sync()
    assert engine.sync().changed == 0
    assert_converged(a, b, C, C)
    assert set(contents(a, C)) == uids["a"]
    if policy is Policy.A_WINS:  # A's edit, held back while B refused it, arrives
        assert {r.nickname for r in b.records(C).values() if r.uid == "u1"} == {"A's"}


@pytest.mark.parametrize("delta", [True, False], ids=["delta", "full-listing"])
def test_a_create_a_read_only_folder_refused_is_matched_when_the_owner_adds_it(
    delta: bool,
) -> None:
    a, b = MemoryStore(name="a", delta=delta), MemoryStore(name="b", delta=delta)
    shared = b.add_folder("Shared", FolderKind.CONTACTS)
    b._folders[shared.id].meta = attrs.evolve(shared, read_only=True)  # (no public knob)
    engine = SyncEngine(a, b, state=State(":memory:"), policy=Policy.A_WINS, sleep=lambda s: None)
    engine.sync()
    folder_a = next(f.id for f in a.folders() if f.name == "Shared")
    a.put(folder_a, Contact(uid="u1", last_name="Curie", nickname="mine"))
    assert engine.sync().ignored == 1
    b.put(shared.id, Contact(uid="u1", last_name="Curie", nickname="the owner's"))
    for _ in range(3):
        engine.sync()
        assert list(contents(a, folder_a)) == list(contents(b, shared.id)) == ["u1"]
    assert engine.sync().changed == 0
