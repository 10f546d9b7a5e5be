"""Registry of the fake's item classes and property names (shared by folders and tables)."""

from __future__ import annotations

from typing import Any

from oxsync.testing.outlook._calendar import AppointmentItem
from oxsync.testing.outlook._contacts import ContactItem, DistListItem
from oxsync.testing.outlook._items import OutlookItem
from oxsync.testing.outlook._tasks import TaskItem

__all__ = ["ALL_PROPS", "CLASS_FOR_TYPE", "ITEM_CLASSES", "sort_key"]

ITEM_CLASSES: dict[str, type[OutlookItem]] = {
    c.__name__: c for c in (ContactItem, DistListItem, AppointmentItem, TaskItem)
}
"""Item class by class name (what a stored state records)."""
CLASS_FOR_TYPE: dict[int, type[OutlookItem]] = {
    c.ITEM_TYPE: c for c in (ContactItem, DistListItem, AppointmentItem, TaskItem)
}
"""Item class by OlItemType."""
ALL_PROPS: set[str] = set().union(*(c._PROPS for c in ITEM_CLASSES.values())) | {
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
"""Every built-in property name the fake knows."""


def sort_key(value: Any) -> tuple[int, Any]:
    """Sort key of a property value (empty first, text case-insensitive)."""
    if value is None:
        return (0, "")
    if isinstance(value, str):
        return (1, value.lower())
    return (1, value)
