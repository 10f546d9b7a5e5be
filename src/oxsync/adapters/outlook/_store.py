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
import mimetypes
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from oxsync.adapters.outlook._boundary import ObjectModel, connect
from oxsync.adapters.outlook._errors import com_errors, failure_kind, is_com_error, translate
from oxsync.adapters.outlook._itemio import (
    ITEM_TYPE,
    MESSAGE_CLASS_KIND,
    read_item,
    set_user_properties,
    write_after_save,
    write_item,
)
from oxsync.adapters.outlook._time import WINDOWS_TO_IANA, from_com, version_of
from oxsync.core.records import (
    DelegationState,
    Folder,
    FolderKind,
    ItemKind,
    Record,
    item_kind_of,
)
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
)

__all__ = ["KEY_PROPERTY", "UID_PROPERTY", "OutlookStore"]

KEY_PROPERTY = "OxsyncKey"
"""User property holding the stable oxsync key (the store's item id)."""
UID_PROPERTY = "OxsyncUid"
"""User property holding the record's uid (shared with :mod:`oxsync.mappings.outlook`)."""
ENDS_PROPERTY = "OxsyncEnds"
"""User property of recurring items: ``"count"`` or ``"until"``, how the series ends."""
ZONE_PROPERTY = "OxsyncZone"
"""User property of events: ``"<IANA zone>|<Windows zone written>"``."""

PS_PUBLIC_STRINGS = "{00020329-0000-0000-C000-000000000046}"
_KEY_COLUMN = f"http://schemas.microsoft.com/mapi/string/{PS_PUBLIC_STRINGS}/{KEY_PROPERTY}"
_COLUMNS = ("EntryID", "MessageClass", "LastModificationTime", _KEY_COLUMN)
_COLOR = "http://schemas.microsoft.com/mapi/id/{00062002-0000-0000-C000-000000000046}/82140003"
_DEFAULTS = ((9, FolderKind.CALENDAR), (10, FolderKind.CONTACTS), (13, FolderKind.TASKS))
_FOLDER_KIND_OF_TYPE = {1: FolderKind.CALENDAR, 2: FolderKind.CONTACTS, 3: FolderKind.TASKS}
_IANA_TO_WINDOWS = {v: k for k, v in WINDOWS_TO_IANA.items()}
_BREATHE_EVERY = 50


@attrs.define
class _Entry:
    entry_id: str
    version: str
    kind: ItemKind
    created: Any


@attrs.define
class _Snapshot:
    generation: int
    versions: dict[str, str]


class OutlookStore(BaseStore):
    """The Outlook profile's default calendar, contacts and tasks folders and their subfolders.

    ``application``: a fake ``oxsync.testing.outlook.Application``, a pywin32 Outlook
    application, an :class:`~._boundary.ObjectModel`, or None to start Outlook through
    pywin32 (Windows only; elsewhere this raises
    :class:`~._boundary.OutlookUnavailableError`). ``list_separator``: the separator
    joining Categories (default: the Windows setting). ``on_change(folder_id)`` receives
    item-event hints.

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
    ) -> None:
        super().__init__(read_only=read_only, name=name)
        self.om: ObjectModel = connect(application)
        self.zone = self.om.zone
        self.list_separator = list_separator or self.om.list_separator
        self._on_change = on_change
        self._batch_size = batch_size
        self._kinds = kinds
        self._token = uuid.uuid4().hex[:12]
        self._generations = itertools.count(1)
        self._folder_objs: dict[str, Any] = {}
        self._store_ids: dict[str, str] = {}
        self._meta: dict[str, Folder] = {}
        self._entries: dict[str, dict[str, _Entry]] = {}
        self._snapshots: dict[str, list[_Snapshot]] = {}
        self._watches: dict[str, Any] = {}
        self._rescanned: set[str] = set()
        self._mapping = _load_mapping()
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
        base = _snapshot_for(snapshots, self._token, cursor)
        snapshots.append(_Snapshot(generation, versions))
        del snapshots[:-2]
        if base is None:
            refs = [ItemRef(key, version) for key, version in versions.items()]
            return Changes(refs, (), new_cursor, full=True)
        changed = [ItemRef(k, v) for k, v in versions.items() if base.versions.get(k) != v]
        deleted = [k for k in base.versions if k not in versions]
        return Changes(changed, deleted, new_cursor, full=False)

    def _scan(self, folder_id: str) -> dict[str, _Entry]:
        """Walk the folder's Table; give keys to new items and new keys to copies."""
        folder = self._folder(folder_id)
        found: dict[str, _Entry] = {}
        adopt: list[tuple[str, ItemKind]] = []
        copies: list[tuple[str, ItemKind]] = []
        kinds = self.capabilities.kinds
        for n, row in enumerate(self.om.rows(folder, _COLUMNS)):
            entry_id, message_class, modified, key = row
            kind = _kind_of(str(message_class or ""))
            if kind is None or kind not in kinds:
                continue
            entry = _Entry(str(entry_id), version_of(modified), kind, None)
            if not key:
                adopt.append((entry.entry_id, kind))
            elif key in found:
                first = found[key]
                if self._is_later(folder_id, entry, first):
                    copies.append((entry.entry_id, kind))
                else:
                    copies.append((first.entry_id, first.kind))
                    found[key] = entry
            else:
                found[str(key)] = entry
            if n % _BREATHE_EVERY == 0:
                self.om.breathe()
        copies += self._copies_from_other_folders(folder_id, found)
        for entry_id, kind in [*adopt, *copies]:
            key, entry = self._give_key(folder_id, entry_id, kind)
            found[key] = entry
        self._entries[folder_id] = found
        return found

    def _copies_from_other_folders(
        self, folder_id: str, found: dict[str, _Entry]
    ) -> list[tuple[str, ItemKind]]:
        """Keys also listed in another folder: a move if the other item is gone, else a copy."""
        copies = []
        for other_id, other in self._entries.items():
            if other_id == folder_id:
                continue
            for key in [k for k in found if k in other]:
                there = other[key]
                try:
                    self.om.item(there.entry_id, self._store_ids[other_id])
                except Exception as exc:
                    if not is_com_error(exc):
                        raise
                    error = translate(exc, "open an item")
                    if not isinstance(error, NotFoundError):
                        raise error from exc
                    del other[key]  # moved here: the old entry is gone
                    continue
                here = found[key]
                if self._is_later(folder_id, here, there, other_id):
                    copies.append((here.entry_id, here.kind))
                    del found[key]
                elif not self.capabilities.read_only:
                    # the copy is the one over there: it takes a new key (its folder's
                    # next listing shows the old key gone and the new one added)
                    del other[key]
                    new_key, entry = self._give_key(other_id, there.entry_id, there.kind)
                    other[new_key] = entry
        return copies

    def _is_later(self, folder_id: str, a: _Entry, b: _Entry, b_folder: str | None = None) -> bool:
        """Whether ``a`` was created after ``b`` (so ``a`` is the copy); EntryID breaks ties.

        Creation times are read only here, for the rare items sharing a key.
        """
        for entry, fid in ((a, folder_id), (b, b_folder or folder_id)):
            if entry.created is None:
                with com_errors("open an item"):
                    entry.created = from_com(self._open(fid, entry.entry_id).CreationTime)
        if a.created != b.created and a.created is not None and b.created is not None:
            return bool(a.created > b.created)
        return a.entry_id > b.entry_id

    def _give_key(self, folder_id: str, entry_id: str, kind: ItemKind) -> tuple[str, _Entry]:
        """Write a fresh key (and uid, unless the item has a global one) into an item."""
        if self.capabilities.read_only:
            key = f"entry:{entry_id}"
            item = self._open(folder_id, entry_id)
            return key, _Entry(
                entry_id, version_of(item.LastModificationTime), kind, from_com(item.CreationTime)
            )
        key = uuid.uuid4().hex
        with com_errors("mark an item"):
            item = self._open(folder_id, entry_id)
            uid = uuid.uuid4().hex
            if (
                kind is ItemKind.EVENT
                and item.GlobalAppointmentID
                and not item.UserProperties.Find(UID_PROPERTY)
            ):
                uid = str(item.GlobalAppointmentID)
            set_user_properties(item, {KEY_PROPERTY: key, UID_PROPERTY: uid})
            item.Save()
            entry = _Entry(
                str(item.EntryID),
                version_of(item.LastModificationTime),
                kind,
                from_com(item.CreationTime),
            )
            del item
        return key, entry

    def _open(self, folder_id: str, entry_id: str) -> Any:
        return self.om.item(entry_id, self._store_ids[folder_id])

    def _locate(self, folder_id: str, key: str) -> _Entry | None:
        """The item's entry; an unknown key costs one Table pass per store call at most."""
        entry = self._entries.get(folder_id, {}).get(key)
        if entry is None and folder_id not in self._rescanned:
            self._rescanned.add(folder_id)
            entry = self._scan(folder_id).get(key)
        return entry

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
                with com_errors("read an item"):
                    item = self._open(folder_id, entry.entry_id)
                    record, version = self._read(item, entry.kind, key)
                    del item
                out[key] = Item(key, version, record)
            except StoreError as exc:
                out[key] = Failure(failure_kind(exc), str(exc))
            except MappingError as exc:
                out[key] = Failure(FailureKind.INVALID, str(exc), tuple(e.path for e in exc.errors))
            if n % _BREATHE_EVERY == 0:
                self.om.breathe()
        return out

    def _read(self, item: Any, kind: ItemKind, key: str) -> tuple[Record, str]:
        props = read_item(item, kind)
        if kind is ItemKind.EVENT:
            props["_timezone"] = _zone_read(
                str(item.StartTimeZone.ID),
                str((props.get("_user_properties") or {}).get(ZONE_PROPERTY) or ""),
                bool(props.get("AllDayEvent")),
            )
            props["_appointment_color"] = _color(item)
        if props.get("_picture") is not None:
            props["_picture"] = (props["_picture"], _image_type(props["_picture"]))
        for att in props.get("_attachments", ()):
            att["ContentType"] = (
                mimetypes.guess_type(att["FileName"])[0] or "application/octet-stream"
            )
        users = props.get("_user_properties") or {}
        pattern = props.get("_recurrence")
        if pattern and users.get(ENDS_PROPERTY) == "count" and pattern.get("Occurrences"):
            # Outlook computes the end date of a counted series: drop it, keep the count
            props["_recurrence"] = dict(pattern, PatternEndDate=None)
        record = self._mapping.from_outlook(
            kind, props, tz=self.zone, list_separator=self.list_separator
        )
        uid = users.get(UID_PROPERTY) or (str(props.get("GlobalAppointmentID") or "") or key)
        if record.uid != uid:
            record = attrs.evolve(record, uid=uid)
        return record, version_of(item.LastModificationTime)

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
            if n % _BREATHE_EVERY == 0:
                self.om.breathe()
        return results

    def _apply_one(self, folder_id: str, folder: Any, op: Op) -> OpResult:
        if isinstance(op, Create):
            kind = item_kind_of(op.record)
            meta = self._meta.get(folder_id)
            if meta is None or kind not in meta.kind.item_kinds or kind not in self._kinds:
                return Failure(FailureKind.INVALID, f"a {kind.value} cannot go in this folder")
            key = uuid.uuid4().hex
            record = op.record if op.record.uid else attrs.evolve(op.record, uid=key)
            item = folder.Items.Add(ITEM_TYPE[kind])
            version = self._write(item, record, key, new=True)
            self._remember(folder_id, key, item, kind, version)
            return Applied(key, version)
        entry = self._locate(folder_id, op.id)
        if entry is None:
            return Failure(FailureKind.NOT_FOUND, f"no item {op.id!r} in this folder")
        item = self._open(folder_id, entry.entry_id)
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

    def _remember(
        self, folder_id: str, key: str, item: Any, kind: ItemKind, version: str | None = None
    ) -> None:
        if version is None:
            version = version_of(item.LastModificationTime)
        self._entries.setdefault(folder_id, {})[key] = _Entry(
            str(item.EntryID), version, kind, None
        )

    def _write(self, item: Any, record: Record, key: str, *, new: bool) -> str:
        kind = item_kind_of(record)
        props = self._mapping.to_outlook(record, tz=self.zone, list_separator=self.list_separator)
        zone = props.pop("_timezone", None)
        color = props.pop("_appointment_color", None)
        picture = props.get("_picture")
        if picture is not None:
            props["_picture"] = picture[0]
        users = dict(props.get("_user_properties") or {})
        users[KEY_PROPERTY] = key
        users[UID_PROPERTY] = record.uid
        props["_user_properties"] = users
        if kind is ItemKind.EVENT:
            windows = _IANA_TO_WINDOWS.get(zone or "")
            if windows is not None:
                tz_obj = self._time_zone(item, windows)
                item.StartTimeZone = tz_obj
                item.EndTimeZone = tz_obj
            else:
                windows = str(item.StartTimeZone.ID)
            # Several IANA zones share one Windows zone, and some have none: remember
            # which one was written, for as long as Outlook's zone stays the one we set.
            users[ZONE_PROPERTY] = f"{zone}|{windows}" if zone else ""
            if color or not new:
                accessor = item.PropertyAccessor
                accessor.SetProperty(_COLOR, int(color or 0))
                del accessor
        pattern = props.get("_recurrence") or {}
        if kind in (ItemKind.EVENT, ItemKind.TASK):
            # Outlook fills in both Occurrences and PatternEndDate of a bounded series;
            # remember which one the record gave.
            users[ENDS_PROPERTY] = (
                "count"
                if "Occurrences" in pattern
                else "until"
                if "PatternEndDate" in pattern
                else ""
            )
        if kind is ItemKind.TASK:
            props.pop("DelegationState", None)  # read-only in the OOM
            delegated = getattr(record, "delegation_state", DelegationState.NOT_DELEGATED)
            if delegated is not DelegationState.NOT_DELEGATED and int(item.Ownership) != 1:
                item.Assign()  # the only way the OOM makes a task delegated
        if (
            not new
            and "Body" in props
            and self._mapping.note_unchanged(item.Body, getattr(record, "note", None))
        ):
            del props["Body"]  # writing Body would discard the item's rich text (RTFBody)
        write_item(item, props, self.om.recipient, new=new)
        item.Save()
        write_after_save(item, props)
        return version_of(item.LastModificationTime)

    def _time_zone(self, item: Any, windows_id: str) -> Any:
        application = item.Application if hasattr(item, "Application") else None
        if application is None:
            application = getattr(self.om, "application", None)
        return application.TimeZones.Item(windows_id)  # type: ignore[union-attr]

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


def _snapshot_for(snapshots: list[_Snapshot], token: str, cursor: Cursor) -> _Snapshot | None:
    if not cursor:
        return None
    got_token, _, generation = cursor.partition(":")
    if got_token != token:
        return None
    for snapshot in snapshots:
        if str(snapshot.generation) == generation:
            return snapshot
    return None


_KIND_CACHE: dict[str, ItemKind | None] = {}


def _zone_read(windows: str, written: str, all_day: bool) -> str | None:
    """The event's IANA zone: the one written while Outlook's zone is still ours, else
    Outlook's own (all-day events have none unless one was written)."""
    zone, _, windows_written = written.partition("|")
    if zone and windows_written == windows:
        return zone
    if all_day:
        return None
    return WINDOWS_TO_IANA.get(windows)


def _kind_of(message_class: str) -> ItemKind | None:
    cached = _KIND_CACHE.get(message_class, False)
    if cached is not False:
        return cached  # type: ignore[return-value]
    found = None
    for prefix, kind in MESSAGE_CLASS_KIND.items():
        if message_class == prefix or message_class.startswith(prefix + "."):
            found = kind
    if len(_KIND_CACHE) < 1000:
        _KIND_CACHE[message_class] = found
    return found


def _color(item: Any) -> int | None:
    try:
        value = item.PropertyAccessor.GetProperty(_COLOR)
    except Exception as exc:
        if is_com_error(exc):
            return None
        raise
    return int(value) if value else None


_IMAGE_MAGIC = (
    (b"\x89PNG", "image/png"),
    (b"GIF8", "image/gif"),
    (b"\xff\xd8", "image/jpeg"),
    (b"BM", "image/bmp"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)


def _image_type(data: bytes) -> str:
    """Content type of a picture from its first bytes (Outlook keeps no type; JPEG if unsure)."""
    for magic, content_type in _IMAGE_MAGIC:
        if data.startswith(magic):
            return content_type
    return "image/jpeg"


@attrs.frozen
class _Mapping:
    to_outlook: Callable[..., dict[str, Any]]
    from_outlook: Callable[..., Record]
    unsupported: Mapping[ItemKind, frozenset[str]]
    kinds: frozenset[ItemKind]
    note_unchanged: Callable[[str | None, str | None], bool]


def _load_mapping() -> _Mapping:
    from oxsync.mappings import outlook as m

    return _Mapping(
        m.to_outlook, m.from_outlook, m.OUTLOOK_UNSUPPORTED, frozenset(ItemKind), m.note_unchanged
    )
