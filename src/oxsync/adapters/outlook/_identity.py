"""Item identity in Outlook: the oxsync key, Table listings, moves and copies.

The store's item id is the **oxsync key** kept in the user property ``OxsyncKey``
(EntryID changes on moves and re-imports; the key does not). :class:`ItemIndex` is the
part of :class:`~oxsync.adapters.outlook.OutlookStore` that lists folders through their
``Table`` (four columns, nothing opened), gives keys to items that have none, tells
moves (the key's old item is gone) from copies (it is not: the later one is re-keyed),
and finds an item's EntryID from its key.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import attrs

from oxsync.adapters.outlook._boundary import ObjectModel
from oxsync.adapters.outlook._errors import com_errors, is_com_error, translate
from oxsync.adapters.outlook._itemio import MESSAGE_CLASS_KIND, set_user_properties
from oxsync.adapters.outlook._time import from_com, version_of
from oxsync.core.records import Folder, ItemKind
from oxsync.core.store import Capabilities, Cursor
from oxsync.errors import NotFoundError

__all__ = [
    "BREATHE_EVERY",
    "ENDS_PROPERTY",
    "KEY_PROPERTY",
    "STAMP_PROPERTY",
    "UID_PROPERTY",
    "ZONE_PROPERTY",
    "Entry",
    "ItemIndex",
    "Snapshot",
    "new_key",
    "snapshot_for",
    "uid_of_global_id",
]

KEY_PROPERTY = "OxsyncKey"
"""User property holding the stable oxsync key (the store's item id)."""
UID_PROPERTY = "OxsyncUid"
"""User property holding the record's uid (shared with :mod:`oxsync.mappings.outlook`)."""
ENDS_PROPERTY = "OxsyncEnds"
"""User property of recurring items: ``"count"`` or ``"until"``, how the series ends."""
ZONE_PROPERTY = "OxsyncZone"
"""User property of events: ``"<IANA zone>|<Windows zone written>"``."""
STAMP_PROPERTY = "OxsyncStamped"
"""User property of tasks: the completion date (ISO) the store wrote for a completed
record that had none, as Outlook would have stamped it; read back as no date."""

PS_PUBLIC_STRINGS = "{00020329-0000-0000-C000-000000000046}"
_KEY_COLUMN = f"http://schemas.microsoft.com/mapi/string/{PS_PUBLIC_STRINGS}/{KEY_PROPERTY}"
_COLUMNS = ("EntryID", "MessageClass", "LastModificationTime", _KEY_COLUMN)
BREATHE_EVERY = 50
"""Items handled between two pumps of Outlook's message queue."""


@attrs.define
class Entry:
    """Where an item is (EntryID), its version and kind; creation time read on demand."""

    entry_id: str
    version: str
    kind: ItemKind
    created: Any


@attrs.define
class Snapshot:
    """A folder listing (key -> version) that a cursor names.

    ``written``: keys this store put in the folder after the listing (created or moved
    in): absent from ``versions``, yet a delta against the listing must report them
    deleted once they are gone, or a user's delete (or move out) of an item the last
    sync wrote would never reach the other side.
    """

    generation: int
    versions: dict[str, str]
    written: set[str] = attrs.Factory(set)


class ItemIndex:
    """Listing and identity (mixed into OutlookStore; see the module docstring)."""

    om: ObjectModel
    _entries: dict[str, dict[str, Entry]]
    _store_ids: dict[str, str]
    _rescanned: set[str]
    _snapshots: dict[str, list[Snapshot]]
    capabilities: Capabilities
    _folder: Callable[[str], Any]
    _global_uids: set[str]
    _meta: dict[str, Folder]

    def _scan(self, folder_id: str) -> dict[str, Entry]:
        """Walk the folder's Table; give keys to new items and new keys to copies."""
        folder = self._folder(folder_id)
        found: dict[str, Entry] = {}
        adopt: list[tuple[str, ItemKind]] = []
        copies: list[tuple[str, ItemKind]] = []
        kinds = self.capabilities.kinds
        meta = self._meta.get(folder_id)
        if meta is not None:
            # Move to Folder keeps an item's class (a task moved into Contacts stays a
            # task): only the folder's own kinds are its items
            kinds = kinds & meta.kind.item_kinds
        for n, row in enumerate(self.om.rows(folder, _COLUMNS)):
            entry_id, message_class, modified, key = row
            kind = _kind_of(str(message_class or ""))
            if kind is None or kind not in kinds:
                continue
            entry = Entry(str(entry_id), version_of(modified), kind, None)
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
            if n % BREATHE_EVERY == 0:
                self.om.breathe()
        copies += self._copies_from_other_folders(folder_id, found)
        for entry_id, kind in [*adopt, *copies]:
            key, entry = self._give_key(folder_id, entry_id, kind)
            found[key] = entry
        self._entries[folder_id] = found
        return found

    def _copies_from_other_folders(
        self, folder_id: str, found: dict[str, Entry]
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

    def _is_later(self, folder_id: str, a: Entry, b: Entry, b_folder: str | None = None) -> bool:
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

    def _give_key(self, folder_id: str, entry_id: str, kind: ItemKind) -> tuple[str, Entry]:
        """Write a fresh key (and uid, unless the item has a global one) into an item."""
        if self.capabilities.read_only:
            key = f"entry:{entry_id}"
            item = self._open(folder_id, entry_id)
            return key, Entry(
                entry_id, version_of(item.LastModificationTime), kind, from_com(item.CreationTime)
            )
        key = new_key()
        with com_errors("mark an item"):
            item = self._open(folder_id, entry_id)
            uid = new_key()
            if (
                kind is ItemKind.EVENT
                and item.GlobalAppointmentID
                and not item.UserProperties.Find(UID_PROPERTY)
            ):
                # Outlook copies GlobalAppointmentID with an item: of items not keyed
                # yet that share one, only the first takes it as its uid
                global_uid = uid_of_global_id(str(item.GlobalAppointmentID))
                if global_uid not in self._global_uids:
                    self._global_uids.add(global_uid)
                    uid = global_uid
            set_user_properties(item, {KEY_PROPERTY: key, UID_PROPERTY: uid})
            item.Save()
            entry = Entry(
                str(item.EntryID),
                version_of(item.LastModificationTime),
                kind,
                from_com(item.CreationTime),
            )
            del item
        return key, entry

    def _open(self, folder_id: str, entry_id: str) -> Any:
        return self.om.item(entry_id, self._store_ids[folder_id])

    def _locate(self, folder_id: str, key: str) -> Entry | None:
        """The item's entry; an unknown key costs one Table pass per store call at most."""
        entry = self._entries.get(folder_id, {}).get(key)
        if entry is None and folder_id not in self._rescanned:
            self._rescanned.add(folder_id)
            entry = self._scan(folder_id).get(key)
        return entry

    def _remember(
        self, folder_id: str, key: str, item: Any, kind: ItemKind, version: str | None = None
    ) -> None:
        if version is None:
            version = version_of(item.LastModificationTime)
        self._entries.setdefault(folder_id, {})[key] = Entry(str(item.EntryID), version, kind, None)
        for snapshot in self._snapshots.get(folder_id, ()):
            if key not in snapshot.versions:
                snapshot.written.add(key)


def new_key() -> str:
    """A random UUID (version 4, RFC 9562) as 32 hex digits: the same as
    ``uuid.uuid4().hex`` without building a ``UUID`` object (1 µs instead of 4, once per
    created item)."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # the RFC's variant
    return raw.hex()


_VCAL_UID = b"vCal-Uid\x01\x00\x00\x00"


def uid_of_global_id(global_id: str) -> str:
    """The iCalendar UID of a ``GlobalAppointmentID`` (MS-OXCICAL, PidLidGlobalObjectId).

    An item Outlook made from an iCalendar invitation (an OX meeting accepted from the
    inbox) embeds the invitation's UID after ``vCal-Uid``: that text is the UID, so the
    item pairs with the organizer's event by uid. Otherwise the UID is the id's hex with
    the instance date (bytes 16-19) zeroed. Anything else is returned unchanged.
    """
    try:
        blob = bytes.fromhex(global_id)
    except ValueError:
        return global_id
    if len(blob) < 40:
        return global_id
    size = int.from_bytes(blob[36:40], "little")
    data = blob[40 : 40 + size]
    if data.startswith(_VCAL_UID):
        text = data[len(_VCAL_UID) :].split(b"\0", 1)[0]
        try:
            return text.decode("utf-8") or global_id
        except UnicodeDecodeError:
            return global_id
    return (blob[:16] + bytes(4) + blob[20:]).hex().upper()


def snapshot_for(snapshots: list[Snapshot], token: str, cursor: Cursor) -> Snapshot | None:
    """The snapshot ``cursor`` names, if this store (``token``) still keeps it."""
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
