"""``OXStore``: Open-Xchange over WebDAV/XML as an oxsync store.

- **changes**: ``lastsync`` + ``objectmode``. Without a cursor, a full listing
  (``NEW_AND_MODIFIED`` since 0); with one, ``NEW_AND_MODIFIED,DELETED,LIST`` since the
  cursor, plus ``LIST`` on the first delta of a folder and then every ``list_every``
  seconds: the LIST entry names every object of the folder, so an id this store saw
  before that is no longer listed counts as deleted even if the server forgot its
  tombstone.
  The cursor is the highest server timestamp seen (ms, as a string).
- **fetch**: a listing already carries every field, so items listed by the last
  :meth:`changes` are decoded from it; others are fetched one by one by ``object_id``.
- **apply**: batches of ``D:set`` blocks in one PROPPATCH, one typed result per op
  (stale ``last_modified`` -> conflict, ``[1002]`` -> permission, ``[1003]``, ``[1004]``,
  ``[1100]`` -> invalid, ``[1500]``/5xx -> transient). An appointment clash ``[1006]`` is
  retried once with ``ignore_conflicts`` and reported in :attr:`OXStore.warnings`; a clash
  that remains (a booked resource) is an invalid item with the clashing appointments.
- Moves send ``folder`` (target) with ``folder_id`` (source); for appointments and tasks
  the full item goes along, since OX drops the recurrence of an update without
  ``recurrence_type``.
- **change exceptions** are objects of their own in OX; ``_series_items`` folds them into
  their series (one ``Event`` with ``exceptions``, a composite version, see ``_series``
  and ``_versions``) and writes them by difference after the series.
- **attachments** travel through ``webdav.attachments`` after the item (``_files``).

This module is longer than most: it is the one place that turns OX's object-by-object
protocol into the store protocol's items, so listing, fetching and writing stay together.
"""

from __future__ import annotations

import collections
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import attrs
import httpx

from oxsync.adapters.ox import _versions as versions
from oxsync.adapters.ox._attachments import MODULE_TYPE, AttachmentInfo, attachments_of
from oxsync.adapters.ox._capture import TrafficCapture
from oxsync.adapters.ox._client import GroupUser, OXClient
from oxsync.adapters.ox._codec import (
    DEFAULT_MAX_BYTES,
    Element,
    OXResponse,
    add,
    child_text,
    new_prop,
    number,
)
from oxsync.adapters.ox._codec import object_list as list_ids
from oxsync.adapters.ox._files import ATTACHMENTS_TAG, FileCache, read_files, write_files
from oxsync.adapters.ox._folders import (
    MODULE_OF,
    SERVLET_OF,
    folder_from,
    permissions_element,
    sort_parents_first,
)
from oxsync.adapters.ox._freebusy import BusyInterval
from oxsync.adapters.ox._push import DEFAULT_PUSH_PORT, PushListener
from oxsync.adapters.ox._results import (
    CONFIRM,
    ERROR_OF_KIND,
    NO_CHECK,
    describe,
    failure_of,
    timestamp,
)
from oxsync.adapters.ox._series import (
    is_exception,
    series_stamp,
)
from oxsync.adapters.ox._series_items import SeriesItems
from oxsync.adapters.ox._stored import stored_form
from oxsync.core.records import (
    Attachment,
    Contact,
    DistributionList,
    DistributionListMember,
    Event,
    Folder,
    FolderKind,
    ItemKind,
    ParticipationStatus,
    Permission,
    Record,
)
from oxsync.core.store import (
    Applied,
    BaseStore,
    Capabilities,
    Changes,
    Create,
    Cursor,
    Delete,
    Failure,
    FailureKind,
    Item,
    ItemRef,
    Move,
    Op,
    OpResult,
    Update,
)
from oxsync.errors import (
    InvalidDataError,
    MappingError,
    NotFoundError,
    OxsyncError,
    PermissionDeniedError,
    ProtocolError,
    TransientError,
)
from oxsync.mappings import ox_xml

__all__ = ["STORE_UNSUPPORTED", "OXStore"]

log = logging.getLogger("oxsync.adapters.ox")

_CARRIED_BY_STORE = frozenset({"exceptions", "attachments"})
STORE_UNSUPPORTED = {
    kind: fields - _CARRIED_BY_STORE for kind, fields in ox_xml.OX_UNSUPPORTED.items()
}
"""What an OX account cannot keep: :data:`oxsync.mappings.ox_xml.OX_UNSUPPORTED` (one
object's XML) less what the store carries across objects (change exceptions are
objects of their own)."""


def _check_options(
    batch_size: int, max_bytes: int, push_port: int, timeout: float, list_every: float
) -> None:
    """Refuse option values that would only fail later, mid-sync or when push starts
    (a batch size of 0 stopped every write with a bare ValueError; a port past 65535
    was an OverflowError from the socket)."""
    for name, value, low, high in (
        ("batch_size", batch_size, 1, None),
        ("max_bytes", max_bytes, 1, None),
        ("push_port", push_port, 1, 65535),
    ):
        if type(value) is not int or value < low or (high is not None and value > high):
            bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"
            raise InvalidDataError(f"{name} must be an integer {bounds}, not {value!r}")
    for name, seconds, zero_ok in (("timeout", timeout, False), ("list_every", list_every, True)):
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not (0 <= seconds < float("inf") if zero_ok else 0 < seconds < float("inf"))
        ):
            what = "zero or a positive, finite" if zero_ok else "a positive, finite"
            raise InvalidDataError(f"{name} must be {what} number of seconds, not {seconds!r}")


class OXStore(BaseStore):
    """An OX 6 account over WebDAV/XML (``base_url`` like ``https://ox.example.org``).

    ``transport`` replaces the network (``httpx.WSGITransport`` for an in-process test
    server); ``capture=True`` (or a :class:`TrafficCapture`) records the XML traffic,
    redacted, in :attr:`capture`. ``list_every`` is how often (seconds) a delta also asks
    for the LIST of all ids to find deletions the server forgot (0: every delta).
    """

    name = "ox"

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        verify: bool = True,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        capture: TrafficCapture | bool = False,
        batch_size: int = 100,
        max_bytes: int = DEFAULT_MAX_BYTES,
        list_every: float = 300.0,
        read_only: bool = False,
        name: str | None = None,
        push_host: str | None = None,
        push_port: int = DEFAULT_PUSH_PORT,
    ) -> None:
        super().__init__(read_only=read_only, name=name)
        _check_options(batch_size, max_bytes, push_port, timeout, list_every)
        # Where push registrations go (the server's host and UDP port 44335 by default).
        self.push_host = push_host
        self.push_port = push_port
        self.capture = (
            capture
            if isinstance(capture, TrafficCapture)
            else (TrafficCapture() if capture else None)
        )
        self.client = OXClient(
            base_url,
            username,
            password,
            verify=verify,
            timeout=timeout,
            transport=transport,
            capture=self.capture,
            max_bytes=max_bytes,
        )
        self.batch_size = batch_size
        self.warnings: collections.deque[str] = collections.deque(maxlen=1000)
        self._folders: dict[str, Folder] = {}
        self._folder_lm: dict[str, str] = {}
        self._listed: dict[str, dict[str, tuple[str, Element]]] = {}
        # folder -> id -> what fetch answers for an object listed unreadably
        self._unreadable: dict[str, dict[str, Failure]] = {}
        self._known: dict[str, set[str]] = {}
        self._uid_of: dict[tuple[str, str], str] = {}
        self._ref_of: dict[str, tuple[str, str]] = {}
        self._groupuser: GroupUser | None = None
        self._suspect: set[str] = set()
        self.list_every = list_every
        self._listed_at: dict[str, float] = {}
        self._exceptions = SeriesItems(self)
        self._file_cache = FileCache()
        # Updates with files cut off by a transient error (server gone, answer lost) once
        # their fields may have landed: id -> (the version the op had, its record, the
        # version OX lists now). See _unfinished_as_before.
        self._unfinished: dict[str, tuple[str, Record, str | None]] = {}

    # ------------------------------------------------------------------ basics

    def _capabilities(self) -> Capabilities:
        return Capabilities(
            kinds=frozenset(ItemKind),
            delta=True,
            batch_size=self.batch_size,
            moves=True,
            folder_ops=True,
            permissions=True,
            recurrence=True,
            push=True,
            unsupported_fields=STORE_UNSUPPORTED,
        )

    def close(self) -> None:
        """Close the HTTP connections."""
        self.client.close()

    def server_version(self) -> str:
        """The server's version line (``webdav.version``)."""
        return self.client.version()

    def directory(self, *, refresh: bool = False) -> GroupUser:
        """Users (global address book), groups and resources, cached."""
        if self._groupuser is None or refresh:
            self._groupuser = self.client.groupuser()
        return self._groupuser

    # ------------------------------------------------------------------ folders

    def folders(self) -> Sequence[Folder]:
        """Calendar, contact and task folders the user sees, parents first."""
        responses = self.client.propfind(
            "folders", {"lastsync": 0, "objectmode": "NEW_AND_MODIFIED,DELETED"}
        )
        me = self.directory().me
        names = {u.uid: u.display_name for u in self.directory().users}
        found = []
        self._folder_lm.clear()
        for resp in responses:
            if not resp.ok:
                # a folder OX could not list (reference §2.2: status 500, href 0) would read
                # as deleted, and the engine deletes a folder gone from one side on the other
                error = (
                    TransientError
                    if failure_of(resp).kind is FailureKind.TRANSIENT
                    else ProtocolError
                )
                raise error(f"OX could not list a folder: {resp.description[:200]}")
            if resp.text("object_status") == "DELETE":
                continue
            folder = folder_from(resp, me.uid if me else None, me.groups if me else (), names.get)
            if folder is not None:
                found.append(folder)
                self._folder_lm[folder.id] = resp.text("last_modified") or NO_CHECK
        ordered = sort_parents_first(found)
        self._folders = {f.id: f for f in ordered}
        return ordered

    def _folder(self, folder_id: str) -> Folder:
        if folder_id not in self._folders:
            self.folders()
        try:
            return self._folders[folder_id]
        except KeyError:
            raise NotFoundError(f"no OX folder {folder_id!r}") from None

    def _folder_call(self, prop: Element) -> str:
        (resp,) = self._expect(self.client.proppatch("folders", [prop]), 1)
        if not resp.ok:
            failure = failure_of(resp)
            raise ERROR_OF_KIND[failure.kind](f"OX folder operation: {resp.description}")
        return resp.text("object_id") or resp.href

    def _create_folder(self, name: str, kind: FolderKind, parent_id: str | None) -> Folder:
        prop = new_prop()
        parent = parent_id or "1"
        add(prop, "folder_id", parent)
        add(prop, "title", name)
        add(prop, "module", MODULE_OF[kind])
        add(prop, "type", "public" if parent == "2" else "private")
        new_id = self._folder_call(prop)
        return self._folder_after(new_id)

    def _folder_after(self, folder_id: str) -> Folder:
        self.folders()
        return self._folder(folder_id)

    def _folder_prop(self, folder_id: str) -> Element:
        self._folder(folder_id)
        prop = new_prop()
        add(prop, "object_id", folder_id)
        add(prop, "last_modified", self._folder_lm.get(folder_id, NO_CHECK))
        return prop

    def _rename_folder(self, folder_id: str, name: str) -> Folder:
        prop = self._folder_prop(folder_id)
        add(prop, "title", name)
        self._folder_call(prop)
        return self._folder_after(folder_id)

    def _delete_folder(self, folder_id: str) -> None:
        if self._folder(folder_id).is_default:
            raise PermissionDeniedError(f"OX default folder {folder_id} is never deleted")
        prop = self._folder_prop(folder_id)
        add(prop, "method", "DELETE")
        self._folder_call(prop)
        self._folders.pop(folder_id, None)
        self._known.pop(folder_id, None)

    def _set_permissions(self, folder_id: str, permissions: Sequence[Permission]) -> Folder:
        prop = self._folder_prop(folder_id)
        permissions_element(prop, permissions)
        self._folder_call(prop)
        return self._folder_after(folder_id)

    # ------------------------------------------------------------------ reading

    def changes(self, folder_id: str, cursor: Cursor) -> Changes:
        """Delta (or full listing without cursor) of a folder; see the module docstring."""
        folder = self._folder(folder_id)
        if cursor is not None and not _is_cursor(cursor):
            # not a timestamp this store handed out (those are OX's): start over
            log.warning(
                "OX cursor %r of folder %s is no timestamp: full listing", cursor[:30], folder_id
            )
            cursor = None
        now = time.monotonic()
        check = cursor is not None and (
            folder_id not in self._known
            or now - self._listed_at.get(folder_id, 0.0) >= self.list_every
        )
        mode = "NEW_AND_MODIFIED" if cursor is None else "NEW_AND_MODIFIED,DELETED"
        responses, with_files = self.client.listing(
            SERVLET_OF[folder.kind],
            {
                "folder_id": folder_id,
                "lastsync": cursor or "0",
                "objectmode": mode + (",LIST" if check else ""),
            },
        )
        latest = timestamp(cursor)
        changed: list[ItemRef] = []
        deleted: list[str] = []
        listed: dict[str, tuple[str, Element]] = {}
        current: list[str] | None = None
        attached: list[str] = []
        # One object the server lists unreadably (a last_modified that is no number, an
        # object_status this store does not know) must not stop its folder: it is listed
        # as changed, and fetch answers it with an INVALID failure (so the engine sets it
        # aside, deleting nothing on the other side) until the server lists it readably;
        # meanwhile the folder's cursor does not move.
        unreadable: dict[str, Failure] = {}
        # An entry OX failed to serialise (status 500, href 0: reference §2.2) names no
        # object: the listing is not complete, so nothing is inferred deleted from it.
        unnamed = 0
        list_ok = True
        for resp in responses:
            status = resp.text("object_status")
            if not resp.ok:
                object_id = resp.text("object_id") or resp.href
                log.warning(
                    "OX could not list object %s of folder %s: %s",
                    object_id,
                    folder_id,
                    resp.description,
                )
                if object_id == "0" or status == "LIST":
                    unnamed += status != "LIST"
                else:
                    failure = failure_of(resp)
                    unreadable[object_id] = attrs.evolve(
                        failure, message=f"OX could not list it: {failure.message}"
                    )
                continue
            if status == "LIST":
                in_folder = list_ids(resp)
                if in_folder is None:
                    list_ok = False
                    log.warning("OX listed the ids of folder %s unreadably; not used", folder_id)
                else:
                    current = [*(current or ()), *in_folder]  # (two LIST entries: either one's)
                continue
            object_id = resp.text("object_id") or resp.href
            if object_id == "0":  # an entry naming no object (OX ids start at 1)
                log.warning("OX listed an object of folder %s without its id", folder_id)
                unnamed += 1
                continue
            version = resp.text("last_modified") or ""
            try:
                latest = max(latest, timestamp(version))
            except ProtocolError as exc:
                if status != "DELETE":  # a deletion needs no version
                    unreadable[object_id] = _listed_unreadably(str(exc))
                    continue
            if status == "DELETE":
                deleted.append(object_id)
            elif status == "CREATE":
                changed.append(ItemRef(object_id, version))
                listed[object_id] = (version, resp.prop)
                if with_files and resp.prop.find(ATTACHMENTS_TAG) is not None:
                    attached.append(object_id)
            else:
                unreadable[object_id] = _listed_unreadably(
                    f"unknown object_status {(status or '')[:30]!r}"
                )
        if not list_ok:
            current = None  # ids left out would read as deleted
        if len(changed) != len(listed):  # an object listed twice: its last entry counts
            changed = [ItemRef(object_id, version) for object_id, (version, _) in listed.items()]
        if folder.kind is FolderKind.CALENDAR:
            changed, deleted, current = self._exceptions.fold_changes(
                folder, cursor is None, listed, deleted, current, partial=bool(unnamed)
            )
        if attached:
            changed = self._mark_attached(listed, changed, attached)
        if unreadable or unnamed:
            # its real change time is unknown: the cursor stays, so the next delta lists
            # it (and whatever changed around it) again
            latest = timestamp(cursor)
            for object_id, failure in unreadable.items():
                log.warning("OX object %s of folder %s: %s", object_id, folder_id, failure.message)
                listed.pop(object_id, None)  # (listed readably too: the failure counts)
            changed = [ref for ref in changed if ref.id not in unreadable]
            changed.extend(ItemRef(object_id, _UNREADABLE) for object_id in unreadable)
        if self._unfinished:
            changed = self._unfinished_as_before(folder, changed, listed)
        self._listed[folder_id] = listed
        self._unreadable[folder_id] = unreadable
        ids = {ref.id for ref in changed}
        if cursor is None:
            self._known[folder_id] = ids
            self._listed_at[folder_id] = now
            if unnamed:
                # not every object is listed: no full listing (it would delete the missing
                # ones on the other side), and the next call lists everything again
                return Changes(changed, (), None, full=False)
            return Changes(changed, (), str(latest), full=True)
        known = self._known.get(folder_id)
        if current is not None:
            if known is not None:
                # ids this store saw that the server no longer lists: deleted, even if the
                # server forgot the tombstone
                deleted.extend(sorted(known - set(current) - ids - set(deleted)))
            self._known[folder_id] = set(current)
            self._listed_at[folder_id] = now
        elif known is not None:
            known.difference_update(deleted)
            known.update(ids)
        deleted = [d for d in dict.fromkeys(deleted) if d not in ids]
        return Changes(changed, deleted, str(latest), full=False)

    def _unfinished_as_before(
        self, folder: Folder, changed: list[ItemRef], listed: dict[str, tuple[str, Element]]
    ) -> list[ItemRef]:
        """Items whose update was cut off between its PROPPATCH and its files, listed with
        the version the update had, as long as OX holds the update's fields (nobody else
        edited it): so the other side's change, still pending, is applied again instead of
        OX's half-written item being taken for a newer edit and written over it (which
        lost the file edit on both sides). A listing whose fields differ ends this."""
        out = []
        for ref in changed:
            entry = self._unfinished.get(ref.id)
            if entry is None or ref.id not in listed:
                out.append(ref)
                continue
            before, record, _ = entry
            try:
                item = self._decode(folder, ref.id, ref.version, listed[ref.id][1])
                same = isinstance(item, Item) and _fields(item.record) == _fields(
                    self.stored_form(record)
                )
            except OxsyncError:  # (MappingError included): cannot tell, so not hidden
                same = False
            if not same:
                del self._unfinished[ref.id]
                out.append(ref)
                continue
            self._unfinished[ref.id] = (before, record, ref.version)
            listed[ref.id] = (before, listed[ref.id][1])
            out.append(ItemRef(ref.id, before))
        return out

    def fetch(self, folder_id: str, ids: Sequence[str]) -> Mapping[str, Item | Failure]:
        """Records of ``ids``, from the last listing when possible."""
        folder = self._folder(folder_id)
        listed = self._listed.get(folder_id, {})
        out: dict[str, Item | Failure] = {}
        unreadable = self._unreadable.get(folder_id, {})
        for object_id in ids:
            failure = unreadable.pop(object_id, None)
            if failure is not None:
                out[object_id] = failure
                continue
            entry = listed.pop(object_id, None)
            listed_entry = entry is not None  # its version says whether it has files
            if entry is None:
                got = self._fetch_one(folder, object_id)
                if isinstance(got, Failure):
                    out[object_id] = got
                    continue
                entry = got
            item = self._decode(folder, object_id, *entry)
            if folder.kind is FolderKind.CALENDAR and isinstance(item, Item):
                item = self._exceptions.read_into(folder, item, entry[1])
            if isinstance(item, Item) and (
                versions.attached(item.version)
                if listed_entry
                else entry[1].find(ATTACHMENTS_TAG) is not None
            ):
                item = self._with_files(folder, item, entry[1])
            out[object_id] = item
        return out

    def _fetch_one(self, folder: Folder, object_id: str) -> tuple[str, Element] | Failure:
        if not _is_object_id(object_id):
            return Failure(FailureKind.NOT_FOUND, f"no OX object {object_id!r}")
        responses = self.client.propfind(
            SERVLET_OF[folder.kind], {"object_id": object_id, "folder_id": folder.id}
        )
        if len(responses) != 1:
            raise ProtocolError(f"expected one response for object {object_id}")
        resp = responses[0]
        if not resp.ok:
            return failure_of(resp)
        return resp.text("last_modified") or "", resp.prop

    @staticmethod
    def _mark_attached(
        listed: dict[str, tuple[str, Element]], changed: list[ItemRef], attached: list[str]
    ) -> list[ItemRef]:
        """Versions of items listing attachments carry the mark (see ``_versions``)."""
        for object_id in attached:
            if object_id in listed:
                version, prop = listed[object_id]
                listed[object_id] = (versions.with_attached(version, True), prop)
        return [ItemRef(ref.id, listed[ref.id][0]) if ref.id in listed else ref for ref in changed]

    def _decode(
        self, folder: Folder, object_id: str, version: str, prop: Element
    ) -> Item | Failure:
        kind = ox_xml.kind_of(prop, folder.kind)
        try:
            record = ox_xml.decode(kind, prop, contact_uid=self._contact_uid)
        except MappingError as exc:
            return Failure(FailureKind.INVALID, str(exc))
        if kind is ItemKind.CONTACT and record.uid:
            self._remember(record.uid, object_id, folder.id)
        return Item(object_id, version, record)

    def stored_form(self, record: Record) -> Record:
        """What :meth:`fetch` returns of an item written from ``record`` (no request).

        The record goes through the store's own write and read: encoded as a create
        writes it, the elements kept as OX saves them (empty ones are no field, the alarm
        needs ``alarm_flag``, a change exception's day leaves ``deleteexceptions``),
        decoded as a listing is, change exceptions read back against their series. So the
        codec's lossy conversions (PERSONAL and CONFIDENTIAL read PRIVATE, attendee roles
        and comments dropped, yearly every N years read monthly every 12·N, ...) are those
        of the code that makes them. A list member's contact reference survives if this
        store knows the contact (listed or written by it), as a write would find it. The
        engine compares an item OX saved again by itself with this rendering of the last
        synced record, so that a no-change re-save does not push OX's lossier copy over
        the other side. See :mod:`oxsync.adapters.ox._stored`.
        """
        return stored_form(record, contact_ref=self._contact_ref, contact_uid=self._known_uid)

    def _known_uid(self, object_id: str, folder_id: str) -> str | None:
        """:meth:`_contact_uid` without asking the server."""
        return self._uid_of.get((object_id, folder_id))

    def _with_files(self, folder: Folder, item: Item, prop: Element) -> Item | Failure:
        """An item with the files its object lists (one GET per file not cached)."""
        if isinstance(item.record, DistributionList):
            return item
        try:
            files = read_files(
                self.client,
                MODULE_TYPE[folder.kind],
                folder.id,
                item.id,
                attachments_of(prop),
                self._file_cache,
            )
        except (NotFoundError, PermissionDeniedError, InvalidDataError, ProtocolError) as exc:
            kind = FailureKind.NOT_FOUND if isinstance(exc, NotFoundError) else FailureKind.INVALID
            return Failure(kind, f"attachments of {item.id}: {exc}")
        record = attrs.evolve(item.record, attachments=files)
        return Item(item.id, versions.with_attached(item.version, bool(files)), record)

    def _remember(self, uid: str, object_id: str, folder_id: str) -> None:
        self._uid_of[(object_id, folder_id)] = uid
        self._ref_of[uid] = (object_id, folder_id)

    def _contact_uid(self, object_id: str, folder_id: str) -> str | None:
        uid = self._uid_of.get((object_id, folder_id))
        if uid is None and _is_object_id(object_id) and folder_id in self._folders:
            got = self._fetch_one(self._folders[folder_id], object_id)
            if not isinstance(got, Failure):
                uid = child_text(got[1], "uid")
                if uid:
                    self._remember(uid, object_id, folder_id)
        return uid

    def _contact_ref(self, uid: str) -> tuple[str, str]:
        return self._ref_of.get(uid, ("0", "0"))

    # ------------------------------------------------------------------ writing

    def _apply(self, folder_id: str, ops: Sequence[Op]) -> Sequence[OpResult]:
        folder = self._folder(folder_id)
        # what the last listing said of an item written now is stale: fetch reads it anew
        listed = self._listed.get(folder_id, {})
        for op in ops:
            if not isinstance(op, Create):
                listed.pop(op.id, None)
                self._unreadable.get(folder_id, {}).pop(op.id, None)
        if self._unfinished:
            ops = [self._finishing(op) for op in ops]
        results: list[OpResult | None] = [
            None
            if isinstance(op, Create) or _is_object_id(op.id)
            else Failure(FailureKind.NOT_FOUND, f"no OX object {op.id!r}")
            for op in ops
        ]  # an id OX never gave (an empty one would make the server create an object)
        if folder_id in self._suspect:
            self._recover(folder, ops, results)
        if folder.kind is FolderKind.CALENDAR:
            for i, op in enumerate(ops):
                done = results[i]
                if isinstance(done, Applied) and isinstance(op, Create):
                    # a create found done after a lost answer: its exceptions may not be,
                    # so they are written as for an update of what is there
                    again = Update(done.id, op.record, None)
                    if self._exceptions.writes(folder, again):
                        self._exceptions.apply(folder, i, again, results)
                elif done is None and self._exceptions.writes(folder, op):
                    self._exceptions.apply(folder, i, op, results)
        todo = [(i, op) for i, op in enumerate(ops) if results[i] is None]
        # Lists go last, so that members can point at contacts written in the same call.
        lists = [(i, op) for i, op in todo if isinstance(_record_of(op), DistributionList)]
        others = [(i, op) for i, op in todo if not isinstance(_record_of(op), DistributionList)]
        for group in (others, lists):
            if group is lists and lists:
                self._resolve_members(folder, [op for _, op in lists])
            if not self._apply_group(folder, group, results):
                break
        for i, op in enumerate(ops):
            done = results[i]
            if isinstance(done, Applied) and isinstance(op, Create | Update) and _has_files(op):
                results[i] = self._write_files(folder, op, done)
        if self._unfinished:
            for op, result in zip(ops, results, strict=True):
                if isinstance(result, Applied) and not isinstance(op, Create):
                    self._unfinished.pop(op.id, None)  # done
        return [
            r if r is not None else Failure(FailureKind.TRANSIENT, "no answer") for r in results
        ]

    def _finishing(self, op: Op) -> Op:
        """An op on an item whose update was cut off (see :meth:`_unfinished_as_before`),
        sent with the version OX lists now: its own half-written update moved it."""
        if isinstance(op, Create):
            return op
        entry = self._unfinished.get(op.id)
        if entry is None or entry[2] is None or op.version != entry[0]:
            return op
        return attrs.evolve(op, version=entry[2])

    def _cut_off(self, op: Op) -> None:
        """Remember an update with files that a transient error cut off (with the
        version the engine holds, also when it was cut off again)."""
        if isinstance(op, Update) and op.version is not None and _has_files(op):
            before = self._unfinished.get(op.id, (op.version,))[0]
            self._unfinished[op.id] = (before, op.record, None)

    def _write_files(self, folder: Folder, op: Create | Update, done: Applied) -> OpResult:
        """After the item is written: delete and upload the files that differ; the version
        becomes the object's final ``last_modified`` so the next sync is a no-op."""
        wanted: tuple[Attachment, ...] = getattr(op.record, "attachments", ())
        try:
            # also for a create: one found done after a lost answer may have some files
            got = self._fetch_one(folder, done.id)
            if isinstance(got, Failure):
                return got
            present = attachments_of(got[1])
            module = MODULE_TYPE[folder.kind]
            changed = write_files(
                self.client, module, folder.id, done.id, wanted, present, self._file_cache
            )
            version = done.version
            if changed:
                got = self._fetch_one(folder, done.id)
                if isinstance(got, Failure):
                    return got
                _, newest, _ = versions.split(done.version)
                version = versions.compose(got[0], [newest] if newest else [])
        except (
            TransientError,
            NotFoundError,
            PermissionDeniedError,
            InvalidDataError,
            ProtocolError,
        ) as exc:
            kind = (
                FailureKind.TRANSIENT
                if isinstance(exc, TransientError)
                else FailureKind.PERMISSION
                if isinstance(exc, PermissionDeniedError)
                else FailureKind.NOT_FOUND
                if isinstance(exc, NotFoundError)
                else FailureKind.INVALID
            )
            failure = Failure(kind, f"attachments: {exc}")
            if isinstance(op, Update):
                self._cut_off(op)  # its fields landed, whatever stopped its files
                return failure
            # The item exists: report it created, also after a transient error (a failed
            # create made the next sync pair the item OX lists by uid, without its files,
            # and copy that over the record that has them). The version is what OX lists
            # now, so that files written before the error do not read as a change.
            text = f"item {done.id} was created without (all) its attachments: {exc}"
            self.warnings.append(text)
            log.warning("%s", text)
            return self._as_listed(folder, done)
        return Applied(done.id, versions.with_attached(version, bool(wanted)))

    def _as_listed(self, folder: Folder, done: Applied) -> Applied:
        """``done`` with the version OX gives the object now (``done`` if it cannot tell)."""
        try:
            got = self._fetch_one(folder, done.id)
        except OxsyncError:
            return done
        if isinstance(got, Failure):
            return done
        _, newest, _ = versions.split(done.version)
        version = versions.compose(got[0], [newest] if newest else [])
        return Applied(done.id, versions.with_attached(version, bool(attachments_of(got[1]))))

    def _apply_group(
        self, folder: Folder, pending: list[tuple[int, Op]], results: list[OpResult | None]
    ) -> bool:
        """Apply ops in batches; ``False`` if the server stopped answering."""
        for start in range(0, len(pending), self.batch_size):
            try:
                self._apply_batch(
                    folder,
                    pending[start : start + self.batch_size],
                    results,
                    ignore_conflicts=False,
                )
            except TransientError as exc:
                # The batch may or may not have been applied (answer lost). Report the rest
                # as transient; a retry first looks for creates that did land (by uid).
                if any(isinstance(op, Create) for _, op in pending[start:]):
                    self._suspect.add(folder.id)
                for index, op in pending[start:]:
                    if results[index] is None:
                        results[index] = Failure(FailureKind.TRANSIENT, str(exc))
                        self._cut_off(op)
                return False
        return True

    def _resolve_members(self, folder: Folder, ops: Sequence[Op]) -> None:
        """Find the ids of contacts that list members point at but this store never saw."""
        wanted = {
            m.contact_uid
            for op in ops
            for m in getattr(_record_of(op), "members", ())
            if m.contact_uid and m.email_slot and m.contact_uid not in self._ref_of
        }
        if not wanted:
            return
        responses = self.client.propfind(
            "contacts", {"folder_id": folder.id, "lastsync": "0", "objectmode": "NEW_AND_MODIFIED"}
        )
        for resp in responses:
            uid = resp.text("uid")
            if resp.ok and uid is not None and uid in wanted:
                self._remember(uid, resp.text("object_id") or resp.href, folder.id)

    def _recover(self, folder: Folder, ops: Sequence[Op], results: list[OpResult | None]) -> None:
        """After a lost answer: creates whose uid is already in the folder are done."""
        wanted = {
            op.record.uid: i for i, op in enumerate(ops) if isinstance(op, Create) and op.record.uid
        }
        if wanted:
            responses = self.client.propfind(
                SERVLET_OF[folder.kind],
                {"folder_id": folder.id, "lastsync": "0", "objectmode": "NEW_AND_MODIFIED"},
            )
            incomplete = False
            for resp in responses:
                uid = resp.text("uid")
                object_id = resp.text("object_id") or resp.href
                if not resp.ok:
                    incomplete = incomplete or object_id == "0"
                    continue
                if is_exception(object_id, resp.prop):
                    continue  # a change exception shares its series' uid
                if uid in wanted and results[wanted[uid]] is None:
                    results[wanted[uid]] = Applied(object_id, resp.text("last_modified") or "")
                    self._known.get(folder.id, set()).add(object_id)
                    log.info("create of %s had reached OX before the answer was lost", uid)
            if incomplete:
                # an entry OX failed to serialise may be a create that landed: sending
                # the others again could duplicate them; the folder stays suspect
                for i in wanted.values():
                    if results[i] is None:
                        results[i] = Failure(
                            FailureKind.TRANSIENT,
                            "OX could not list every object of the folder, so a create "
                            "whose answer was lost may be there",
                        )
                return
        self._suspect.discard(folder.id)

    def _apply_batch(
        self,
        folder: Folder,
        chunk: list[tuple[int, Op]],
        results: list[OpResult | None],
        *,
        ignore_conflicts: bool,
    ) -> None:
        props: list[Element] = []
        sent: list[tuple[int, Op]] = []
        for index, op in chunk:
            try:
                props.append(self._prop_for(folder, index, op, ignore_conflicts))
                sent.append((index, op))
            except MappingError as exc:
                results[index] = Failure(
                    FailureKind.INVALID, str(exc), tuple(e.path for e in exc.errors)
                )
            except (NotFoundError, InvalidDataError) as exc:
                kind = (
                    FailureKind.NOT_FOUND if isinstance(exc, NotFoundError) else FailureKind.INVALID
                )
                results[index] = Failure(kind, str(exc))
        if not props:
            return
        responses = self._expect(self._proppatch(SERVLET_OF[folder.kind], props), len(props))
        clashes: list[tuple[int, Op]] = []
        for (index, op), resp in zip(sent, responses, strict=True):
            if resp.ok:
                results[index] = self._applied(folder, op, resp)
            elif resp.code == 1006 and not ignore_conflicts:
                self._warn_clash(op, resp)
                clashes.append((index, op))
            else:
                failure = failure_of(resp)
                if resp.conflicts:
                    failure = attrs.evolve(
                        failure,
                        message=failure.message
                        + ": "
                        + ", ".join(describe(c) for c in resp.conflicts),
                    )
                results[index] = failure
        if clashes:
            self._apply_batch(folder, clashes, results, ignore_conflicts=True)

    def _warn_clash(self, op: Op, resp: OXResponse) -> None:
        what = getattr(getattr(op, "record", None), "summary", None) or getattr(op, "id", "")
        text = f"appointment {what!r} clashes with " + ", ".join(
            describe(c) for c in resp.conflicts
        )
        self.warnings.append(text)
        log.warning("%s", text)

    def _prop_for(self, folder: Folder, index: int, op: Op, ignore_conflicts: bool) -> Element:
        prop = new_prop()
        add(prop, "client_id", f"oxsync-{index}")
        if isinstance(op, Create):
            record = op.record if op.record.uid else attrs.evolve(op.record, uid=str(uuid.uuid4()))
            add(prop, "folder_id", folder.id)
            ox_xml.encode(record, prop, full=False, contact_ref=self._contact_ref)
        elif isinstance(op, Update):
            add(prop, "object_id", op.id)
            add(prop, "folder_id", folder.id)
            add(prop, "last_modified", series_stamp(op.version or NO_CHECK))
            ox_xml.encode(op.record, prop, full=True, contact_ref=self._contact_ref)
        elif isinstance(op, Delete):
            add(prop, "object_id", op.id)
            add(prop, "folder_id", folder.id)
            add(prop, "last_modified", series_stamp(op.version or NO_CHECK))
            add(prop, "method", "DELETE")
        else:
            target = self._folder(op.to_folder)
            if target.kind is not folder.kind:
                raise InvalidDataError(
                    f"cannot move a {folder.kind.value} item to a {target.kind.value} folder"
                )
            add(prop, "object_id", op.id)
            add(prop, "folder_id", folder.id)
            add(prop, "last_modified", series_stamp(op.version or NO_CHECK))
            add(prop, "folder", target.id)
            if folder.kind is not FolderKind.CONTACTS:
                current = self._fetch_one(folder, op.id)
                if isinstance(current, Failure):
                    raise NotFoundError(current.message)
                item = self._decode(folder, op.id, *current)
                if isinstance(item, Failure):
                    raise InvalidDataError(item.message)
                ox_xml.encode(item.record, prop, full=True, contact_ref=self._contact_ref)
        if ignore_conflicts and folder.kind is FolderKind.CALENDAR:
            add(prop, "ignore_conflicts", "true")
        return prop

    def _applied(self, folder: Folder, op: Op, resp: OXResponse) -> Applied:
        object_id = resp.text("object_id") or resp.href
        version = resp.text("last_modified") or ""
        known = self._known.get(folder.id)
        indexes = self._exceptions.indexes
        if isinstance(op, Delete | Move) and folder.id in indexes:
            indexes[folder.id].drop_series(op.id)  # exceptions go with their series
            if isinstance(op, Move):
                indexes.pop(op.to_folder, None)
        if isinstance(op, Delete):
            if known is not None:
                known.discard(op.id)
            return Applied(op.id, "")
        if isinstance(op, Move):
            if known is not None:
                known.discard(op.id)
            self._known.get(op.to_folder, set()).add(object_id)
        elif known is not None:
            known.add(object_id)
        if isinstance(op, Create | Update) and isinstance(op.record, Contact) and op.record.uid:
            self._remember(op.record.uid, object_id, folder.id)  # lists may point at it
        return Applied(object_id, version)

    def _proppatch(self, servlet: str, props: list[Element]) -> list[OXResponse]:
        """A PROPPATCH of items. An answer that is none (an error page or a proxy's
        instead of OX's, a 404 page, broken or oversize XML) is a lost answer: the
        blocks may have been applied, so it is a TransientError, whose handling looks
        for what landed; as a ProtocolError it left an update's files unwritten after
        its fields landed, and the next run copied that over the other side."""
        try:
            return self.client.proppatch(servlet, props)
        except (ProtocolError, NotFoundError) as exc:
            raise TransientError(f"OX answered a write unreadably: {exc}") from exc

    @staticmethod
    def _expect(responses: list[OXResponse], count: int) -> list[OXResponse]:
        if len(responses) == 1 and count != 1 and responses[0].code == 1400:
            raise ProtocolError(f"OX refused the request body: {responses[0].description}")
        if len(responses) != count:
            raise ProtocolError(f"OX answered {len(responses)} responses to {count} operations")
        return responses

    def confirm(
        self, folder_id: str, item_id: str, status: ParticipationStatus, message: str | None = None
    ) -> OpResult:
        """Answer an invitation (appointment) or a delegated task as this user."""
        folder = self._folder(folder_id)
        if folder.kind is FolderKind.CONTACTS:
            raise InvalidDataError("only appointments and tasks can be confirmed")
        self._check_writable("confirm an invitation")
        prop = new_prop()
        add(prop, "object_id", item_id)
        add(prop, "folder_id", folder_id)
        add(prop, "method", "CONFIRM")
        add(prop, "confirm", CONFIRM[status])
        if message:
            add(prop, "confirm_message", message)
        (resp,) = self._expect(self.client.proppatch(SERVLET_OF[folder.kind], [prop]), 1)
        if not resp.ok:
            return failure_of(resp)
        return Applied(resp.text("object_id") or item_id, resp.text("last_modified") or "")

    # ------------------------------------------------------------------ attachments

    def attachments(self, folder_id: str, item_id: str) -> list[AttachmentInfo]:
        """The files attached to an item (``webdav.attachments``)."""
        got = self._fetch_one(self._folder(folder_id), item_id)
        if isinstance(got, Failure):
            raise ERROR_OF_KIND[got.kind](got.message)
        return attachments_of(got[1])

    def add_attachment(self, folder_id: str, item_id: str, attachment: Attachment) -> str:
        """Attach a file to an item; returns the attachment id (the item's version moves)."""
        self._check_writable("attach a file")
        folder = self._folder(folder_id)
        attachment_id, _ = self.client.put_attachment(
            MODULE_TYPE[folder.kind],
            folder_id,
            item_id,
            attachment.filename,
            attachment.data,
            attachment.content_type,
        )
        return attachment_id

    def read_attachment(self, folder_id: str, item_id: str, attachment_id: str) -> Attachment:
        """The file of an attachment, with its name and type."""
        folder = self._folder(folder_id)
        info = {a.id: a for a in self.attachments(folder_id, item_id)}.get(attachment_id)
        if info is None:
            raise NotFoundError(f"no attachment {attachment_id!r} on item {item_id!r}")
        data, content_type = self.client.get_attachment(
            MODULE_TYPE[folder.kind], folder_id, item_id, attachment_id
        )
        return Attachment(
            filename=info.filename, content_type=info.content_type or content_type, data=data
        )

    def remove_attachment(self, folder_id: str, item_id: str, attachment_id: str) -> None:
        """Delete an attachment (the item's version moves)."""
        self._check_writable("remove an attachment")
        folder = self._folder(folder_id)
        self.client.delete_attachment(MODULE_TYPE[folder.kind], folder_id, item_id, attachment_id)

    # ------------------------------------------------------------------ extras

    def push_listener(
        self,
        on_change: Callable[[str], None],
        *,
        host: str | None = None,
        port: int | None = None,
        **kwargs: Any,
    ) -> PushListener:
        """A (not yet started) UDP push listener for this account's user.

        ``host`` defaults to the store's ``push_host``, else the server's host name;
        ``port`` to the store's ``push_port`` (44335). The socket binds to the loopback
        address when the server is on loopback, else to all interfaces of the server's
        address family (pass ``bind`` to choose).
        """
        host = host or self.push_host
        port = port or self.push_port
        me = self.directory().me
        if me is None or me.context_id is None:
            raise ProtocolError("webdav.groupuser did not name the user (myidentity)")
        server_host = host or urlsplit(self.client.base_url).hostname or "127.0.0.1"
        if "bind" not in kwargs and server_host in ("127.0.0.1", "localhost", "::1"):
            kwargs["bind"] = ("::1" if server_host == "::1" else "127.0.0.1", 0)
        return PushListener((server_host, port), me.uid, me.context_id, on_change, **kwargs)

    def free_busy(self, email: str, start: date, end: date) -> list[BusyInterval]:
        """Busy intervals of a user or resource (``name@domain``) between two days."""
        username, at, server = email.partition("@")
        if not (username and at and server):
            raise InvalidDataError(
                f"free/busy needs an e-mail address (name@domain), not {email!r}"
            )
        me = self.directory().me
        try:
            return self.client.freebusy(
                username,
                server,
                start,
                end,
                context_id=(me.context_id if me and me.context_id else 1),
            )
        except NotFoundError:
            raise NotFoundError(
                f"OX knows no user or resource with the address {email!r}"
            ) from None

    def group_lists(self) -> list[DistributionList]:
        """The user groups as distribution lists of their members' primary addresses."""
        directory = self.directory()
        users = {u.uid: u for u in directory.users}
        out = []
        for group in directory.groups:
            if group.deleted:
                continue
            members = tuple(
                DistributionListMember(display_name=users[m].display_name, email=users[m].email)
                for m in group.members
                if m in users
            )
            out.append(
                DistributionList(
                    uid=f"ox-group-{group.uid}", display_name=group.name, members=members
                )
            )
        return out


_UNREADABLE = "0"
_LAST_MS = 253_402_300_800_000  # 10000-01-01: no OX timestamp is later


def _is_cursor(cursor: str) -> bool:
    """Whether ``cursor`` can be an OX timestamp (ms), as this store's cursors are."""
    return cursor.isascii() and cursor.isdecimal() and int(cursor) < _LAST_MS


"""The version of an object listed unreadably: moves as soon as it is listed readably."""


def _listed_unreadably(problem: str) -> Failure:
    return Failure(FailureKind.INVALID, f"OX listed it unreadably: {problem}")


def _is_object_id(object_id: str) -> bool:
    """OX object ids are decimal numbers, in ASCII digits."""
    return number(object_id) is not None


def _has_files(op: Create | Update) -> bool:
    """Whether writing ``op`` may touch attachments (wanted, or present when read)."""
    if isinstance(op.record, DistributionList):
        return False
    return bool(op.record.attachments) or (isinstance(op, Update) and versions.attached(op.version))


def _fields(record: Record) -> Record:
    """A record without its files and timestamps (what a cut-off update compares)."""
    if isinstance(record, DistributionList):  # (no files: never cut off between them)
        return record
    if isinstance(record, Event):  # (written in one batch with the series)
        record = attrs.evolve(record, exceptions=())
    return attrs.evolve(record, attachments=(), created=None, last_modified=None)


def _record_of(op: Op) -> object:
    return getattr(op, "record", None)
