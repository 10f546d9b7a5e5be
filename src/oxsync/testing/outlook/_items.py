"""The common item class of the fake object model (contacts, lists, tasks and
appointments build on it).

An item object is an *open copy* of what its folder stores, as with COM: edits stay on
the object until ``Save()`` writes them back (and stamps ``LastModificationTime``);
two opens of the same item are independent. ``Move`` gives the item a new ``EntryID``
and kills the old object; ``Delete`` moves it to Deleted Items (permanent there).
"""

from __future__ import annotations

import copy
import html
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from oxsync.mappings.html_text import text_of_html
from oxsync.testing.outlook._base import (
    _NS_PROPTAG,
    Attachments,
    OomObject,
    PropertyAccessor,
    UserProperties,
    user_property_name,
)
from oxsync.testing.outlook._com import (
    E_FAIL,
    MAPI_E_NOT_FOUND,
    NO_DATE,
    com_error,
    labelled_utc,
)
from oxsync.testing.outlook.constants import constants

if TYPE_CHECKING:
    from oxsync.testing.outlook._model import Application, Folder

__all__ = ["OutlookItem"]


def _copied(value: Any) -> Any:
    """Deep copy, skipping the (common) empty containers."""
    return copy.deepcopy(value) if value else type(value)()


_COMMON: dict[str, Any] = {
    "EntryID": "",
    "Subject": "",
    "Body": "",
    "Categories": "",
    "Sensitivity": 0,
    "Importance": 1,
    "MessageClass": "IPM",
    "Mileage": "",
    "BillingInformation": "",
    "Companies": "",
    "RTFBody": b"",
    "BodyFormat": constants.olFormatPlain,
    "HTMLBody": None,  # None: the HTML Outlook makes of Body, built when read
}


class OutlookItem(OomObject):
    """Behaviour shared by every item class (save, delete, move, copy, properties)."""

    _PROPS: ClassVar[dict[str, Any]] = dict(_COMMON)
    _READONLY: ClassVar[frozenset[str]] = frozenset({"EntryID", "MessageClass", "BodyFormat"})
    CLASS: ClassVar[int] = 0
    ITEM_TYPE: ClassVar[int] = 0
    MESSAGE_CLASS: ClassVar[str] = "IPM"
    # every other plain write is stored and marks the item dirty, as _set below does
    _DIRECT_WRITES: ClassVar[bool] = True
    _SET_HOOKS: ClassVar[frozenset[str]] = frozenset({"Body", "RTFBody"})

    def __init__(self, app: Application, folder: Folder | None) -> None:
        super().__init__(app)
        self._p["MessageClass"] = self.MESSAGE_CLASS
        self._folder: Folder | None
        self._user: dict[str, tuple[int, Any]]
        self._attachments: list[dict[str, Any]]
        self._recipients: list[dict[str, Any]]
        self._accessor: dict[str, Any]
        self._created_utc: datetime | None
        self._lmt_utc: datetime | None
        self._signal: datetime | None
        self.__dict__.update(  # one update: every open of an item goes through here
            _folder=folder,
            _user={},
            _attachments=[],
            _recipients=[],
            _accessor={},
            _created_utc=None,
            _lmt_utc=None,
            _signal=None,
            _dead=False,
            _dirty=True,
        )

    # ------------------------------------------------------------------ state

    def _state(self) -> dict[str, Any]:
        """A deep snapshot of everything ``Save`` persists."""
        return {
            "class": type(self).__name__,
            "props": dict(self._p),
            "user": dict(self._user),
            "attachments": _copied(self._attachments),
            "recipients": _copied(self._recipients),
            "accessor": _copied(self._accessor),
            "created": self._created_utc,
            "lmt": self._lmt_utc,
            "signal": self._signal,
            **self._extra_state(),
        }

    def _load(self, state: dict[str, Any]) -> None:
        self._p.update(state["props"])
        self._user = dict(state["user"])
        self._attachments = _copied(state["attachments"])
        self._recipients = _copied(state["recipients"])
        self._accessor = _copied(state["accessor"])
        self._created_utc = state["created"]
        self._lmt_utc = state["lmt"]
        self._signal = state["signal"]
        self._load_extra(state)
        self._dirty = False

    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _load_extra(self, state: dict[str, Any]) -> None:
        pass

    def _set(self, name: str, value: Any) -> None:
        super()._set(name, value)
        p = self._p
        if name == "Body":  # writing the plain text drops the rich text and the HTML
            p["RTFBody"] = _rtf_of_text(p["Body"])
            p["BodyFormat"] = constants.olFormatPlain
            p["HTMLBody"] = None
        elif name == "RTFBody":
            p["BodyFormat"] = constants.olFormatRichText
        self.__dict__["_dirty"] = True

    @property
    def HTMLBody(self) -> str:
        """The body as HTML (made from Body unless HTML was written)."""
        self._touch()
        html = self._p["HTMLBody"]
        return _html_of_text(self._p["Body"]) if html is None else str(html)

    @HTMLBody.setter
    def HTMLBody(self, value: str) -> None:
        # Outlook switches the item to HTML and derives the plain text (and the RTF) from it
        html = "" if value is None else str(value)
        p = self._p
        p["HTMLBody"] = html
        p["Body"] = text_of_html(html)
        p["RTFBody"] = _rtf_of_text(p["Body"])
        p["BodyFormat"] = constants.olFormatHTML
        self.__dict__["_dirty"] = True

    def _check_alive(self) -> None:
        if self.__dict__.get("_dead"):
            raise com_error(MAPI_E_NOT_FOUND, "The item has been moved or deleted.")

    # ------------------------------------------------------------------ read-only properties

    @property
    def Class(self) -> int:
        """OlObjectClass of the item."""
        return self.CLASS

    @property
    def CreationTime(self) -> datetime:
        """When the item was first saved (local, labelled UTC; 4501-01-01 before)."""
        if self._created_utc is None:
            return labelled_utc(NO_DATE)
        return labelled_utc(self._app._to_local(self._created_utc))

    @property
    def LastModificationTime(self) -> datetime:
        """When the item was last saved (local, labelled UTC)."""
        if self._lmt_utc is None:
            return labelled_utc(NO_DATE)
        return labelled_utc(self._app._to_local(self._lmt_utc))

    @property
    def Size(self) -> int:
        """Approximate size in bytes."""
        return 200 + sum(len(str(v)) for v in self._p.values())

    @property
    def Saved(self) -> bool:
        """True when the object has no unsaved edits."""
        return bool(self._p["EntryID"]) and not self._dirty

    @property
    def Parent(self) -> Folder:
        """The folder holding the item."""
        return self._target_folder()

    @property
    def UserProperties(self) -> UserProperties:
        """The item's user-defined properties."""
        return UserProperties(self)

    @property
    def Attachments(self) -> Attachments:
        """The item's attachments."""
        return Attachments(self)

    @property
    def PropertyAccessor(self) -> PropertyAccessor:
        """Access to MAPI properties by schema name."""
        return PropertyAccessor(self)

    # ------------------------------------------------------------------ methods

    def _target_folder(self) -> Folder:
        if self._folder is None:
            self._folder = self._app.Session._default_for_type(self.ITEM_TYPE)
        return self._folder

    def _validate(self) -> None:
        """Raise a com_error if Outlook would refuse to save the item."""

    def Save(self) -> None:
        """Write the object's state to its folder (stamps LastModificationTime)."""
        self._touch()
        self._validate()
        self._before_save()
        folder = self._target_folder()
        is_new = not self._p["EntryID"]
        now = self._app.clock.stamp()
        if is_new:
            self._p["EntryID"] = self._app._new_entry_id()
            self._created_utc = now
        self._lmt_utc = now
        self._dirty = False
        folder._store(self, is_new=is_new)

    def _before_save(self) -> None:
        pass

    def Close(self, SaveMode: int = 1) -> None:
        """Close the inspector: 0 saves, 1 discards, 2 prompts (treated as discard)."""
        self._touch()
        if SaveMode == 0:
            self.Save()

    def Delete(self) -> None:
        """Move the item to Deleted Items (delete it for good if it is there already)."""
        self._touch()
        folder = self._existing_folder()
        trash = self._app.Session.GetDefaultFolder(constants.olFolderDeletedItems)
        if folder is trash:
            folder._remove(self._p["EntryID"])
        else:
            folder._move_out(self._p["EntryID"], trash)
        self._dead = True

    def Move(self, DestFldr: Folder) -> OutlookItem:
        """Move to ``DestFldr``; returns the moved item (new EntryID); this object dies."""
        self._touch()
        folder = self._existing_folder()
        if self._dirty:
            raise com_error(E_FAIL, "save the item before moving it")
        new_id = folder._move_out(self._p["EntryID"], DestFldr)
        self._dead = True
        return DestFldr._open(new_id)

    def Copy(self) -> OutlookItem:
        """Duplicate the item in its folder (user properties and global ids included)."""
        self._touch()
        folder = self._existing_folder()
        return folder._open(folder._copy_in(self._p["EntryID"]))

    def _existing_folder(self) -> Folder:
        if not self._p["EntryID"] or self._folder is None:
            raise com_error(E_FAIL, "the item has not been saved")
        return self._folder

    # ------------------------------------------------------------------ schema names

    def _schema_get(self, schema: str) -> Any:
        name = user_property_name(schema)
        if name is not None:
            if name not in self._user:
                raise com_error(MAPI_E_NOT_FOUND, f"property {schema} is unknown")
            return self._user[name][1]
        if schema.startswith(_NS_PROPTAG):
            tag = schema[len(_NS_PROPTAG) :].lower()
            if tag == "0x30080040":
                return self._lmt_utc
            if tag == "0x30070040":
                return self._created_utc
            if tag == "0x0fff0102":
                return bytes.fromhex(self._p["EntryID"])
            if tag in ("0x001a001f", "0x001a001e"):
                return self._p["MessageClass"]
            if tag in ("0x0037001f", "0x0037001e"):
                return self._p["Subject"]
        if schema in self._accessor:
            return copy.deepcopy(self._accessor[schema])
        raise com_error(MAPI_E_NOT_FOUND, f"property {schema} is unknown or cannot be found")


def _rtf_of_text(text: str) -> bytes:
    text = str(text).replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}")
    text = text.replace("\r\n", "\\par ").replace("\n", "\\par ")
    return ("{\\rtf1\\ansi " + text + "}").encode("utf-8")


def _html_of_text(text: str) -> str:
    body = html.escape(str(text)).replace("\r\n", "<br>\r\n")
    return f"<html><body>{body}</body></html>" if body else ""
