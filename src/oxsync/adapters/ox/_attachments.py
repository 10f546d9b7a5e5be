"""Attachments of OX objects (``webdav.attachments``, reference §8).

The files travel outside the XML (PUT/GET/DELETE keyed by headers); an object lists its
attachments in ``<ox:attachments>`` with id, timestamp, MIME type and RTF flag, the file
name URL-encoded as the element text.
"""

from __future__ import annotations

from urllib.parse import unquote

from attrs import frozen

from oxsync.adapters.ox._codec import Element, children
from oxsync.core.records import FolderKind

__all__ = ["MODULE_TYPE", "AttachmentInfo", "attachments_of"]

MODULE_TYPE = {FolderKind.CALENDAR: 1, FolderKind.TASKS: 4, FolderKind.CONTACTS: 7}
"""Folder kind -> OX module type id used by the attachments servlet."""

_OX = "{http://www.open-xchange.org}"


@frozen
class AttachmentInfo:
    """One attachment as an object lists it."""

    id: str
    filename: str
    content_type: str
    rtf: bool = False
    last_modified: str = ""


def attachments_of(prop: Element) -> list[AttachmentInfo]:
    """The attachments listed in an object's ``D:prop``."""
    out = []
    for holder in children(prop, "attachments"):
        for entry in children(holder, "attachment"):

            def attr(name: str, entry: Element = entry) -> str:
                return entry.get(_OX + name) or entry.get(name) or ""

            out.append(
                AttachmentInfo(
                    id=attr("id"),
                    filename=unquote((entry.text or "").strip()),
                    content_type=attr("mimetype") or "application/octet-stream",
                    rtf=attr("rtf_flag").lower() == "true",
                    last_modified=attr("last_modified"),
                )
            )
    return out
