"""Attachments in sync: an item's files on read, the difference on write.

OX keeps files outside the object XML (``webdav.attachments``, reference §8); the object
lists them in ``<ox:attachments>``. Reading fetches the files of the items actually read;
writing compares the wanted files with those present (name, type and bytes) and only
deletes or uploads what differs. :class:`FileCache` remembers the bytes this store read
or wrote, keyed by attachment id and timestamp, so a write does not download them again.
"""

from __future__ import annotations

from collections.abc import Sequence

from oxsync.adapters.ox._attachments import AttachmentInfo
from oxsync.adapters.ox._client import OXClient
from oxsync.core.records import Attachment

__all__ = ["ATTACHMENTS_TAG", "FileCache", "read_files", "write_files"]

ATTACHMENTS_TAG = "{http://www.open-xchange.org}attachments"
"""The element an object lists its files in (qualified name)."""


class FileCache:
    """Bytes of attachments seen by this store: (attachment id, timestamp) -> file.

    Bounded: it forgets everything once it holds ``max_bytes`` (64 MiB by default).
    """

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._files: dict[tuple[str, str], Attachment] = {}
        self._size = 0

    def get(self, info: AttachmentInfo) -> Attachment | None:
        """The file of ``info`` if it was seen at that timestamp."""
        return self._files.get((info.id, info.last_modified))

    def put(self, info: AttachmentInfo, file: Attachment) -> None:
        """Remember the file of ``info``."""
        if self._size + len(file.data) > self.max_bytes:
            self._files.clear()
            self._size = 0
        self._files[(info.id, info.last_modified)] = file
        self._size += len(file.data)


def read_files(
    client: OXClient,
    module: int,
    folder_id: str,
    object_id: str,
    infos: Sequence[AttachmentInfo],
    cache: FileCache,
) -> tuple[Attachment, ...]:
    """The files of an object, in the order it lists them (one GET per file not cached)."""
    out = []
    for info in infos:
        file = cache.get(info)
        if file is None:
            data, content_type = client.get_attachment(module, folder_id, object_id, info.id)
            file = Attachment(
                filename=info.filename,
                content_type=info.content_type or content_type,
                data=data,
            )
            cache.put(info, file)
        out.append(file)
    return tuple(out)


def write_files(
    client: OXClient,
    module: int,
    folder_id: str,
    object_id: str,
    wanted: Sequence[Attachment],
    present: Sequence[AttachmentInfo],
    cache: FileCache,
) -> bool:
    """Make the object's files ``wanted``: delete the present ones not wanted, upload
    the wanted ones not present. Returns whether anything was written.

    Raises the client's errors (:class:`~oxsync.errors.StoreError` subclasses).
    """
    remaining = list(wanted)
    stale: list[AttachmentInfo] = []
    for info, file in zip(
        present, read_files(client, module, folder_id, object_id, present, cache), strict=True
    ):
        if file in remaining:
            remaining.remove(file)
        else:
            stale.append(info)
    for info in stale:
        client.delete_attachment(module, folder_id, object_id, info.id)
    for file in remaining:
        new_id, stamp = client.put_attachment(
            module, folder_id, object_id, file.filename, file.data, file.content_type
        )
        cache.put(AttachmentInfo(new_id, file.filename, file.content_type, False, stamp), file)
    return bool(stale or remaining)
