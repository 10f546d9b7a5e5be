"""A fake Outlook object model, faithful to ``reference/outlook-object-model.md``.

Use it wherever pywin32's ``Outlook.Application`` would be used::

    >>> from oxsync.testing.outlook import Application, constants
    >>> app = Application(tz="Europe/Paris")
    >>> contacts = app.GetNamespace("MAPI").GetDefaultFolder(constants.olFolderContacts)
    >>> item = contacts.Items.Add(constants.olContactItem)
    >>> item.LastName = "Lovelace"
    >>> item.Save()
    >>> contacts.Items.Count
    1

What it reproduces (and code tested against it must therefore cope with): pywin32's
local-times-labelled-UTC dates, 4501-01-01 as "no date", EntryIDs that change on
``Move``, ``Delete`` moving to Deleted Items, Jet ``Restrict`` filters (locale date
format, no seconds, forbidden properties), the ``Table`` API and its value
representation, recurrence patterns with deleted / changed occurrences, user properties,
attachments and contact pictures, and item events that go missing on bulk operations.
``Application.calls`` counts object-model calls (benchmarks report calls per item).
Harness-only helpers (not in the real OOM) are lower-case: ``Application.bulk()``,
``Application.clock``, ``Application.fail_on()`` (make chosen calls raise ``com_error``).
"""

from oxsync.testing.outlook._base import (
    Attachment,
    Attachments,
    PropertyAccessor,
    Recipient,
    Recipients,
    UserProperties,
    UserProperty,
)
from oxsync.testing.outlook._calendar import WINDOWS_ZONES, AppointmentItem, TimeZone
from oxsync.testing.outlook._collections import DispatchWithEvents, Items
from oxsync.testing.outlook._com import (
    DISP_E_EXCEPTION,
    E_ACCESSDENIED,
    E_FAIL,
    E_INVALIDARG,
    MAPI_E_NOT_FOUND,
    NO_DATE,
    RPC_E_CALL_REJECTED,
    RPC_E_DISCONNECTED,
    RPC_E_SERVERCALL_RETRYLATER,
    Clock,
    Fault,
    FaultCall,
    com_error,
)
from oxsync.testing.outlook._contacts import ContactItem, DistListItem
from oxsync.testing.outlook._items import OutlookItem
from oxsync.testing.outlook._model import Application, Folder, NameSpace
from oxsync.testing.outlook._recurrence import Exceptions, RecurrencePattern
from oxsync.testing.outlook._table import Row, Table
from oxsync.testing.outlook._tasks import TaskItem
from oxsync.testing.outlook.constants import PS_PUBLIC_STRINGS, constants

__all__ = [
    "DISP_E_EXCEPTION",
    "E_ACCESSDENIED",
    "E_FAIL",
    "E_INVALIDARG",
    "MAPI_E_NOT_FOUND",
    "NO_DATE",
    "PS_PUBLIC_STRINGS",
    "RPC_E_CALL_REJECTED",
    "RPC_E_DISCONNECTED",
    "RPC_E_SERVERCALL_RETRYLATER",
    "WINDOWS_ZONES",
    "Application",
    "AppointmentItem",
    "Attachment",
    "Attachments",
    "Clock",
    "ContactItem",
    "DispatchWithEvents",
    "DistListItem",
    "Exceptions",
    "Fault",
    "FaultCall",
    "Folder",
    "Items",
    "NameSpace",
    "OutlookItem",
    "PropertyAccessor",
    "Recipient",
    "Recipients",
    "RecurrencePattern",
    "Row",
    "Table",
    "TaskItem",
    "TimeZone",
    "UserProperties",
    "UserProperty",
    "com_error",
    "constants",
]
