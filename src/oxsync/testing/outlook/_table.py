"""The ``Table`` API of the fake (reference §5): ``Folder.GetTable`` and its rows.

Built-in columns use English property names and give dates in local time (labelled UTC
by pywin32); namespace columns (user properties in PS_PUBLIC_STRINGS, a few proptags)
give UTC dates; strings are cut at 255 characters; computed properties are refused.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from oxsync.testing.outlook._base import _NS_PROPTAG, OomObject, user_property_name
from oxsync.testing.outlook._com import (
    ARMED,
    E_INVALIDARG,
    MAPI_E_NOT_FOUND,
    com_error,
    labelled_utc,
)
from oxsync.testing.outlook._kinds import ALL_PROPS, sort_key
from oxsync.testing.outlook.constants import constants

if TYPE_CHECKING:
    from oxsync.testing.outlook._model import Folder

__all__ = ["DEFAULT_COLUMNS", "KIND_COLUMNS", "Columns", "Row", "Table"]

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

DEFAULT_COLUMNS = ["EntryID", "Subject", "CreationTime", "LastModificationTime", "MessageClass"]
KIND_COLUMNS = {
    constants.olAppointmentItem: ["Start", "End", "IsRecurring"],
    constants.olContactItem: ["FirstName", "LastName", "CompanyName"],
    constants.olTaskItem: ["DueDate", "PercentComplete", "IsRecurring"],
}


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
            key=lambda s: sort_key(self._folder._value(s, name)), reverse=bool(Descending)
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
        if name not in ALL_PROPS:
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
        # one Row per item listed: built directly, this is the hot path of a Table walk
        self.__dict__.update(_app=table._app, _p={}, _table=table, _state=state)

    def _values(self) -> tuple[Any, ...]:
        state = self._state
        return tuple([getter(state) for getter in self._table._row_getters()])

    def GetValues(self) -> tuple[Any, ...]:
        """Every column's value, in column order."""
        app = self._app
        app.calls += 1
        if ARMED[0] and app._fault is not None:  # a fault is armed (Application.fail_on)
            app._fault.offer(self, "GetValues", "call")
        state = self._state
        return tuple([getter(state) for getter in self._table._row_getters()])

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
