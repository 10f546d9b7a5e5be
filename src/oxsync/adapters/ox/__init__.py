"""Open-Xchange (OX 6) over WebDAV/XML as an oxsync store.

::

    from oxsync.adapters.ox import OXStore
    store = OXStore("https://ox.example.org", "alice", password)
    store.folders()

Pieces: :class:`OXClient` (httpx; Basic auth then the ``sessionid`` cookie; errors mapped
once), the hardened XML envelope codec, :class:`OXStore`, the UDP
:class:`PushListener`, free/busy (:class:`BusyInterval`), the redacting
:class:`TrafficCapture` and the Outlook-role permission table. Item fields are mapped by
:mod:`oxsync.mappings.ox_xml`.
"""

from oxsync.adapters.ox._attachments import AttachmentInfo
from oxsync.adapters.ox._capture import Exchange, TrafficCapture
from oxsync.adapters.ox._client import (
    GroupUser,
    OXClient,
    OXGroupEntry,
    OXResourceEntry,
    OXUserEntry,
)
from oxsync.adapters.ox._codec import (
    DEFAULT_MAX_BYTES,
    ConflictItem,
    OXResponse,
    parse_document,
    parse_multistatus,
)
from oxsync.adapters.ox._freebusy import BusyInterval, parse_vfreebusy
from oxsync.adapters.ox._permissions import ROLE_LEVELS, OutlookRole, permission_for, role_of
from oxsync.adapters.ox._push import DEFAULT_PUSH_PORT, PushListener, registration_packet
from oxsync.adapters.ox._results import failure_of
from oxsync.adapters.ox._store import OXStore

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_PUSH_PORT",
    "ROLE_LEVELS",
    "AttachmentInfo",
    "BusyInterval",
    "ConflictItem",
    "Exchange",
    "GroupUser",
    "OXClient",
    "OXGroupEntry",
    "OXResourceEntry",
    "OXResponse",
    "OXStore",
    "OXUserEntry",
    "OutlookRole",
    "PushListener",
    "TrafficCapture",
    "failure_of",
    "parse_document",
    "parse_multistatus",
    "parse_vfreebusy",
    "permission_for",
    "registration_packet",
    "role_of",
]
