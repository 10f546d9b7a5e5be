"""Item classes of the fake object model: the common item, contacts, lists and tasks.

An item object is an *open copy* of what its folder stores, as with COM: edits stay on
the object until ``Save()`` writes them back (and stamps ``LastModificationTime``);
two opens of the same item are independent. ``Move`` gives the item a new ``EntryID``
and kills the old object; ``Delete`` moves it to Deleted Items (permanent there).
"""

from __future__ import annotations

import copy
import os
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from oxsync.testing.outlook._base import (
    _NS_PROPTAG,
    _PICTURE_EXTENSIONS,
    PICTURE_NAME,
    Attachments,
    OomObject,
    PropertyAccessor,
    Recipient,
    Recipients,
    UserProperties,
    user_property_name,
)
from oxsync.testing.outlook._com import (
    E_FAIL,
    E_INVALIDARG,
    MAPI_E_NOT_FOUND,
    NO_DATE,
    com_error,
    labelled_utc,
)
from oxsync.testing.outlook.constants import constants

if TYPE_CHECKING:
    from oxsync.testing.outlook._model import Application, Folder

__all__ = ["ContactItem", "DistListItem", "OutlookItem", "TaskItem"]


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
}


class OutlookItem(OomObject):
    """Behaviour shared by every item class (save, delete, move, copy, properties)."""

    _PROPS: ClassVar[dict[str, Any]] = dict(_COMMON)
    _READONLY: ClassVar[frozenset[str]] = frozenset({"EntryID", "MessageClass"})
    CLASS: ClassVar[int] = 0
    ITEM_TYPE: ClassVar[int] = 0
    MESSAGE_CLASS: ClassVar[str] = "IPM"

    def __init__(self, app: Application, folder: Folder | None) -> None:
        super().__init__(app)
        self._folder = folder
        self._p["MessageClass"] = self.MESSAGE_CLASS
        self._user: dict[str, tuple[int, Any]] = {}
        self._attachments: list[dict[str, Any]] = []
        self._recipients: list[dict[str, Any]] = []
        self._accessor: dict[str, Any] = {}
        self._created_utc: datetime | None = None
        self._lmt_utc: datetime | None = None
        self._signal: datetime | None = None
        self._dead = False
        self._dirty = True

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
        if name == "Body":  # writing the plain text drops the rich text formatting
            text = str(self._p["Body"]).replace("\\", "\\\\").replace("{", "\\{")
            text = text.replace("}", "\\}").replace("\r\n", "\\par ").replace("\n", "\\par ")
            self._p["RTFBody"] = ("{\\rtf1\\ansi " + text + "}").encode("utf-8")
        self._dirty = True

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


_CONTACT_STRINGS = [
    "Title",
    "FirstName",
    "MiddleName",
    "LastName",
    "Suffix",
    "FileAs",
    "NickName",
    "Initials",
    "CompanyName",
    "JobTitle",
    "Department",
    "OfficeLocation",
    "Profession",
    "ManagerName",
    "AssistantName",
    "BusinessTelephoneNumber",
    "Business2TelephoneNumber",
    "BusinessFaxNumber",
    "HomeTelephoneNumber",
    "Home2TelephoneNumber",
    "HomeFaxNumber",
    "MobileTelephoneNumber",
    "AssistantTelephoneNumber",
    "CallbackTelephoneNumber",
    "CarTelephoneNumber",
    "CompanyMainTelephoneNumber",
    "ISDNNumber",
    "OtherTelephoneNumber",
    "OtherFaxNumber",
    "PagerNumber",
    "PrimaryTelephoneNumber",
    "RadioTelephoneNumber",
    "TelexNumber",
    "TTYTDDTelephoneNumber",
    "IMAddress",
    "WebPage",
    "BusinessHomePage",
    "PersonalHomePage",
    "Spouse",
    "Children",
    "Hobby",
    "User1",
    "User2",
    "User3",
    "User4",
    "Account",
    "CustomerID",
    "GovernmentIDNumber",
    "ReferredBy",
    "Language",
]
for _kind in ("Business", "Home", "Other"):
    _CONTACT_STRINGS.append(f"{_kind}Address")
    for _part in ("Street", "City", "State", "PostalCode", "Country", "PostOfficeBox"):
        _CONTACT_STRINGS.append(f"{_kind}Address{_part}")
for _n in (1, 2, 3):
    _CONTACT_STRINGS += [
        f"Email{_n}Address",
        f"Email{_n}DisplayName",
        f"Email{_n}AddressType",
        f"Email{_n}EntryID",
    ]

_NAME_PARTS = ("Title", "FirstName", "MiddleName", "LastName", "Suffix")


class ContactItem(OutlookItem):
    """``IPM.Contact`` (OlObjectClass 40)."""

    _PROPS: ClassVar[dict[str, Any]] = {
        **_COMMON,
        **dict.fromkeys(_CONTACT_STRINGS, ""),
        "Birthday": NO_DATE,
        "Anniversary": NO_DATE,
        "Gender": 0,
        "SelectedMailingAddress": 0,
    }
    _READONLY = OutlookItem._READONLY | {"Email1EntryID", "Email2EntryID", "Email3EntryID"}
    _DATES = frozenset({"Birthday", "Anniversary"})
    CLASS = constants.olContact
    ITEM_TYPE = constants.olContactItem
    MESSAGE_CLASS = "IPM.Contact"

    @property
    def FullName(self) -> str:
        """The name parts joined; writing it re-parses into the parts."""
        return " ".join(self._p[p] for p in _NAME_PARTS if self._p[p])

    @FullName.setter
    def FullName(self, value: str) -> None:
        words = (value or "").split()
        for part in _NAME_PARTS:
            self._p[part] = ""
        if words:
            self._p["FirstName"] = words[0]
        if len(words) > 1:
            self._p["LastName"] = words[-1]
            self._p["MiddleName"] = " ".join(words[1:-1])
        self._dirty = True

    @property
    def HasPicture(self) -> bool:
        """Whether the contact has a picture."""
        return any(a.get("hidden") for a in self._attachments)

    def AddPicture(self, Path: str) -> None:
        """Set the contact picture from an image file (replaces the existing one)."""
        self._touch()
        if os.path.splitext(Path)[1].lower() not in _PICTURE_EXTENSIONS:
            raise com_error(E_INVALIDARG, f"{Path} is not a supported picture format")
        try:
            with open(Path, "rb") as fh:
                data = fh.read()
        except OSError:
            raise com_error(MAPI_E_NOT_FOUND, f"cannot find file {Path}") from None
        self._attachments[:] = [a for a in self._attachments if not a.get("hidden")]
        self._attachments.append(
            {"filename": PICTURE_NAME, "display": PICTURE_NAME, "data": data, "hidden": True}
        )
        self._dirty = True

    def RemovePicture(self) -> None:
        """Remove the contact picture."""
        self._touch()
        self._attachments[:] = [a for a in self._attachments if not a.get("hidden")]
        self._dirty = True

    def _before_save(self) -> None:
        for n in (1, 2, 3):
            if self._p[f"Email{n}Address"] and not self._p[f"Email{n}AddressType"]:
                self._p[f"Email{n}AddressType"] = "SMTP"


class DistListItem(OutlookItem):
    """``IPM.DistList`` (OlObjectClass 69); members are recipients."""

    _PROPS: ClassVar[dict[str, Any]] = dict(_COMMON)
    CLASS = constants.olDistributionList
    ITEM_TYPE = constants.olDistributionListItem
    MESSAGE_CLASS = "IPM.DistList"

    @property
    def DLName(self) -> str:
        """The list's name (Outlook keeps Subject equal to it)."""
        return str(self._p["Subject"])

    @DLName.setter
    def DLName(self, value: str) -> None:
        self._p["Subject"] = value or ""
        self._dirty = True

    @property
    def MemberCount(self) -> int:
        """Number of members."""
        return len(self._recipients)

    def GetMember(self, Index: int) -> Recipient:
        """The member at 1-based ``Index``."""
        self._touch()
        if not 1 <= Index <= len(self._recipients):
            raise com_error(E_INVALIDARG, "array index out of bounds")
        return Recipient(self._app, self._recipients[Index - 1])

    def AddMember(self, Recipient: Recipient) -> None:
        """Add a resolved recipient as a member."""
        self._touch()
        if not Recipient._record["Resolved"]:
            raise com_error(E_FAIL, "the recipient must be resolved before it is added")
        self._recipients.append(dict(Recipient._record))
        self._dirty = True

    def AddMembers(self, Recipients: Recipients) -> None:
        """Add every recipient of a Recipients collection."""
        for recipient in Recipients:
            self.AddMember(recipient)

    def RemoveMember(self, Recipient: Recipient) -> None:
        """Remove the member with the recipient's address."""
        self._touch()
        address = Recipient._record["Address"]
        for i, record in enumerate(self._recipients):
            if record["Address"].lower() == address.lower():
                del self._recipients[i]
                self._dirty = True
                return
        raise com_error(MAPI_E_NOT_FOUND, f"{address} is not a member")

    def RemoveMembers(self, Recipients: Recipients) -> None:
        """Remove several members."""
        for recipient in Recipients:
            self.RemoveMember(recipient)


class TaskItem(OutlookItem):
    """``IPM.Task`` (OlObjectClass 48), with Outlook's status / percent / complete coupling."""

    _PROPS: ClassVar[dict[str, Any]] = {
        **_COMMON,
        "StartDate": NO_DATE,
        "DueDate": NO_DATE,
        "DateCompleted": NO_DATE,
        "Complete": False,
        "Status": 0,
        "PercentComplete": 0,
        "ReminderSet": False,
        "ReminderTime": NO_DATE,
        "TotalWork": 0,
        "ActualWork": 0,
        "ContactNames": "",
        "Owner": "",
        "Ownership": 0,
        "DelegationState": 0,
        "Delegator": "",
        "ResponseState": 0,
        "Role": "",
        "TeamTask": False,
        "StatusUpdateRecipients": "",
        "StatusOnCompletionRecipients": "",
        "IsRecurring": False,
    }
    _READONLY = OutlookItem._READONLY | {
        "Ownership",
        "DelegationState",
        "Delegator",
        "ResponseState",
        "IsRecurring",
    }
    _DATES = frozenset({"StartDate", "DueDate", "DateCompleted", "ReminderTime"})
    CLASS = constants.olTask
    ITEM_TYPE = constants.olTaskItem
    MESSAGE_CLASS = "IPM.Task"

    def __init__(self, app: Application, folder: Folder | None) -> None:
        super().__init__(app, folder)
        self._pattern: dict[str, Any] | None = None

    def _extra_state(self) -> dict[str, Any]:
        return {"pattern": copy.deepcopy(self._pattern)}

    def _load_extra(self, state: dict[str, Any]) -> None:
        self._pattern = copy.deepcopy(state.get("pattern"))
        self._p["IsRecurring"] = self._pattern is not None

    def _set(self, name: str, value: Any) -> None:
        super()._set(name, value)
        p = self._p
        if name == "PercentComplete":
            if not 0 <= p["PercentComplete"] <= 100:
                raise com_error(E_INVALIDARG, "PercentComplete must be within 0..100")
            if p["PercentComplete"] == 100:
                self._complete()
            elif p["Status"] == constants.olTaskComplete or p["Complete"]:
                p["Complete"] = False
                p["DateCompleted"] = NO_DATE
                p["Status"] = (
                    constants.olTaskInProgress
                    if p["PercentComplete"]
                    else constants.olTaskNotStarted
                )
        elif name == "Status":
            if p["Status"] == constants.olTaskComplete:
                self._complete()
            elif p["Complete"]:
                p["Complete"] = False
                p["DateCompleted"] = NO_DATE
                if p["PercentComplete"] == 100:
                    p["PercentComplete"] = 0
        elif name == "Complete":
            if p["Complete"]:
                self._complete()
            elif p["Status"] == constants.olTaskComplete:
                p["Status"] = constants.olTaskNotStarted
                p["PercentComplete"] = 0
                p["DateCompleted"] = NO_DATE

    def _complete(self) -> None:
        p = self._p
        p["Complete"] = True
        p["Status"] = constants.olTaskComplete
        p["PercentComplete"] = 100
        if p["DateCompleted"] == NO_DATE:
            today = self._app._to_local(self._app.clock.stamp())
            p["DateCompleted"] = datetime(today.year, today.month, today.day)

    def MarkComplete(self) -> None:
        """Set 100 %, Complete and DateCompleted = today."""
        self._touch()
        self._complete()
        self._dirty = True

    @property
    def Recipients(self) -> Recipients:
        """Assignees of a delegated task."""
        return Recipients(self._app, self._recipients, self)

    def Assign(self) -> None:
        """Turn the task into an assignment (delegated, state unknown until answered)."""
        self._touch()
        self._p["Ownership"] = constants.olDelegatedTask
        self._p["DelegationState"] = constants.olTaskDelegationUnknown
        self._p["Delegator"] = self._app.Session.CurrentUser.Name
        self._dirty = True

    def GetRecurrencePattern(self) -> Any:
        """The recurrence pattern (created, making the task recurring, if none)."""
        from oxsync.testing.outlook._recurrence import RecurrencePattern

        self._touch()
        if self._pattern is None:
            self._pattern = RecurrencePattern.initial(self._task_anchor(), 0)
            self._p["IsRecurring"] = True
            self._dirty = True
        return RecurrencePattern(self)

    def ClearRecurrencePattern(self) -> None:
        """Make the task non-recurring."""
        self._touch()
        self._pattern = None
        self._p["IsRecurring"] = False
        self._dirty = True

    def _task_anchor(self) -> datetime:
        for name in ("StartDate", "DueDate"):
            if self._p[name] != NO_DATE:
                return datetime.combine(self._p[name].date(), datetime.min.time())
        today = self._app._to_local(self._app.clock.stamp())
        return datetime(today.year, today.month, today.day)

    def _validate(self) -> None:
        if self._pattern is not None:
            from oxsync.testing.outlook._recurrence import validate_pattern

            validate_pattern(self._pattern)
        if self._p["Ownership"] == constants.olNewTask and self._p["EntryID"] == "":
            self._p["Ownership"] = constants.olOwnTask
