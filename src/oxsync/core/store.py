"""The store protocol: what the engine needs from any source of items.

Terms (one definition each, used across oxsync):

- **folder id**: the store's own string id of a folder.
- **item id**: the store's own string id of an item, unique within the store.
- **version**: an opaque string that changes whenever the store's copy of an item
  changes (an ETag, OX ``last_modified``, Outlook ``LastModificationTime``). A version
  may also move without a real change (a dismissed reminder); the engine then compares
  fingerprints and does nothing.
- **cursor**: an opaque string a store hands out with a listing; passing it back to
  :meth:`Store.changes` asks "what changed since then". ``None`` asks for everything.
- **full listing**: an answer to :meth:`Store.changes` that lists every item of the folder
  (``Changes.full``); anything not listed is gone. Stores without deltas always answer so.

Every method may raise :class:`~oxsync.errors.TransientError` (retry the whole call later)
or a :class:`~oxsync.errors.LastingError` (the folder cannot be synced now).
:meth:`Store.apply` reports item-level failures as :class:`Failure` results instead of
raising, so one bad item never blocks the others.

Writing adapters: subclass :class:`BaseStore` and implement the ``_``-prefixed methods;
read-only mode is enforced here, once, for every adapter.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Mapping, Sequence
from typing import NamedTuple, Protocol, TypeAlias, runtime_checkable

from attrs import field, frozen

from oxsync.core.records import (
    Contact,
    DistributionList,
    Event,
    Folder,
    FolderKind,
    ItemKind,
    Permission,
    Record,
    Task,
)
from oxsync.errors import ReadOnlyStoreError

__all__ = [
    "Applied",
    "BaseStore",
    "Capabilities",
    "Changes",
    "Create",
    "Cursor",
    "Delete",
    "Failure",
    "FailureKind",
    "Item",
    "ItemRef",
    "Move",
    "Native",
    "Op",
    "OpResult",
    "Store",
    "Update",
]

Cursor: TypeAlias = str | None


class ItemRef(NamedTuple):
    """An item as a listing names it: its id and current version.

    A named tuple rather than an attrs class: listings build 10,000s of them.
    """

    id: str
    version: str


@frozen
class Changes:
    """Answer of :meth:`Store.changes`.

    ``changed``: items new or modified since the cursor (every item when ``full``).
    ``deleted``: ids removed since the cursor (always empty when ``full``: absence says it).
    ``cursor``: pass it to the next call to get what changed after this answer.
    """

    changed: Sequence[ItemRef]
    deleted: Sequence[str] = ()
    cursor: Cursor = None
    full: bool = False


@frozen
class Native:
    """An item's bytes exactly as its store holds them, and their format.

    ``media_type`` names the format precisely enough that two stores agreeing on it
    write the same bytes interchangeably (``text/vcard;version=3.0``, ``text/calendar``).
    """

    media_type: str
    data: bytes = field(repr=lambda data: f"<{len(data)} bytes>")


@frozen
class Item:
    """A fetched item.

    ``native`` (optional) is what the store read, when it reads a file format: the engine
    hands it on with a :class:`Create` / :class:`Update` of exactly this record, so a
    store of the same format may write those bytes as they are (a vdir to vdir copy keeps
    every property, unknown ones included, and skips a serialisation).
    """

    id: str
    version: str
    record: Record
    native: Native | None = None


class FailureKind(enum.Enum):
    """Why a store refused one item."""

    CONFLICT = "conflict"  # the expected version is stale
    NOT_FOUND = "not_found"  # no such item (any more)
    PERMISSION = "permission"  # no right to do it
    INVALID = "invalid"  # the store refuses the data
    TRANSIENT = "transient"  # try again later

    @property
    def lasting(self) -> bool:
        """Whether retrying the same op later is pointless until something changes."""
        return self in (FailureKind.PERMISSION, FailureKind.INVALID)


@frozen
class Failure:
    """An item-level failure, with the store's own explanation (never a secret)."""

    kind: FailureKind
    message: str = ""
    fields: tuple[str, ...] = ()


@frozen
class Create:
    """Create ``record`` in the folder. The store must keep ``record.uid``.

    ``native``, when set, is the source item's own bytes for this very record (see
    :class:`Item`); a store may write them instead of serialising ``record`` if it
    stores ``native.media_type``, and must ignore them otherwise. That the bytes encode
    ``record`` is the caller's promise (the engine attaches them only to the very record
    object they were read as); stores do not parse them again to check.
    """

    record: Record
    native: Native | None = None


@frozen
class Update:
    """Replace the item ``id`` with ``record``, if its version is still ``version``.

    ``version=None`` skips the check (last writer wins).
    """

    id: str
    record: Record
    version: str | None = None
    native: Native | None = None  # as for Create


@frozen
class Delete:
    """Delete the item ``id`` if its version is still ``version`` (``None``: any)."""

    id: str
    version: str | None = None


@frozen
class Move:
    """Move the item ``id`` to folder ``to_folder`` of the same store."""

    id: str
    to_folder: str
    version: str | None = None


Op: TypeAlias = Create | Update | Delete | Move


@frozen
class Applied:
    """The op succeeded; ``id`` and ``version`` are the item's new ones (deletes: ``""``)."""

    id: str
    version: str


OpResult: TypeAlias = Applied | Failure


@frozen(kw_only=True)
class Capabilities:
    """What a store can do. The engine and the conformance suite read only these.

    ``unsupported_fields`` names, per item kind, the record fields the store cannot keep;
    the engine keeps those from the last synced copy so a round trip through this store
    never erases them on the other side.

    ``native_media_types`` are the formats whose bytes (``Create/Update.native``) the
    store may write as they are; the engine keeps a fetched item's :class:`Native` only
    when the other store lists its media type, so bytes nobody can use are not held in
    memory for the rest of the folder's sync.
    """

    kinds: frozenset[ItemKind] = frozenset(ItemKind)
    delta: bool = True
    batch_size: int = 100
    read_only: bool = False
    moves: bool = True
    folder_ops: bool = True
    permissions: bool = False
    recurrence: bool = True
    push: bool = False
    unsupported_fields: Mapping[ItemKind, frozenset[str]] = field(factory=dict)
    native_media_types: frozenset[str] = frozenset()

    def can_hold(self, kind: ItemKind, field_name: str) -> bool:
        """Whether this store keeps field ``field_name`` of items of ``kind``."""
        return field_name not in self.unsupported_fields.get(kind, frozenset())


@runtime_checkable
class Store(Protocol):
    """What the engine requires of a store. Implement it by subclassing :class:`BaseStore`."""

    name: str

    @property
    def capabilities(self) -> Capabilities:
        """The store's :class:`Capabilities`."""
        ...

    def folders(self) -> Sequence[Folder]:
        """All folders the store offers, parents before children."""
        ...

    def changes(self, folder_id: str, cursor: Cursor) -> Changes:
        """What changed in ``folder_id`` since ``cursor`` (everything for ``None``)."""
        ...

    def fetch(self, folder_id: str, ids: Sequence[str]) -> Mapping[str, Item | Failure]:
        """Records for ``ids``; an id that is gone maps to ``Failure(NOT_FOUND)``."""
        ...

    def apply(self, folder_id: str, ops: Sequence[Op]) -> Sequence[OpResult]:
        """Apply ``ops`` in order; one result per op, in the same order."""
        ...

    def create_folder(self, name: str, kind: FolderKind, parent_id: str | None = None) -> Folder:
        """Create a folder and return it."""
        ...

    def rename_folder(self, folder_id: str, name: str) -> Folder:
        """Rename a folder and return it."""
        ...

    def delete_folder(self, folder_id: str) -> None:
        """Delete a folder and everything in it (default folders refuse)."""
        ...

    def set_permissions(self, folder_id: str, permissions: Sequence[Permission]) -> Folder:
        """Replace a folder's permissions (stores with ``capabilities.permissions``)."""
        ...

    def close(self) -> None:
        """Release connections and handles."""
        ...


class BaseStore(abc.ABC):
    """Base class for adapters: implements the write entry points once, read-only included.

    Subclasses implement ``folders``, ``changes``, ``fetch``, the ``_apply`` /
    ``_create_folder`` / ``_rename_folder`` / ``_delete_folder`` / ``_set_permissions``
    writers and the ``_capabilities`` property. ``read_only=True`` makes every writer raise
    :class:`~oxsync.errors.ReadOnlyStoreError` before the adapter is reached.
    """

    name: str = "store"

    def __init__(self, *, read_only: bool = False, name: str | None = None) -> None:
        self._read_only = read_only
        if name is not None:
            self.name = name

    # -- capabilities -------------------------------------------------------------

    @property
    def capabilities(self) -> Capabilities:
        """Adapter capabilities, with ``read_only`` forced on when opened read-only."""
        caps = self._capabilities()
        if self._read_only and not caps.read_only:
            from attrs import evolve

            caps = evolve(caps, read_only=True)
        return caps

    @abc.abstractmethod
    def _capabilities(self) -> Capabilities: ...

    # -- reading ------------------------------------------------------------------

    @abc.abstractmethod
    def folders(self) -> Sequence[Folder]: ...

    @abc.abstractmethod
    def changes(self, folder_id: str, cursor: Cursor) -> Changes: ...

    @abc.abstractmethod
    def fetch(self, folder_id: str, ids: Sequence[str]) -> Mapping[str, Item | Failure]: ...

    # -- writing (read-only enforced here) ------------------------------------------

    def _check_writable(self, what: str) -> None:
        if self.capabilities.read_only:
            raise ReadOnlyStoreError(f"store {self.name!r} is read-only: cannot {what}")

    def apply(self, folder_id: str, ops: Sequence[Op]) -> Sequence[OpResult]:
        """Apply ``ops``; see :meth:`Store.apply`."""
        if not ops:
            return []
        self._check_writable("apply changes")
        _check_ops(ops)
        results = self._apply(folder_id, ops)
        if len(results) != len(ops):
            raise AssertionError(
                f"store {self.name!r} returned {len(results)} results for {len(ops)} ops"
            )
        return results

    def create_folder(self, name: str, kind: FolderKind, parent_id: str | None = None) -> Folder:
        """Create a folder; see :meth:`Store.create_folder`."""
        self._check_writable("create a folder")
        return self._create_folder(name, kind, parent_id)

    def rename_folder(self, folder_id: str, name: str) -> Folder:
        """Rename a folder; see :meth:`Store.rename_folder`."""
        self._check_writable("rename a folder")
        return self._rename_folder(folder_id, name)

    def delete_folder(self, folder_id: str) -> None:
        """Delete a folder; see :meth:`Store.delete_folder`."""
        self._check_writable("delete a folder")
        self._delete_folder(folder_id)

    def set_permissions(self, folder_id: str, permissions: Sequence[Permission]) -> Folder:
        """Set folder permissions; see :meth:`Store.set_permissions`."""
        self._check_writable("change permissions")
        return self._set_permissions(folder_id, permissions)

    @abc.abstractmethod
    def _apply(self, folder_id: str, ops: Sequence[Op]) -> Sequence[OpResult]: ...

    @abc.abstractmethod
    def _create_folder(self, name: str, kind: FolderKind, parent_id: str | None) -> Folder: ...

    @abc.abstractmethod
    def _rename_folder(self, folder_id: str, name: str) -> Folder: ...

    @abc.abstractmethod
    def _delete_folder(self, folder_id: str) -> None: ...

    def _set_permissions(self, folder_id: str, permissions: Sequence[Permission]) -> Folder:
        from oxsync.errors import PermissionDeniedError

        raise PermissionDeniedError(f"store {self.name!r} has no folder permissions")

    def close(self) -> None:  # noqa: B027 - optional hook, empty on purpose
        """Release resources (nothing by default)."""

    def __enter__(self) -> BaseStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_RECORDS = (Contact, DistributionList, Event, Task)


def _check_ops(ops: Sequence[Op]) -> None:
    """Refuse ops of the wrong shape before an adapter sees them: a ``TypeError`` naming
    the op and the field (say ``Update(id, version, record)``, arguments swapped), instead
    of an ``AttributeError`` from deep in an adapter after part of a batch was written."""
    for index, op in enumerate(ops):
        kind = type(op)
        if kind is Create or kind is Update:
            if not isinstance(op.record, _RECORDS):  # type: ignore[union-attr]
                got = type(op.record).__name__  # type: ignore[union-attr]
                raise TypeError(f"op {index} ({kind.__name__}): record must be a record, not {got}")
        elif kind is not Delete and kind is not Move:
            raise TypeError(
                f"op {index}: expected Create, Update, Delete or Move, not {kind.__name__}"
            )
        if kind is not Create:
            _check_text(index, op, "id", getattr(op, "id", None), optional=False)
            _check_text(index, op, "version", getattr(op, "version", None), optional=True)
        if kind is Move:
            _check_text(index, op, "to_folder", getattr(op, "to_folder", None), optional=False)


def _check_text(index: int, op: object, name: str, value: object, *, optional: bool) -> None:
    if isinstance(value, str) or (optional and value is None):
        return
    raise TypeError(
        f"op {index} ({type(op).__name__}): {name} must be a str"
        f"{' or None' if optional else ''}, not {type(value).__name__}"
    )
