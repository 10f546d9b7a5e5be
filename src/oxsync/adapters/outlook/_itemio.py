"""Reading and writing one Outlook item as a dict of OOM property values.

This is the native form :mod:`oxsync.mappings.outlook` converts: OOM property name ->
value, dates as naive local wall clock (``None`` for Outlook's no-date), plus structured
keys for what is not a plain property:

``_recurrence``  RecurrencePattern properties (write order = dict order); None clears the
                 pattern; absent (contacts, lists) leaves the pattern alone;
``_exceptions``  ``[{"OriginalDate", "Deleted", <changed occurrence properties>}]``;
``_recipients``  ``[{"Name", "Address", "Type", "MeetingResponseStatus"}]``;
``_members``     distribution-list members ``[{"Name", "Address"}]``;
``_picture``     contact picture bytes (the hidden ``ContactPicture.jpg``) or None;
``_attachments`` ``[{"FileName", "DisplayName", "Data"}]`` (picture excluded);
``_user_properties`` ``{name: value}``.

Attachments and pictures go through temporary files (the OOM takes only paths). All COM
calls here run inside the store's error translation.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from oxsync.adapters.outlook._stored import OCCURRENCE, usual_occurrence
from oxsync.adapters.outlook._time import from_com, to_com
from oxsync.core.records import ItemKind

__all__ = [
    "ITEM_TYPE",
    "MESSAGE_CLASS_KIND",
    "OL_FORMAT_HTML",
    "READ_PROPERTIES",
    "body_format_of",
    "read_item",
    "safe_file_name",
    "write_after_save",
    "write_item",
]

ITEM_TYPE = {
    ItemKind.EVENT: 1,
    ItemKind.CONTACT: 2,
    ItemKind.TASK: 3,
    ItemKind.DISTRIBUTION_LIST: 7,
}
"""OlItemType for each kind (``Items.Add``)."""

MESSAGE_CLASS_KIND = {
    "IPM.Contact": ItemKind.CONTACT,
    "IPM.DistList": ItemKind.DISTRIBUTION_LIST,
    "IPM.Appointment": ItemKind.EVENT,
    "IPM.Task": ItemKind.TASK,
}
"""Item kind by message class prefix (custom forms add ``.Something``)."""

PICTURE_NAME = "ContactPicture.jpg"

_COMMON = [
    "Subject",
    "Body",
    "Categories",
    "Sensitivity",
    "Importance",
    "Mileage",
    "BillingInformation",
    "Companies",
    "CreationTime",
    "LastModificationTime",
]
_CONTACT = [
    "Title",
    "FirstName",
    "MiddleName",
    "LastName",
    "Suffix",
    "FullName",
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
    "Birthday",
    "Anniversary",
    "Gender",
    "SelectedMailingAddress",
    "HasPicture",
    "BusinessAddress",
    "HomeAddress",
    "OtherAddress",
    *[
        f"{k}Address{p}"
        for k in ("Business", "Home", "Other")
        for p in ("Street", "City", "State", "PostalCode", "Country", "PostOfficeBox")
    ],
    *[f"Email{n}{p}" for n in (1, 2, 3) for p in ("Address", "DisplayName", "AddressType")],
]
_EVENT = [
    "Start",
    "End",
    "AllDayEvent",
    "Location",
    "BusyStatus",
    "ReminderSet",
    "ReminderMinutesBeforeStart",
    "MeetingStatus",
    "ResponseStatus",
    "Organizer",
    "IsRecurring",
    "GlobalAppointmentID",
    "Duration",
]
_TASK = [
    "StartDate",
    "DueDate",
    "DateCompleted",
    "Complete",
    "Status",
    "PercentComplete",
    "ReminderSet",
    "ReminderTime",
    "TotalWork",
    "ActualWork",
    "ContactNames",
    "Owner",
    "Ownership",
    "DelegationState",
    "Delegator",
    "Role",
    "TeamTask",
    "IsRecurring",
]

READ_PROPERTIES: dict[ItemKind, list[str]] = {
    ItemKind.CONTACT: _COMMON + _CONTACT,
    ItemKind.DISTRIBUTION_LIST: [*_COMMON, "DLName", "MemberCount"],
    ItemKind.EVENT: _COMMON + _EVENT,
    ItemKind.TASK: _COMMON + _TASK,
}
"""Properties read from an opened item, per kind."""

READ_ONLY = frozenset(
    {
        "EntryID",
        "Class",
        "MessageClass",
        "CreationTime",
        "LastModificationTime",
        "HasPicture",
        "MemberCount",
        "IsRecurring",
        "RecurrenceState",
        "GlobalAppointmentID",
        "ResponseStatus",
        "Organizer",
        "Ownership",
        "DelegationState",
        "Delegator",
        "ResponseState",
        "Size",
        "Saved",
        "Email1EntryID",
        "Email2EntryID",
        "Email3EntryID",
        "ConversationID",
        "Duration",
        "FullName",
        "BodyFormat",
    }
)
"""Properties never written (read-only in the OOM, or derived from others)."""

_PATTERN = [
    "RecurrenceType",
    "Interval",
    "DayOfWeekMask",
    "DayOfMonth",
    "MonthOfYear",
    "Instance",
    "PatternStartDate",
    "PatternEndDate",
    "NoEndDate",
    "Occurrences",
    "Duration",
    "Regenerate",
]


def read_item(item: Any, kind: ItemKind) -> dict[str, Any]:
    """The native dict of an opened item (see the module docstring)."""
    props: dict[str, Any] = {}
    for name in READ_PROPERTIES[kind]:
        props[name] = from_com(getattr(item, name))
    if kind is not ItemKind.DISTRIBUTION_LIST:
        body_format = body_format_of(item)
        props["BodyFormat"] = body_format
        if body_format == OL_FORMAT_HTML:
            props["HTMLBody"] = item.HTMLBody
    users = item.UserProperties
    props["_user_properties"] = {u.Name: from_com(u.Value) for u in users}
    if kind is ItemKind.DISTRIBUTION_LIST:
        members = []
        for i in range(1, item.MemberCount + 1):
            member = item.GetMember(i)
            name, address = member.Name, member.Address
            # Outlook names a one-off member by its address when it was given no name
            members.append({"Name": "" if name == address else name, "Address": address})
            del member
        props["_members"] = members
        return props
    if kind is ItemKind.CONTACT:
        props["_picture"] = None
    attachments = []
    for att in item.Attachments:
        if kind is ItemKind.CONTACT and att.DisplayName == PICTURE_NAME:
            if props.get("HasPicture"):
                props["_picture"] = _attachment_bytes(att)
            continue
        file_name, display = att.FileName, att.DisplayName
        if display and display != file_name and safe_file_name(display) == file_name:
            file_name = display  # a name no file could have: written as DisplayName
        attachments.append(
            {"FileName": file_name, "DisplayName": display, "Data": _attachment_bytes(att)}
        )
    props["_attachments"] = attachments
    if kind in (ItemKind.EVENT, ItemKind.TASK):
        recipients = []
        for r in item.Recipients:
            name, address = r.Name, r.Address
            recipients.append(
                {
                    "Name": "" if name == address else name,
                    "Address": address,
                    "Type": r.Type,
                    "MeetingResponseStatus": r.MeetingResponseStatus,
                }
            )
            del r
        props["_recipients"] = recipients
        if props.get("IsRecurring"):
            pattern = item.GetRecurrencePattern()
            props["_recurrence"] = {n: from_com(getattr(pattern, n)) for n in _PATTERN}
            if kind is ItemKind.EVENT:
                series = {n: props.get(n) for n in OCCURRENCE}
                minutes = int(pattern.Duration)
                props["_exceptions"] = [
                    _read_exception(e, series, minutes) for e in pattern.Exceptions
                ]
            del pattern
    return props


OL_FORMAT_HTML = 2


def body_format_of(item: Any) -> int | None:
    """The item's OlBodyFormat, or None where the object model has no ``BodyFormat``.

    The documented object model gives ``BodyFormat`` and ``HTMLBody`` to mail-like items
    only; an item without them keeps its note as plain ``Body`` (and ``RTFBody``).
    """
    try:
        value = getattr(item, "BodyFormat", None)
    except Exception as exc:  # late-bound COM reports an unknown name as a com_error
        if type(exc).__name__ == "com_error":
            return None
        raise
    return None if value is None else int(value)


def _read_exception(exc: Any, series: Mapping[str, Any], minutes: int) -> dict[str, Any]:
    """One exception: what differs from the series (the OOM does not say what changed)."""
    original = from_com(exc.OriginalDate)
    out: dict[str, Any] = {"OriginalDate": original, "Deleted": bool(exc.Deleted)}
    if not out["Deleted"]:
        occurrence = exc.AppointmentItem
        usual = usual_occurrence(series, original, minutes)
        for name in OCCURRENCE:
            value = from_com(getattr(occurrence, name))
            if value != usual.get(name):
                out[name] = value
        del occurrence
    return out


def _attachment_bytes(att: Any) -> bytes:
    with tempfile.TemporaryDirectory(prefix="oxsync-") as tmp:
        path = os.path.join(tmp, "attachment.bin")
        att.SaveAsFile(path)
        with open(path, "rb") as fh:
            return fh.read()


_UNSET = object()
_NEW_ITEM_DEFAULTS: dict[str, Any] = {"Sensitivity": 0, "Importance": 1, "Gender": 0}
"""What a new item already holds for these enumerations (normal, normal, unspecified):
writing them again would only cost a cross-process call each. SelectedMailingAddress is
not here: Outlook may pick a mailing address on its own once an address is written."""


def _com_value(value: Any) -> Any:
    if isinstance(value, datetime | date) or value is None:
        return to_com(value) if isinstance(value, datetime | date) else value
    return value


def write_item(item: Any, props: Mapping[str, Any], recipient: Any, *, new: bool = False) -> None:
    """Write plain properties, recipients, members, pattern and picture (before Save).

    ``recipient(text)`` makes a resolved Recipient (distribution-list members). On a
    ``new`` item, empty texts and dates are not written: a new item is blank already, and
    every skipped property is one cross-process COM call less.
    """
    ordered: Iterable[tuple[str, Any]] = props.items()
    if "Status" in props or "Complete" in props:
        # Outlook couples a task's Status, Complete and PercentComplete: status goes last
        last = [(n, props[n]) for n in ("Status", "Complete") if n in props]
        ordered = [kv for kv in ordered if kv[0] not in ("Status", "Complete")] + last
    for name, value in ordered:
        if new and (value == "" or value is None):  # most of a new item's properties
            continue
        if name[0] == "_" or name in READ_ONLY:
            continue
        if isinstance(value, date):  # datetime included
            if new and value.year >= 4501:  # Outlook's "no date"
                continue
            value = to_com(value)
        elif new and _NEW_ITEM_DEFAULTS.get(name, _UNSET) == value:
            continue
        elif value is None:
            value = to_com(None) if isinstance(getattr(item, name), datetime) else ""
        setattr(item, name, value)
    if "_members" in props:
        while item.MemberCount:
            item.RemoveMember(item.GetMember(1))
        for member in props["_members"]:
            name, address = member.get("Name") or "", member.get("Address") or ""
            text = f'"{name}" <{address}>' if name and address else (address or name)
            item.AddMember(recipient(text))
    if "_recipients" in props:
        recipients = item.Recipients
        for i in range(recipients.Count, 0, -1):
            recipients.Remove(i)
        for data in props["_recipients"]:
            name, address = data.get("Name") or "", data.get("Address") or ""
            added = recipients.Add(
                f'"{name}" <{address}>' if name and address else (address or name)
            )
            if data.get("Type") is not None:
                added.Type = data["Type"]
            if data.get("MeetingResponseStatus") is not None:
                added.MeetingResponseStatus = data["MeetingResponseStatus"]
            if address:  # a bare name stays a name (Outlook resolves it when sending)
                added.Resolve()
    if "_user_properties" in props:
        set_user_properties(item, props["_user_properties"], new=new)
    if "_picture" in props:
        _write_picture(item, props["_picture"])
    if "_recurrence" in props:  # absent: a kind without a pattern (no COM call to find out)
        _write_pattern(item, props.get("_recurrence"))


def set_user_properties(item: Any, values: Mapping[str, Any], *, new: bool = False) -> None:
    """Create (as text, defined in the folder) or update user properties."""
    users = item.UserProperties
    for name, value in values.items():
        prop = None if new else users.Find(name)
        if prop is None:
            prop = users.Add(name, 1, True)
        prop.Value = "" if value is None else _com_value(value)


_NOT_IN_FILE_NAMES = re.compile(r'[\\/:*?"<>|\x00-\x1f]')
_DEVICE_NAMES = re.compile(r"^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?$", re.IGNORECASE)
_MAX_NAME = 100


def safe_file_name(name: str) -> str:
    """``name`` as a file name Windows accepts, in one folder (never a path).

    Outlook attaches only files (``Attachments.Add`` takes a path and names the
    attachment after it), but an attachment from another store may be named anything:
    ``2024/report.pdf``, ``a:b?.txt``, ``CON.txt``, 300 characters, ``../../x``. Such a
    name used as a path failed the whole write or reached outside the temporary folder.
    Forbidden characters become ``_``; trailing dots and blanks go; device names get a
    ``_`` in front; long names keep their extension within 100 characters. The
    adapter gives the real name as the attachment's DisplayName and reads it back.
    """
    safe = _NOT_IN_FILE_NAMES.sub("_", name).rstrip(". ")
    if _DEVICE_NAMES.match(safe):
        safe = "_" + safe
    if len(safe) > _MAX_NAME:
        stem, dot, ext = safe.rpartition(".")
        if not dot or not stem or len(ext) > 16:
            stem, dot, ext = safe, "", ""
        safe = stem[: _MAX_NAME - len(dot + ext)].rstrip(". ") + dot + ext
    return safe if safe.strip("._ ") else "attachment"


def _write_picture(item: Any, data: bytes | None) -> None:
    if not data:
        if item.HasPicture:
            item.RemovePicture()
        return
    with tempfile.TemporaryDirectory(prefix="oxsync-") as tmp:
        path = os.path.join(tmp, "picture.jpg")
        with open(path, "wb") as fh:
            fh.write(data)
        item.AddPicture(path)


def _write_pattern(item: Any, pattern_props: Mapping[str, Any] | None) -> None:
    if item.IsRecurring:
        # Rebuilding drops stale exceptions; write_after_save adds the wanted ones again.
        item.ClearRecurrencePattern()
    if not pattern_props:
        return
    pattern = item.GetRecurrencePattern()
    for name, value in pattern_props.items():
        if value is None:
            continue
        setattr(pattern, name, _com_value(value))
    del pattern


def write_after_save(item: Any, props: Mapping[str, Any], *, new: bool = False) -> bool:
    """Attachments and recurrence exceptions, which need a saved item; True if saved again.

    A ``new`` item has no attachments but its picture: when none are wanted, its
    ``Attachments`` are not even opened (two COM calls less per created item).
    """
    again = False
    wanted = props.get("_attachments")
    attachments = item.Attachments if wanted or (wanted is not None and not new) else None
    if attachments is not None and (wanted or attachments.Count):
        removed = False
        for i in range(attachments.Count, 0, -1):
            if attachments.Item(i).DisplayName != PICTURE_NAME:
                attachments.Remove(i)
                removed = True
        with tempfile.TemporaryDirectory(prefix="oxsync-") as tmp:
            for n, data in enumerate(props["_attachments"]):
                folder = os.path.join(tmp, str(n))
                os.mkdir(folder)
                name = data.get("FileName") or "attachment"
                safe = safe_file_name(name)
                path = os.path.join(folder, safe)
                with open(path, "wb") as fh:
                    fh.write(data.get("Data") or b"")
                display = data.get("DisplayName") or (None if safe == name else name)
                attachments.Add(path, 1, None, display)
        if wanted or removed:
            item.Save()
            again = True
    exceptions = props.get("_exceptions") or []
    if exceptions and props.get("_recurrence"):
        pattern = item.GetRecurrencePattern()
        for data in exceptions:
            try:
                occurrence = pattern.GetOccurrence(to_com(data["OriginalDate"]))
            except Exception as exc:
                if data.get("Deleted") and type(exc).__name__ == "com_error":
                    continue  # deleting an occurrence the series does not have: nothing to do
                raise
            if data.get("Deleted"):
                occurrence.Delete()
            else:
                for name in OCCURRENCE:
                    if name in data and data[name] is not None:
                        setattr(occurrence, name, _com_value(data[name]))
                occurrence.Save()
            del occurrence
        del pattern
        again = True
    return again
