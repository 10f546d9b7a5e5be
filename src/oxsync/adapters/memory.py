"""The in-memory reference store, with knobs to inject faults.

It implements the whole store protocol with delta cursors (a change log per folder) and
is what the engine's property tests and benchmarks run on. Test harnesses edit it directly
through :meth:`MemoryStore.put`, :meth:`~MemoryStore.edit`, :meth:`~MemoryStore.remove`,
:meth:`~MemoryStore.move_item` and :meth:`~MemoryStore.touch`, which behave like another
client of the store (they bump versions and appear in deltas).

Faults (:class:`Faults`) are counted per public store call (``folders``, ``changes``,
``fetch``, ``apply`` and the folder operations):

- ``fail_calls={3: TransientError("x")}`` raises on the 3rd call (before doing anything);
- ``crash_at=5, crash_after_work=True`` simulates the process dying on the 5th call — after
  the store did the work (the caller never sees the result) or, with ``False``, before;
- ``transient_rate=0.2`` makes calls fail transiently at random (seeded);
- ``reject={"uid-1": FailureKind.PERMISSION}`` makes writes of the item with that uid fail
  lastingly;
- ``flaky_versions=True`` bumps an item's version again right after each write, without a
  content change (like Outlook re-saving an item).

    >>> from oxsync.core.records import Contact, FolderKind
    >>> store = MemoryStore()
    >>> folder = store.default_folder(FolderKind.CONTACTS).id
    >>> item_id = store.put(folder, Contact(last_name="Hopper"))
    >>> store.records(folder)[item_id].last_name
    'Hopper'
"""

from __future__ import annotations

import bisect
import itertools
import random
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from attrs import define, field

from oxsync.core.records import Folder, FolderKind, ItemKind, Permission, Record, item_kind_of
from oxsync.core.store import (
    Applied,
    BaseStore,
    Capabilities,
    Changes,
    Create,
    Cursor,
    Delete,
    Failure,
    FailureKind,
    Item,
    ItemRef,
    Move,
    Op,
    OpResult,
    Update,
)
from oxsync.errors import NotFoundError, PermissionDeniedError, StoreCrashed, TransientError

__all__ = ["Faults", "MemoryStore"]


@define
class Faults:
    """Fault-injection settings of a :class:`MemoryStore` (mutable between calls)."""

    fail_calls: dict[int, Exception] = field(factory=dict)
    crash_at: int | None = None
    crash_after_work: bool = True
    transient_rate: float = 0.0
    seed: int = 0
    reject: dict[str, FailureKind] = field(factory=dict)
    flaky_versions: bool = False


@define
class _Folder:
    meta: Folder
    items: dict[str, tuple[str, Record]] = field(factory=dict)
    log_seqs: list[int] = field(factory=list)
    log_ids: list[str] = field(factory=list)


_DEFAULTS = (
    ("contacts", "Contacts", FolderKind.CONTACTS),
    ("calendar", "Calendar", FolderKind.CALENDAR),
    ("tasks", "Tasks", FolderKind.TASKS),
)


class MemoryStore(BaseStore):
    """An in-memory store with delta cursors and fault knobs; see the module docstring."""

    def __init__(
        self,
        *,
        name: str = "memory",
        read_only: bool = False,
        delta: bool = True,
        batch_size: int = 500,
        faults: Faults | None = None,
        default_folders: bool = True,
        kinds: frozenset[ItemKind] = frozenset(ItemKind),
        moves: bool = True,
        unsupported_fields: Mapping[ItemKind, frozenset[str]] | None = None,
    ) -> None:
        super().__init__(read_only=read_only, name=name)
        self._faults = faults or Faults()
        self.calls = 0
        self._delta = delta
        self._batch_size = batch_size
        self._kinds = kinds
        self._moves = moves
        self._unsupported = dict(unsupported_fields or {})
        self._folders: dict[str, _Folder] = {}
        self._seq = 0
        self._ids = itertools.count(1)
        self._random = random.Random(self._faults.seed)
        if default_folders:
            for folder_id, fname, kind in _DEFAULTS:
                if kind.item_kinds & kinds:
                    meta = Folder(id=folder_id, name=fname, kind=kind, is_default=True)
                    self._folders[folder_id] = _Folder(meta)

    @property
    def faults(self) -> Faults:
        """The fault settings; assigning new ones also reseeds the random faults."""
        return self._faults

    @faults.setter
    def faults(self, value: Faults) -> None:
        self._faults = value
        self._random = random.Random(value.seed)

    # ------------------------------------------------------------------ protocol

    def _capabilities(self) -> Capabilities:
        return Capabilities(
            kinds=self._kinds,
            delta=self._delta,
            batch_size=self._batch_size,
            moves=self._moves,
            folder_ops=True,
            permissions=True,
            unsupported_fields=self._unsupported,
        )

    def folders(self) -> Sequence[Folder]:
        """All folders, parents first."""
        self._enter_call()
        result = [f.meta for f in self._folders.values()]
        self._leave_call()
        return result

    def changes(self, folder_id: str, cursor: Cursor) -> Changes:
        """Delta since ``cursor`` (full listing for ``None``, an unknown cursor, or no delta)."""
        self._enter_call()
        folder = self._folder(folder_id)
        since = _parse_cursor(cursor)
        if since is None or not self._delta or since > self._seq:
            refs = [ItemRef(i, v) for i, (v, _) in folder.items.items()]
            result = Changes(refs, (), str(self._seq), full=True)
        else:
            start = bisect.bisect_right(folder.log_seqs, since)
            touched = dict.fromkeys(folder.log_ids[start:])
            changed, deleted = [], []
            for item_id in touched:
                entry = folder.items.get(item_id)
                if entry is None:
                    deleted.append(item_id)
                else:
                    changed.append(ItemRef(item_id, entry[0]))
            result = Changes(changed, deleted, str(self._seq), full=False)
        self._leave_call()
        return result

    def fetch(self, folder_id: str, ids: Sequence[str]) -> Mapping[str, Item | Failure]:
        """Records by id; unknown ids map to ``Failure(NOT_FOUND)``."""
        self._enter_call()
        folder = self._folder(folder_id)
        out: dict[str, Item | Failure] = {}
        for item_id in ids:
            entry = folder.items.get(item_id)
            if entry is None:
                out[item_id] = Failure(FailureKind.NOT_FOUND, f"no item {item_id!r}")
            else:
                out[item_id] = Item(item_id, entry[0], entry[1])
        self._leave_call()
        return out

    def _apply(self, folder_id: str, ops: Sequence[Op]) -> Sequence[OpResult]:
        self._enter_call()
        folder = self._folder(folder_id)
        results = [self._apply_one(folder, op) for op in ops]
        self._leave_call()
        return results

    def _apply_one(self, folder: _Folder, op: Op) -> OpResult:
        if isinstance(op, Create):
            if item_kind_of(op.record) not in folder.meta.kind.item_kinds & self._kinds:
                return Failure(FailureKind.INVALID, "wrong kind of item for this folder")
            rejected = self._rejected(op.record)
            if rejected:
                return rejected
            record = op.record if op.record.uid else attrs.evolve(op.record, uid=_new_uid())
            item_id = f"{self.name}-{next(self._ids)}"
            return Applied(item_id, self._write(folder, item_id, record))
        entry = folder.items.get(op.id)
        if entry is None:
            return Failure(FailureKind.NOT_FOUND, f"no item {op.id!r}")
        if op.version is not None and op.version != entry[0]:
            return Failure(FailureKind.CONFLICT, f"item {op.id!r} changed (version {entry[0]})")
        if isinstance(op, Update):
            rejected = self._rejected(op.record) or self._rejected(entry[1])
            if rejected:
                return rejected
            if item_kind_of(op.record) != item_kind_of(entry[1]):
                return Failure(FailureKind.INVALID, "an update cannot change the item kind")
            record = op.record if op.record.uid else attrs.evolve(op.record, uid=entry[1].uid)
            return Applied(op.id, self._write(folder, op.id, record))
        rejected = self._rejected(entry[1])
        if rejected:
            return rejected
        if isinstance(op, Delete):
            self._drop(folder, op.id)
            return Applied(op.id, "")
        assert isinstance(op, Move)
        target = self._folders.get(op.to_folder)
        if target is None:
            return Failure(FailureKind.NOT_FOUND, f"no folder {op.to_folder!r}")
        self._drop(folder, op.id)
        return Applied(op.id, self._write(target, op.id, entry[1]))

    def _rejected(self, record: Record) -> Failure | None:
        kind = self.faults.reject.get(record.uid or "")
        if kind is None:
            return None
        return Failure(kind, f"item {record.uid!r} refused by the store ({kind.value})")

    def _create_folder(self, name: str, kind: FolderKind, parent_id: str | None) -> Folder:
        self._enter_call()
        if parent_id is not None:
            self._folder(parent_id)
        meta = Folder(
            id=f"{self.name}-f{next(self._ids)}", name=name, kind=kind, parent_id=parent_id
        )
        self._folders[meta.id] = _Folder(meta)
        self._leave_call()
        return meta

    def _rename_folder(self, folder_id: str, name: str) -> Folder:
        self._enter_call()
        folder = self._folder(folder_id)
        folder.meta = attrs.evolve(folder.meta, name=name)
        self._leave_call()
        return folder.meta

    def _delete_folder(self, folder_id: str) -> None:
        self._enter_call()
        folder = self._folder(folder_id)
        if folder.meta.is_default:
            raise PermissionDeniedError(f"folder {folder_id!r} is a default folder")
        doomed = [folder_id]
        for fid, f in self._folders.items():
            if f.meta.parent_id in doomed:
                doomed.append(fid)
        for fid in doomed:
            del self._folders[fid]
        self._leave_call()

    def _set_permissions(self, folder_id: str, permissions: Sequence[Permission]) -> Folder:
        self._enter_call()
        folder = self._folder(folder_id)
        folder.meta = attrs.evolve(folder.meta, permissions=tuple(permissions))
        self._leave_call()
        return folder.meta

    # ------------------------------------------------------------------ harness helpers

    def default_folder(self, kind: FolderKind) -> Folder:
        """The default folder of ``kind``."""
        for f in self._folders.values():
            if f.meta.kind is kind and f.meta.is_default:
                return f.meta
        raise NotFoundError(f"no default {kind.value} folder")

    def put(self, folder_id: str, record: Record) -> str:
        """Add ``record`` as another client would; returns its new id."""
        item_id = f"{self.name}-{next(self._ids)}"
        if not record.uid:
            record = attrs.evolve(record, uid=_new_uid())
        self._write(self._folder(folder_id), item_id, record)
        return item_id

    def edit(self, folder_id: str, item_id: str, **changes: Any) -> Record:
        """Change fields of an item as another client would; returns the new record."""
        folder = self._folder(folder_id)
        record = attrs.evolve(folder.items[item_id][1], **changes)
        self._write(folder, item_id, record)
        return record

    def replace(self, folder_id: str, item_id: str, record: Record) -> None:
        """Replace an item's record as another client would."""
        self._write(self._folder(folder_id), item_id, record)

    def remove(self, folder_id: str, item_id: str) -> None:
        """Delete an item as another client would."""
        self._drop(self._folder(folder_id), item_id)

    def move_item(self, item_id: str, from_folder: str, to_folder: str) -> None:
        """Move an item between folders as another client would (the id is kept)."""
        source = self._folder(from_folder)
        record = source.items[item_id][1]
        self._drop(source, item_id)
        self._write(self._folder(to_folder), item_id, record)

    def touch(self, folder_id: str, item_id: str) -> None:
        """Bump an item's version without changing it (like a dismissed reminder)."""
        folder = self._folder(folder_id)
        self._write(folder, item_id, folder.items[item_id][1])

    def records(self, folder_id: str) -> dict[str, Record]:
        """Current records of a folder by id."""
        return {i: rec for i, (_, rec) in self._folder(folder_id).items.items()}

    def version(self, folder_id: str, item_id: str) -> str:
        """Current version of an item."""
        return self._folder(folder_id).items[item_id][0]

    def add_folder(self, name: str, kind: FolderKind, parent_id: str | None = None) -> Folder:
        """Create a folder as another client would (no fault counting)."""
        meta = Folder(
            id=f"{self.name}-f{next(self._ids)}", name=name, kind=kind, parent_id=parent_id
        )
        self._folders[meta.id] = _Folder(meta)
        return meta

    # ------------------------------------------------------------------ internals

    def _folder(self, folder_id: str) -> _Folder:
        try:
            return self._folders[folder_id]
        except KeyError:
            raise NotFoundError(f"no folder {folder_id!r} in store {self.name!r}") from None

    def _write(self, folder: _Folder, item_id: str, record: Record) -> str:
        self._seq += 1
        version = str(self._seq)
        folder.items[item_id] = (version, record)
        folder.log_seqs.append(self._seq)
        folder.log_ids.append(item_id)
        if self.faults.flaky_versions:
            self._seq += 1
            folder.items[item_id] = (str(self._seq), record)
            folder.log_seqs.append(self._seq)
            folder.log_ids.append(item_id)
        return version

    def _drop(self, folder: _Folder, item_id: str) -> None:
        self._seq += 1
        del folder.items[item_id]
        folder.log_seqs.append(self._seq)
        folder.log_ids.append(item_id)

    def _enter_call(self) -> None:
        self.calls += 1
        faults = self.faults
        if self.calls in faults.fail_calls:
            raise faults.fail_calls[self.calls]
        if faults.crash_at == self.calls and not faults.crash_after_work:
            raise StoreCrashed(f"simulated crash before call {self.calls}")
        if faults.transient_rate and self._random.random() < faults.transient_rate:
            raise TransientError(f"simulated transient failure on call {self.calls}")

    def _leave_call(self) -> None:
        if self.faults.crash_at == self.calls and self.faults.crash_after_work:
            raise StoreCrashed(f"simulated crash after call {self.calls}")


def _parse_cursor(cursor: Cursor) -> int | None:
    if cursor is None:
        return None
    try:
        return int(cursor)
    except ValueError:
        return None


def _new_uid() -> str:
    return uuid.uuid4().hex
