"""Application, NameSpace and folders of the fake, and how item events are delivered.

One profile with one store ("Outlook Data File") holding the default folders. Folders
keep each item's saved state; ``Items`` and ``Table`` read those states. Events follow
reference §7: ``ItemAdd(item)``, ``ItemChange(item)``, ``ItemRemove()`` with no item; they
reach handlers registered with :func:`DispatchWithEvents` only while the returned object
is alive (a weak reference, as with COM: drop it and events stop); inside
``Application.bulk()`` (a user acting on many selected items at once) removals are
dropped when ``item_remove_limit`` (16) or more items go, and additions when more than
``item_add_limit`` (16) arrive; removing a folder's last item fires no ``ItemRemove``.

(Longer than most modules: ``Folder`` carries the stored states and the event delivery
that ``Items``, ``Table`` and the item classes all rely on.)
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
    OomObject,
    Recipient,
    new_recipient_record,
)
from oxsync.testing.outlook._calendar import WINDOWS_ZONES, TimeZones
from oxsync.testing.outlook._collections import Items
from oxsync.testing.outlook._com import (
    ARMED,
    E_FAIL,
    E_INVALIDARG,
    MAPI_E_NOT_FOUND,
    RPC_E_CALL_REJECTED,
    Clock,
    Fault,
    FaultCall,
    com_error,
)
from oxsync.testing.outlook._items import OutlookItem
from oxsync.testing.outlook._jet import Predicate, compile_filter
from oxsync.testing.outlook._kinds import ALL_PROPS, CLASS_FOR_TYPE, ITEM_CLASSES
from oxsync.testing.outlook._table import DEFAULT_COLUMNS, KIND_COLUMNS, Table
from oxsync.testing.outlook.constants import constants

__all__ = ["Application", "Folder", "Folders", "NameSpace", "Reminder"]

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


_WEEKDAY_FLAGS = frozenset(1 << n for n in range(7))


class Application(OomObject):
    """``Outlook.Application`` over an in-memory profile.

    ``tz``: IANA zone of the simulated Windows machine (local time); ``windows_zone``:
    its Windows id (derived from ``tz`` when known); ``list_separator``: the Windows list
    separator (Categories); ``date_format``: the short date/time format Jet filters parse;
    ``clock``: the :class:`Clock` that stamps saves; ``first_day_of_week``: the calendar
    options' first day of the week (an OlDaysOfWeek value, Sunday by default as in a US
    Outlook), which a recurrence pattern records when it is made (MS-OXOCAL ``FirstDOW``)
    and groups the weeks of an every-N-weeks pattern from; the object model does not
    expose it. ``calls`` counts object-model calls.
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
        first_day_of_week: int = constants.olSunday,
    ) -> None:
        object.__setattr__(self, "_app", self)
        if first_day_of_week not in _WEEKDAY_FLAGS:
            raise ValueError(
                f"first_day_of_week must be one OlDaysOfWeek day, not {first_day_of_week!r}"
            )
        self.first_day_of_week = int(first_day_of_week)
        object.__setattr__(self, "_p", {"Name": "Outlook", "Version": "16.0.0.0"})
        self.tz = ZoneInfo(tz)
        reverse = {v: k for k, v in WINDOWS_ZONES.items()}
        self._windows_zone = windows_zone or reverse.get(tz, "UTC")
        self.list_separator = list_separator
        self.date_format = date_format
        self.clock = clock or Clock()
        self.calls = 0
        self._fault: Fault | None = None
        self.item_add_limit = 16
        self.item_remove_limit = 16
        self.event_errors: list[BaseException] = []
        self._ids = itertools.count(1)
        self._bulk: list[tuple[Folder, str, str | None]] | None = None
        self.store_id = "0000000038A1BB1005E5101AA1BB08002B2A56C20000" + uuid.uuid4().hex.upper()
        self._namespace = NameSpace(self, user_name)

    # A plain attribute (not a property bag): object's own slot, no Python frame. Every
    # counted call increments ``calls`` through here.
    __setattr__ = object.__setattr__  # type: ignore[assignment]

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
        cls = CLASS_FOR_TYPE.get(ItemType)
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

    def fail_on(
        self,
        when: Callable[[FaultCall], bool],
        scode: int = RPC_E_CALL_REJECTED,
        *,
        times: int | None = 1,
        wrapped: bool = True,
    ) -> Fault:
        """Make object-model calls fail: ``com_error(scode)`` at each call ``when`` accepts.

        ``when`` gets a :class:`FaultCall` (``number``, ``obj``, ``name``, ``kind``) for
        every counted call (property read or write, method call, ``Row.GetValues``)
        before the call has any effect; ``times`` calls fail at most (None: all), then
        the fault disarms itself. ``wrapped``: the code inside ``DISP_E_EXCEPTION``, as
        Outlook reports its own failures (False: as the bare HRESULT, as COM reports
        RPC failures). Replaces any fault armed before; returns it (``raised`` lists the
        calls that failed). Unarmed, a call costs one list read more.

            fault = app.fail_on(lambda call: call.name == "Save", E_FAIL)
            item.Save()            # raises com_error (DISP_E_EXCEPTION wrapping E_FAIL)
            item.Save()            # saves: the fault is spent
            n = app.calls
            app.fail_on(lambda call: call.number == n + 3, times=None)  # the 3rd call from now
        """
        fault = Fault(self, when, scode, times=times, wrapped=wrapped)
        if self._fault is None:
            ARMED[0] += 1
        self._fault = fault
        return fault

    def clear_faults(self) -> None:
        """Disarm the fault :meth:`fail_on` armed, if any."""
        if self._fault is not None:
            ARMED[0] -= 1
        self._fault = None

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
        columns = DEFAULT_COLUMNS + KIND_COLUMNS.get(self._p["DefaultItemType"], [])
        return Table(self, states, list(columns))

    # ------------------------------------------------------------------ internals

    def _compile(self, text: str) -> Predicate:
        return compile_filter(
            text,
            date_format=self._app.date_format,
            user_defined=self._user_defined,
            known=lambda n: n in ALL_PROPS,
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
        if name in ALL_PROPS:
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
        item = ITEM_CLASSES[state["class"]](self._app, self)
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
        if not self._subscribers:
            return
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
