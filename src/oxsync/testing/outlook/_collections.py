"""``Items`` collections of the fake and ``DispatchWithEvents`` for their events.

``Items`` is live over its folder's stored states, optionally restricted (Jet filters)
and sorted; with ``IncludeRecurrences`` and a sort on ``[Start]`` it expands recurring
series into occurrences (and ``Count`` is undefined, as on Outlook).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from oxsync.testing.outlook._base import OomObject
from oxsync.testing.outlook._calendar import AppointmentItem
from oxsync.testing.outlook._com import E_INVALIDARG, com_error
from oxsync.testing.outlook._items import OutlookItem
from oxsync.testing.outlook._jet import Predicate
from oxsync.testing.outlook._kinds import ALL_PROPS, CLASS_FOR_TYPE, sort_key

if TYPE_CHECKING:
    from oxsync.testing.outlook._model import Folder

__all__ = ["DispatchWithEvents", "Items"]

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
            states.sort(key=lambda s: sort_key(folder._value(s, name)), reverse=descending)
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
        cls = CLASS_FOR_TYPE.get(item_type)
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
        if name not in ALL_PROPS and name not in self._folder._user_defined:
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
