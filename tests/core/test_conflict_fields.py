"""A conflict's event names the fields whose edit did not survive, never their values."""

from __future__ import annotations

import attrs

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.core.engine import SyncEvent
from oxsync.core.records import Contact, FolderKind
from oxsync.core.store import Create, Update


def _edit(store: MemoryStore, **changes: object) -> None:
    folder = next(f.id for f in store.folders() if f.kind is FolderKind.CONTACTS)
    (ref,) = store.changes(folder, None).changed
    record = store.fetch(folder, [ref.id])[ref.id].record  # type: ignore[union-attr]
    store.apply(folder, [Update(ref.id, attrs.evolve(record, **changes), ref.version)])


def _conflict(policy: Policy, a_edit: dict[str, object], b_edit: dict[str, object]) -> str:
    a, b = MemoryStore(name="a"), MemoryStore(name="b")
    folder = next(f.id for f in a.folders() if f.kind is FolderKind.CONTACTS)
    a.apply(folder, [Create(Contact(uid="c1", last_name="Base", note="base note"))])
    events: list[SyncEvent] = []
    engine = SyncEngine(a, b, state=State(":memory:"), policy=policy, observers=[events.append])
    engine.sync()
    _edit(a, **a_edit)
    _edit(b, **b_edit)
    report = engine.sync()
    assert report.conflicts == 1
    (message,) = [e.message for e in events if e.kind == "conflict"]
    return message


def test_a_wins_names_the_fields_of_b_edits_it_replaced() -> None:
    message = _conflict(
        Policy.A_WINS, {"job_title": "A title"}, {"job_title": "B title", "nickname": "Bee"}
    )
    assert "(fields: job_title, nickname)" in message and "kept A's version" in message
    assert "B title" not in message and "Bee" not in message


def test_merge_names_only_the_field_both_sides_edited() -> None:
    message = _conflict(
        Policy.MERGE, {"job_title": "A title", "note": "a note"}, {"job_title": "B title"}
    )
    assert "(fields: job_title)" in message, message
