"""The object-model boundary: the only Outlook calls :class:`OutlookStore` makes.

:class:`ObjectModel` lists them. Two backings implement it:

- :class:`Pywin32ObjectModel` (Windows, extra ``outlook``): ``win32com.client`` is
  imported lazily, on construction. COM is apartment-threaded: create and use the store
  on one thread (the one that called ``CoInitialize``); Outlook runs every call on its
  own UI thread anyway, so more threads buy nothing (reference §16). :meth:`breathe`
  pumps waiting messages between batches so Outlook's UI and our event sinks keep going.
- :class:`FakeObjectModel` over :class:`oxsync.testing.outlook.Application`, anywhere.

Both hand out the same duck-typed OOM objects (folders, items, tables); what differs is
how the application is reached, how events are subscribed, how messages are pumped and
where the local time zone and list separator come from.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from oxsync.adapters.outlook._errors import com_errors
from oxsync.adapters.outlook._time import zone_from_windows
from oxsync.errors import ConfigError

__all__ = [
    "FakeObjectModel",
    "ObjectModel",
    "OutlookUnavailableError",
    "Pywin32ObjectModel",
    "connect",
]


class OutlookUnavailableError(ConfigError):
    """Outlook cannot be reached from here (not Windows, or pywin32 missing)."""


class ObjectModel(Protocol):
    """The Outlook calls the store uses (everything else goes through OOM objects)."""

    zone: ZoneInfo
    """Outlook's local time zone."""
    list_separator: str
    """The Windows list separator (joins Categories)."""

    def default_folder(self, number: int) -> Any:
        """``NameSpace.GetDefaultFolder(number)``."""
        ...

    def folder(self, entry_id: str, store_id: str) -> Any:
        """``NameSpace.GetFolderFromID``."""
        ...

    def item(self, entry_id: str, store_id: str) -> Any:
        """``NameSpace.GetItemFromID`` (raises the COM not-found error when gone)."""
        ...

    def recipient(self, text: str) -> Any:
        """``NameSpace.CreateRecipient(text)``, resolved."""
        ...

    def rows(self, folder: Any, columns: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        """Values of ``columns`` for every item of ``folder`` via ``Folder.GetTable``."""
        ...

    def watch(self, folder: Any, on_event: Callable[[str], None]) -> Any:
        """Subscribe to the folder's Items events; keep the result alive to keep them."""
        ...

    def breathe(self) -> None:
        """Let Outlook (and event sinks) run between batches."""
        ...

    def calls(self) -> int | None:
        """Object-model calls made so far, when the backing can count them."""
        ...

    def today(self) -> date:
        """Outlook's local date now (the day it stamps on a task completed without one)."""
        ...


class _TableRows:
    """Shared Table walk: RemoveAll, Add the columns, GetNextRow until EndOfTable."""

    def rows(self, folder: Any, columns: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        """See :class:`ObjectModel` (two calls per row: ``GetNextRow``, ``GetValues``)."""
        with com_errors("list a folder"):
            table = folder.GetTable("", 0)
            cols = table.Columns
            cols.RemoveAll()
            for name in columns:
                cols.Add(name)
            while not table.EndOfTable:
                row = table.GetNextRow()
                if row is None:
                    break
                yield tuple(row.GetValues())
                del row


def _handler_class(on_event: Callable[[str], None]) -> type:
    class ItemsEvents:
        """Sink for one folder's Items events (COM calls ``On<Event>``)."""

        def OnItemAdd(self, item: Any) -> None:
            on_event("add")

        def OnItemChange(self, item: Any) -> None:
            on_event("change")

        def OnItemRemove(self) -> None:
            on_event("remove")

    return ItemsEvents


class FakeObjectModel(_TableRows):
    """Backing over the fake object model (:mod:`oxsync.testing.outlook`)."""

    def __init__(self, application: Any) -> None:
        self.application = application
        self.namespace = application.GetNamespace("MAPI")
        self.zone: ZoneInfo = application.tz
        self.list_separator: str = application.list_separator

    def default_folder(self, number: int) -> Any:
        """See :class:`ObjectModel`."""
        with com_errors("open a default folder"):
            return self.namespace.GetDefaultFolder(number)

    def folder(self, entry_id: str, store_id: str) -> Any:
        """See :class:`ObjectModel`."""
        with com_errors("open a folder"):
            return self.namespace.GetFolderFromID(entry_id, store_id)

    def item(self, entry_id: str, store_id: str) -> Any:
        """See :class:`ObjectModel`."""
        return self.namespace.GetItemFromID(entry_id, store_id)

    def recipient(self, text: str) -> Any:
        """See :class:`ObjectModel`."""
        recipient = self.namespace.CreateRecipient(text)
        recipient.Resolve()
        return recipient

    def watch(self, folder: Any, on_event: Callable[[str], None]) -> Any:
        """See :class:`ObjectModel`."""
        from oxsync.testing.outlook import DispatchWithEvents

        return DispatchWithEvents(folder.Items, _handler_class(on_event))

    def breathe(self) -> None:
        """Nothing to pump: the fake delivers events synchronously."""

    def calls(self) -> int | None:
        """Object-model calls counted by the fake."""
        return int(self.application.calls)

    def today(self) -> date:
        """The fake's clock, as a local date."""
        clock = self.application.clock
        now: datetime = clock.now() + clock.offset
        return now.astimezone(self.zone).date()


class Pywin32ObjectModel(_TableRows):
    """Backing over the real Outlook through pywin32 (Windows only)."""

    def __init__(self, application: Any | None = None) -> None:
        try:
            import pythoncom  # type: ignore[import-untyped,import-not-found,unused-ignore]
            import win32com.client
        except ImportError as exc:  # pragma: no cover - Windows only
            raise OutlookUnavailableError(
                "the Outlook store needs pywin32: pip install 'oxsync[outlook]'"
            ) from exc
        self._pythoncom = pythoncom
        self._win32 = win32com.client
        with com_errors("start Outlook"):  # pragma: no cover - Windows only
            pythoncom.CoInitialize()
            self.application = application or win32com.client.gencache.EnsureDispatch(
                "Outlook.Application"
            )
            self.namespace = self.application.GetNamespace("MAPI")
            zone_id = str(self.application.TimeZones.CurrentTimeZone.ID)
        self.zone = zone_from_windows(zone_id)  # pragma: no cover
        self.list_separator = _windows_list_separator()  # pragma: no cover

    def default_folder(self, number: int) -> Any:  # pragma: no cover - Windows only
        """See :class:`ObjectModel`."""
        with com_errors("open a default folder"):
            return self.namespace.GetDefaultFolder(number)

    def folder(self, entry_id: str, store_id: str) -> Any:  # pragma: no cover
        """See :class:`ObjectModel`."""
        with com_errors("open a folder"):
            return self.namespace.GetFolderFromID(entry_id, store_id)

    def item(self, entry_id: str, store_id: str) -> Any:  # pragma: no cover
        """See :class:`ObjectModel`."""
        return self.namespace.GetItemFromID(entry_id, store_id)

    def recipient(self, text: str) -> Any:  # pragma: no cover
        """See :class:`ObjectModel`."""
        recipient = self.namespace.CreateRecipient(text)
        recipient.Resolve()
        return recipient

    def watch(self, folder: Any, on_event: Callable[[str], None]) -> Any:  # pragma: no cover
        """See :class:`ObjectModel` (events arrive while this thread pumps messages)."""
        return self._win32.DispatchWithEvents(folder.Items, _handler_class(on_event))

    def breathe(self) -> None:  # pragma: no cover - Windows only
        """Pump waiting window messages (keeps Outlook's UI and event sinks alive)."""
        self._pythoncom.PumpWaitingMessages()

    def calls(self) -> int | None:  # pragma: no cover - Windows only
        """Not counted on the real Outlook."""
        return None

    def today(self) -> date:  # pragma: no cover - Windows only
        """The local date (Outlook runs on this machine, in its zone)."""
        return datetime.now(self.zone).date()


def _windows_list_separator() -> str:  # pragma: no cover - Windows only
    try:
        import importlib

        winreg: Any = importlib.import_module("winreg")

        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, r"Control Panel\International") as key:
            value, _ = winreg.QueryValueEx(key, "sList")
            return str(value) or ","
    except OSError:
        return ","


def connect(application: Any | None) -> ObjectModel:
    """The backing for ``application``: the fake's, pywin32's, or an error off Windows."""
    if application is not None:
        if all(hasattr(application, n) for n in ("rows", "item", "default_folder", "watch")):
            return application  # type: ignore[no-any-return]
        if type(application).__module__.startswith("oxsync.testing.outlook"):
            return FakeObjectModel(application)
        return Pywin32ObjectModel(application)
    if sys.platform != "win32":
        raise OutlookUnavailableError(
            "the Outlook store needs Windows with Outlook and pywin32 "
            "(pip install 'oxsync[outlook]'); on other systems pass a fake application: "
            "OutlookStore(oxsync.testing.outlook.Application())"
        )
    return Pywin32ObjectModel()  # pragma: no cover - Windows only
