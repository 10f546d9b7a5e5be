"""Data of the test server: users, groups, resources, folders, objects, tombstones.

Objects keep their OX elements as raw lxml elements (the server needs no canonical
records); object-level elements (ids, timestamps) live in attributes of :class:`OXObject`.
Permissions follow OX's OCLPermission numbers: folder 0/2/4/8/128, object read, write and
delete 0 none, 2 own, 4 all, 128 admin; entries are additive over the user's own entry,
its groups and group 0 ("all users and groups").
"""

from __future__ import annotations

import threading
import time
from typing import Literal

from attrs import define, field

from oxsync.testing.oxserver._xml import Element

__all__ = [
    "FOLDER_MODULES",
    "GAL_FOLDER",
    "Clock",
    "OXAttachment",
    "OXFolder",
    "OXGroup",
    "OXObject",
    "OXPermission",
    "OXResource",
    "OXUser",
    "Rights",
    "Tombstone",
]

GAL_FOLDER = 6
"""Id of the global address book (system_ldap)."""

Module = Literal["calendar", "contact", "task"]
FOLDER_MODULES: dict[str, Module] = {
    "calendar": "calendar",
    "contacts": "contact",
    "tasks": "task",
}
"""Servlet name -> folder module."""


class Clock:
    """Server timestamps in ms since the epoch, strictly increasing."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def now(self) -> int:
        """A timestamp later than every earlier one."""
        with self._lock:
            self._last = max(int(time.time() * 1000), self._last + 1)
            return self._last


@define
class OXUser:
    """A user of the context; ``modules`` lists the enabled modules (and ``webdav``)."""

    id: int
    login: str
    password: str
    display_name: str
    email: str
    contact_id: int = 0
    groups: set[int] = field(factory=set)
    modules: set[str] = field(factory=lambda: {"webdav", "calendar", "contacts", "tasks"})
    last_modified: int = 0


@define
class OXGroup:
    """A user group."""

    id: int
    name: str
    members: set[int] = field(factory=set)
    last_modified: int = 0
    deleted: bool = False


@define
class OXResource:
    """A bookable resource (room, equipment)."""

    id: int
    name: str
    email: str
    last_modified: int = 0


@define(frozen=True)
class OXPermission:
    """One permission entry of a folder (entity 0 with ``group`` = everybody)."""

    entity: int
    group: bool = False
    folder: int = 0
    read: int = 0
    write: int = 0
    delete: int = 0
    admin: bool = False


@define(frozen=True)
class Rights:
    """The effective rights of one user on one folder (maxima over matching entries)."""

    folder: int = 0
    read: int = 0
    write: int = 0
    delete: int = 0
    admin: bool = False

    @property
    def sees(self) -> bool:
        """The folder is visible."""
        return self.folder >= 2 or self.admin

    def may(self, level: int, own: bool) -> bool:
        """Whether an object level (read/write/delete) allows acting on an object."""
        return level >= 4 or (level >= 2 and own)


@define
class OXFolder:
    """A folder; ``type`` is ``private`` or ``public`` (shared is computed per viewer)."""

    id: int
    parent: int
    title: str
    module: str
    owner: int
    type: str = "private"
    default: bool = False
    permissions: list[OXPermission] = field(factory=list)
    created_by: int = 0
    creation_time: int = 0
    modified_by: int = 0
    last_modified: int = 0
    deleted: bool = False

    def rights(self, user: OXUser) -> Rights:
        """Effective rights of ``user``: each level is the maximum of matching entries."""
        fp = rp = wp = dp = 0
        admin = False
        for p in self.permissions:
            if (p.group and (p.entity == 0 or p.entity in user.groups)) or (
                not p.group and p.entity == user.id
            ):
                fp, rp = max(fp, p.folder), max(rp, p.read)
                wp, dp = max(wp, p.write), max(dp, p.delete)
                admin = admin or p.admin
        return Rights(fp, rp, wp, dp, admin)


@define
class OXObject:
    """An appointment, contact or task; ``fields`` holds its ox elements by local name."""

    id: int
    folder: int
    module: str
    fields: dict[str, Element]
    created_by: int
    modified_by: int
    creation_time: int
    last_modified: int
    fragment: bytes | None = None  # cached serialised D:response, dropped on change
    body: bytes = b""  # the serialised field elements (ox prefix), kept current by the backend
    series: int | None = None  # a change exception: the object id of its series

    @property
    def is_exception(self) -> bool:
        """A change exception of a series (its own object, ``recurrence_id`` = the series)."""
        return self.series is not None

    def text(self, name: str) -> str | None:
        """Stripped text of field ``name`` or ``None``."""
        el = self.fields.get(name)
        if el is None or el.text is None:
            return None
        return el.text.strip() or None

    def int(self, name: str) -> int | None:
        """Integer value of field ``name`` or ``None``."""
        value = self.text(name)
        try:
            return None if value is None else int(value)
        except ValueError:
            return None

    @property
    def private(self) -> bool:
        """Whether the object carries ``private_flag`` true."""
        return (self.text("private_flag") or "").lower() == "true"


@define
class OXAttachment:
    """A file attached to an object (``webdav.attachments``)."""

    id: int
    module: int  # 1 appointment, 4 task, 7 contact
    target: int
    folder: int
    filename: str
    mimetype: str
    rtf: bool
    data: bytes
    created_by: int
    last_modified: int


@define
class Tombstone:
    """A deleted object (or the old place of a moved one), for DELETED listings."""

    id: int
    folder: int
    last_modified: int
    module: str
