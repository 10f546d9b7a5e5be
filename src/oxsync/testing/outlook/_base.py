"""Property-bag objects and the per-item collections of the fake object model.

:class:`OomObject` declares its properties in ``_PROPS`` (name -> default), the
read-only ones in ``_READONLY`` and the Date ones in ``_DATES``. Reading an unknown name
raises ``AttributeError`` (as early-bound pywin32 does), writing a read-only one too;
Date properties read back as local wall clock labelled UTC (pywin32's quirk).
Every property access and method call is counted on the application (``app.calls``).

(Longer than most modules: it holds the many small per-item collections of the OOM —
user properties, attachments, recipients, property accessor — which share one base.)
"""

from __future__ import annotations

import copy
import os
import re
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from oxsync.testing.outlook._com import (
    ARMED,
    E_FAIL,
    E_INVALIDARG,
    MAPI_E_NOT_FOUND,
    NO_DATE,
    com_error,
    labelled_utc,
    wall_clock,
)
from oxsync.testing.outlook.constants import PS_PUBLIC_STRINGS, constants

if TYPE_CHECKING:
    from oxsync.testing.outlook._model import Application

__all__ = [
    "Attachment",
    "Attachments",
    "OomObject",
    "PropertyAccessor",
    "Recipient",
    "Recipients",
    "UserProperties",
    "UserProperty",
]

PICTURE_NAME = "ContactPicture.jpg"
_PICTURE_EXTENSIONS = {
    ".jpg",
    ".jpeg",
    ".gif",
    ".png",
    ".bmp",
    ".tif",
    ".tiff",
    ".ico",
    ".wmf",
    ".emf",
}


class OomObject:
    """A COM object with declared properties; see the module docstring."""

    _PROPS: ClassVar[dict[str, Any]] = {}
    _READONLY: ClassVar[frozenset[str]] = frozenset()
    _DATES: ClassVar[frozenset[str]] = frozenset()
    # A write to a plain property goes through ``_set`` (where a class couples properties)
    # unless the class sets ``_DIRECT_WRITES``: then, for names outside ``_SET_HOOKS``,
    # the converted value is stored and the object marked ``_dirty`` without the call
    # chain (items: a dozen writes per synced item). A class that overrides ``_set`` must
    # then say which names its override handles (checked in __init_subclass__).
    _DIRECT_WRITES: ClassVar[bool] = False
    _SET_HOOKS: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls._DIRECT_WRITES and "_set" in cls.__dict__ and "_SET_HOOKS" not in cls.__dict__:
            raise TypeError(f"{cls.__name__} overrides _set: name its _SET_HOOKS")

    _app: Application
    _p: dict[str, Any]

    def __init__(self, app: Application) -> None:
        object.__setattr__(self, "_app", app)
        object.__setattr__(self, "_p", dict(self._PROPS))

    def __getattr__(self, name: str) -> Any:
        props = self.__dict__.get("_p")
        if props is None or name not in props:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute {name!r}")
        self._touch()
        value = props[name]
        if name in self._DATES and isinstance(value, datetime):
            return labelled_utc(value)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        if name[0] == "_":
            self.__dict__[name] = value
            return
        cls = type(self)
        how = _SETTERS.get(cls, _NO_SETTERS).get(name)
        if how is None:
            how = _setter(cls, name)
        if how.__class__ is int:  # a plain property of the bag
            state = self.__dict__
            if state.get("_dead"):
                self._check_alive()
            app = self._app
            app.calls += 1
            if ARMED[0] and app._fault is not None:  # a fault is armed (Application.fail_on)
                app._fault.offer(self, name, "set")
            if how >= _DIRECT:
                self._p[name] = _converted(how - _DIRECT, name, value)
                state["_dirty"] = True
            else:
                self._set(name, value)
            return
        if how is _REFUSED:
            raise AttributeError(f"Property '{cls.__name__}.{name}' can not be set.")
        self._touch()  # a Python property (computed or coupled in the OOM)
        if how.fset is None:
            raise AttributeError(f"Property '{cls.__name__}.{name}' can not be set.")
        how.fset(self, value)

    def _set(self, name: str, value: Any) -> None:
        """Store a property value, converting as COM would."""
        cls = type(self)
        kind = _KINDS.get(cls, _NO_SETTERS).get(name)
        if kind is None:
            kind = _kind(cls, name)
        self._p[name] = _converted(kind, name, value)

    def _touch(self) -> None:
        if self.__dict__.get("_dead"):
            self._check_alive()
        app = self._app
        app.calls += 1
        if ARMED[0] and app._fault is not None:  # a fault is armed (Application.fail_on)
            app._fault.offer_from(self, sys._getframe(1))

    def _check_alive(self) -> None:
        """Raise if the object is dead (items and folders set ``_dead``)."""


# How each class takes a write to each name, worked out once per (class, name): a Python
# property (its descriptor), a plain property with its COM conversion (an int below), or
# refused (unknown or read-only).
_AS_ANY, _AS_DATE, _AS_BOOL, _AS_INT, _AS_STR = range(5)
_DIRECT = 8  # added to a kind: store it directly (see OomObject._DIRECT_WRITES)
_REFUSED = property()


def _converted(kind: int, name: str, value: Any) -> Any:
    """A value written to a plain property, converted as COM would."""
    if kind == _AS_STR:
        return value if type(value) is str else "" if value is None else str(value)
    if kind == _AS_DATE:
        return wall_clock(value) if value is not None else NO_DATE
    if kind == _AS_BOOL:
        return bool(value)
    if kind == _AS_INT and (isinstance(value, bool) or not isinstance(value, int)):
        try:
            return int(value)
        except (TypeError, ValueError):
            raise com_error(E_INVALIDARG, f"type mismatch for {name}") from None
    return value


_NO_SETTERS: dict[str, Any] = {}
_SETTERS: dict[type, dict[str, Any]] = {}


_KINDS: dict[type, dict[str, int]] = {}


def _setter(cls: type[OomObject], name: str) -> Any:
    found = getattr(cls, name, None)
    how: Any
    if isinstance(found, property):
        how = found
    elif name not in cls._PROPS or name in cls._READONLY:
        how = _REFUSED
    else:
        how = _kind(cls, name)
        if cls._DIRECT_WRITES and name not in cls._SET_HOOKS:
            how += _DIRECT
    _SETTERS.setdefault(cls, {})[name] = how
    return how


def _kind(cls: type[OomObject], name: str) -> int:
    """The COM conversion of a write to ``name`` (from its declared default)."""
    default = cls._PROPS[name]
    kind = (
        _AS_DATE
        if name in cls._DATES
        else _AS_BOOL
        if isinstance(default, bool)
        else _AS_INT
        if isinstance(default, int)
        else _AS_STR
        if isinstance(default, str)
        else _AS_ANY
    )
    _KINDS.setdefault(cls, {})[name] = kind
    return kind


class UserProperty(OomObject):
    """One user-defined property of an item."""

    _PROPS: ClassVar[dict[str, Any]] = {"Name": "", "Type": 1, "Value": None}
    _READONLY = frozenset({"Name", "Type"})

    def __init__(self, owner: UserProperties, name: str) -> None:
        super().__init__(owner._app)
        self._owner = owner
        self._p["Name"] = name
        self._p["Type"] = owner._values[name][0]

    @property
    def Value(self) -> Any:
        """The value (Date values labelled UTC like every COM date)."""
        kind, value = self._owner._values[self._p["Name"]]
        if kind == constants.olDateTime and isinstance(value, datetime):
            return labelled_utc(value)
        return value

    @Value.setter
    def Value(self, value: Any) -> None:
        name = self._p["Name"]
        kind = self._owner._values[name][0]
        self._owner._values[name] = (kind, _coerce_user_value(kind, value))
        self._owner._item._dirty = True

    def Delete(self) -> None:
        """Remove the property from the item."""
        self._touch()
        self._owner._values.pop(self._p["Name"], None)
        self._owner._item._dirty = True


def _coerce_user_value(kind: int, value: Any) -> Any:
    if kind == constants.olDateTime:
        return NO_DATE if value is None else wall_clock(value)
    if kind == constants.olYesNo:
        return bool(value)
    if kind in (constants.olNumber, constants.olCurrency, constants.olPercent):
        return float(value or 0)
    if kind in (constants.olInteger, constants.olDuration):
        return int(value or 0)
    return "" if value is None else str(value)


_USER_DEFAULTS = {
    constants.olDateTime: NO_DATE,
    constants.olYesNo: False,
    constants.olNumber: 0.0,
    constants.olCurrency: 0.0,
    constants.olPercent: 0.0,
    constants.olInteger: 0,
    constants.olDuration: 0,
}
_USER_TYPES = {
    constants.olText,
    constants.olNumber,
    constants.olDateTime,
    constants.olYesNo,
    constants.olDuration,
    constants.olKeywords,
    constants.olPercent,
    constants.olCurrency,
    18,
    19,
    constants.olInteger,
}


_NAME_REFUSES = frozenset("[]_#")
"""Characters Outlook refuses in a user property's name."""


class UserProperties(OomObject):
    """``item.UserProperties``: Add / Find / Item / Remove / Count."""

    def __init__(self, item: Any) -> None:
        super().__init__(item._app)
        self._item = item
        self._values: dict[str, tuple[int, Any]] = item._user

    @property
    def Count(self) -> int:
        """Number of user properties."""
        return len(self._values)

    def Add(
        self,
        Name: str,
        Type: int,
        AddToFolderFields: bool = True,
        DisplayFormat: Any = None,
    ) -> UserProperty:
        """Define a property on the item (and, by default, in its folder)."""
        self._touch()
        if not Name or len(Name) > 64 or not _NAME_REFUSES.isdisjoint(Name):
            raise com_error(E_INVALIDARG, f"invalid user property name {Name!r}")
        if Type not in _USER_TYPES:
            raise com_error(E_INVALIDARG, f"user property type {Type} is not allowed")
        if Name in self._values:
            raise com_error(E_FAIL, f"a property named {Name!r} already exists")
        self._values[Name] = (Type, _USER_DEFAULTS.get(Type, ""))
        self._item._dirty = True
        if AddToFolderFields and self._item._folder is not None:
            self._item._folder._user_defined[Name] = Type
        return UserProperty(self, Name)

    def Find(self, Name: str, Custom: bool = True) -> UserProperty | None:
        """The property named ``Name``, or None."""
        self._touch()
        return UserProperty(self, Name) if Name in self._values else None

    def Item(self, Index: int | str) -> UserProperty:
        """By 1-based index or by name."""
        self._touch()
        names = list(self._values)
        if isinstance(Index, str):
            if Index not in self._values:
                raise com_error(MAPI_E_NOT_FOUND, f"no user property {Index!r}")
            return UserProperty(self, Index)
        if not 1 <= Index <= len(names):
            raise com_error(E_INVALIDARG, "array index out of bounds")
        return UserProperty(self, names[Index - 1])

    def Remove(self, Index: int) -> None:
        """Remove by 1-based index."""
        name = self.Item(Index)._p["Name"]
        del self._values[name]
        self._item._dirty = True

    def __iter__(self) -> Iterator[UserProperty]:
        return (UserProperty(self, n) for n in list(self._values))

    def __len__(self) -> int:
        return len(self._values)


class Attachment(OomObject):
    """One attachment (by value)."""

    _PROPS: ClassVar[dict[str, Any]] = {"FileName": "", "DisplayName": "", "Size": 0, "Index": 0}
    _READONLY = frozenset({"FileName", "Size", "Index"})

    def __init__(self, owner: Attachments, record: dict[str, Any], index: int) -> None:
        super().__init__(owner._app)
        self._owner = owner
        self._record = record
        self._p.update(
            FileName=record["filename"],
            DisplayName=record["display"],
            Size=len(record["data"]),
            Index=index,
        )

    @property
    def Type(self) -> int:
        """olByValue once the item was saved, olOLE before (as Outlook reports it)."""
        return constants.olByValue if self._owner._item._p["EntryID"] else constants.olOLE

    def SaveAsFile(self, Path: str) -> None:
        """Write the attachment's bytes to ``Path``."""
        self._touch()
        with open(Path, "wb") as fh:
            fh.write(self._record["data"])

    def Delete(self) -> None:
        """Remove the attachment from the item."""
        self._touch()
        self._owner._records.remove(self._record)
        self._owner._item._dirty = True


class Attachments(OomObject):
    """``item.Attachments`` (1-based; a contact picture is a hidden member of it)."""

    def __init__(self, item: Any) -> None:
        super().__init__(item._app)
        self._item = item
        self._records: list[dict[str, Any]] = item._attachments

    @property
    def Count(self) -> int:
        """Number of attachments (the contact picture included)."""
        return len(self._records)

    def Add(
        self,
        Source: str,
        Type: int = 1,
        Position: Any = None,
        DisplayName: str | None = None,
    ) -> Attachment:
        """Attach the file at ``Source`` (by value: its bytes are copied)."""
        self._touch()
        if Type not in (constants.olByValue, constants.olEmbeddeditem):
            raise com_error(E_INVALIDARG, f"attachment type {Type} is not supported")
        try:
            with open(Source, "rb") as fh:
                data = fh.read()
        except OSError:
            raise com_error(MAPI_E_NOT_FOUND, f"cannot find file {Source}") from None
        name = os.path.basename(Source)
        record = {"filename": name, "display": DisplayName or name, "data": data}
        self._records.append(record)
        self._item._dirty = True
        return Attachment(self, record, len(self._records))

    def Item(self, Index: int) -> Attachment:
        """By 1-based index."""
        self._touch()
        if not 1 <= Index <= len(self._records):
            raise com_error(E_INVALIDARG, "array index out of bounds")
        return Attachment(self, self._records[Index - 1], Index)

    def Remove(self, Index: int) -> None:
        """Remove by 1-based index."""
        self.Item(Index).Delete()

    def __iter__(self) -> Iterator[Attachment]:
        return (Attachment(self, r, i + 1) for i, r in enumerate(list(self._records)))

    def __len__(self) -> int:
        return len(self._records)


class AddressEntry(OomObject):
    """The address-book entry behind a resolved recipient."""

    _PROPS: ClassVar[dict[str, Any]] = {"Name": "", "Address": "", "Type": "SMTP"}
    _READONLY = frozenset(_PROPS)


class Recipient(OomObject):
    """A recipient (meeting attendee, task assignee, distribution-list member)."""

    _PROPS: ClassVar[dict[str, Any]] = {
        "Name": "",
        "Address": "",
        "Type": 1,
        "MeetingResponseStatus": 0,
        "Resolved": False,
    }
    _READONLY = frozenset({"Name", "Address", "Resolved"})

    def __init__(self, app: Application, record: dict[str, Any]) -> None:
        super().__init__(app)
        self._record = record
        self._p.update(
            {k: record[k] for k in ("Name", "Address", "Type", "MeetingResponseStatus", "Resolved")}
        )

    def _set(self, name: str, value: Any) -> None:
        super()._set(name, value)
        self._record[name] = self._p[name]

    @property
    def AddressEntry(self) -> AddressEntry | None:
        """The resolved entry (None until resolved)."""
        if not self._record["Resolved"]:
            return None
        entry = AddressEntry(self._app)
        entry._p.update(Name=self._record["Name"], Address=self._record["Address"])
        return entry

    def Resolve(self) -> bool:
        """Resolve the typed text: ``"Name <addr>"`` or a bare address resolve, names don't."""
        self._touch()
        return _resolve(self._record)


def new_recipient_record(text: str) -> dict[str, Any]:
    """Unresolved recipient data for the text typed in a To box."""
    return {
        "Name": text,
        "Address": "",
        "Type": constants.olRequired,
        "MeetingResponseStatus": 0,
        "Resolved": False,
    }


def _resolve(record: dict[str, Any]) -> bool:
    text = record["Name"].strip()
    if "<" in text and text.endswith(">"):
        name, _, addr = text[:-1].rpartition("<")
        name = name.strip()
        if len(name) >= 2 and name[0] == name[-1] == '"':
            name = name[1:-1]
        if _ADDRESS.match(addr.strip()):
            record.update(Name=name or addr.strip(), Address=addr.strip(), Resolved=True)
    elif _ADDRESS.match(text):
        record.update(Name=text, Address=text, Resolved=True)
    return bool(record["Resolved"])


_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")


class Recipients(OomObject):
    """``item.Recipients``: Add / Item / Remove / ResolveAll / Count (1-based)."""

    def __init__(self, app: Application, records: list[dict[str, Any]], owner: Any = None):
        super().__init__(app)
        self._records = records
        self._owner = owner

    def _changed(self) -> None:
        if self._owner is not None:
            self._owner._dirty = True

    @property
    def Count(self) -> int:
        """Number of recipients."""
        return len(self._records)

    def Add(self, Name: str) -> Recipient:
        """Add an (unresolved) recipient for ``Name`` (display name or address)."""
        self._touch()
        record = new_recipient_record(Name)
        self._records.append(record)
        self._changed()
        return Recipient(self._app, record)

    def Item(self, Index: int) -> Recipient:
        """By 1-based index."""
        self._touch()
        if not 1 <= Index <= len(self._records):
            raise com_error(E_INVALIDARG, "array index out of bounds")
        return Recipient(self._app, self._records[Index - 1])

    def Remove(self, Index: int) -> None:
        """Remove by 1-based index."""
        self._touch()
        if not 1 <= Index <= len(self._records):
            raise com_error(E_INVALIDARG, "array index out of bounds")
        del self._records[Index - 1]
        self._changed()

    def ResolveAll(self) -> bool:
        """Resolve every recipient; True if all resolved."""
        self._touch()
        return all([_resolve(r) for r in self._records])

    def __iter__(self) -> Iterator[Recipient]:
        return (Recipient(self._app, r) for r in list(self._records))

    def __len__(self) -> int:
        return len(self._records)


_NS_STRING = "http://schemas.microsoft.com/mapi/string/"
_NS_PROPTAG = "http://schemas.microsoft.com/mapi/proptag/"


def user_property_name(schema: str) -> str | None:
    """The UserProperty a string-namespace schema name in PS_PUBLIC_STRINGS refers to."""
    if not schema.startswith(_NS_STRING):
        return None
    rest = schema[len(_NS_STRING) :]
    guid, _, name = rest.partition("/")
    if guid.upper() != PS_PUBLIC_STRINGS.upper():
        return None
    name = name.partition("/")[0]
    return name.replace("%20", " ").replace("%22", '"').replace("%27", "'").replace("%25", "%")


class PropertyAccessor(OomObject):
    """``item.PropertyAccessor`` over schema names (proptag / id / string namespaces)."""

    def __init__(self, item: Any) -> None:
        super().__init__(item._app)
        self._item = item

    def GetProperty(self, SchemaName: str) -> Any:
        """Value by schema name; PT_SYSTIME values come back in UTC."""
        self._touch()
        return self._item._schema_get(SchemaName)

    def SetProperty(self, SchemaName: str, Value: Any) -> None:
        """Set a value by schema name (saved with the item's ``Save``)."""
        self._touch()
        self._item._dirty = True
        if SchemaName.startswith("https://"):
            raise com_error(MAPI_E_NOT_FOUND, "unknown property (use http:// schema names)")
        name = user_property_name(SchemaName)
        if name is not None:
            kind = self._item._user.get(name, (constants.olText, ""))[0]
            self._item._user[name] = (kind, _coerce_user_value(kind, Value))
        elif SchemaName.startswith(_NS_PROPTAG):
            raise com_error(E_FAIL, f"property {SchemaName} is read-only or computed")
        else:
            self._item._accessor[SchemaName] = copy.deepcopy(Value)

    def GetProperties(self, SchemaNames: list[str]) -> list[Any]:
        """Several values at once."""
        return [self.GetProperty(s) for s in SchemaNames]

    def DeleteProperty(self, SchemaName: str) -> None:
        """Remove a custom property."""
        self._touch()
        self._item._dirty = True
        name = user_property_name(SchemaName)
        if name is not None:
            self._item._user.pop(name, None)
        else:
            self._item._accessor.pop(SchemaName, None)
