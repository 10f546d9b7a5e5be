"""``OutlookStore``: Outlook's calendars, contacts and tasks as an oxsync store.

Terms (see :mod:`oxsync.core.store` for the protocol's):

- **folder id**: the folder's ``EntryID`` (folders are not moved by sync).
- **item id**: the item's **oxsync key**, a uuid kept in the item's user property
  ``OxsyncKey``. ``EntryID`` changes when an item is moved or re-imported (reference §6);
  the key does not, so moved and re-imported items keep their identity. Copies carry
  the key too (Outlook copies user properties): when two items show the same key, the
  one created later is the copy and gets a fresh key and uid, so it syncs as a new item
  rather than being merged or duplicated. Items created by the user get a key the first
  time a listing sees them (one open and save each).
- **version**: ``LastModificationTime`` as :func:`~._time.version_of` renders it. It
  also moves when Outlook rewrites an item without a real change (a dismissed reminder);
  the engine's fingerprint comparison then does nothing.
- **cursor**: ``"<store token>:<folder generation>"``. Each :meth:`changes` call walks
  the folder's ``Table`` once (EntryID, MessageClass, LastModificationTime, CreationTime,
  OxsyncKey: O(1) object-model calls per item, no item opened) and keeps the listing as
  a snapshot; a call with the cursor of the last (or the one before) snapshot answers a
  delta against it — deletions are keys absent from the new table. An unknown cursor
  (new process, other store) gets a full listing, which the engine diffs against its
  state. A ``Restrict`` on ``LastModificationTime`` could not find deletions (they
  leave no row), so it would not save the Table pass.

Item events (``ItemAdd`` / ``ItemChange`` / ``ItemRemove``) call ``on_change(folder_id)``
as hints only: Outlook drops them for bulk operations, so the periodic sync stays the
source of truth.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from oxsync.adapters.outlook._boundary import ObjectModel, connect
from oxsync.adapters.outlook._errors import com_errors, failure_kind, item_errors
from oxsync.adapters.outlook._identity import (
    BREATHE_EVERY,
    KEY_PROPERTY,
    UID_PROPERTY,
    Entry,
    ItemIndex,
    Snapshot,
    new_key,
    snapshot_for,
)
from oxsync.adapters.outlook._itemio import ITEM_TYPE
from oxsync.adapters.outlook._recordio import RecordIO, load_mapping
from oxsync.adapters.outlook._time import version_of
from oxsync.adapters.outlook._weekstart import DayName, refusal, week_start
from oxsync.core.records import Folder, FolderKind, ItemKind, Weekday, item_kind_of
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
from oxsync.errors import (
    MappingError,
    NotFoundError,
    PermissionDeniedError,
    StoreError,
    TransientError,
)

__all__ = ["KEY_PROPERTY", "UID_PROPERTY", "OutlookStore"]

log = logging.getLogger("oxsync.adapters.outlook")

_DEFAULTS = ((9, FolderKind.CALENDAR), (10, FolderKind.CONTACTS), (13, FolderKind.TASKS))
_FOLDER_KIND_OF_TYPE = {1: FolderKind.CALENDAR, 2: FolderKind.CONTACTS, 3: FolderKind.TASKS}


class OutlookStore(ItemIndex, RecordIO, BaseStore):
    """The Outlook profile's default calendar, contacts and tasks folders and their subfolders.

    ``application``: a fake ``oxsync.testing.outlook.Application``, a pywin32 Outlook
    application, an :class:`~._boundary.ObjectModel`, or None to start Outlook through
    pywin32 (Windows only; elsewhere this raises
    :class:`~._boundary.OutlookUnavailableError`). ``list_separator``: the separator
    joining Categories (default: the Windows setting). ``on_change(folder_id)`` receives
    item-event hints. ``first_day_of_week``: the first day of the week of Outlook's
    calendar options (a :class:`~oxsync.core.records.Weekday` or a day's name; None,
    the default, = unknown), which Outlook counts the weeks of an every-N-weeks series
    from: a weekly rule every 2 or more weeks whose days that day groups otherwise than
    Monday (unknown: any day but one a week) is refused as INVALID, and such an Outlook
    series is an unreadable item (see :mod:`._weekstart`).

        >>> from oxsync.testing.outlook import Application
        >>> store = OutlookStore(Application())
        >>> sorted(f.name for f in store.folders())
        ['Calendar', 'Contacts', 'Tasks']
    """

    name = "outlook"

    def __init__(
        self,
        application: Any | None = None,
        *,
        list_separator: str | None = None,
        read_only: bool = False,
        name: str | None = None,
        on_change: Callable[[str], None] | None = None,
        batch_size: int = 100,
        kinds: frozenset[ItemKind] = frozenset(ItemKind),
        first_day_of_week: Weekday | DayName | None = None,
    ) -> None:
        super().__init__(read_only=read_only, name=name)
        self.first_day_of_week = week_start(first_day_of_week)
        self.om: ObjectModel = connect(application)
        self.zone = self.om.zone
        self.list_separator = list_separator or self.om.list_separator
        self._html_body = {}
        self._on_change = on_change
        self._batch_size = batch_size
        self._kinds = kinds
        self._token = new_key()[:12]
        self._generations = itertools.count(1)
        self._folder_objs: dict[str, Any] = {}
        self._store_ids: dict[str, str] = {}
        self._meta: dict[str, Folder] = {}
        self._entries: dict[str, dict[str, Entry]] = {}
        self._snapshots: dict[str, list[Snapshot]] = {}
        self._watches: dict[str, Any] = {}
        self._rescanned: set[str] = set()
        self._global_uids: set[str] = set()
        self._mapping = load_mapping()
        self.folders()

    # ------------------------------------------------------------------ capabilities

    def _capabilities(self) -> Capabilities:
        unsupported = {
            k: frozenset(v) | _EXTRA_UNSUPPORTED.get(k, frozenset())
            for k, v in self._mapping.unsupported.items()
        }
        return Capabilities(
            kinds=self._kinds & self._mapping.kinds,
            delta=True,
            batch_size=self._batch_size,
            moves=True,
            folder_ops=True,
            permissions=False,
            recurrence=True,
            push=self._on_change is not None,
            unsupported_fields=unsupported,
        )

    # ------------------------------------------------------------------ folders

    def folders(self) -> Sequence[Folder]:
        """Default folders 9/10/13 and their subfolders of the same kind, parents first."""
        out: list[Folder] = []
        with com_errors("list folders"):
            for number, kind in _DEFAULTS:
                if not kind.item_kinds & self._kinds:
                    continue
                root = self.om.default_folder(number)
                self._walk(root, kind, None, True, out)
        self._meta = {f.id: f for f in out}
        return out

    def _walk(
        self, obj: Any, kind: FolderKind, parent: str | None, default: bool, out: list[Folder]
    ) -> None:
        folder_id = str(obj.EntryID)
        meta = Folder(
            id=folder_id, name=str(obj.Name), kind=kind, parent_id=parent, is_default=default
        )
        self._folder_objs[folder_id] = obj
        self._store_ids[folder_id] = str(obj.StoreID)
        out.append(meta)
        self._watch(folder_id, obj)
        for child in obj.Folders:
            if _FOLDER_KIND_OF_TYPE.get(int(child.DefaultItemType)) is kind:
                self._walk(child, kind, folder_id, False, out)

    def _watch(self, folder_id: str, obj: Any) -> None:
        if self._on_change is None or folder_id in self._watches:
            return
        notify = self._on_change
        self._watches[folder_id] = self.om.watch(obj, lambda _event: notify(folder_id))

    def _folder(self, folder_id: str) -> Any:
        obj = self._folder_objs.get(folder_id)
        if obj is None:
            self.folders()
            obj = self._folder_objs.get(folder_id)
        if obj is None:
            raise NotFoundError(f"no Outlook folder {folder_id!r} in store {self.name!r}")
        return obj

    def _create_folder(self, name: str, kind: FolderKind, parent_id: str | None) -> Folder:
        number = {k: n for n, k in _DEFAULTS}[kind]
        with com_errors("create a folder"):
            parent = (
                self._folder(parent_id) if parent_id is not None else self.om.default_folder(number)
            )
            obj = parent.Folders.Add(name, number)
            folder_id = str(obj.EntryID)
            self._folder_objs[folder_id] = obj
            self._store_ids[folder_id] = str(obj.StoreID)
        real_parent = parent_id if parent_id is not None else str(parent.EntryID)
        meta = Folder(id=folder_id, name=name, kind=kind, parent_id=real_parent)
        self._meta[folder_id] = meta
        self._watch(folder_id, obj)
        return meta

    def _rename_folder(self, folder_id: str, name: str) -> Folder:
        obj = self._folder(folder_id)
        meta = self._meta[folder_id]
        if meta.is_default:
            raise PermissionDeniedError(f"Outlook default folder {meta.name!r} keeps its name")
        with com_errors("rename a folder"):
            obj.Name = name
        meta = attrs.evolve(meta, name=name)
        self._meta[folder_id] = meta
        return meta

    def _delete_folder(self, folder_id: str) -> None:
        obj = self._folder(folder_id)
        if self._meta[folder_id].is_default:
            raise PermissionDeniedError("Outlook default folders cannot be deleted")
        with com_errors("delete a folder"):
            obj.Delete()
        for fid in [folder_id, *self._descendants(folder_id)]:
            self._folder_objs.pop(fid, None)
            self._meta.pop(fid, None)
            self._entries.pop(fid, None)
            self._snapshots.pop(fid, None)
            self._watches.pop(fid, None)

    def _descendants(self, folder_id: str) -> list[str]:
        out: list[str] = []
        for meta in self._meta.values():
            if meta.parent_id == folder_id or meta.parent_id in out:
                out.append(meta.id)
        return out

    # ------------------------------------------------------------------ listing

    def changes(self, folder_id: str, cursor: Cursor) -> Changes:
        """One Table pass; a delta against the cursor's snapshot, or a full listing."""
        entries = self._scan(folder_id)
        versions = {key: e.version for key, e in entries.items()}
        generation = next(self._generations)
        new_cursor = f"{self._token}:{generation}"
        snapshots = self._snapshots.setdefault(folder_id, [])
        base = snapshot_for(snapshots, self._token, cursor)
        snapshots.append(Snapshot(generation, versions))
        del snapshots[:-2]
        if base is None:
            refs = [ItemRef(key, version) for key, version in versions.items()]
            return Changes(refs, (), new_cursor, full=True)
        changed = [ItemRef(k, v) for k, v in versions.items() if base.versions.get(k) != v]
        deleted = [k for k in base.versions if k not in versions]
        deleted += [k for k in base.written if k not in versions]
        return Changes(changed, deleted, new_cursor, full=False)

    # ------------------------------------------------------------------ fetch

    def fetch(self, folder_id: str, ids: Sequence[str]) -> Mapping[str, Item | Failure]:
        """Open and convert the items ``ids`` (only those: never the whole folder)."""
        self._folder(folder_id)
        self._rescanned.clear()
        out: dict[str, Item | Failure] = {}
        for n, key in enumerate(ids):
            entry = self._locate(folder_id, key)
            if entry is None:
                out[key] = Failure(FailureKind.NOT_FOUND, f"no item {key!r} in this folder")
                continue
            try:
                try:
                    with com_errors("open an item"):
                        item = self._open(folder_id, entry.entry_id)
                except NotFoundError as exc:
                    # Gone only if the Table no longer lists it: a NOT_FOUND answer is
                    # taken for a deletion, and an item still there would never be
                    # fetched again (its version does not move).
                    if key in self._scan(folder_id):
                        raise TransientError(f"{exc} (yet still listed)") from exc
                    raise
                with item_errors("read an item"):
                    record, version = self._read(item, entry.kind, key)
                    del item
                out[key] = Item(key, version, record)
            except StoreError as exc:
                out[key] = Failure(failure_kind(exc), str(exc))
            except MappingError as exc:
                out[key] = Failure(FailureKind.INVALID, str(exc), tuple(e.path for e in exc.errors))
            if n % BREATHE_EVERY == 0:
                self.om.breathe()
        return out

    # ------------------------------------------------------------------ apply

    def _apply(self, folder_id: str, ops: Sequence[Op]) -> Sequence[OpResult]:
        folder = self._folder(folder_id)
        self._rescanned.clear()
        results: list[OpResult] = []
        for n, op in enumerate(ops):
            try:
                with com_errors("write an item"):
                    results.append(self._apply_one(folder_id, folder, op))
            except StoreError as exc:
                results.append(Failure(failure_kind(exc), str(exc)))
            except MappingError as exc:
                results.append(
                    Failure(FailureKind.INVALID, str(exc), tuple(e.path for e in exc.errors))
                )
            if n % BREATHE_EVERY == 0:
                self.om.breathe()
        return results

    def _apply_one(self, folder_id: str, folder: Any, op: Op) -> OpResult:
        if isinstance(op, Create | Update):
            # before anything is written (nothing is, of a refused record)
            reason = refusal(getattr(op.record, "recurrence", None), self.first_day_of_week)
            if reason is not None:
                return Failure(FailureKind.INVALID, reason, ("recurrence",))
        if isinstance(op, Create):
            kind = item_kind_of(op.record)
            meta = self._meta.get(folder_id)
            if meta is None or kind not in meta.kind.item_kinds or kind not in self._kinds:
                return Failure(FailureKind.INVALID, f"a {kind.value} cannot go in this folder")
            key = new_key()
            record = op.record if op.record.uid else attrs.evolve(op.record, uid=key)
            item = folder.Items.Add(ITEM_TYPE[kind])
            try:
                version = self._write(item, record, key, new=True)
            except BaseException:
                _discard_unfinished(item)
                raise
            self._remember(folder_id, key, item, kind, version)
            return Applied(key, version)
        entry = self._locate(folder_id, op.id)
        if entry is None:
            return Failure(FailureKind.NOT_FOUND, f"no item {op.id!r} in this folder")
        item = self._open(folder_id, entry.entry_id)
        with item_errors("write an item"):
            return self._change(folder_id, op, entry, item)

    def _change(
        self, folder_id: str, op: Update | Delete | Move, entry: Entry, item: Any
    ) -> OpResult:
        """Update, delete or move the opened ``item``."""
        current = version_of(item.LastModificationTime)
        if op.version is not None and op.version != current:
            return Failure(FailureKind.CONFLICT, f"item {op.id!r} changed in Outlook")
        if isinstance(op, Update):
            kind = item_kind_of(op.record)
            if kind is not entry.kind:
                return Failure(FailureKind.INVALID, "an update cannot change the item kind")
            record = op.record
            if not record.uid:
                users = item.UserProperties.Find(UID_PROPERTY)
                record = attrs.evolve(record, uid=str(users.Value) if users else op.id)
            version = self._write(item, record, op.id, new=False)
            self._remember(folder_id, op.id, item, kind, version)
            return Applied(op.id, version)
        if isinstance(op, Delete):
            item.Delete()  # to Deleted Items, as a user's delete
            self._entries.get(folder_id, {}).pop(op.id, None)
            return Applied(op.id, "")
        assert isinstance(op, Move)
        target = self._folder(op.to_folder)
        if self._meta[op.to_folder].kind is not self._meta[folder_id].kind:
            return Failure(FailureKind.INVALID, "cannot move between folders of other kinds")
        moved = item.Move(target)
        self._entries.get(folder_id, {}).pop(op.id, None)
        self._remember(op.to_folder, op.id, moved, entry.kind)
        return Applied(op.id, version_of(moved.LastModificationTime))

    # ------------------------------------------------------------------ misc

    def pump(self) -> None:
        """Let Outlook deliver pending item events (call it on the store's thread, e.g.
        while idle between syncs; events are only hints, see the module docstring)."""
        self.om.breathe()

    def calls(self) -> int | None:
        """Object-model calls made so far (fake backing only)."""
        return self.om.calls()

    def close(self) -> None:
        """Drop event subscriptions and cached COM objects."""
        self._watches.clear()
        self._folder_objs.clear()


_EXTRA_UNSUPPORTED = {
    # Outlook's DelegationState is read-only: assignment answers come from the assignee.
    ItemKind.TASK: frozenset({"delegation_state"}),
}


def _discard_unfinished(item: Any) -> None:
    """Delete an item whose create failed after it was saved (attachments and exceptions
    need a saved item): left in the folder with the record's uid, it would come back on
    the next sync as an item of its own, a duplicate of the record that failed. Deleted
    the way a user deletes (to Deleted Items); if Outlook refuses that too, the failure
    of the create stands and the item stays, logged."""
    try:
        if not item.EntryID:  # never saved: nothing in the folder
            return
        item.Delete()
    except Exception as exc:  # the create's own error is the one to report
        log.warning("could not remove a half-made Outlook item after a failed create: %s", exc)
