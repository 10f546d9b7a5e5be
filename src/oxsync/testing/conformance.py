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

from oxsync.core.records import Folder, FolderKind, ItemKind, Record
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
from oxsync.errors import ReadOnlyStoreError
from oxsync.testing.samples import comparable, sample

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
    ItemKind.TASK: {"summary": "Edited task", "percent_complete": 50},
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
        edited = attrs.evolve(sample(kind, 3), **_EDITS[kind])
        (result,) = store.apply(folder.id, [Update(applied.id, edited, applied.version)])
        assert isinstance(result, Applied), result
        assert result.version != applied.version
        got = _fetch_one(store, folder, result.id)
        assert comparable(got.record, store.capabilities) == comparable(edited, store.capabilities)

    def test_update_with_stale_version_is_a_conflict(self, writable: Any, kind: ItemKind) -> None:
        store = writable
        folder = _folder_for(store, kind)
        first = _create(store, folder, sample(kind, 4))
        edited = attrs.evolve(sample(kind, 4), **_EDITS[kind])
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
            [Update(keep.id, attrs.evolve(sample(kind, 10), **_EDITS[kind]), keep.version)],
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
            assert store.capabilities.read_only
        finally:
            store._read_only = False
