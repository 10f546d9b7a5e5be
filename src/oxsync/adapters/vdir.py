"""A folder of ``.ics`` / ``.vcf`` files: one file per item, one subfolder per collection.

The layout is vdirsyncer's "vdir" (also read and written by khal and khard)::

    ~/.local/share/contacts/          <- VdirStore(path)
        family/                       <- a folder; its id is "family"
            displayname               <- optional: the folder's name (vdirsyncer metadata)
            color                     <- optional: kept untouched
            oxsync-kind               <- optional: contacts | calendar | tasks
            4f1c...@example.org.vcf   <- an item; its id is the file name

Terms, as :mod:`oxsync.core.store` defines them:

- **item id** = the file name (with its extension); **folder id** = the subfolder name.
- **version** = ``f"{mtime_ns}-{size}"`` of the file. A write of ours always moves it
  (if the clock did not tick, the mtime is bumped by one nanosecond).
- **changes**: always a full listing (``os.scandir``, no file is opened); the engine
  compares versions and then fingerprints, so a touched but unchanged file costs one
  fetch and no sync.
- **kind** of a folder: its ``oxsync-kind`` file, else its content (``.vcf`` files:
  contacts; ``.ics``: calendar, or tasks if the first file holds a VTODO), else its name
  ("contacts", "addressbook", "tasks", "todo" …), else calendar.
- **default folder** of a kind: the one named ``contacts``, ``calendar`` or ``tasks``,
  else the only folder of that kind.

Writes are atomic (a hidden temporary file in the same folder, then ``os.replace``), so
khal, khard or a concurrent reader never see half a file. Updates and deletes check the
version first (:class:`~oxsync.core.store.FailureKind` ``CONFLICT`` if the file moved),
an update again just before its rename; the last check and the replace are not one
atomic step, as in vdirsyncer. A temporary file or folder that a killed writer left
behind is removed by a later listing once it is stale (see :func:`_remove_stale`). Bad
files never block a folder: fetching one gives a ``Failure(INVALID)`` naming the bad fields.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import re
import stat
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import attrs

from oxsync.core.records import (
    Folder,
    FolderKind,
    ItemKind,
    Record,
    item_kind_of,
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
    Native,
    Op,
    OpResult,
    Update,
)
from oxsync.errors import (
    FieldError,
    InvalidDataError,
    MappingError,
    NotFoundError,
    PermissionDeniedError,
    StoreError,
    TransientError,
)

__all__ = ["DURABILITY", "KIND_FILE", "VdirStore"]

DURABILITY = ("batch", "file", "off")
"""The ``fsync`` settings of :class:`VdirStore`.

``batch``: one file-system sync per applied batch (``syncfs(2)`` on Linux, else an
``fsync`` of every written file and of the folder) before the batch's results are
returned, so the engine records only durable writes. A power cut in the middle of a batch
can leave that batch's new files empty; such a file is reported ``INVALID`` ("empty"),
never read as an item without content, and the other side still holds the data. The
per-file sync of ``file`` closes that window at about 1 ms per file on common file
systems (10 s for 10,000 contacts, more than the whole sync); vdirsyncer does not sync at
all on Linux.
"""

KIND_FILE = "oxsync-kind"
"""Metadata file naming a folder's kind (``contacts``, ``calendar`` or ``tasks``)."""

_DEFAULTS = {
    FolderKind.CONTACTS: "contacts",
    FolderKind.CALENDAR: "calendar",
    FolderKind.TASKS: "tasks",
}
_EXTENSION = {FolderKind.CONTACTS: ".vcf", FolderKind.CALENDAR: ".ics", FolderKind.TASKS: ".ics"}
_NAME_HINTS = (
    (FolderKind.CONTACTS, ("contact", "addressbook", "address-book", "card")),
    (FolderKind.TASKS, ("task", "todo")),
)
_GROUP_LINE = re.compile(rb"(?m)^(?:[A-Z0-9-]+\.)?(?:X-ADDRESSBOOKSERVER-)?KIND:GROUP\r?$")
_TMP_TAG = uuid.uuid4().hex[:8]  # with the pid and a counter: unique temp names
_TMP_COUNT = itertools.count()
# The hidden names this store itself gives to what a crash can leave behind (see
# _remove_stale): ".<name>.<pid>-<tag>-<n>.tmp" (a file being written, a folder being made,
# a metadata file), ".<id>.<pid>-<tag>-<n>.deleted" (a folder being deleted), and the
# ".<displayname|oxsync-kind>.<uuid>.tmp" that earlier versions gave metadata writes.
_TEMP_NAME = re.compile(r"\..+\.([0-9]{1,10})-[0-9a-f]{8}-[0-9]+\.(?:tmp|deleted)", re.DOTALL)
_OLD_META_TEMP_NAME = re.compile(r"\.(?:displayname|oxsync-kind)\.[0-9a-f]{32}\.tmp")
_TEMP_ENDINGS = (".tmp", ".deleted")
_STALE_AFTER = 3600  # seconds: a temporary entry of a writer that is gone is removed
_ABANDONED_AFTER = 24 * 3600  # seconds: a temporary entry is removed whatever its pid
MAX_ITEM_BYTES = 64 * 1024 * 1024
"""Default ``max_item_bytes`` of :class:`VdirStore`: larger files are not read."""
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.@+=-]{1,150}$")
# names of devices on Windows, whatever follows the first dot ("CON.vcf" is no file)
_DEVICE_NAME = re.compile(r"(?i)^(?:CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])(?:\.|$)")
_O_READ = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)  # no O_NONBLOCK (nor FIFOs) on Windows


class VdirStore(BaseStore):
    """The vdir store; see the module docstring.

    ``path`` is the root holding one subfolder per collection; it is created if missing
    (unless ``read_only``). With ``default_folders`` a folder named ``contacts``,
    ``calendar`` or ``tasks`` is created for each kind the root has no folder of.
    ``vcard_version`` is the vCard version written (3.0 or 4.0; both are read).
    ``fsync`` says when writes reach the disk (see :data:`DURABILITY`): ``"batch"`` (the
    default) syncs the file system once after each batch, before the engine records it;
    ``"file"`` (or ``True``) syncs every file before it is renamed into place; ``"off"``
    (or ``False``) leaves it to the operating system. A file larger than
    ``max_item_bytes`` (default 64 MiB) is not read: it is reported ``INVALID``, so one
    stray huge file cannot exhaust memory.
    """

    name = "vdir"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        read_only: bool = False,
        name: str | None = None,
        default_folders: bool = True,
        vcard_version: str = "3.0",
        fsync: bool | str = "batch",
        max_item_bytes: int = MAX_ITEM_BYTES,
    ) -> None:
        super().__init__(read_only=read_only, name=name)
        if vcard_version not in ("3.0", "4.0"):
            raise InvalidDataError(f"vcard_version must be 3.0 or 4.0, not {vcard_version!r}")
        if type(max_item_bytes) is not int or max_item_bytes < 1:
            raise InvalidDataError(
                f"max_item_bytes must be a positive integer, not {max_item_bytes!r}"
            )
        self._max_item_bytes = max_item_bytes
        self.root = Path(path).expanduser()
        self._vcard_version = vcard_version
        # the formats whose bytes this store writes as they are (Create/Update.native)
        self._native_types = frozenset({f"text/vcard;version={vcard_version}", "text/calendar"})
        self._durability = _durability(fsync)
        self.warnings: list[str] = []
        """What the store passed over (names that are not UTF-8); the engine reports and
        clears them after each sync."""
        if not self.root.is_dir():
            if read_only:
                raise NotFoundError(f"no vdir at {str(self.root)!r}")
            self.root.mkdir(parents=True, exist_ok=True)
        self._kinds: dict[str, FolderKind] = {}
        if default_folders and not read_only:
            present = {f.kind for f in self.folders()}
            for kind, dirname in _DEFAULTS.items():
                if kind not in present and not (self.root / dirname).exists():
                    # an OSError (a read-only root…) is left as it is: the caller names the store
                    self._make_folder(dirname, dirname, kind)

    # ------------------------------------------------------------------ protocol

    def _capabilities(self) -> Capabilities:
        return Capabilities(
            kinds=frozenset(ItemKind),
            delta=False,
            batch_size=500,
            moves=True,
            folder_ops=True,
            permissions=False,
            recurrence=True,
            push=False,
            native_media_types=self._native_types,
        )

    def folders(self) -> Sequence[Folder]:
        """Every subfolder of the root (hidden ones excluded), sorted by id.

        The default folder of a kind is the one named ``contacts``, ``calendar`` or
        ``tasks``, else the only folder of that kind (a khard user's single address book
        pairs with the server's default contacts folder).
        """
        leftovers: list[os.DirEntry[str]] = []
        try:
            with os.scandir(self.root) as entries:
                dirs = sorted(e.name for e in entries if _is_folder(e, leftovers))
        except OSError as exc:
            raise _store_error(exc, f"cannot list vdir {str(self.root)!r}") from exc
        if leftovers and not self.capabilities.read_only:
            _remove_stale(leftovers, directories=True)
        if not all(d.isascii() for d in dirs):
            dirs = self._valid_names(dirs, repr(str(self.root)), "folder")
        kinds = {dirname: self._kind(dirname) for dirname in dirs}
        defaults = {}
        for kind, default_name in _DEFAULTS.items():
            of_kind = [d for d, k in kinds.items() if k is kind]
            if default_name in of_kind or len(of_kind) == 1:
                defaults[kind] = default_name if default_name in of_kind else of_kind[0]
        read_only = self.capabilities.read_only
        return [
            Folder(
                id=dirname,
                name=_read_meta(self.root / dirname / "displayname") or dirname,
                kind=kind,
                is_default=defaults.get(kind) == dirname,
                read_only=read_only,
            )
            for dirname, kind in kinds.items()
        ]

    def changes(self, folder_id: str, cursor: Cursor) -> Changes:
        """A full listing of the folder's item files (no file is opened)."""
        folder = self._dir(folder_id)
        leftovers: list[os.DirEntry[str]] = []  # hidden entries named like our temp files
        try:
            with os.scandir(folder) as entries:
                # One stat per file is the floor (about 5 µs each); keep the loop lean.
                refs = [
                    ItemRef(name, f"{st.st_mtime_ns}-{st.st_size}")
                    for entry in entries
                    if (_is_item(name := entry.name) and entry.is_file())
                    or (name[:1] == "." and _leftover(entry, leftovers))  # never an item
                    for st in (entry.stat(),)
                ]
        except OSError:  # a file removed while listed (khal deleting, say), an odd entry…
            refs = self._list_slowly(folder)
        if leftovers and not self.capabilities.read_only:
            _remove_stale(leftovers, directories=False)
        if not all(ref.id.isascii() for ref in refs):
            valid = set(
                self._valid_names([ref.id for ref in refs], f"folder {folder_id!r}", "file")
            )
            refs = [ref for ref in refs if ref.id in valid]
        return Changes(refs, (), cursor="full", full=True)

    def _valid_names(self, names: list[str], where: str, what: str) -> list[str]:
        """The names that are UTF-8; each other one is noted in :attr:`warnings`. Python
        reads such a name with lone surrogates, which no state database (nor the other
        store) can take: the entry is passed over, left as it is."""
        valid = []
        for name in names:
            try:
                name.encode("utf-8")
            except UnicodeEncodeError:
                shown = os.fsencode(name).decode("utf-8", "backslashreplace")
                warning = (
                    f"{self.name}: {what} '{shown}' in {where} skipped: its name is not"
                    " UTF-8 (rename it to sync it)"
                )
                if warning not in self.warnings:
                    self.warnings.append(warning)
            else:
                valid.append(name)
        return valid

    @staticmethod
    def _list_slowly(folder: Path) -> list[ItemRef]:
        """The listing, entry by entry. Files that vanish while it is made are left out
        (they are gone: their absence is their deletion), and so are symlink loops (no
        file). A file that cannot be examined (a symlink into a folder the user may not
        search) is listed with its link's version: left out, it would read as deleted and
        the engine would delete its copy on the other side; fetching it says why it
        cannot be read. Any other error fails the listing with a typed error."""
        refs = []
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if not _is_item(entry.name):
                        continue
                    try:
                        if not entry.is_file():
                            continue
                        st = entry.stat()
                    except FileNotFoundError:
                        continue
                    except OSError as exc:
                        if exc.errno == errno.ELOOP:
                            continue
                        if exc.errno not in (errno.EACCES, errno.EPERM):
                            raise
                        try:
                            st = entry.stat(follow_symlinks=False)
                        except FileNotFoundError:
                            continue
                    refs.append(ItemRef(entry.name, f"{st.st_mtime_ns}-{st.st_size}"))
        except OSError as exc:
            raise _store_error(exc, f"cannot list folder {folder.name!r}") from exc
        return refs

    def fetch(self, folder_id: str, ids: Sequence[str]) -> Mapping[str, Item | Failure]:
        """Parse the named files; a missing file (or one that is no regular file any more) is
        NOT_FOUND, a broken one INVALID, one nobody may read PERMISSION."""
        folder = self._dir(folder_id)
        out: dict[str, Item | Failure] = {}
        for item_id in ids:
            out[item_id] = self._fetch_one(folder, item_id)
        return out

    def _fetch_one(self, folder: Path, item_id: str) -> Item | Failure:
        if not _is_item_id(item_id):
            return Failure(FailureKind.NOT_FOUND, f"no item {item_id!r}")
        try:
            # os-level calls: open() would add an ioctl, an lseek and a second fstat per file.
            # O_NONBLOCK: a FIFO put in an item's place must not block the open for ever.
            fd = os.open(os.path.join(folder, item_id), _O_READ)
            try:
                st = os.fstat(fd)
                if not stat.S_ISREG(st.st_mode):  # a directory, a FIFO… is no item
                    return Failure(FailureKind.NOT_FOUND, f"no item {item_id!r} (not a file)")
                data = b""
                if st.st_size <= self._max_item_bytes:
                    data = _read_all(fd, st.st_size, self._max_item_bytes)
            finally:
                os.close(fd)
        except OSError as exc:
            return _read_failure(item_id, exc)
        if st.st_size > self._max_item_bytes or len(data) > self._max_item_bytes:
            return Failure(
                FailureKind.INVALID,
                f"{item_id} has over {self._max_item_bytes} bytes, the most a vdir item may"
                " have (max_item_bytes)",
            )
        if not data:
            return Failure(FailureKind.INVALID, f"{item_id} is empty (an interrupted write?)")
        try:
            records = _parse(item_id, data)
        except MappingError as exc:
            return Failure(
                FailureKind.INVALID, f"{item_id}: {exc}", tuple(e.path for e in exc.errors)
            )
        if len(records) != 1:
            return Failure(
                FailureKind.INVALID, f"{item_id} holds {len(records)} items; a vdir file holds one"
            )
        return Item(
            item_id,
            f"{st.st_mtime_ns}-{st.st_size}",
            records[0],
            Native(_media_type(item_id, data), data),
        )

    def stored_form(self, record: Record) -> Record:
        """What :meth:`fetch` returns of an item written from ``record`` (no file I/O).

        The record is serialised as a write does (:func:`_serialize`: the iCalendar or
        vCard codec, fast writer included, in this store's ``vcard_version``) and the bytes
        are parsed as a fetch does (:func:`_parse`). The engine compares a re-saved file
        (another client rewriting it unchanged, a ``touch``) with this rendering of the
        last synced record, so the values the formats keep in a lossier form are not taken
        for edits that would overwrite the other side's fuller original. A record that
        cannot be written raises :class:`~oxsync.errors.MappingError`, as the write would.
        A record without a uid gets one in the file; it is given back without.
        """
        kind = item_kind_of(record)
        contact = kind in (ItemKind.CONTACT, ItemKind.DISTRIBUTION_LIST)
        written = record if record.uid else attrs.evolve(record, uid=str(uuid.uuid4()))
        records = _parse(
            "stored.vcf" if contact else "stored.ics", _serialize(written, self._vcard_version)
        )
        if len(records) != 1:
            raise MappingError(
                f"{kind.value} {record.uid!r} reads back as {len(records)} items",
                [FieldError("$", "not one item")],
            )
        back = records[0]
        return back if back.uid == record.uid else attrs.evolve(back, uid=record.uid)

    def _apply(self, folder_id: str, ops: Sequence[Op]) -> Sequence[OpResult]:
        folder = self._dir(folder_id)
        kind = self._kind(folder_id)
        results = [self._apply_safely(folder, kind, op) for op in ops]
        if self._durability == "batch" and any(isinstance(r, Applied) for r in results):
            try:
                _make_durable(*self._written(folder, ops, results))
            except OSError as exc:
                # Written but maybe not durable: the engine must not record the batch.
                return [
                    Failure(FailureKind.TRANSIENT, f"cannot sync {folder.name!r}: {exc.strerror}")
                    if isinstance(r, Applied)
                    else r
                    for r in results
                ]
        return results

    def _apply_safely(self, folder: Path, kind: FolderKind, op: Op) -> OpResult:
        """:meth:`_apply_one`, with a refusal of the file system (a read-only file system,
        no permission, a failing disk…) as a TRANSIENT failure of that op, not an
        OSError that would stop the batch: nothing was changed, the op is tried again."""
        try:
            return self._apply_one(folder, kind, op)
        except OSError as exc:
            what = type(op).__name__.lower()
            name = op.record.uid if isinstance(op, Create) else op.id
            return Failure(FailureKind.TRANSIENT, f"cannot {what} {name!r}: {exc.strerror}")

    def _apply_one(self, folder: Path, kind: FolderKind, op: Op) -> OpResult:
        if isinstance(op, Create):
            record = op.record
            if item_kind_of(record) not in kind.item_kinds:
                return Failure(
                    FailureKind.INVALID,
                    f"a {item_kind_of(record).value} cannot go in a {kind.value} folder",
                )
            if not record.uid:
                record = attrs.evolve(record, uid=str(uuid.uuid4()))
            extension = _EXTENSION[kind]
            # a taken name is refused by the rename itself (see _write)
            item_id = _safe_name(record.uid or "", extension) or _random_name(extension)
            return self._write(
                os.fspath(folder), item_id, record, None, self._native(op, record), create=True
            )
        path = folder / op.id
        current = _version(os.fspath(path)) if _is_item_id(op.id) else None
        if current is None:
            return Failure(FailureKind.NOT_FOUND, f"no item {op.id!r}")
        if op.version is not None and op.version != current:
            return Failure(FailureKind.CONFLICT, f"item {op.id!r} changed (version {current})")
        if isinstance(op, Update):
            if item_kind_of(op.record) not in kind.item_kinds or (
                kind is FolderKind.CONTACTS
                and _is_group(path) != (item_kind_of(op.record) is ItemKind.DISTRIBUTION_LIST)
            ):
                return Failure(FailureKind.INVALID, "an update cannot change the item kind")
            record = op.record
            if not record.uid:
                old = self._fetch_one(folder, op.id)
                uid = old.record.uid if isinstance(old, Item) else None
                record = attrs.evolve(record, uid=uid or str(uuid.uuid4()))
            return self._write(
                os.fspath(folder),
                op.id,
                record,
                current,
                self._native(op, record),
                expected=op.version,
            )
        if isinstance(op, Delete):
            try:
                path.unlink()
            except FileNotFoundError:
                return Failure(FailureKind.NOT_FOUND, f"no item {op.id!r}")
            return Applied(op.id, "")
        assert isinstance(op, Move)
        try:
            target = self._dir(op.to_folder)
        except NotFoundError as exc:
            return Failure(FailureKind.NOT_FOUND, str(exc))
        if self._kind(op.to_folder) is not kind:
            return Failure(FailureKind.INVALID, f"folder {op.to_folder!r} holds other items")
        rename_noreplace = _rename_noreplace()
        new_id = op.id
        try:  # a file of that name in the target is kept: the item gets another name
            while not rename_noreplace(os.fspath(path), os.path.join(target, new_id)):
                new_id = _random_name(Path(op.id).suffix)
        except FileNotFoundError:  # removed since its version was checked
            return Failure(FailureKind.NOT_FOUND, f"no item {op.id!r}")
        return Applied(new_id, _version(os.path.join(target, new_id)) or "")

    def _native(self, op: Create | Update, record: Record) -> bytes | None:
        """The source's own bytes, when they are ``record`` in the format written here."""
        native = op.native
        if native is None or record is not op.record or native.media_type not in self._native_types:
            return None
        return native.data

    def _write(
        self,
        folder: str,
        name: str,
        record: Record,
        previous: str | None,
        native: bytes | None = None,
        *,
        create: bool = False,
        expected: str | None = None,
    ) -> OpResult:
        """Write ``folder/name`` atomically (temp file + rename).

        ``create``: the file must not be replaced; a taken name gets a random one instead
        (see :func:`_rename_noreplace`). ``expected``: the version the file must still
        have, checked again just before the rename (the caller checked it before the
        record was serialised and the temporary file written: an edit saved meanwhile
        is a conflict, not overwritten; a deletion is not undone).
        """
        if native is not None:
            data = native
        else:
            try:
                data = _serialize(record, self._vcard_version)
            except MappingError as exc:
                return Failure(FailureKind.INVALID, str(exc), tuple(e.path for e in exc.errors))
        # Plain strings and file descriptors: pathlib costs more than the write itself here.
        final = os.path.join(folder, name)
        # unique per process and write (O_EXCL refuses any clash): no random bytes per file
        # the name is cut: with the suffix, a long one would pass the 255-byte limit
        tmp = os.path.join(folder, f".{name[:48]}.{os.getpid()}-{_TMP_TAG}-{next(_TMP_COUNT)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                if self._durability == "file":
                    os.fsync(fd)
                st = os.fstat(fd)  # the rename below keeps the mtime: this is the version
            finally:
                os.close(fd)
            if create:
                rename_noreplace = _rename_noreplace()
                while not rename_noreplace(tmp, final):  # taken: another name
                    name = _random_name(os.path.splitext(name)[1])
                    final = os.path.join(folder, name)
            else:
                if expected is not None and (now := _version(final)) != expected:
                    os.unlink(tmp)
                    if now is None:
                        return Failure(FailureKind.NOT_FOUND, f"no item {name!r}")
                    return Failure(FailureKind.CONFLICT, f"item {name!r} changed (version {now})")
                os.replace(tmp, final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            return Failure(FailureKind.TRANSIENT, f"cannot write {name!r}: {exc.strerror}")
        version = f"{st.st_mtime_ns}-{st.st_size}"
        if version == previous:  # same size within one clock tick: make the change visible
            os.utime(final, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
            version = _version(final) or ""
        return Applied(name, version)

    def _written(
        self, folder: Path, ops: Sequence[Op], results: Sequence[OpResult]
    ) -> tuple[list[Path], set[Path]]:
        """The files a batch wrote and the folders whose entries it changed.

        With ``syncfs`` only the folders matter (one call flushes the file system): the
        file list, one Path per file, is then not built.
        """
        folders = {folder}
        written = []
        each_file = _syncfs() is None
        for op, result in zip(ops, results, strict=True):
            if isinstance(op, Move) and isinstance(result, Applied):
                folders.add(self.root / op.to_folder)
                written.append(self.root / op.to_folder / result.id)
            elif each_file and isinstance(result, Applied) and not isinstance(op, Delete):
                written.append(folder / result.id)
        return written, folders

    # ------------------------------------------------------------------ folders

    def _create_folder(self, name: str, kind: FolderKind, parent_id: str | None) -> Folder:
        if parent_id is not None:
            raise PermissionDeniedError("a vdir has one level of folders: no subfolders")
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip(".-")[:60] or "folder"
        try:
            dirname = self._make_folder(slug, name, kind)
        except OSError as exc:
            raise _store_error(exc, f"cannot create folder {name!r}") from exc
        return next(f for f in self.folders() if f.id == dirname)

    def _make_folder(self, slug: str, display_name: str, kind: FolderKind) -> str:
        """Make the folder ``slug`` (``slug-2``… if taken) with its metadata; its id.

        It is built under a hidden name and renamed into place (never over a folder of
        that name): a failure or crash half-way leaves no folder in view without its
        ``oxsync-kind`` (its kind would be guessed, maybe wrongly) or its name.
        """
        import shutil  # with its compression modules: not for every start-up

        tmp = os.path.join(self.root, f".{slug}.{os.getpid()}-{_TMP_TAG}-{next(_TMP_COUNT)}.tmp")
        os.mkdir(tmp)
        try:
            _write_meta(Path(tmp, KIND_FILE), kind.value)
            _write_meta(Path(tmp, "displayname"), display_name)
            rename_noreplace = _rename_noreplace()
            dirname, n = slug, 1
            while not rename_noreplace(tmp, os.path.join(self.root, dirname)):
                n += 1
                dirname = f"{slug}-{n}"
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self._kinds[dirname] = kind
        return dirname

    def _rename_folder(self, folder_id: str, name: str) -> Folder:
        try:
            _write_meta(self._dir(folder_id) / "displayname", name)
        except OSError as exc:
            raise _store_error(exc, f"cannot rename folder {folder_id!r}") from exc
        return next(f for f in self.folders() if f.id == folder_id)

    def _delete_folder(self, folder_id: str) -> None:
        """Delete the folder with its files: first renamed to a hidden name (one step: it
        leaves the view whole, never with part of its items gone), then removed. What
        cannot be removed stays hidden."""
        folder = self._dir(folder_id)
        if any(f.id == folder_id and f.is_default for f in self.folders()):
            raise PermissionDeniedError(f"folder {folder_id!r} is a default folder")
        import shutil  # with its compression modules: not for every start-up

        trash = self.root / f".{folder_id[:48]}.{os.getpid()}-{_TMP_TAG}-{next(_TMP_COUNT)}.deleted"
        try:
            os.rename(folder, trash)
        except OSError as exc:
            raise _store_error(exc, f"cannot delete folder {folder_id!r}") from exc
        self._kinds.pop(folder_id, None)
        shutil.rmtree(trash, ignore_errors=True)

    # ------------------------------------------------------------------ internals

    def _dir(self, folder_id: str) -> Path:
        if not folder_id or folder_id.startswith(".") or "/" in folder_id or os.sep in folder_id:
            raise NotFoundError(f"no folder {folder_id!r} in vdir {str(self.root)!r}")
        folder = self.root / folder_id
        try:
            is_dir = folder.is_dir()
        except OSError as exc:  # not a symlink loop nor missing (those are False)
            raise _store_error(exc, f"cannot open folder {folder_id!r}") from exc
        if not is_dir:
            raise NotFoundError(f"no folder {folder_id!r} in vdir {str(self.root)!r}")
        return folder

    def _kind(self, folder_id: str) -> FolderKind:
        kind = self._kinds.get(folder_id)
        if kind is None:
            kind, settled = _detect_kind(self.root / folder_id)
            if settled:  # a guess from an empty folder's name is asked again next time
                self._kinds[folder_id] = kind
        return kind


# --------------------------------------------------------------------------- helpers


_ITEM_SUFFIXES = frozenset({".ics", ".vcf"})


def _is_item_id(item_id: str) -> bool:
    """Whether an id from a caller names an item file of one folder (no path, no NUL)."""
    return (
        _is_item(item_id) and "/" not in item_id and os.sep not in item_id and "\0" not in item_id
    )


def _is_item(name: str) -> bool:
    return name[-4:].lower() in _ITEM_SUFFIXES and not name.startswith(".")


def _is_file(entry: os.DirEntry[str]) -> bool:
    """Whether an entry is a file (following symlinks); False if that cannot be told."""
    try:
        return entry.is_file()
    except OSError:
        return False


def _is_folder(entry: os.DirEntry[str], leftovers: list[os.DirEntry[str]]) -> bool:
    """Whether a root entry is a folder of the vdir: a directory that is not hidden. One
    that cannot be examined (a symlink into a folder the user may not search) counts, so
    it is not taken for deleted: listing it then fails with a typed error. A symlink loop
    is no folder. A hidden entry that may be a temporary one goes to ``leftovers``."""
    if entry.name.startswith("."):
        return _leftover(entry, leftovers)
    try:
        return entry.is_dir()
    except OSError as exc:
        return exc.errno != errno.ELOOP


def _store_error(exc: OSError, what: str) -> StoreError:
    """The typed error for a failed file-system call on a folder or the vdir: missing (or
    replaced by a file), no right to it (or a read-only file system), else transient."""
    message = f"{what}: {exc.strerror or exc}"
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        return NotFoundError(message)
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return PermissionDeniedError(message)
    return TransientError(message)


def _read_failure(item_id: str, exc: OSError) -> Failure:
    """Why a file could not be read. Not a file (gone, a symlink loop, a directory): the
    item is not found, as the next listing will say. No right to read it: PERMISSION, a
    lasting failure, so the engine ignores that item instead of giving up the folder on
    every run. Anything else (EIO, too many open files, the folder replaced…) may pass:
    TRANSIENT."""
    if exc.errno in (errno.ENOENT, errno.EISDIR, errno.ELOOP):
        return Failure(FailureKind.NOT_FOUND, f"no item {item_id!r}")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return Failure(FailureKind.PERMISSION, f"cannot read {item_id!r}: {exc.strerror}")
    return Failure(FailureKind.TRANSIENT, f"cannot read {item_id!r}: {exc.strerror}")


def _read_all(fd: int, size: int, limit: int) -> bytes:
    """The whole file: one read when the size is right, more if it grew meanwhile (up to
    ``limit`` bytes: a file growing without end is cut, and then fails to parse)."""
    chunks = [os.read(fd, size + 1)]
    total = len(chunks[0])
    while chunks[-1] and (len(chunks) > 1 or total > size) and total <= limit:
        chunks.append(os.read(fd, 1 << 16))
        total += len(chunks[-1])
    return b"".join(chunks)


def _version(path: str) -> str | None:
    """The version of the item file at ``path``; None if there is none (no regular file:
    missing, a directory, a symlink loop…)."""
    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ELOOP):
            return None
        raise
    if not stat.S_ISREG(st.st_mode):
        return None
    return f"{st.st_mtime_ns}-{st.st_size}"


# The mappings are imported on first use: a sync that reads or writes no file (a no-op)
# does not pay for them (vobject and icalendar take ~80 ms to import).


def _parse(item_id: str, data: bytes) -> list[Record]:
    if item_id.lower().endswith(".vcf"):
        from oxsync.mappings import vcard

        return vcard.vcard_to_records(data)
    from oxsync.mappings import ical

    return ical.ical_to_records(data)


_VCARD_VERSION = re.compile(rb"^VERSION[ \t]*:[ \t]*([0-9.]+)[ \t]*\r?$", re.M | re.I)


def _media_type(item_id: str, data: bytes) -> str:
    """What :func:`_parse` read the file as: ``text/vcard;version=N`` (the card's VERSION
    line) for ``.vcf``, ``text/calendar`` otherwise. A UTF-16 file (read thanks to its
    byte-order mark) says so: no store takes its bytes as they are, the copy is written
    from the record, in UTF-8 as the formats want."""
    vcard = item_id[-4:].lower() == ".vcf"
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "text/vcard;charset=utf-16" if vcard else "text/calendar;charset=utf-16"
    if vcard:
        found = _VCARD_VERSION.search(data)
        return f"text/vcard;version={found.group(1).decode() if found else '?'}"
    return "text/calendar"


def _serialize(record: Record, vcard_version: str) -> bytes:
    if item_kind_of(record) in (ItemKind.CONTACT, ItemKind.DISTRIBUTION_LIST):
        from oxsync.mappings import vcard

        return vcard.record_to_vcard(record, vcard_version)
    from oxsync.mappings import ical

    return ical.record_to_ical(record)


def _safe_name(uid: str, extension: str) -> str | None:
    """``<uid><ext>`` if the uid makes a safe file name, else None. Safe: a few ASCII
    characters, not hidden, not a Windows device name (the vdir may be shared with
    Windows)."""
    if _SAFE_NAME.match(uid) and not uid.startswith(".") and not _DEVICE_NAME.match(uid):
        return uid + extension
    return None


def _leftover(entry: os.DirEntry[str], leftovers: list[os.DirEntry[str]]) -> bool:
    """Note a hidden entry that ends like a temporary one of ours (the cheap test made
    during a listing; :func:`_remove_stale` judges it). Always False: no item, no folder."""
    if entry.name.endswith(_TEMP_ENDINGS):
        leftovers.append(entry)
    return False


def _remove_stale(entries: Sequence[os.DirEntry[str]], *, directories: bool) -> None:
    """Remove the temporary files (in a folder: ``directories=False``) or folders (in the
    root: ``directories=True``) that crashed writers left behind.

    A write goes through a hidden temporary name, renamed into place when complete; a
    process killed in between (a crash, SIGKILL, a power cut) leaves the temporary entry
    forever: a full copy of an item, or a half-made or half-deleted folder, that khal and
    vdirsyncer see as hidden junk. Only entries that carry exactly this store's names
    (:data:`_TEMP_NAME`, and :data:`_OLD_META_TEMP_NAME` of older versions) and the type
    ours have (regular files in a folder, directories in the root: never a symlink) are
    removed, and only when stale:

    - last modified at least ``_STALE_AFTER`` (1 hour) ago, **and** either the process
      named by the pid is not running on this machine or the entry is at least
      ``_ABANDONED_AFTER`` (1 day) old; an entry without a pid (older metadata names)
      counts as live: it goes after a day.

    The age is what makes it safe everywhere: a writer keeps its temporary file for
    milliseconds (the write, an ``fsync``, the rename), so one an hour old is no live
    write, whichever process or host it comes from. On a network share written from two
    hosts the pid is meaningless (another host's writer may have a pid that is dead here),
    so the age rule must hold on its own, and it does. The pid is a second guard on one
    host: a writer that is still alive (a laptop suspended in the middle of a write, two
    oxsync processes on one vdir) keeps its temporary file until the day is over; after a
    day the pid is no longer trusted (it may have been reused, or belong to another host
    or PID namespace). Even a wrong removal loses nothing: the writer's rename then fails
    (a TRANSIENT failure of that write, made again at the next sync, or a typed error of
    the folder operation), nothing is half written. Clock skew only
    delays a removal (an mtime in the future is never stale). On Windows the pid is not
    checked (``os.kill(pid, 0)`` would stop the process there): the day rule applies.

    Failures (no permission, already removed by another process…) are ignored: this
    never fails a listing.
    """
    now = time.time()
    for entry in entries:
        name = entry.name
        match = _TEMP_NAME.fullmatch(name)
        if match is None and _OLD_META_TEMP_NAME.fullmatch(name) is None:
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            age = now - st.st_mtime
            if age < _STALE_AFTER:
                continue
            if age < _ABANDONED_AFTER and (match is None or _pid_alive(int(match[1]))):
                continue
            if not directories and stat.S_ISREG(st.st_mode):
                os.unlink(entry.path)
            elif directories and stat.S_ISDIR(st.st_mode):
                import shutil  # with its compression modules: not for every start-up

                shutil.rmtree(entry.path, ignore_errors=True)
        except (OSError, ValueError):
            continue


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` may be running on this machine (True when unsure)."""
    if pid <= 0 or pid == os.getpid():
        return True
    if sys.platform == "win32":  # no signal 0 there: os.kill would end the process
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):  # PermissionError: alive, another user's
        return True
    return True


def _random_name(extension: str) -> str:
    return uuid.uuid4().hex + extension


def _is_group(path: Path) -> bool:
    """Whether a .vcf file holds a distribution list (KIND:group, Apple's X- form)."""
    try:
        data = path.read_bytes().upper()
    except OSError:
        return False
    return _GROUP_LINE.search(data) is not None


def _detect_kind(folder: Path) -> tuple[FolderKind, bool]:
    """The folder's kind, and whether metadata or content settled it (not only the name)."""
    declared = (_read_meta(folder / KIND_FILE) or "").strip().lower()
    for kind in FolderKind:
        if declared == kind.value:
            return kind, True
    calendars = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                lower = entry.name.lower()
                if entry.name.startswith(".") or not lower.endswith((".vcf", ".ics")):
                    continue
                if not _is_file(entry):  # a directory, a symlink loop… says nothing
                    continue
                if lower.endswith(".vcf"):
                    return FolderKind.CONTACTS, True
                calendars.append(entry.path)
    except OSError:  # an unreadable folder: judged by its name (its listing will fail)
        calendars = []
    for path in calendars:  # the first that can be read
        try:
            with open(path, "rb") as handle:
                head = handle.read(65536).upper()
        except OSError:
            continue
        if b"BEGIN:VTODO" in head and b"BEGIN:VEVENT" not in head:
            return FolderKind.TASKS, True
        return FolderKind.CALENDAR, True
    lowered = folder.name.lower()
    for kind, hints in _NAME_HINTS:
        if any(h in lowered for h in hints):
            return kind, False
    return FolderKind.CALENDAR, False


def _read_meta(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except (OSError, UnicodeDecodeError):  # missing, unreadable, a directory, a loop…
        return None


def _write_meta(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{_TMP_TAG}-{next(_TMP_COUNT)}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _durability(fsync: bool | str) -> str:
    if fsync is True:
        return "file"
    if fsync is False:
        return "off"
    if fsync not in DURABILITY:
        raise InvalidDataError(f"fsync must be one of {', '.join(DURABILITY)}, not {fsync!r}")
    return fsync


def _make_durable(files: Sequence[Path], folders: set[Path]) -> None:
    """Make a batch's writes durable: the written files' contents and the folders' entries
    (renames, deletions). One ``syncfs`` where there is one, else an ``fsync`` of each."""
    syncfs = _syncfs()
    if syncfs is not None:
        fd = os.open(next(iter(folders)), os.O_RDONLY)
        try:
            if syncfs(fd) != 0:
                import ctypes

                raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
        finally:
            os.close(fd)
        return
    for path in [*files, *folders]:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _load_syncfs() -> Callable[[int], int] | None:
    # syncfs(2) commits one file system's journal once for a whole batch; Python has no
    # binding for it, so call libc directly where it exists (Linux).
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        syncfs = libc.syncfs
    except (OSError, AttributeError):
        return None
    syncfs.argtypes = [ctypes.c_int]
    syncfs.restype = ctypes.c_int
    return cast("Callable[[int], int]", syncfs)


# Loaded on first use (ctypes costs 4 ms to import; a no-op sync writes nothing). Tests
# set _SYNCFS to None and _RENAME_NOREPLACE to _rename_checked for the portable paths.
_UNLOADED: Any = object()
_SYNCFS: Any = _UNLOADED
_RENAME_NOREPLACE: Any = _UNLOADED


def _syncfs() -> Callable[[int], int] | None:
    global _SYNCFS
    if _SYNCFS is _UNLOADED:
        _SYNCFS = _load_syncfs()
    return cast("Callable[[int], int] | None", _SYNCFS)


def _rename_noreplace() -> Callable[[str, str], bool]:
    """``rename(src, dst)`` that never replaces ``dst``: False (nothing renamed) if it
    exists. One atomic call where the kernel has ``renameat2(RENAME_NOREPLACE)``, else a
    check then a rename (as vdirsyncer does)."""
    global _RENAME_NOREPLACE
    if _RENAME_NOREPLACE is _UNLOADED:
        _RENAME_NOREPLACE = _load_rename_noreplace() or _rename_checked
    return cast("Callable[[str, str], bool]", _RENAME_NOREPLACE)


def _rename_checked(src: str, dst: str) -> bool:
    """The portable :func:`_rename_noreplace`: check, then rename (a file created between
    the two is replaced; no portable call closes that gap)."""
    if os.path.lexists(dst):
        return False
    os.replace(src, dst)
    return True


def _load_rename_noreplace() -> Callable[[str, str], bool] | None:
    """``rename(src, dst)`` that refuses to replace ``dst`` (False if it exists), in one
    atomic call: ``renameat2(RENAME_NOREPLACE)`` (Linux), or None where there is none."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    renameat2.argtypes += [ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    at_fdcwd, noreplace = -100, 1

    def rename_noreplace(src: str, dst: str) -> bool:
        old, new = os.fsencode(src), os.fsencode(dst)
        if b"\0" in old or b"\0" in new:  # C would stop at the NUL: another path
            raise ValueError("embedded null byte")
        if renameat2(at_fdcwd, old, at_fdcwd, new, noreplace) == 0:
            return True
        err = ctypes.get_errno()
        if err == errno.EEXIST:
            return False
        if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
            return _rename_checked(src, dst)  # a file system (or kernel) without the flag
        raise OSError(err, os.strerror(err), dst)

    return rename_noreplace
