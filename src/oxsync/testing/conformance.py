"""The store conformance suite: one set of tests every store adapter passes.

Subclass :class:`StoreContract` in a test module and provide a ``store`` fixture returning
a fresh, empty store with at least one writable folder of each kind it supports::

    class TestMyStore(StoreContract):
        @pytest.fixture
        def store(self, tmp_path):
            return MyStore(tmp_path)

Tests are gated by the store's :class:`~oxsync.core.store.Capabilities` only (never by
adapter name). The suite ships inside oxsync and is registered as a pytest plugin (entry
point ``pytest11``), so third-party adapters get the fixtures it needs by installing
oxsync. Records written are :func:`oxsync.testing.samples.sample` values; what is read
back is compared with :func:`~oxsync.testing.samples.comparable`, which leaves out the
fields a store declares it cannot hold.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings

from oxsync.core.records import Folder, FolderKind, ItemKind, Record, TaskStatus
from oxsync.core.store import (
    Applied,
    BaseStore,
    Changes,
    Create,
    Delete,
    Failure,
    FailureKind,
    Item,
    Move,
    Native,
    Update,
)
from oxsync.errors import PermissionDeniedError, ReadOnlyStoreError, StoreError
from oxsync.testing.samples import comparable, sample
from oxsync.testing.strategies import records

__all__ = ["StoreContract"]

_FOLDER_OF = {
    ItemKind.CONTACT: FolderKind.CONTACTS,
    ItemKind.DISTRIBUTION_LIST: FolderKind.CONTACTS,
    ItemKind.EVENT: FolderKind.CALENDAR,
    ItemKind.TASK: FolderKind.TASKS,
}

_EDITS: dict[ItemKind, dict[str, Any]] = {
    ItemKind.CONTACT: {"last_name": "Byron", "note": "edited ✎"},
    ItemKind.DISTRIBUTION_LIST: {"display_name": "Renamed list"},
    ItemKind.EVENT: {"summary": "Moved meeting", "location": "Room 7"},
    ItemKind.TASK: {
        "summary": "Edited task",
        "percent_complete": 50,
        "status": TaskStatus.IN_PROGRESS,  # stores tie 100 % to completed
        "date_completed": None,
    },
}


def _folder_for(store: Any, kind: ItemKind) -> Folder:
    wanted = _FOLDER_OF[kind]
    candidates = [f for f in store.folders() if f.kind is wanted and not f.read_only]
    if not candidates:
        pytest.skip(f"store has no writable {wanted.value} folder")
    defaults = [f for f in candidates if f.is_default]
    chosen: Folder = (defaults or candidates)[0]
    return chosen


def _create(store: Any, folder: Folder, record: Record) -> Applied:
    (result,) = store.apply(folder.id, [Create(record)])
    assert isinstance(result, Applied), f"create failed: {result}"
    return result


def _edited(kind: ItemKind, n: int) -> Record:
    """Sample ``n`` of ``kind`` with the suite's edit applied (a change every store holds)."""
    return attrs.evolve(sample(kind, n), **_EDITS[kind])


def _fetch_one(store: Any, folder: Folder, item_id: str) -> Item:
    got = store.fetch(folder.id, [item_id])[item_id]
    assert isinstance(got, Item), f"fetch failed: {got}"
    return got


def _listing(store: Any, folder: Folder) -> dict[str, str]:
    changes: Changes = store.changes(folder.id, None)
    assert changes.full, "a listing without cursor must be a full listing"
    return {ref.id: ref.version for ref in changes.changed}


class StoreContract:
    """Behaviour every store must show. Provide a ``store`` fixture in the subclass."""

    @pytest.fixture
    def store(self) -> Any:  # pragma: no cover - replaced by subclasses
        raise NotImplementedError("subclass StoreContract and define a `store` fixture")

    @pytest.fixture(params=[k.value for k in ItemKind])
    def kind(self, request: pytest.FixtureRequest, store: Any) -> ItemKind:
        kind = ItemKind(request.param)
        if kind not in store.capabilities.kinds:
            pytest.skip(f"store does not hold {kind.value}")
        return kind

    @pytest.fixture
    def writable(self, store: Any) -> Iterator[Any]:
        if store.capabilities.read_only:
            pytest.skip("store is read-only")
        yield store

    # ------------------------------------------------------------------ folders

    def test_folders_offer_a_folder_for_each_supported_kind(self, store: Any) -> None:
        folders = store.folders()
        assert all(isinstance(f, Folder) for f in folders)
        ids = [f.id for f in folders]
        assert len(ids) == len(set(ids)), "folder ids must be unique"
        kinds = {f.kind for f in folders}
        for kind in store.capabilities.kinds:
            assert _FOLDER_OF[kind] in kinds

    def test_parents_are_listed_before_children(self, store: Any) -> None:
        seen: set[str] = set()
        for folder in store.folders():
            assert (
                folder.parent_id is None
                or folder.parent_id in seen
                or all(f.id != folder.parent_id for f in store.folders())
            )
            seen.add(folder.id)

    def test_folder_create_rename_delete(self, writable: Any) -> None:
        store = writable
        if not store.capabilities.folder_ops:
            pytest.skip("no folder operations")
        kind = _FOLDER_OF[next(iter(store.capabilities.kinds))]
        created = store.create_folder("oxsync conformance ü", kind)
        assert created.name == "oxsync conformance ü" and created.kind is kind
        assert created.id in {f.id for f in store.folders()}
        renamed = store.rename_folder(created.id, "renamed")
        assert renamed.name == "renamed"
        store.delete_folder(created.id)
        assert created.id not in {f.id for f in store.folders()}

    # ------------------------------------------------------------------ items

    def test_empty_folder_lists_nothing(self, store: Any, kind: ItemKind) -> None:
        folder = _folder_for(store, kind)
        assert _listing(store, folder) == {}

    def test_create_then_fetch_round_trips(self, writable: Any, kind: ItemKind) -> None:
        store = writable
        folder = _folder_for(store, kind)
        record = sample(kind, 1)
        applied = _create(store, folder, record)
        assert applied.id and applied.version
        got = _fetch_one(store, folder, applied.id)
        assert got.version == applied.version
        caps = store.capabilities
        assert comparable(got.record, caps) == comparable(record, caps)
        assert _listing(store, folder) == {applied.id: applied.version}

    def test_native_of_a_foreign_format_is_ignored(self, writable: Any, kind: ItemKind) -> None:
        # Create/Update.native is an offer: a store that does not hold that format (or
        # no format at all) must write the record, never the bytes.
        store = writable
        folder = _folder_for(store, kind)
        bogus = Native("application/x-oxsync-conformance", b"\x00 not an item \xff")
        record = sample(kind, 11)
        (created,) = store.apply(folder.id, [Create(record, bogus)])
        assert isinstance(created, Applied), created
        caps = store.capabilities
        got = _fetch_one(store, folder, created.id)
        assert comparable(got.record, caps) == comparable(record, caps)
        edited = attrs.evolve(record, **_EDITS[kind])
        (updated,) = store.apply(folder.id, [Update(created.id, edited, created.version, bogus)])
        assert isinstance(updated, Applied), updated
        got = _fetch_one(store, folder, updated.id)
        assert comparable(got.record, caps) == comparable(edited, caps)

    def test_native_bytes_stand_for_their_record(self, writable: Any, kind: ItemKind) -> None:
        # A store that reports Item.native must read those bytes back as the same record
        # when handed them with that record (what a same-format copy relies on). Whether
        # the bytes encode the record is the caller's promise (the engine passes them only
        # with the very record they were read as), not something the store re-checks.
        store = writable
        folder = _folder_for(store, kind)
        first = _fetch_one(store, folder, _create(store, folder, sample(kind, 12)).id)
        if first.native is None:
            pytest.skip("store reports no native bytes")
        # what it hands out it can take back: the engine passes bytes on only to a store
        # that lists their media type
        assert first.native.media_type in store.capabilities.native_media_types
        (rewritten,) = store.apply(
            folder.id, [Update(first.id, first.record, first.version, first.native)]
        )
        assert isinstance(rewritten, Applied), rewritten
        again = _fetch_one(store, folder, rewritten.id)
        assert again.record == first.record
        assert again.native is not None and again.native.data == first.native.data

    def test_create_without_uid_gets_a_uid(self, writable: Any, kind: ItemKind) -> None:
        folder = _folder_for(writable, kind)
        applied = _create(writable, folder, attrs.evolve(sample(kind, 2), uid=None))
        assert _fetch_one(writable, folder, applied.id).record.uid

    def test_update_changes_content_and_version(self, writable: Any, kind: ItemKind) -> None:
        store = writable
        folder = _folder_for(store, kind)
        applied = _create(store, folder, sample(kind, 3))
        edited = _edited(kind, 3)
        (result,) = store.apply(folder.id, [Update(applied.id, edited, applied.version)])
        assert isinstance(result, Applied), result
        assert result.version != applied.version
        got = _fetch_one(store, folder, result.id)
        assert comparable(got.record, store.capabilities) == comparable(edited, store.capabilities)

    def test_update_with_stale_version_is_a_conflict(self, writable: Any, kind: ItemKind) -> None:
        store = writable
        folder = _folder_for(store, kind)
        first = _create(store, folder, sample(kind, 4))
        edited = _edited(kind, 4)
        (second,) = store.apply(folder.id, [Update(first.id, edited, first.version)])
        assert isinstance(second, Applied)
        (stale,) = store.apply(folder.id, [Update(first.id, sample(kind, 4), first.version)])
        assert isinstance(stale, Failure) and stale.kind is FailureKind.CONFLICT

    def test_delete_removes_the_item(self, writable: Any, kind: ItemKind) -> None:
        store = writable
        folder = _folder_for(store, kind)
        applied = _create(store, folder, sample(kind, 5))
        (result,) = store.apply(folder.id, [Delete(applied.id, applied.version)])
        assert isinstance(result, Applied), result
        assert applied.id not in _listing(store, folder)
        gone = store.fetch(folder.id, [applied.id])[applied.id]
        assert isinstance(gone, Failure) and gone.kind is FailureKind.NOT_FOUND

    def test_delete_of_missing_item_is_not_found(self, writable: Any, kind: ItemKind) -> None:
        store = writable
        folder = _folder_for(store, kind)
        applied = _create(store, folder, sample(kind, 6))
        store.apply(folder.id, [Delete(applied.id, None)])
        (again,) = store.apply(folder.id, [Delete(applied.id, None)])
        assert isinstance(again, Failure) and again.kind is FailureKind.NOT_FOUND

    def test_one_bad_op_does_not_block_the_batch(self, writable: Any, kind: ItemKind) -> None:
        store = writable
        folder = _folder_for(store, kind)
        first = _create(store, folder, sample(kind, 7))
        store.apply(folder.id, [Delete(first.id, None)])
        results = store.apply(
            folder.id,
            [
                Create(sample(kind, 8)),
                Update(first.id, sample(kind, 7), None),
                Create(sample(kind, 9)),
            ],
        )
        assert len(results) == 3
        assert isinstance(results[0], Applied) and isinstance(results[2], Applied)
        assert isinstance(results[1], Failure) and results[1].kind is FailureKind.NOT_FOUND

    def test_batch_larger_than_batch_size(self, writable: Any, kind: ItemKind) -> None:
        store = writable
        folder = _folder_for(store, kind)
        n = min(store.capabilities.batch_size + 3, 120)
        ops = [Create(sample(kind, 100 + i)) for i in range(n)]
        results = store.apply(folder.id, ops)
        assert all(isinstance(x, Applied) for x in results)
        assert len({x.id for x in results if isinstance(x, Applied)}) == n
        assert len(_listing(store, folder)) == n

    def test_fetch_of_unknown_id_is_not_found(self, store: Any, kind: ItemKind) -> None:
        folder = _folder_for(store, kind)
        got = store.fetch(folder.id, ["oxsync-no-such-item"])
        failure = got["oxsync-no-such-item"]
        assert isinstance(failure, Failure) and failure.kind is FailureKind.NOT_FOUND

    def test_ids_naming_nothing_here_are_not_found(self, writable: Any, kind: ItemKind) -> None:
        """Ids a store never handed out (paths, a NUL, an empty id, odd shapes) give a
        per-item NOT_FOUND for fetch, update and delete: no exception, and no write
        anywhere (a path must not reach outside the folder)."""
        store = writable
        folder = _folder_for(store, kind)
        kept = _create(store, folder, sample(kind, 40))
        odd = ["", "\0", "a\0b", "../x", "x/../../y", "/etc/passwd", "..", "-1", "9" * 40]
        got = store.fetch(folder.id, odd)
        for item_id in odd:
            failure = got[item_id]
            assert isinstance(failure, Failure), item_id
            assert failure.kind is FailureKind.NOT_FOUND, (item_id, failure)
        record = sample(kind, 41)
        for item_id in odd:
            for op in (Update(item_id, record, None), Delete(item_id, None)):
                (result,) = store.apply(folder.id, [op])
                assert isinstance(result, Failure), (op, result)
                assert result.kind is FailureKind.NOT_FOUND, (op, result)
        assert set(_listing(store, folder)) == {kept.id}
        assert isinstance(store.fetch(folder.id, [kept.id])[kept.id], Item)

    def test_delta_reports_changes_and_deletions(self, writable: Any, kind: ItemKind) -> None:
        store = writable
        folder = _folder_for(store, kind)
        keep = _create(store, folder, sample(kind, 10))
        doomed = _create(store, folder, sample(kind, 11))
        untouched = _create(store, folder, sample(kind, 12))
        cursor = store.changes(folder.id, None).cursor
        (upd,) = store.apply(
            folder.id,
            [Update(keep.id, _edited(kind, 10), keep.version)],
        )
        assert isinstance(upd, Applied)
        store.apply(folder.id, [Delete(doomed.id, doomed.version)])
        added = _create(store, folder, sample(kind, 13))
        changes = store.changes(folder.id, cursor)
        changed = {ref.id: ref.version for ref in changes.changed}
        if changes.full:
            assert doomed.id not in changed
            assert changed[untouched.id] == untouched.version
        else:
            assert store.capabilities.delta
            assert doomed.id in changes.deleted
            assert untouched.id not in changed
        assert changed[upd.id] == upd.version
        assert changed[added.id] == added.version
        again = store.changes(folder.id, changes.cursor)
        if not again.full:
            assert not again.changed and not again.deleted

    def test_move_between_folders(self, writable: Any, kind: ItemKind) -> None:
        store = writable
        caps = store.capabilities
        if not (caps.moves and caps.folder_ops):
            pytest.skip("no moves")
        folder = _folder_for(store, kind)
        other = store.create_folder("oxsync move target", folder.kind)
        applied = _create(store, folder, sample(kind, 14))
        (moved,) = store.apply(folder.id, [Move(applied.id, other.id, applied.version)])
        assert isinstance(moved, Applied), moved
        assert applied.id not in _listing(store, folder)
        assert moved.id in _listing(store, other)
        got = _fetch_one(store, other, moved.id)
        assert comparable(got.record, caps) == comparable(sample(kind, 14), caps)

    def test_uid_is_kept(self, writable: Any, kind: ItemKind) -> None:
        folder = _folder_for(writable, kind)
        applied = _create(writable, folder, sample(kind, 15))
        assert _fetch_one(writable, folder, applied.id).record.uid == sample(kind, 15).uid

    def test_read_only_store_refuses_writes(self, store: Any, kind: ItemKind) -> None:
        if not isinstance(store, BaseStore):
            pytest.skip("read-only enforcement is BaseStore's")
        folder = _folder_for(store, kind)
        store._read_only = True  # what read_only=True at construction sets
        try:
            with pytest.raises(ReadOnlyStoreError):
                store.apply(folder.id, [Create(sample(kind, 16))])
            with pytest.raises(ReadOnlyStoreError):
                store.create_folder("x", folder.kind)
            for op in (Update("x", sample(kind, 16)), Delete("x"), Move("x", folder.id)):
                with pytest.raises(ReadOnlyStoreError):
                    store.apply(folder.id, [op])
            with pytest.raises(ReadOnlyStoreError):
                store.rename_folder(folder.id, "x")
            with pytest.raises(ReadOnlyStoreError):
                store.delete_folder(folder.id)
            with pytest.raises(ReadOnlyStoreError):
                store.set_permissions(folder.id, [])
            assert [f.id for f in store.folders()].count(folder.id) == 1
            assert store.capabilities.read_only
        finally:
            store._read_only = False

    # ------------------------------------------------------------------ versions and batches

    def test_every_update_moves_the_version(self, writable: Any, kind: ItemKind) -> None:
        # each change of content gives a version other than the one before (back to an
        # earlier content may give its earlier version back, as content-hash ETags do),
        # and listing and fetch agree with what apply returned
        store = writable
        folder = _folder_for(store, kind)
        record = sample(kind, 17)
        edited = attrs.evolve(record, **_EDITS[kind])
        current = _create(store, folder, record)
        for content in (edited, record, edited):
            (result,) = store.apply(folder.id, [Update(current.id, content, current.version)])
            assert isinstance(result, Applied), result
            assert result.version != current.version, "an edit must move the version"
            current = result
            assert _fetch_one(store, folder, result.id).version == result.version
            assert _listing(store, folder) == {result.id: result.version}

    def test_rewriting_the_same_record_is_applied(self, writable: Any, kind: ItemKind) -> None:
        # writing what is already there is no conflict and no error; the version may stay
        # or move (both are allowed), but listing and fetch then report the one returned
        store = writable
        folder = _folder_for(store, kind)
        created = _create(store, folder, sample(kind, 20))
        held = _fetch_one(store, folder, created.id)
        (again,) = store.apply(folder.id, [Update(created.id, held.record, held.version)])
        assert isinstance(again, Applied), again
        got = _fetch_one(store, folder, again.id)
        assert got.version == again.version
        assert _listing(store, folder) == {again.id: again.version}
        caps = store.capabilities
        assert comparable(got.record, caps) == comparable(held.record, caps)

    def test_delete_with_stale_version_is_a_conflict(self, writable: Any, kind: ItemKind) -> None:
        store = writable
        folder = _folder_for(store, kind)
        first = _create(store, folder, sample(kind, 21))
        edited = _edited(kind, 21)
        (second,) = store.apply(folder.id, [Update(first.id, edited, first.version)])
        assert isinstance(second, Applied), second
        (stale,) = store.apply(folder.id, [Delete(second.id, first.version)])
        assert isinstance(stale, Failure) and stale.kind is FailureKind.CONFLICT, stale
        assert _listing(store, folder) == {second.id: second.version}

    def test_update_and_delete_of_unknown_id_are_not_found(
        self, writable: Any, kind: ItemKind
    ) -> None:
        # an id the store handed out once, now gone, with and without a version
        store = writable
        folder = _folder_for(store, kind)
        gone = _create(store, folder, sample(kind, 22))
        (deleted,) = store.apply(folder.id, [Delete(gone.id, gone.version)])
        assert isinstance(deleted, Applied), deleted
        for op in (
            Update(gone.id, sample(kind, 22), None),
            Update(gone.id, sample(kind, 22), gone.version),
            Delete(gone.id, gone.version),
        ):
            (result,) = store.apply(folder.id, [op])
            assert isinstance(result, Failure), (op, result)
            assert result.kind in (FailureKind.NOT_FOUND, FailureKind.CONFLICT), (op, result)
            if op.version is None:
                assert result.kind is FailureKind.NOT_FOUND, (op, result)
        assert _listing(store, folder) == {}

    def test_a_mixed_batch_applies_the_good_ops(self, writable: Any, kind: ItemKind) -> None:
        # one result per op, in order; failures are per item and the good ops are done
        store = writable
        folder = _folder_for(store, kind)
        edit = _create(store, folder, sample(kind, 23))
        doomed = _create(store, folder, sample(kind, 24))
        stale = _create(store, folder, sample(kind, 25))
        (bumped,) = store.apply(folder.id, [Update(stale.id, _edited(kind, 25), None)])
        assert isinstance(bumped, Applied), bumped
        edited = _edited(kind, 23)
        results = store.apply(
            folder.id,
            [
                Delete(stale.id, stale.version),  # stale: conflict
                Update(edit.id, edited, edit.version),
                Delete("oxsync-no-such-item", None),
                Create(sample(kind, 26)),
                Update(stale.id, sample(kind, 25), stale.version),  # stale: conflict
                Delete(doomed.id, doomed.version),
            ],
        )
        assert len(results) == 6
        kinds = [r.kind if isinstance(r, Failure) else None for r in results]
        assert kinds == [
            FailureKind.CONFLICT,
            None,
            FailureKind.NOT_FOUND,
            None,
            FailureKind.CONFLICT,
            None,
        ], results
        updated, created = results[1], results[3]
        assert isinstance(updated, Applied) and isinstance(created, Applied)
        assert _listing(store, folder) == {
            updated.id: updated.version,
            created.id: created.version,
            bumped.id: bumped.version,
        }
        caps = store.capabilities
        got = store.fetch(folder.id, [updated.id, created.id, bumped.id])
        records = {i: x.record for i, x in got.items() if isinstance(x, Item)}
        assert comparable(records[updated.id], caps) == comparable(edited, caps)
        assert comparable(records[created.id], caps) == comparable(sample(kind, 26), caps)
        assert comparable(records[bumped.id], caps) == comparable(_edited(kind, 25), caps)

    # ------------------------------------------------------------------ fetch

    def test_fetch_of_a_mix_answers_each_id(self, writable: Any, kind: ItemKind) -> None:
        store = writable
        folder = _folder_for(store, kind)
        a = _create(store, folder, sample(kind, 27))
        b = _create(store, folder, sample(kind, 28))
        gone = _create(store, folder, sample(kind, 29))
        store.apply(folder.id, [Delete(gone.id, None)])
        got = store.fetch(folder.id, [b.id, "oxsync-no-such-item", gone.id, a.id])
        assert set(got) == {a.id, b.id, gone.id, "oxsync-no-such-item"}
        for item_id in ("oxsync-no-such-item", gone.id):
            failure = got[item_id]
            assert isinstance(failure, Failure) and failure.kind is FailureKind.NOT_FOUND
        caps = store.capabilities
        for applied, i in ((a, 27), (b, 28)):
            item = got[applied.id]
            assert isinstance(item, Item), item
            assert item.id == applied.id and item.version == applied.version
            assert comparable(item.record, caps) == comparable(sample(kind, i), caps)
        assert store.fetch(folder.id, []) == {}

    def test_fetch_never_answers_for_another_folder(self, writable: Any, kind: ItemKind) -> None:
        # an id of an item in folder A asked of folder B is not found there, whatever B is
        store = writable
        folder = _folder_for(store, kind)
        applied = _create(store, folder, sample(kind, 30))
        others = [f for f in store.folders() if f.id != folder.id]
        if store.capabilities.folder_ops:
            others.append(store.create_folder("oxsync fetch elsewhere", folder.kind))
        if not others:
            pytest.skip("store has a single folder")
        for other in others:
            got = store.fetch(other.id, [applied.id])[applied.id]
            assert isinstance(got, Failure), (other, got)
            assert got.kind is FailureKind.NOT_FOUND, (other, got)
            assert applied.id not in _listing(store, other)
        for other in others:
            if other.kind is folder.kind and not other.read_only:
                (result,) = store.apply(other.id, [Delete(applied.id, None)])
                assert isinstance(result, Failure), (other, result)
                assert result.kind is FailureKind.NOT_FOUND, (other, result)
        assert _listing(store, folder) == {applied.id: applied.version}

    # ------------------------------------------------------------------ deltas

    def test_delta_lists_exactly_what_changed(self, writable: Any, kind: ItemKind) -> None:
        # no more than the changes (an echo of an item written is allowed), and a cursor
        # stays valid after it was used: asking twice gives the same changes
        store = writable
        folder = _folder_for(store, kind)
        items = [_create(store, folder, sample(kind, 31 + i)) for i in range(4)]
        before = store.changes(folder.id, None)
        (upd,) = store.apply(
            folder.id,
            [Update(items[0].id, _edited(kind, 31), None)],
        )
        assert isinstance(upd, Applied), upd
        (dele,) = store.apply(folder.id, [Delete(items[1].id, None)])
        assert isinstance(dele, Applied), dele
        flash = _create(store, folder, sample(kind, 35))  # created and deleted since
        store.apply(folder.id, [Delete(flash.id, None)])
        added = _create(store, folder, sample(kind, 36))
        first = store.changes(folder.id, before.cursor)
        second = store.changes(folder.id, before.cursor)
        now = {upd.id: upd.version, added.id: added.version}
        now |= {x.id: x.version for x in items[2:]}
        for answer in (first, second):
            changed = {ref.id: ref.version for ref in answer.changed}
            assert len(changed) == len(answer.changed), "an id listed twice"
            if answer.full:
                assert changed == now
                assert not answer.deleted
            else:
                assert changed == {upd.id: upd.version, added.id: added.version}
                assert items[1].id in answer.deleted
                assert set(answer.deleted) <= {items[1].id, flash.id}
                assert not set(answer.deleted) & set(changed)
        assert _listing(store, folder) == now

    def test_a_cursor_this_store_never_gave_lists_all_or_fails_typed(
        self, store: Any, kind: ItemKind
    ) -> None:
        # garbage, or a number no clock reaches: a full listing or a StoreError (the
        # engine then starts over), never another exception nor a delta that would
        # hide every change from then on
        folder = _folder_for(store, kind)
        if not store.capabilities.read_only and not folder.read_only:
            kept = _create(store, folder, sample(kind, 37))
            want = {kept.id: kept.version}
        else:
            want = _listing(store, folder)
        for cursor in ("", "garbage ü", "\0", "9" * 40, "{}", "../cursor"):
            try:
                answer = store.changes(folder.id, cursor)
            except StoreError:
                continue
            assert answer.full, (cursor, answer)
            assert {ref.id: ref.version for ref in answer.changed} == want, cursor
            assert not answer.deleted

    def test_full_listing_after_deletes_leaves_them_out(
        self, writable: Any, kind: ItemKind
    ) -> None:
        store = writable
        folder = _folder_for(store, kind)
        results = store.apply(folder.id, [Create(sample(kind, 50 + i)) for i in range(5)])
        ids = [r.id for r in results if isinstance(r, Applied)]
        assert len(ids) == 5, results
        deletes = store.apply(folder.id, [Delete(i, None) for i in ids[::2]])
        assert all(isinstance(r, Applied) for r in deletes), deletes
        assert set(_listing(store, folder)) == set(ids[1::2])

    # ------------------------------------------------------------------ moves

    def _move_setup(self, store: Any, kind: ItemKind) -> tuple[Folder, Folder]:
        caps = store.capabilities
        if not (caps.moves and caps.folder_ops):
            pytest.skip("no moves")
        folder = _folder_for(store, kind)
        return folder, store.create_folder("oxsync move target", folder.kind)

    def test_move_of_unknown_id_is_not_found(self, writable: Any, kind: ItemKind) -> None:
        store = writable
        folder, other = self._move_setup(store, kind)
        gone = _create(store, folder, sample(kind, 42))
        store.apply(folder.id, [Delete(gone.id, None)])
        for item_id in (gone.id, "oxsync-no-such-item", "", "../x"):
            (result,) = store.apply(folder.id, [Move(item_id, other.id, None)])
            assert isinstance(result, Failure), (item_id, result)
            assert result.kind is FailureKind.NOT_FOUND, (item_id, result)
        assert _listing(store, other) == {}

    def test_move_with_stale_version_is_a_conflict(self, writable: Any, kind: ItemKind) -> None:
        store = writable
        folder, other = self._move_setup(store, kind)
        first = _create(store, folder, sample(kind, 43))
        edited = _edited(kind, 43)
        (second,) = store.apply(folder.id, [Update(first.id, edited, first.version)])
        assert isinstance(second, Applied), second
        (stale,) = store.apply(folder.id, [Move(second.id, other.id, first.version)])
        assert isinstance(stale, Failure) and stale.kind is FailureKind.CONFLICT, stale
        assert _listing(store, folder) == {second.id: second.version}
        assert _listing(store, other) == {}

    def test_move_to_unknown_folder_fails_the_item(self, writable: Any, kind: ItemKind) -> None:
        # the op fails (NOT_FOUND, or a lasting kind) and the item stays where it was
        store = writable
        folder, _ = self._move_setup(store, kind)
        applied = _create(store, folder, sample(kind, 44))
        (result,) = store.apply(folder.id, [Move(applied.id, "oxsync-no-such-folder", None)])
        assert isinstance(result, Failure), result
        assert result.kind is FailureKind.NOT_FOUND or result.kind.lasting, result
        assert _listing(store, folder) == {applied.id: applied.version}

    def test_moved_item_keeps_uid_and_leaves_the_delta(self, writable: Any, kind: ItemKind) -> None:
        store = writable
        folder, other = self._move_setup(store, kind)
        applied = _create(store, folder, sample(kind, 45))
        src_cursor = store.changes(folder.id, None).cursor
        dst_cursor = store.changes(other.id, None).cursor
        (moved,) = store.apply(folder.id, [Move(applied.id, other.id, applied.version)])
        assert isinstance(moved, Applied), moved
        assert _fetch_one(store, other, moved.id).record.uid == sample(kind, 45).uid
        src = store.changes(folder.id, src_cursor)
        if src.full:
            assert applied.id not in {ref.id for ref in src.changed}
        else:
            assert applied.id in src.deleted
        dst = store.changes(other.id, dst_cursor)
        assert {ref.id: ref.version for ref in dst.changed} == {moved.id: moved.version}
        gone = store.fetch(folder.id, [applied.id])[applied.id]
        assert isinstance(gone, Failure) and gone.kind is FailureKind.NOT_FOUND, gone

    # ------------------------------------------------------------------ values

    def test_unicode_empty_and_long_values(self, writable: Any, kind: ItemKind) -> None:
        # astral, combining, right-to-left and CJK text, and a long note, are kept exactly
        # or refused as INVALID (naming no secret), never an exception or a silent cut
        store = writable
        folder = _folder_for(store, kind)
        text = "𝄞 😀 e\u0301 שָׁלוֹם 漢字 ﬁ"
        long_note = ("Ünïcødé ✓ " * 1_000).strip() + "\nend"
        base: Any = sample(kind, 46)
        fields = {f.name for f in attrs.fields(type(base))}
        name = next(n for n in ("summary", "last_name", "display_name") if n in fields)
        variants = [attrs.evolve(base, **{name: text})]
        if "note" in fields:
            variants.append(attrs.evolve(base, note=long_note))
            variants.append(attrs.evolve(base, note=None))
        if "categories" in fields:
            variants.append(attrs.evolve(base, categories=()))
        caps = store.capabilities
        applied = 0
        for i, record in enumerate(variants):
            record = attrs.evolve(record, uid=f"oxsync-values-{kind.value}-{i}")
            (result,) = store.apply(folder.id, [Create(record)])
            if isinstance(result, Failure):
                assert result.kind is FailureKind.INVALID, (record, result)
                continue
            applied += 1
            got = _fetch_one(store, folder, result.id)
            assert comparable(got.record, caps) == comparable(record, caps)
        assert applied, "every variant refused"

    def test_generated_records_round_trip_stably(self, writable: Any, kind: ItemKind) -> None:
        """Any record of the kind (:func:`oxsync.testing.strategies.records`) is written or
        refused as INVALID; written, it keeps its uid, reads back the same each time, and
        what was read, written back, reads back as itself (a store's normalisation settles
        at once: a sync of an unchanged item is no edit). An edit then moves the version
        and reads back edited. Fidelity to the original record is the fixed samples' job
        (what a store's mapping may change goes beyond ``unsupported_fields``)."""
        store = writable
        folder = _folder_for(store, kind)
        caps = store.capabilities

        @settings(
            max_examples=25,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(records(kind))
        def check(record: Record) -> None:
            (created,) = store.apply(folder.id, [Create(record)])
            if isinstance(created, Failure):
                assert created.kind is FailureKind.INVALID, created
                return
            try:
                got = _fetch_one(store, folder, created.id)
                assert got.version == created.version
                assert got.record.uid == (record.uid or got.record.uid) and got.record.uid
                twice = _fetch_one(store, folder, created.id)
                assert comparable(twice.record, caps) == comparable(got.record, caps)
                (rewritten,) = store.apply(folder.id, [Update(got.id, got.record, got.version)])
                assert isinstance(rewritten, Applied), rewritten
                again = _fetch_one(store, folder, rewritten.id)
                assert again.version == rewritten.version
                assert comparable(again.record, caps) == comparable(got.record, caps)
                edits = _EDITS[kind]
                edited: Any = attrs.evolve(again.record, **edits)
                if "note" in edits and getattr(edited, "note_html", None) is not None:
                    edited = attrs.evolve(edited, note_html=None)  # the HTML body wins
                if edited == again.record:
                    return
                (changed,) = store.apply(folder.id, [Update(again.id, edited, again.version)])
                assert isinstance(changed, Applied), changed
                assert changed.version != again.version
                final = _fetch_one(store, folder, changed.id)
                assert final.record.uid == got.record.uid
                assert {name: getattr(final.record, name) for name in edits} == edits
            finally:
                store.apply(folder.id, [Delete(created.id, None)])

        check()

    def test_what_a_store_reads_back_is_no_edit_to_the_engine(
        self, writable: Any, kind: ItemKind
    ) -> None:
        """A record written here (created, then updated) and read back is, to the
        engine, the record written.

        When the store saves such an item again by itself (Outlook on a dismissed
        reminder, OX touching an object), the engine fetches the copy and plans from it
        against the last synced record. The copy may lack what the store cannot hold
        (``unsupported_fields``) and may hold the store's own renderings of values, which
        its ``stored_form(record)`` must predict; anything else would be planned as an
        edit and pushed over the other side's richer original."""
        from oxsync.core import plan as P
        from oxsync.core.policy import Policy
        from oxsync.core.serial import canonical
        from oxsync.core.state import ItemPairRow

        store = writable
        folder = _folder_for(store, kind)
        caps = store.capabilities

        def no_edit(item_id: str, record: Record) -> Item:
            got = _fetch_one(store, folder, item_id)
            written = record if record.uid else attrs.evolve(record, uid=got.record.uid)
            base, base_fp = canonical(written)
            pair = ItemPairRow(1, got.id, "peer", "before", "v", base_fp, base_fp,
                               kind.value, written.uid, base)  # fmt: skip
            seen = P.Seen(got.id, got.version, got.record, *canonical(got.record))
            delta = P.FolderDelta(
                {got.id: seen},
                {},
                {got.id: pair},
                {"peer": pair},
                caps_a=caps,
                stored_a=getattr(store, "stored_form", None),
            )
            planned = P.plan_folder(delta, Policy.NEWEST_WINS)
            writes = [a for a in planned if not isinstance(a, P.Refresh)]
            assert not writes, f"read back as an edit: {writes}"
            return got

        @settings(
            max_examples=25,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(records(kind), records(kind))
        def check(record: Record, later: Record) -> None:
            (created,) = store.apply(folder.id, [Create(record)])
            if isinstance(created, Failure):
                assert created.kind is FailureKind.INVALID, created
                return
            try:
                got = no_edit(created.id, record)
                # the same after an update (another write path: what the item held before
                # may stay where the update writes nothing)
                later = attrs.evolve(later, uid=got.record.uid)
                (updated,) = store.apply(folder.id, [Update(got.id, later, got.version)])
                if isinstance(updated, Failure):
                    assert updated.kind is FailureKind.INVALID, updated
                    return
                no_edit(updated.id, later)
            finally:
                store.apply(folder.id, [Delete(created.id, None)])

        check()

    def test_read_only_folder_refuses_writes(self, writable: Any, kind: ItemKind) -> None:
        # a folder listed read-only (shared without write rights): each write is refused,
        # as Failure(PERMISSION) or PermissionDeniedError, and nothing changes there
        store = writable
        folders = [f for f in store.folders() if f.read_only and f.kind is _FOLDER_OF[kind]]
        if not folders:
            pytest.skip(f"store has no read-only {_FOLDER_OF[kind].value} folder")
        for folder in folders:
            before = _listing(store, folder)
            ops: list[Any] = [Create(sample(kind, 47))]
            for item_id, version in list(before.items())[:1]:
                ops += [Update(item_id, sample(kind, 47), version), Delete(item_id, version)]
            for op in ops:
                try:
                    (result,) = store.apply(folder.id, [op])
                except PermissionDeniedError:
                    continue
                assert isinstance(result, Failure), (folder, op, result)
                assert result.kind is FailureKind.PERMISSION, (folder, op, result)
            assert _listing(store, folder) == before
