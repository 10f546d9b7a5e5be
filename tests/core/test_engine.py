"""Engine behaviours: brake, read-only, ignored list, retries, folders, state on disk."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import Faults, MemoryStore
from oxsync.core.records import Contact, FolderKind, ItemKind
from oxsync.core.store import FailureKind
from oxsync.errors import MassDeleteError, TransientError, UnknownFolderError
from oxsync.testing.samples import sample

from .helpers import assert_converged

C = "contacts"


def engine(a: MemoryStore, b: MemoryStore, **kw: object) -> SyncEngine:
    return SyncEngine(
        a,
        b,
        state=kw.pop("state", State(":memory:")),  # type: ignore[arg-type]
        sleep=lambda s: None,
        **kw,
    )  # type: ignore[arg-type]


def seeded(n: int = 20) -> tuple[MemoryStore, MemoryStore]:
    a, b = MemoryStore(name="a"), MemoryStore(name="b")
    for i in range(n):
        a.put(C, sample(ItemKind.CONTACT, i))
    return a, b


def test_mass_delete_brake_stops_then_force_allows() -> None:
    a, b = seeded(20)
    e = engine(a, b)
    e.sync()
    for item_id in list(a.records(C))[:15]:
        a.remove(C, item_id)
    with pytest.raises(MassDeleteError, match="refusing to delete 15 of 20") as info:
        e.sync()
    assert info.value.report is not None
    assert len(b.records(C)) == 20  # nothing deleted
    e.sync(force=True)
    assert len(b.records(C)) == 5


def test_read_only_side_is_never_written() -> None:
    a, _ = seeded(3)
    b_ro = MemoryStore(name="b", read_only=True)
    b_ro.put(C, sample(ItemKind.CONTACT, 100))
    e = engine(a, b_ro)
    e.sync()
    assert len(b_ro.records(C)) == 1
    assert len(a.records(C)) == 4


def test_refused_item_goes_to_ignored_list_and_is_retried_on_request() -> None:
    a, b = seeded(3)
    refused = sample(ItemKind.CONTACT, 0)
    b.faults.reject[refused.uid or ""] = FailureKind.PERMISSION
    e = engine(a, b)
    report = e.sync()
    assert report.ignored == 1 and report.b.created == 2
    (item,) = e.ignored()
    assert item.failure == "permission" and "refused" in item.reason
    assert e.sync().changed == 0  # skipped, not retried every time
    b.faults.reject.clear()
    assert e.retry_ignored() == 1
    assert e.sync().b.created == 1
    assert e.ignored() == []
    assert_converged(a, b, C, C)


def test_transient_failures_are_retried_with_backoff() -> None:
    a, b = seeded(3)
    b.faults = Faults(fail_calls={2: TransientError("busy"), 3: TransientError("busy")})
    sleeps: list[float] = []
    e = SyncEngine(a, b, state=State(":memory:"), sleep=sleeps.append, backoff=0.1)
    report = e.sync()
    assert report.errors == [] and report.b.created == 3
    assert sleeps == [0.1, 0.2]


def test_server_gone_for_good_leaves_cursors_and_next_run_finishes(tmp_path: Path) -> None:
    a, b = seeded(5)
    state = State(tmp_path / "state.sqlite")
    b.faults = Faults(fail_calls={i: TransientError("gone") for i in range(1, 5)})
    with pytest.raises(TransientError):  # cannot even list the folders
        engine(a, b, state=state).sync()
    # Vanishes after listing folders: every folder reports the error, nothing is lost.
    start = b.calls + 2  # folders() answers, then everything fails
    b.faults = Faults(fail_calls={i: TransientError("gone") for i in range(start, start + 99)})
    report = engine(a, b, state=state).sync()
    assert report.errors and report.incomplete and len(b.records(C)) == 0
    b.faults = Faults()
    engine(a, b, state=State(tmp_path / "state.sqlite")).sync()
    assert_converged(a, b, C, C)


def test_folders_created_and_deleted_but_default_folders_kept() -> None:
    a, b = MemoryStore(name="a"), MemoryStore(name="b")
    sub = a.add_folder("Projets", FolderKind.CONTACTS)
    a.put(sub.id, Contact(last_name="In sub"))
    e = engine(a, b)
    e.sync()
    (b_sub,) = [f for f in b.folders() if f.name == "Projets"]
    assert [r.last_name for r in b.records(b_sub.id).values()] == ["In sub"]
    a.delete_folder(sub.id)
    # A's only folder holding items is gone: indistinguishable from a wrong or unmounted
    # path, so the brake asks for force before deleting B's copy with its item
    with pytest.raises(MassDeleteError, match="'Projets' is gone from the other side"):
        e.sync()
    assert "Projets" in {f.name for f in b.folders()}
    e.sync(force=True)
    assert "Projets" not in {f.name for f in b.folders()}
    assert {f.id for f in b.folders()} == {"contacts", "calendar", "tasks"}


def test_a_small_folder_deleted_beside_others_is_deleted_a_large_one_is_held() -> None:
    a, b = MemoryStore(name="a"), MemoryStore(name="b")
    a.put(C, sample(ItemKind.CONTACT, 0))  # the side keeps items elsewhere
    small = a.add_folder("Small", FolderKind.CONTACTS)
    large = a.add_folder("Large", FolderKind.CONTACTS)
    for i in range(1, 3):
        a.put(small.id, sample(ItemKind.CONTACT, i))
    for i in range(3, 10):
        a.put(large.id, sample(ItemKind.CONTACT, i))
    e = engine(a, b)
    e.sync()
    a.delete_folder(small.id)
    e.sync()  # 2 items: below min_delete_brake, deleted like 2 contacts would be
    assert "Small" not in {f.name for f in b.folders()}
    a.delete_folder(large.id)
    with pytest.raises(MassDeleteError, match="with its 7 items on side B") as info:
        e.sync()
    assert info.value.report is not None and "Large" in {f.name for f in b.folders()}
    e.sync(force=True)
    assert "Large" not in {f.name for f in b.folders()}
    assert len(b.records(C)) == 1


def test_vdir_folders_gone_with_an_unmounted_path_are_not_deleted_elsewhere(
    tmp_path: Path,
) -> None:
    """An unmounted vdir comes back with its default folders, empty, and without the
    others: neither the empty defaults nor the missing folders delete anything."""
    from oxsync.adapters.vdir import VdirStore

    a = MemoryStore(name="a")
    work = a.add_folder("Work", FolderKind.CALENDAR)
    a.put(work.id, sample(ItemKind.EVENT, 1))
    a.put(C, sample(ItemKind.CONTACT, 1))
    state = State(tmp_path / "state.sqlite")
    SyncEngine(a, VdirStore(tmp_path / "usb", fsync=False), state=state).sync()
    assert len(list((tmp_path / "usb").glob("*/*.ics"))) == 1  # Work's event was copied
    gone = SyncEngine(a, VdirStore(tmp_path / "unmounted", fsync=False), state=state)
    with pytest.raises(MassDeleteError):
        gone.sync()
    assert work.id in {f.id for f in a.folders()}
    assert len(a.records(work.id)) == 1 and len(a.records(C)) == 1


def test_folder_kinds_restrict_the_modules() -> None:
    a, b = MemoryStore(name="a"), MemoryStore(name="b")
    a.put("tasks", sample(ItemKind.TASK, 1))
    a.put(C, sample(ItemKind.CONTACT, 1))
    engine(a, b, folder_kinds={FolderKind.CONTACTS}).sync()
    assert len(b.records(C)) == 1 and len(b.records("tasks")) == 0


def test_plan_is_a_dry_run() -> None:
    a, b = seeded(2)
    e = engine(a, b)
    e.sync()
    a.edit(C, next(iter(a.records(C))), nickname="x")
    planned = e.plan()
    assert len(planned) == 1 and "update on B" in str(planned[0])
    assert all(r.nickname is None for r in b.records(C).values())


def test_slow_sync_repairs_a_store_whose_versions_lie() -> None:
    a, b = seeded(2)
    e = engine(a, b)
    e.sync()
    # Change B's content behind the engine's back while keeping the version.
    b_id, rec = next(iter(b.records(C).items()))
    folder = b._folders[C]
    folder.items[b_id] = (folder.items[b_id][0], Contact(uid=rec.uid, last_name="Sneaky"))
    assert e.sync().changed == 0
    assert e.slow_sync().a.updated == 1
    assert_converged(a, b, C, C)


def test_state_survives_restart_and_newest_wins(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    a, b = seeded(1)
    engine(a, b, state=State(tmp_path / "s.sqlite")).sync()
    a_id, b_id = next(iter(a.records(C))), next(iter(b.records(C)))
    a.edit(C, a_id, nickname="old", last_modified=datetime(2020, 1, 1, tzinfo=UTC))
    b.edit(C, b_id, nickname="new", last_modified=datetime(2021, 1, 1, tzinfo=UTC))
    report = engine(a, b, state=State(tmp_path / "s.sqlite"), policy=Policy.NEWEST_WINS).sync()
    assert report.conflicts == 1
    assert a.records(C)[a_id].nickname == "new"


def test_move_between_folders_is_propagated_as_a_move() -> None:
    a, b = seeded(3)
    sub_a = a.add_folder("Archive", FolderKind.CONTACTS)
    e = engine(a, b)
    e.sync()
    sub_b = next(f for f in b.folders() if f.name == "Archive")
    item_a, record = next(iter(a.records(C).items()))
    item_b = next(i for i, r in b.records(C).items() if r.uid == record.uid)
    a.move_item(item_a, C, sub_a.id)
    a.edit(sub_a.id, item_a, nickname="moved and edited")
    assert any("move on B" in str(p) for p in e.plan())
    report = e.sync()
    assert report.b.moved == 1 and report.b.deleted == 0 and report.b.created == 0
    # The memory store keeps ids on moves: B's item is the same item, now in Archive.
    assert b.records(sub_b.id)[item_b].nickname == "moved and edited"
    assert item_b not in b.records(C)
    assert_converged(a, b, C, C)
    assert_converged(a, b, sub_a.id, sub_b.id)
    assert e.sync().changed == 0


def test_move_without_move_support_is_delete_and_create() -> None:
    a = MemoryStore(name="a")
    b = MemoryStore(name="b", moves=False)
    a.put(C, sample(ItemKind.CONTACT, 1))
    sub_a = a.add_folder("Archive", FolderKind.CONTACTS)
    e = engine(a, b)
    e.sync()
    sub_b = next(f for f in b.folders() if f.name == "Archive")
    item_a = next(iter(a.records(C)))
    a.move_item(item_a, C, sub_a.id)
    report = e.sync()
    assert report.b.moved == 0 and report.b.deleted == 1 and report.b.created == 1
    assert_converged(a, b, sub_a.id, sub_b.id)
    assert b.records(C) == {}


def test_move_and_edit_on_the_other_side_keeps_the_edit() -> None:
    a, b = seeded(2)
    sub_a = a.add_folder("Archive", FolderKind.CONTACTS)
    e = engine(a, b)
    e.sync()
    item_a, record = next(iter(a.records(C).items()))
    item_b = next(i for i, r in b.records(C).items() if r.uid == record.uid)
    a.move_item(item_a, C, sub_a.id)
    b.edit(C, item_b, job_title="edited on B")
    e.sync()
    e.sync()
    titles = [
        r.job_title for f in b.folders() for r in b.records(f.id).values() if r.uid == record.uid
    ]
    assert "edited on B" in titles  # the edit survives (delete against modify)


def test_a_fetch_answer_missing_an_item_is_not_read_as_a_deletion() -> None:
    """A store must answer for every id it is asked; one that leaves an id out (a buggy
    adapter, a truncated answer) must not make the engine delete that item on the other
    side. The folder's sync stops with an error and the next run syncs normally."""
    a, b = seeded(5)
    e = engine(a, b)
    e.sync()
    edited = next(iter(a.records(C)))
    a.edit(C, edited, note="edited")
    real_fetch = a.fetch

    def forgetful_fetch(folder_id: str, ids: Sequence[str]) -> Mapping[str, object]:
        got = dict(real_fetch(folder_id, ids))
        got.pop(edited, None)
        return got

    a.fetch = forgetful_fetch  # type: ignore[method-assign]
    report = e.sync()
    assert report.errors and "no answer for item" in report.errors[0]
    assert len(b.records(C)) == 5  # nothing deleted on B
    a.fetch = real_fetch  # type: ignore[method-assign]
    e.sync()
    assert_converged(a, b, C, C)
    assert any(r.note == "edited" for r in b.records(C).values())


def test_a_side_that_lists_nothing_any_more_stops_even_a_few_deletions(tmp_path: Path) -> None:
    """A vdir whose path is wrong or unmounted comes back empty (the store creates what is
    missing): the 3 contacts must not be deleted on the other side, although 3 is below
    min_delete_brake. force=True (the user meant it) deletes them."""
    from oxsync.adapters.vdir import VdirStore

    a, _ = seeded(3)
    state = State(tmp_path / "state.sqlite")
    SyncEngine(a, VdirStore(tmp_path / "usb", fsync=False), state=state).sync()
    unmounted = VdirStore(tmp_path / "elsewhere", fsync=False)  # same folder ids, no files
    engine = SyncEngine(a, unmounted, state=state)
    with pytest.raises(MassDeleteError, match="lists none of them") as info:
        engine.sync()
    assert (info.value.count, info.value.total, info.value.side) == (3, 3, "A")
    assert len(a.records(C)) == 3
    engine.sync(force=True)
    assert a.records(C) == {}


def test_deleting_the_last_item_of_one_folder_is_no_emptied_side() -> None:
    a, b = MemoryStore(name="a", delta=False), MemoryStore(name="b")  # A: full listings
    for i in range(3):
        a.put(C, sample(ItemKind.CONTACT, i))
    a.put("tasks", sample(ItemKind.TASK, 1))
    e = engine(a, b)
    e.sync()
    (task_id,) = a.records("tasks")
    a.remove("tasks", task_id)
    assert e.sync().b.deleted == 1  # the contacts folder still lists its items
    for item_id in list(a.records(C)):
        a.remove(C, item_id)
    with pytest.raises(MassDeleteError):  # now side A lists nothing anywhere
        e.sync()
    assert len(b.records(C)) == 3
    off = engine(a, b, state=e.state, empty_side_brake=False, min_delete_brake=10)
    assert off.sync().b.deleted == 3


def test_a_slow_sync_of_a_folder_the_pair_does_not_have_is_an_error() -> None:
    # it re-compared nothing and reported success, hiding a mistyped folder id
    a, b = seeded(3)
    eng = engine(a, b)
    eng.sync()
    with pytest.raises(UnknownFolderError, match="no-such-folder"):
        eng.slow_sync("no-such-folder")
    folder = a.default_folder(FolderKind.CONTACTS).id
    assert eng.slow_sync(folder).folders == 1
    # a push naming a folder oxsync does not sync (OX mail) still syncs nothing, quietly
    assert eng.sync(["no-such-folder"]).folders == 0


@pytest.mark.parametrize(
    ("policy", "words"),
    [(Policy.A_WINS, "a-wins kept A's version"), (Policy.MERGE, "merge merged them")],
)
def test_a_conflict_is_told_to_observers(policy: object, words: str) -> None:
    # SyncEvent documented a "conflict" kind that the engine never emitted
    a, b = seeded(2)
    events: list[object] = []
    eng = engine(a, b, policy=policy, observers=[events.append])
    eng.sync()
    (a_id, rec), _ = sorted(a.records(C).items())
    b_id = next(i for i, r in b.records(C).items() if r.uid == rec.uid)
    a.edit(C, a_id, nickname="from A")
    b.edit(C, b_id, job_title="from B" if policy is Policy.MERGE else None, nickname="from B")
    events.clear()
    report = eng.sync()
    assert report.conflicts == 1
    (event,) = [e for e in events if e.kind == "conflict"]  # type: ignore[attr-defined]
    assert rec.uid in event.message and words in event.message  # type: ignore[attr-defined]


@pytest.mark.parametrize("top_on", ["a", "b"])
def test_a_fresh_state_pairs_a_top_level_folder_with_its_copy_under_the_default(
    top_on: str,
) -> None:
    # The first sync makes one store's top-level folder (OX's "Global Address Book") under
    # the other's default folder (Outlook's Contacts). With a fresh state (a new machine,
    # a deleted state file), matching wanted the same parent: it created the folder again
    # on both sides (and Outlook refused the name, failing the whole sync).
    a, b = MemoryStore(name="a"), MemoryStore(name="b")
    top, nested = (a, b) if top_on == "a" else (b, a)
    top.add_folder("Global Address Book", FolderKind.CONTACTS)
    parent = nested.default_folder(FolderKind.CONTACTS).id
    nested.add_folder("Global Address Book", FolderKind.CONTACTS, parent)
    engine(a, b).sync()
    for store in (a, b):
        names = [f.name for f in store.folders() if f.name == "Global Address Book"]
        assert names == ["Global Address Book"], store.name
    # and two folders of that name at the same level still pair as before
    assert engine(a, b).sync().folders == len(a.folders())
