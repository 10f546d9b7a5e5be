"""OX rules of the test server that need no state: codes, faults, field sanitising.

Error codes are OX's OLD numeric ones (``[1000]`` … ``[1500]``), which OXtender-era
clients parse. :func:`sanitise` applies the calendar and task save rules of the
reference (§2.3); :func:`validate` refuses what OX's parsers refuse.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from attrs import define, field
from lxml import etree  # type: ignore[import-untyped]

from oxsync.testing.oxserver._model import OXPermission
from oxsync.testing.oxserver._xml import OX, Element, bool_of, local, text_of

__all__ = [
    "CODES",
    "OBJECT_LEVEL",
    "OWNER_RIGHTS",
    "RECURRENCE",
    "Conflict",
    "LastModifiedCache",
    "OXFault",
    "element",
    "elements",
    "free_or_full",
    "int_field",
    "is_empty",
    "parse_permissions",
    "sanitise",
]

CODES: dict[int, tuple[int, str]] = {
    1000: (409, "This object was modified on the server"),
    1001: (404, "Object not found"),
    1002: (403, "No permission"),
    1003: (409, "Conflict"),
    1004: (409, "Missing field"),
    1006: (409, "Appointments Conflicted"),
    1100: (409, "invalid user input"),
    1400: (400, "bad xml request"),
    1500: (500, "Server Error"),
}
"""OLD numeric OX codes -> (D:status, description text)."""

# Elements about the object, not its content: never stored as fields.
OBJECT_LEVEL = frozenset(
    [
        "object_id",
        "folder_id",
        "folder",
        "last_modified",
        "creation_time",
        "created_by",
        "modified_by",
        "client_id",
        "method",
        "object_status",
        "ignore_conflicts",
        "confirm",
        "confirm_message",
        "alarm_flag",
        "recurrence_id",
        "lastsync",
        "objectmode",
        "attachments",  # written by the server from webdav.attachments
    ]
)
RECURRENCE = (
    "recurrence_type",
    "days",
    "day_in_month",
    "month",
    "interval",
    "until",
    "occurrences",
    "deleteexceptions",
    "changeexceptions",
)
OWNER_RIGHTS = (128, 128, 128, 128, True)


@define(frozen=True)
class Conflict:
    """An appointment clashing with the one being saved."""

    title: str
    start: int
    end: int
    full_time: bool


class OXFault(Exception):
    """An OX error for one operation: ``code`` is a key of :data:`CODES`."""

    def __init__(self, code: int, detail: str = "", conflicts: Iterable[Conflict] = ()):
        self.code = code
        self.status, text = CODES[code]
        self.text = f"{text} - {detail}" if detail and code == 1500 else text
        self.conflicts = tuple(conflicts)
        super().__init__(f"[{code}] {self.text}")


@define
class LastModifiedCache:
    """Per-request cache: object id -> (timestamp the client sent, timestamp it got)."""

    entries: dict[int, tuple[int, int]] = field(factory=dict)

    def effective(self, object_id: int, sent: int) -> int:
        """The timestamp to check: the new one if ``sent`` is the batch's original one."""
        entry = self.entries.get(object_id)
        return entry[1] if entry is not None and entry[0] == sent else sent

    def remember(self, object_id: int, sent: int, new: int) -> None:
        """Record that an update sent with ``sent`` produced ``new``."""
        original = self.entries.get(object_id, (sent, 0))[0]
        self.entries[object_id] = (original, new)

    def touch(self, object_id: int, before: int, after: int) -> None:
        """A series moved from ``before`` to ``after`` as a side effect (one of its change
        exceptions was created or deleted): a later op of the batch that sent the series'
        timestamp of the chain is not stale, one that sent an older value still is."""
        entry = self.entries.get(object_id)
        if entry is not None and entry[1] == before:
            self.entries[object_id] = (entry[0], after)
        else:
            self.entries[object_id] = (before, after)


def element(name: str, value: object) -> Element:
    el = etree.Element(OX + name)
    el.text = None if value is None else str(value)
    return el


def elements(fields: Mapping[str, Any]) -> dict[str, Element]:
    out = {}
    for name, value in fields.items():
        out[name] = (
            copy.deepcopy(value)
            if isinstance(value, etree._Element)
            else element(name, None if value in (None, "") else value)
        )
    return out


def is_empty(el: Element) -> bool:
    return not (el.text or "").strip() and len(el) == 0 and not el.attrib


def int_field(fields: Mapping[str, Element], name: str) -> int | None:
    el = fields.get(name)
    try:
        return None if el is None or not (el.text or "").strip() else int(el.text)
    except ValueError:
        raise OXFault(1100) from None


def free_or_full(fields: Mapping[str, Element]) -> bool:
    shown = fields.get("shown_as")
    full = fields.get("full_time")
    return (shown is not None and (shown.text or "").strip() == "4") or (
        full is not None and (full.text or "").strip().lower() == "true"
    )


def validate(fields: Mapping[str, Element]) -> None:
    """What OX's parsers refuse: unknown participant kinds, list entries without emailfield."""
    parts = fields.get("participants")
    for p in parts if parts is not None else ():
        if local(p) not in ("user", "group", "resource"):
            raise OXFault(1100)
    members = fields.get("distributionlist")
    for entry in members if members is not None else ():
        try:
            int(entry.get(OX + "emailfield") or "")
        except ValueError:
            raise OXFault(1100) from None


def sanitise(
    module: str, req: dict[str, Element], fields: dict[str, Element], *, create: bool
) -> None:
    """OX calendar/task save rules (reference §2.3)."""
    validate(fields)
    if module == "contact":
        return
    if not bool_of(req, "alarm_flag"):
        fields.pop("alarm", None)
    if module != "calendar":
        return
    rtype = (text_of(req, "recurrence_type") or "").lower()
    if (not create and "recurrence_type" not in req) or rtype in ("", "none"):
        for name in RECURRENCE:
            fields.pop(name, None)
    elif "until" not in req and "occurrences" not in req:
        fields.pop("until", None)
        fields.pop("occurrences", None)


def parse_permissions(el: Element) -> list[OXPermission]:
    out = []
    for entry in el:
        kind = local(entry)
        if kind not in ("user", "group"):
            continue
        try:
            levels = [
                int(entry.get(OX + name) or "")
                for name in (
                    "folderpermission",
                    "objectreadpermission",
                    "objectwritepermission",
                    "objectdeletepermission",
                )
            ]
            entity = int((entry.text or "").strip())
        except ValueError:
            raise OXFault(1100) from None
        admin = (entry.get(OX + "admin_flag") or "").lower() == "true"
        fp, rp, wp, dp = levels
        out.append(OXPermission(entity, kind == "group", fp, rp, wp, dp, admin))
    return out
