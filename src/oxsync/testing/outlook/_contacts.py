"""``ContactItem`` (with its picture) and ``DistListItem`` of the fake object model."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, ClassVar

from oxsync.testing.outlook._base import (
    _PICTURE_EXTENSIONS,
    PICTURE_NAME,
    Recipient,
    Recipients,
)
from oxsync.testing.outlook._com import E_FAIL, E_INVALIDARG, MAPI_E_NOT_FOUND, NO_DATE, com_error
from oxsync.testing.outlook._items import _COMMON, OutlookItem
from oxsync.testing.outlook.constants import constants

if TYPE_CHECKING:
    pass

__all__ = ["ContactItem", "DistListItem"]

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
