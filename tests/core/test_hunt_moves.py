"""Moves between folders combined with an edit on the other side, or a move on both."""

from __future__ import annotations

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.core.records import Contact, FolderKind
from oxsync.core.store import Failure, FailureKind, Move, OpResult

from .helpers import assert_converged

C = "contacts"


def synced(policy=Policy.A_WINS, b: MemoryStore | None = None):
    a, b = MemoryStore(name="a"), b or MemoryStore(name="b")
    a.put(C, Contact(uid="u1", last_name="Lovelace", first_name="Ada"))
    archive_a = a.add_folder("Archive", FolderKind.CONTACTS).id
    engine = SyncEngine(a, b, state=State(":memory:"), policy=policy, sleep=lambda s: None)
    engine.sync()
    archive_b = next(f.id for f in b.folders() if f.name == "Archive")
    (item_a,) = a.records(C)
    (item_b,) = b.records(C)
    return engine, a, b, archive_a, archive_b, item_a, item_b


def everywhere(store: MemoryStore) -> list[tuple[str, Contact]]:
    return [(f.id, r) for f in store.folders() for r in store.records(f.id).values()]


def test_a_move_on_one_side_and_an_edit_on_the_other_make_one_moved_edited_item() -> None:
    """Moved to Archive on A, edited on B: one contact, in Archive, with B's edit; it used
    to be two (B's edit re-created in Contacts, the unedited copy in Archive)."""
    engine, a, b, archive_a, archive_b, item_a, item_b = synced()
    a.move_item(item_a, C, archive_a)
    b.edit(C, item_b, nickname="edited on B")
    report = engine.sync()
    for store, archive in ((a, archive_a), (b, archive_b)):
        ((folder, record),) = everywhere(store)
        assert folder == archive and record.nickname == "edited on B"
    assert report.b.moved == 1 and report.a.updated == 1
    assert report.a.created == report.b.created == 0
    assert engine.sync().changed == 0


def test_a_move_and_an_edit_on_one_side_and_an_edit_on_the_other_merge() -> None:
    engine, a, b, archive_a, archive_b, item_a, item_b = synced(Policy.MERGE)
    a.move_item(item_a, C, archive_a)
    a.edit(archive_a, item_a, job_title="moved and edited on A")
    b.edit(C, item_b, nickname="edited on B")
    engine.sync()
    for store in (a, b):
        ((_, record),) = everywhere(store)
        assert (record.job_title, record.nickname) == ("moved and edited on A", "edited on B")
    assert_converged(a, b, archive_a, archive_b)
    assert engine.sync().changed == 0


def test_the_same_move_on_both_sides_keeps_an_edit_made_on_one() -> None:
    """Both moved the contact to Archive, B also edited it. The pair was dropped in
    Contacts and the two copies matched in Archive without a base, so A's old version won
    a conflict there (a-wins) and B's edit was lost."""
    engine, a, b, archive_a, archive_b, item_a, item_b = synced(Policy.A_WINS)
    a.move_item(item_a, C, archive_a)
    b.move_item(item_b, C, archive_b)
    b.edit(archive_b, item_b, nickname="edited on B")
    report = engine.sync()
    for store in (a, b):
        ((_, record),) = everywhere(store)
        assert record.nickname == "edited on B"
    assert report.conflicts == 0 and report.a.updated == 1
    assert engine.sync().changed == 0
    b.edit(archive_b, item_b, nickname="again")  # the pair lives on in Archive
    assert engine.sync().a.updated == 1


class RefusesMoves(MemoryStore):
    """A store that says it can move but refuses every move for a lasting reason."""

    def _apply_one(self, folder, op) -> OpResult:  # type: ignore[no-untyped-def]
        if isinstance(op, Move):
            return Failure(FailureKind.PERMISSION, "no moves here")
        return super()._apply_one(folder, op)


def test_a_refused_move_does_not_lose_the_other_sides_edit() -> None:
    engine, a, b, archive_a, _, item_a, item_b = synced(b=RefusesMoves(name="b"))
    a.move_item(item_a, C, archive_a)
    b.edit(C, item_b, nickname="edited on B")
    engine.sync()
    engine.sync()
    for store in (a, b):
        assert any(r.nickname == "edited on B" for _, r in everywhere(store))
    assert engine.sync().changed == 0
