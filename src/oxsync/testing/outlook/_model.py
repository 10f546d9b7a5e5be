"""Application, NameSpace, folders, ``Items``, ``Table`` and item events of the fake.

One profile with one store ("Outlook Data File") holding the default folders. Folders
keep each item's saved state; ``Items`` and ``Table`` read those states. Events follow
reference §7: ``ItemAdd(item)``, ``ItemChange(item)``, ``ItemRemove()`` with no item; they
reach handlers registered with :func:`DispatchWithEvents` only while the returned object
is alive (a weak reference, as with COM: drop it and events stop); inside
``Application.bulk()`` (a user acting on many selected items at once) removals are
dropped when ``item_remove_limit`` (16) or more items go, and additions when more than
``item_add_limit`` (16) arrive; removing a folder's last item fires no ``ItemRemove``.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import uuid
import weakref
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from oxsync.testing.outlook._base import (
    _NS_PROPTAG,
    OomObject,
    Recipient,
    new_recipient_record,
    user_property_name,
)
from oxsync.testing.outlook._calendar import WINDOWS_ZONES, AppointmentItem, TimeZones
from oxsync.testing.outlook._com import (
    E_FAIL,
    E_INVALIDARG,
    MAPI_E_NOT_FOUND,
    Clock,
    com_error,
    labelled_utc,
)
from oxsync.testing.outlook._items import ContactItem, DistListItem, OutlookItem, TaskItem
from oxsync.testing.outlook._jet import Predicate, compile_filter
from oxsync.testing.outlook.constants import constants

__all__ = ["Application", "DispatchWithEvents", "Folder", "Items", "NameSpace", "Table"]

_ITEM_CLASSES: dict[str, type[OutlookItem]] = {
    c.__name__: c for c in (ContactItem, DistListItem, AppointmentItem, TaskItem)
}
_CLASS_FOR_TYPE: dict[int, type[OutlookItem]] = {
    c.ITEM_TYPE: c for c in (ContactItem, DistListItem, AppointmentItem, TaskItem)
}
_FOLDER_ITEM_TYPE = {
    constants.olFolderCalendar: constants.olAppointmentItem,
    constants.olFolderContacts: constants.olContactItem,
    constants.olFolderTasks: constants.olTaskItem,
}
_DEFAULT_NAMES = {
    constants.olFolderDeletedItems: "Deleted Items",
    constants.olFolderInbox: "Inbox",
    constants.olFolderCalendar: "Calendar",
    constants.olFolderContacts: "Contacts",
    constants.olFolderTasks: "Tasks",
}
_MESSAGE_CLASS = {
    constants.olAppointmentItem: "IPM.Appointment",
    constants.olContactItem: "IPM.Contact",
    constants.olTaskItem: "IPM.Task",
    constants.olMailItem: "IPM.Note",
}
_ALL_PROPS = set().union(*(c._PROPS for c in _ITEM_CLASSES.values())) | {
    "LastModificationTime",
    "CreationTime",
    "IsRecurring",
    "FullName",
    "Duration",
    "StartUTC",
    "EndUTC",
    "HasPicture",
    "DLName",
    "RequiredAttendees",
    "OptionalAttendees",
    "Organizer",
}
_NOT_IN_TABLE = frozenset(
    {
        "BodyFormat",
        "Class",
        "DLName",
        "MemberCount",
        "RecurrenceState",
        "ResponseState",
        "Saved",
        "Sent",
        "TaskSubject",
        "HTMLBody",
        "RTFBody",
    }
)
_NO_SORT = frozenset(
    {
        "Categories",
        "Children",
        "Class",
        "DLName",
        "MemberCount",
        "RecurrenceState",
        "ResponseState",
        "Saved",
        "Sent",
        "NetMeetingAlias",
    }
)
_DEFAULT_COLUMNS = ["EntryID", "Subject", "CreationTime", "LastModificationTime", "MessageClass"]
_KIND_COLUMNS = {
    constants.olAppointmentItem: ["Start", "End", "IsRecurring"],
    constants.olContactItem: ["FirstName", "LastName", "CompanyName"],
    constants.olTaskItem: ["DueDate", "PercentComplete", "IsRecurring"],
}


class Application(OomObject):
    """``Outlook.Application`` over an in-memory profile.

    ``tz``: IANA zone of the simulated Windows machine (local time); ``windows_zone``:
    its Windows id (derived from ``tz`` when known); ``list_separator``: the Windows list
    separator (Categories); ``date_format``: the short date/time format Jet filters parse;
    ``clock``: the :class:`Clock` that stamps saves. ``calls`` counts object-model calls.
    """

    def __init__(
        self,
        *,
        tz: str = "Europe/Paris",
        windows_zone: str | None = None,
        list_separator: str = ";",
        date_format: str = "%m/%d/%Y %I:%M %p",
        clock: Clock | None = None,
        user_name: str = "Fake User",
    ) -> None:
        object.__setattr__(self, "_app", self)
        object.__setattr__(self, "_p", {"Name": "Outlook", "Version": "16.0.0.0"})
        self.tz = ZoneInfo(tz)
        reverse = {v: k for k, v in WINDOWS_ZONES.items()}
        self._windows_zone = windows_zone or reverse.get(tz, "UTC")
        self.list_separator = list_separator
        self.date_format = date_format
        self.clock = clock or Clock()
        self.calls = 0
        self.item_add_limit = 16
        self.item_remove_limit = 16
        self.event_errors: list[BaseException] = []
        self._ids = itertools.count(1)
        self._bulk: list[tuple[Folder, str, str | None]] | None = None
        self.store_id = "0000000038A1BB1005E5101AA1BB08002B2A56C20000" + uuid.uuid4().hex.upper()
        self._namespace = NameSpace(self, user_name)

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)

    # ------------------------------------------------------------------ OOM surface

    @property
    def Session(self) -> NameSpace:
        """The MAPI namespace."""
        return self._namespace

    def GetNamespace(self, Type: str) -> NameSpace:
        """``GetNamespace("MAPI")``."""
        self._touch()
        if Type.upper() != "MAPI":
            raise com_error(E_INVALIDARG, f"unknown namespace {Type!r}")
        return self._namespace

    def CreateItem(self, ItemType: int) -> OutlookItem:
        """A new unsaved item of ``ItemType``, saved into that type's default folder."""
        self._touch()
        cls = _CLASS_FOR_TYPE.get(ItemType)
        if cls is None:
            raise com_error(E_INVALIDARG, f"item type {ItemType} is not supported by the fake")
        return cls(self, None)

    @property
    def TimeZones(self) -> TimeZones:
        """Windows time zones."""
        return TimeZones(self)

    @property
    def Reminders(self) -> list[Reminder]:
        """Active reminders of appointments and tasks (a list here)."""
        out = []
        for folder in self._namespace._all_folders():
            for entry_id, state in folder._items.items():
                if state["props"].get("ReminderSet"):
                    out.append(Reminder(self, folder, entry_id))
        return out

    # ------------------------------------------------------------------ harness

    @contextlib.contextmanager
    def bulk(self) -> Iterator[None]:
        """Act like a user working on many selected items at once (events may be dropped)."""
        outer = self._bulk is None
        if outer:
            self._bulk = []
        try:
            yield
        finally:
            if outer:
                pending, self._bulk = self._bulk or [], None
                self._flush(pending)

    def _flush(self, pending: list[tuple[Folder, str, str | None]]) -> None:
        counts: dict[tuple[int, str], int] = {}
        for folder, event, _ in pending:
            counts[(id(folder), event)] = counts.get((id(folder), event), 0) + 1
        for folder, event, entry_id in pending:
            n = counts[(id(folder), event)]
            if event == "ItemRemove" and n >= self.item_remove_limit:
                continue
            if event == "ItemAdd" and n > self.item_add_limit:
                continue
            folder._deliver(event, entry_id)

    def _to_local(self, utc: datetime) -> datetime:
        if utc.tzinfo is None:
            utc = utc.replace(tzinfo=UTC)
        return utc.astimezone(self.tz).replace(tzinfo=None)

    def _to_utc(self, local: datetime) -> datetime:
        return local.replace(tzinfo=self.tz).astimezone(UTC)

    def _new_entry_id(self) -> str:
        return "00000000" + self.store_id[-32:] + f"0700{next(self._ids):020X}"


class Reminder(OomObject):
    """A reminder: ``Dismiss()`` rewrites the item's bookkeeping only (reference §6)."""

    def __init__(self, app: Application, folder: Folder, entry_id: str) -> None:
        super().__init__(app)
        self._folder = folder
        self._entry_id = entry_id

    @property
    def Item(self) -> OutlookItem:
        """The item the reminder belongs to."""
        return self._folder._open(self._entry_id)

    def Dismiss(self) -> None:
        """Dismiss: sets the reminder signal time, which moves LastModificationTime."""
        self._touch()
        item = self._folder._open(self._entry_id)
        item._signal = self._app.clock.stamp()
        item._lmt_utc = item._signal
        self._folder._store(item, is_new=False)


class NameSpace(OomObject):
    """The MAPI namespace: default folders, folder tree, ids, recipients."""

    def __init__(self, app: Application, user_name: str) -> None:
        super().__init__(app)
        self._user_name = user_name
        self._root = Folder(app, "Outlook Data File", constants.olMailItem, None)
        self._defaults: dict[int, Folder] = {}
        for number, name in _DEFAULT_NAMES.items():
            kind = _FOLDER_ITEM_TYPE.get(number, constants.olMailItem)
            folder = Folder(app, name, kind, self._root, default=number)
            self._root._children.append(folder)
            self._defaults[number] = folder

    @property
    def Folders(self) -> Folders:
        """The stores (top-level folders) of the profile."""
        holder = Folder(self._app, "", constants.olMailItem, None)
        holder._children = [self._root]
        return Folders(holder)

    @property
    def CurrentUser(self) -> Recipient:
        """The profile's user."""
        record = new_recipient_record(self._user_name)
        record.update(Address="fake.user@example.org", Resolved=True)
        return Recipient(self._app, record)

    def GetDefaultFolder(self, FolderType: int) -> Folder:
        """Default folder of type ``FolderType`` (OlDefaultFolders)."""
        self._touch()
        try:
            return self._defaults[FolderType]
        except KeyError:
            raise com_error(MAPI_E_NOT_FOUND, f"no default folder {FolderType}") from None

    def _default_for_type(self, item_type: int) -> Folder:
        for number, kind in _FOLDER_ITEM_TYPE.items():
            if kind == item_type or (
                item_type == constants.olDistributionListItem and kind == constants.olContactItem
            ):
                return self._defaults[number]
        raise com_error(E_INVALIDARG, f"no default folder for item type {item_type}")

    def _all_folders(self) -> Iterator[Folder]:
        stack = [self._root]
        while stack:
            folder = stack.pop()
            yield folder
            stack.extend(reversed(folder._children))

    def GetItemFromID(self, EntryIDItem: str, EntryIDStore: str | None = None) -> OutlookItem:
        """Open the item with that EntryID."""
        self._touch()
        if EntryIDStore is not None and EntryIDStore != self._app.store_id:
            raise com_error(MAPI_E_NOT_FOUND, "The store could not be found.")
        for folder in self._all_folders():
            if EntryIDItem in folder._items:
                return folder._open(EntryIDItem)
        raise com_error(MAPI_E_NOT_FOUND, "The operation failed. An object could not be found.")

    def GetFolderFromID(self, EntryIDFolder: str, EntryIDStore: str | None = None) -> Folder:
        """The folder with that EntryID."""
        self._touch()
        for folder in self._all_folders():
            if folder._p["EntryID"] == EntryIDFolder:
                return folder
        raise com_error(MAPI_E_NOT_FOUND, "The operation failed. An object could not be found.")

    def CompareEntryIDs(self, FirstEntryID: str, SecondEntryID: str) -> bool:
        """Whether two EntryIDs name the same object."""
        self._touch()
        return FirstEntryID.upper() == SecondEntryID.upper()

    def CreateRecipient(self, RecipientName: str) -> Recipient:
        """An unresolved recipient for a name or address."""
        self._touch()
        return Recipient(self._app, new_recipient_record(RecipientName))


class Folder(OomObject):
    """A folder (MAPIFolder)."""

    _PROPS: ClassVar[dict[str, Any]] = {
        "EntryID": "",
        "StoreID": "",
        "Name": "",
        "DefaultItemType": 0,
        "DefaultMessageClass": "",
    }
    _READONLY = frozenset({"EntryID", "StoreID", "DefaultItemType", "DefaultMessageClass"})

    def __init__(
        self,
        app: Application,
        name: str,
        item_type: int,
        parent: Folder | None,
        default: int | None = None,
    ) -> None:
        super().__init__(app)
        self._p.update(
            EntryID=app._new_entry_id(),
            StoreID=app.store_id,
            Name=name,
            DefaultItemType=item_type,
            DefaultMessageClass=_MESSAGE_CLASS.get(item_type, "IPM.Note"),
        )
        self._parent = parent
        self._default = default
        self._children: list[Folder] = []
        self._items: dict[str, dict[str, Any]] = {}
        self._user_defined: dict[str, int] = {}
        self._subscribers: weakref.WeakSet[Any] = weakref.WeakSet()
        self._dead = False

    def _check_alive(self) -> None:
        if self.__dict__.get("_dead"):
            raise com_error(MAPI_E_NOT_FOUND, "The folder has been deleted.")

    def _set(self, name: str, value: Any) -> None:
        if name == "Name":
            if self._default is not None:
                raise com_error(E_FAIL, "Cannot rename a default folder.")
            if not value or (
                self._parent is not None
                and any(
                    f._p["Name"].lower() == str(value).lower() and f is not self
                    for f in self._parent._children
                )
            ):
                raise com_error(
                    E_FAIL, "Cannot rename the folder: the name is empty or already used."
                )
        super()._set(name, value)

    @property
    def Parent(self) -> Any:
        """The parent folder (the namespace for a store root)."""
        return self._parent if self._parent is not None else self._app.Session

    @property
    def FolderPath(self) -> str:
        """``\\\\Store\\Folder\\Sub``."""
        parts: list[str] = []
        folder: Folder | None = self
        while folder is not None:
            parts.append(folder._p["Name"])
            folder = folder._parent
        return "\\\\" + "\\".join(reversed(parts))

    @property
    def Folders(self) -> Folders:
        """Subfolders."""
        return Folders(self)

    @property
    def Items(self) -> Items:
        """The folder's items (a new collection object on each access, as with COM)."""
        return Items(self)

    @property
    def UserDefinedProperties(self) -> list[str]:
        """Names of the user properties defined in the folder (a list here)."""
        return list(self._user_defined)

    def Delete(self) -> None:
        """Delete the folder and what it holds (default folders refuse)."""
        self._touch()
        if self._default is not None or self._parent is None:
            raise com_error(E_FAIL, "Cannot delete this folder. It is a default folder.")
        self._parent._children.remove(self)
        stack = [self]
        while stack:
            folder = stack.pop()
            folder._dead = True
            stack.extend(folder._children)

    def GetTable(self, Filter: str = "", TableContents: int = 0) -> Table:
        """A read-only table of the folder's items (default columns; see reference §5)."""
        self._touch()
        predicate = self._compile(Filter) if Filter else None
        states = (
            []
            if TableContents == constants.olHiddenItems
            else [
                s for s in self._items.values() if predicate is None or predicate(self._getter(s))
            ]
        )
        columns = _DEFAULT_COLUMNS + _KIND_COLUMNS.get(self._p["DefaultItemType"], [])
        return Table(self, states, list(columns))

    # ------------------------------------------------------------------ internals

    def _compile(self, text: str) -> Predicate:
        return compile_filter(
            text,
            date_format=self._app.date_format,
            user_defined=self._user_defined,
            known=lambda n: n in _ALL_PROPS,
        )

    def _getter(self, state: dict[str, Any]) -> Callable[[str], Any]:
        def get(name: str) -> Any:
            return self._value(state, name)

        return get

    def _value(self, state: dict[str, Any], name: str) -> Any:
        """Naive local value of a built-in or user property of a stored item."""
        if name == "LastModificationTime":
            return self._app._to_local(state["lmt"])
        if name == "CreationTime":
            return self._app._to_local(state["created"])
        if name == "IsRecurring":
            return state.get("pattern") is not None
        props = state["props"]
        if name in props:
            return props[name]
        if name in state["user"]:
            return state["user"][name][1]
        if name in _ALL_PROPS:
            try:
                value = getattr(self._open(state["props"]["EntryID"]), name)
            except AttributeError:
                return None
            return value.replace(tzinfo=None) if isinstance(value, datetime) else value
        return None

    def _open(self, entry_id: str) -> OutlookItem:
        state = self._items.get(entry_id)
        if state is None:
            raise com_error(MAPI_E_NOT_FOUND, "The item has been moved or deleted.")
        item = _ITEM_CLASSES[state["class"]](self._app, self)
        item._load(state)
        return item

    def _store(self, item: OutlookItem, *, is_new: bool) -> None:
        item._folder = self
        state = item._state()
        self._items[item._p["EntryID"]] = state
        self._event("ItemAdd" if is_new else "ItemChange", item._p["EntryID"])

    def _remove(self, entry_id: str) -> dict[str, Any]:
        state = self._items.pop(entry_id)
        if self._items:  # Outlook fires nothing when the last item goes
            self._event("ItemRemove", None)
        return state

    def _move_out(self, entry_id: str, dest: Folder) -> str:
        dest._check_alive()
        state = self._remove(entry_id)
        new_id = self._app._new_entry_id()
        state = dict(state, props=dict(state["props"], EntryID=new_id))
        dest._items[new_id] = state
        dest._event("ItemAdd", new_id)
        return new_id

    def _copy_in(self, entry_id: str) -> str:
        state = copy.deepcopy(self._items[entry_id])
        new_id = self._app._new_entry_id()
        now = self._app.clock.stamp()
        state["props"]["EntryID"] = new_id
        state["created"] = state["lmt"] = now
        self._items[new_id] = state
        self._event("ItemAdd", new_id)
        return new_id

    def _event(self, event: str, entry_id: str | None) -> None:
        if self._app._bulk is not None:
            self._app._bulk.append((self, event, entry_id))
        else:
            self._deliver(event, entry_id)

    def _deliver(self, event: str, entry_id: str | None) -> None:
        for handler in list(self._subscribers):
            method = getattr(handler, "On" + event, None)
            if method is None:
                continue
            try:
                if event == "ItemRemove":
                    method()
                elif entry_id in self._items:
                    method(self._open(entry_id))
            except Exception as exc:  # COM swallows handler errors; keep them for tests
                self._app.event_errors.append(exc)


class Folders(OomObject):
    """``Folder.Folders``: Add / Item / Remove / Count / iteration."""

    def __init__(self, parent: Folder) -> None:
        super().__init__(parent._app)
        self._parent = parent

    @property
    def Count(self) -> int:
        """Number of subfolders."""
        return len(self._parent._children)

    def Add(self, Name: str, Type: int | None = None) -> Folder:
        """Create a subfolder; ``Type`` is an OlDefaultFolders value (default: the parent's)."""
        self._touch()
        if not Name or any(f._p["Name"].lower() == Name.lower() for f in self._parent._children):
            raise com_error(E_FAIL, "Cannot create the folder: the name is empty or already used.")
        item_type = (
            self._parent._p["DefaultItemType"]
            if Type is None
            else _FOLDER_ITEM_TYPE.get(Type, constants.olMailItem)
        )
        folder = Folder(self._app, Name, item_type, self._parent)
        self._parent._children.append(folder)
        return folder

    def Item(self, Index: int | str) -> Folder:
        """By 1-based index or by name."""
        self._touch()
        children = self._parent._children
        if isinstance(Index, str):
            for f in children:
                if f._p["Name"].lower() == Index.lower():
                    return f
            raise com_error(MAPI_E_NOT_FOUND, f"no folder {Index!r}")
        if not 1 <= Index <= len(children):
            raise com_error(E_INVALIDARG, "array index out of bounds")
        return children[Index - 1]

    def Remove(self, Index: int) -> None:
        """Delete the subfolder at 1-based ``Index``."""
        self.Item(Index).Delete()

    def __iter__(self) -> Iterator[Folder]:
        return iter(list(self._parent._children))

    def __len__(self) -> int:
        return len(self._parent._children)


class Items(OomObject):
    """A folder's items, or a restricted / sorted view of them."""

    _PROPS: ClassVar[dict[str, Any]] = {"IncludeRecurrences": False}

    def __init__(
        self,
        folder: Folder,
        predicates: tuple[Predicate, ...] = (),
        sort: tuple[str, bool] | None = None,
    ) -> None:
        super().__init__(folder._app)
        self._folder = folder
        self._predicates = predicates
        self._sort = sort
        self._cursor: Iterator[OutlookItem] | None = None

    def _expanding(self) -> bool:
        return bool(self._p["IncludeRecurrences"]) and self._sort == ("Start", False)

    def _states(self) -> list[dict[str, Any]]:
        folder = self._folder
        states = [
            s for s in folder._items.values() if all(p(folder._getter(s)) for p in self._predicates)
        ]
        if self._sort is not None:
            name, descending = self._sort
            states.sort(key=lambda s: _sort_key(folder._value(s, name)), reverse=descending)
        return states

    def _objects(self) -> Iterator[OutlookItem]:
        if not self._expanding():
            for state in self._states():
                yield self._folder._open(state["props"]["EntryID"])
            return
        # occurrences of every series, merged by start (reference §4: sorted by Start)
        folder = self._folder
        found: list[AppointmentItem] = []
        for state in folder._items.values():
            item = folder._open(state["props"]["EntryID"])
            if isinstance(item, AppointmentItem) and item._pattern is not None:
                candidates = item._occurrence_items(datetime.min, datetime.max.replace(year=9000))
            else:
                candidates = [item]  # type: ignore[list-item]
            found += [c for c in candidates if all(p(_object_getter(c)) for p in self._predicates)]
        found.sort(key=lambda i: i._p["Start"])
        yield from found

    @property
    def Count(self) -> int:
        """Number of items (undefined with IncludeRecurrences: Outlook answers MAXINT)."""
        if self._expanding():
            return 2147483647
        return len(self._states())

    def Item(self, Index: int) -> OutlookItem:
        """By 1-based index."""
        self._touch()
        states = self._states()
        if not 1 <= Index <= len(states):
            raise com_error(E_INVALIDARG, "Array index out of bounds.")
        return self._folder._open(states[Index - 1]["props"]["EntryID"])

    def Add(self, Type: int | None = None) -> OutlookItem:
        """A new unsaved item of ``Type`` (default: the folder's type) in this folder."""
        self._touch()
        item_type = self._folder._p["DefaultItemType"] if Type is None else Type
        cls = _CLASS_FOR_TYPE.get(item_type)
        if cls is None:
            raise com_error(E_INVALIDARG, f"item type {item_type} is not supported")
        return cls(self._app, self._folder)

    def Restrict(self, Filter: str) -> Items:
        """A new collection of the items matching a Jet filter."""
        self._touch()
        items = Items(self._folder, (*self._predicates, self._folder._compile(Filter)), self._sort)
        items._p["IncludeRecurrences"] = self._p["IncludeRecurrences"]
        return items

    def Sort(self, Property: str, Descending: bool = False) -> None:
        """Sort by ``[Property]`` (in place)."""
        self._touch()
        name = Property.strip().strip("[]")
        if name in _NO_SORT:
            raise com_error(E_INVALIDARG, f"Cannot sort by {name}.")
        if name not in _ALL_PROPS and name not in self._folder._user_defined:
            raise com_error(E_INVALIDARG, f"Unknown property for sorting: {name}.")
        self._sort = (name, bool(Descending))

    def GetFirst(self) -> OutlookItem | None:
        """First item (None when empty); starts GetNext."""
        self._touch()
        self._cursor = self._objects()
        return next(self._cursor, None)

    def GetNext(self) -> OutlookItem | None:
        """Next item (None at the end)."""
        self._touch()
        if self._cursor is None:
            return None
        return next(self._cursor, None)

    def Remove(self, Index: int) -> None:
        """Delete the item at 1-based ``Index``."""
        self.Item(Index).Delete()

    def __iter__(self) -> Iterator[OutlookItem]:
        return self._objects()


def _object_getter(item: OutlookItem) -> Callable[[str], Any]:
    def get(name: str) -> Any:
        value = getattr(item, name, None)
        return value.replace(tzinfo=None) if isinstance(value, datetime) else value

    return get


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, str):
        return (1, value.lower())
    return (1, value)


def DispatchWithEvents(obj: Items, user_event_class: type) -> Any:
    """Mirror of ``win32com.client.DispatchWithEvents`` for a fake ``Items`` collection.

    Returns an object that is both the collection and an instance of
    ``user_event_class``; its ``OnItemAdd(item)``, ``OnItemChange(item)`` and
    ``OnItemRemove()`` are called while the object is referenced.
    """
    if not isinstance(obj, Items):
        raise TypeError("the fake supports events on Items collections only")
    cls: Any = type(f"{user_event_class.__name__}Events", (user_event_class, _EventedItems), {})
    evented: Any = cls.__new__(cls)
    Items.__init__(evented, obj._folder, obj._predicates, obj._sort)
    init: Any = user_event_class.__dict__.get("__init__")
    if init is not None:
        init(evented)
    obj._folder._subscribers.add(evented)
    return evented


class _EventedItems(Items):
    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._PROPS:
            super().__setattr__(name, value)
        else:
            object.__setattr__(self, name, value)


class Table(OomObject):
    """A read-only table over a folder's items (reference §5)."""

    def __init__(self, folder: Folder, states: list[dict[str, Any]], columns: list[str]):
        super().__init__(folder._app)
        self._folder = folder
        self._states = states
        self._columns = columns
        self._getters: dict[str, Callable[[dict[str, Any]], Any]] = {}
        self._compiled: tuple[tuple[str, ...], list[Callable[[dict[str, Any]], Any]]] | None = None
        self._pos = 0

    @property
    def Columns(self) -> Columns:
        """The table's columns."""
        return Columns(self)

    @property
    def EndOfTable(self) -> bool:
        """True when every row was read."""
        return self._pos >= len(self._states)

    def GetRowCount(self) -> int:
        """Number of rows."""
        self._touch()
        return len(self._states)

    def MoveToStart(self) -> None:
        """Rewind."""
        self._touch()
        self._pos = 0

    def GetNextRow(self) -> Row | None:
        """The next row, None past the end."""
        self._touch()
        if self._pos >= len(self._states):
            return None
        state = self._states[self._pos]
        self._pos += 1
        return Row(self, state)

    def GetArray(self, MaxRows: int) -> tuple[tuple[Any, ...], ...]:
        """Up to ``MaxRows`` rows of values at once."""
        self._touch()
        rows: list[tuple[Any, ...]] = []
        while len(rows) < MaxRows and self._pos < len(self._states):
            rows.append(Row(self, self._states[self._pos])._values())
            self._pos += 1
        return tuple(rows)

    def Restrict(self, Filter: str) -> Table:
        """A new table with the rows also matching ``Filter``."""
        self._touch()
        predicate = self._folder._compile(Filter)
        states = [s for s in self._states if predicate(self._folder._getter(s))]
        return Table(self._folder, states, list(self._columns))

    def Sort(self, SortProperty: str, Descending: bool = False) -> None:
        """Sort the rows."""
        self._touch()
        name = SortProperty.strip().strip("[]")
        self._states.sort(
            key=lambda s: _sort_key(self._folder._value(s, name)), reverse=bool(Descending)
        )
        self._pos = 0

    def _cell(self, state: dict[str, Any], column: str) -> Any:
        return self._getter(column)(state)

    def _row_getters(self) -> list[Callable[[dict[str, Any]], Any]]:
        key = tuple(self._columns)
        if self._compiled is None or self._compiled[0] != key:
            self._compiled = (key, [self._getter(c) for c in key])
        return self._compiled[1]

    def _getter(self, column: str) -> Callable[[dict[str, Any]], Any]:
        """A function from stored state to the column's value (built once per column)."""
        cached = self._getters.get(column)
        if cached is not None:
            return cached
        getter: Callable[[dict[str, Any]], Any]
        user = user_property_name(column)
        if user is not None:

            def getter(state: dict[str, Any]) -> Any:
                value = state["user"].get(user)
                return None if value is None else value[1]

        elif column.startswith(_NS_PROPTAG):
            tag = column[len(_NS_PROPTAG) :].lower()
            if tag == "0x30080040":
                getter = _utc_of("lmt")
            elif tag == "0x30070040":
                getter = _utc_of("created")
            elif tag == "0x0fff0102":
                getter = lambda state: bytes.fromhex(state["props"]["EntryID"])  # noqa: E731
            elif tag in ("0x001a001f", "0x001a001e"):
                getter = lambda state: state["props"]["MessageClass"]  # noqa: E731
            else:
                getter = lambda state: None  # noqa: E731
        elif column in ("LastModificationTime", "CreationTime"):
            key = "lmt" if column == "LastModificationTime" else "created"
            to_local, cache = self._app._to_local, "_local_" + key

            def getter(state: dict[str, Any]) -> Any:
                # a stored state never changes (saves replace it), so its local time is cached
                value = state.get(cache)
                if value is None:
                    value = state[cache] = labelled_utc(to_local(state[key]))
                return value

        else:
            value_of = self._folder._value

            def getter(state: dict[str, Any]) -> Any:
                value = value_of(state, column)
                if isinstance(value, datetime):
                    return labelled_utc(value)
                if isinstance(value, str) and len(value) > 255:
                    return value[:255]
                return value

        self._getters[column] = getter
        return getter

    def _check_column(self, name: str) -> None:
        if user_property_name(name) is not None or name.startswith(_NS_PROPTAG):
            return
        if name.startswith("http://schemas.microsoft.com/mapi/") or name.startswith("urn:"):
            return
        if name in _NOT_IN_TABLE:
            raise com_error(E_INVALIDARG, f'The property "{name}" is not supported in a Table.')
        if name not in _ALL_PROPS:
            raise com_error(E_INVALIDARG, f'The property "{name}" is unknown.')


def _utc_of(key: str) -> Callable[[dict[str, Any]], Any]:
    def getter(state: dict[str, Any]) -> Any:
        return state[key].replace(tzinfo=UTC)

    return getter


class Columns(OomObject):
    """``Table.Columns``: Add / Remove / RemoveAll / Count / Item."""

    def __init__(self, table: Table) -> None:
        super().__init__(table._app)
        self._table = table

    @property
    def Count(self) -> int:
        """Number of columns."""
        return len(self._table._columns)

    def Add(self, Name: str) -> str:
        """Add a column by English built-in name or by namespace schema name."""
        self._touch()
        self._table._check_column(Name)
        self._table._columns.append(Name)
        return Name

    def Remove(self, Index: int | str) -> None:
        """Remove by 1-based index or name."""
        self._touch()
        columns = self._table._columns
        if isinstance(Index, str):
            if Index not in columns:
                raise com_error(MAPI_E_NOT_FOUND, f"no column {Index!r}")
            columns.remove(Index)
        else:
            del columns[Index - 1]

    def RemoveAll(self) -> None:
        """Remove every column."""
        self._touch()
        self._table._columns.clear()

    def Item(self, Index: int) -> str:
        """Name of the column at 1-based ``Index``."""
        self._touch()
        return self._table._columns[Index - 1]


class Row(OomObject):
    """One table row: ``GetValues()``, ``Item(i)`` / ``row(i)`` (1-based or by name)."""

    def __init__(self, table: Table, state: dict[str, Any]) -> None:
        super().__init__(table._app)
        self._table = table
        self._state = state

    def _values(self) -> tuple[Any, ...]:
        state = self._state
        return tuple([getter(state) for getter in self._table._row_getters()])

    def GetValues(self) -> tuple[Any, ...]:
        """Every column's value, in column order."""
        self._touch()
        return self._values()

    def Item(self, Index: int | str) -> Any:
        """One value by 1-based column index or column name."""
        self._touch()
        columns = self._table._columns
        name = Index if isinstance(Index, str) else columns[Index - 1]
        if name not in columns:
            raise com_error(E_INVALIDARG, f"no column {name!r}")
        return self._table._cell(self._state, name)

    __call__ = Item

    def LocalTimeToUTC(self, Index: int | str) -> datetime:
        """A local date column converted to UTC."""
        local = self.Item(Index)
        return self._app._to_utc(local.replace(tzinfo=None)).replace(tzinfo=UTC)
