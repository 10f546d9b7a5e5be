"""The sync engine: detect → plan → execute over two stores and a :class:`State`.

    >>> from oxsync.adapters.memory import MemoryStore
    >>> from oxsync.core.records import Contact, FolderKind
    >>> a, b = MemoryStore(name="a"), MemoryStore(name="b")
    >>> _ = a.put("contacts", Contact(last_name="Noether"))
    >>> engine = SyncEngine(a, b, state=State(":memory:"))
    >>> engine.sync().b.created
    1
    >>> [r.last_name for r in b.records("contacts").values()]
    ['Noether']

One :meth:`SyncEngine.sync` pairs the folder trees (creating folders that exist on one side
only, propagating folder deletions except of default folders), then for each folder pair:

1. **detect**: ask both stores what changed since their cursors; fetch only items whose
   version moved; compute fingerprints (an item whose content did not change is not a
   change, whatever its version says);
2. **plan**: :func:`oxsync.core.plan.plan_folder`, a pure function;
3. **execute**: journal the writes, apply them in batches, record each batch's results in
   one state transaction; advance the cursors only when everything was applied or put on
   the ignored list. A crash anywhere is finished by the next run: un-recorded creates are
   matched back by uid (the journal knows the uids it assigned), un-recorded updates show
   up as equal content on both sides.

A run can be stopped early and cleanly with ``SyncEngine(cancel=event)`` (or
``engine.cancel = event``): see :class:`SyncEngine`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, MutableSequence, Sequence
from typing import Any, TypeVar

import attrs
from attrs import define, field, frozen

from oxsync.core import plan as P
from oxsync.core.moves import DetectedMove, find_moves
from oxsync.core.policy import ConflictPolicy, Policy
from oxsync.core.records import Folder, FolderKind, Record, item_kind_of
from oxsync.core.runlock import run_lock
from oxsync.core.serial import canonical, fingerprint_of
from oxsync.core.state import FolderPairRow, IgnoredItem, ItemPairRow, State
from oxsync.core.store import (
    Applied,
    Changes,
    Create,
    Delete,
    Failure,
    FailureKind,
    Item,
    Move,
    Native,
    Op,
    OpResult,
    Store,
    Update,
)
from oxsync.errors import (
    LastingError,
    MassDeleteError,
    NotFoundError,
    TransientError,
    UnknownFolderError,
)

__all__ = [
    "FolderPairStatus",
    "PlannedAction",
    "SideCounts",
    "SyncEngine",
    "SyncEvent",
    "SyncReport",
]

log = logging.getLogger("oxsync.engine")
T = TypeVar("T")


@define
class SideCounts:
    """Writes made to one side."""

    created: int = 0
    updated: int = 0
    deleted: int = 0
    moved: int = 0


@define
class SyncReport:
    """What a sync did. ``errors`` holds folder-level failures (the rest went on).

    ``cancelled``: the run stopped early because :attr:`SyncEngine.cancel` was set; what it
    did is recorded, the folders it did not finish count in ``incomplete``.
    """

    a: SideCounts = field(factory=SideCounts)
    b: SideCounts = field(factory=SideCounts)
    conflicts: int = 0
    ignored: int = 0
    folders: int = 0
    incomplete: int = 0
    errors: list[str] = field(factory=list)
    warnings: list[str] = field(factory=list)
    duration: float = 0.0
    cancelled: bool = False

    def side(self, side: str) -> SideCounts:
        """Counts for side ``"a"`` or ``"b"``."""
        return self.a if side == "a" else self.b

    def to_dict(self) -> dict[str, Any]:
        """Plain data, for ``--json`` output."""
        return attrs.asdict(self)

    @property
    def changed(self) -> int:
        """Total writes on both sides."""
        a, b = self.a, self.b
        return sum(s.created + s.updated + s.deleted + s.moved for s in (a, b))


@frozen
class SyncEvent:
    """Something the engine did, for observers (progress bars, logs)."""

    kind: str  # started, folder, applied, conflict, ignored, error, finished (docs/engine.md)
    message: str
    folder: str | None = None
    count: int = 0


@frozen
class PlannedAction:
    """One line of a dry-run plan."""

    folder: str
    action: str

    def __str__(self) -> str:
        return f"[{self.folder}] {self.action}"


@frozen
class FolderPairStatus:
    """State of one folder pair, for ``oxsync status``."""

    a_folder: str
    b_folder: str
    kind: str
    items: int
    ignored: int
    pending: int
    last_sync: float | None
    a_cursor: str | None
    b_cursor: str | None


@define
class _Pair:
    row: FolderPairRow
    a_folder: Folder
    b_folder: Folder


@define
class _Work:
    """An action being executed: its ops per side and results so far."""

    action: P.Action
    ops: dict[str, Op]
    results: dict[str, OpResult] = field(factory=dict)
    journal_ids: list[int] = field(factory=list)
    record: Record | None = None
    # keep-both: the copy of the version this write replaces, which must exist first
    waits: _Work | None = None
    # keep-both's copy: the write over the version it keeps
    companion: _Work | None = None


class SyncEngine:
    """Keeps stores ``a`` and ``b`` in step; see the module docstring.

    ``pair`` names this pairing in the state (one state file can hold several pairs);
    ``max_delete_ratio`` is the mass-delete brake: a folder sync that would delete more than
    this share of a folder's items (and at least ``min_delete_brake`` items) stops with
    :class:`~oxsync.errors.MassDeleteError` unless ``force=True``. With
    ``empty_side_brake`` (the default) it also stops, however few the deletions, when every
    folder of one side that held synced items lists none any more (a wrong or unmounted
    vdir path). ``folder_kinds`` restricts the sync to some modules (contacts / calendar /
    tasks).

    ``cancel`` (also settable later as the attribute ``engine.cancel``): a
    :class:`threading.Event`, typically set from another thread or a signal handler, that
    stops a :meth:`sync` or :meth:`slow_sync` in progress at its next safe point: between
    folder pairs, between the fetch batches of detection (reading only) and between execute
    batches, once a batch's results are committed to the state. It never falls between a
    store write and its record. The run then returns a :class:`SyncReport` with
    ``cancelled=True``: what was written is recorded, and the folders not finished keep
    their cursors, so the next run does the rest (no duplicate, no loss). An event already
    set when a run starts makes it return at once, having done nothing. The engine never
    clears the event: clear it before syncing again.
    """

    def __init__(
        self,
        a: Store,
        b: Store,
        *,
        state: State,
        policy: ConflictPolicy = Policy.NEWEST_WINS,
        pair: str = "default",
        max_delete_ratio: float = 0.5,
        min_delete_brake: int = 5,
        empty_side_brake: bool = True,
        folder_kinds: Iterable[FolderKind] | None = None,
        observers: Sequence[Callable[[SyncEvent], None]] = (),
        retries: int = 3,
        backoff: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
        cancel: threading.Event | None = None,
    ) -> None:
        self.a, self.b = a, b
        self.cancel = cancel
        self.state = state
        self.policy = policy
        self.pair = pair
        self.max_delete_ratio = max_delete_ratio
        self.min_delete_brake = min_delete_brake
        self.empty_side_brake = empty_side_brake
        self.folder_kinds = frozenset(folder_kinds) if folder_kinds is not None else None
        self.observers = list(observers)
        self.retries = retries
        self.backoff = backoff
        self._sleep = sleep
        self._new_rows: list[ItemPairRow] = []
        self._done_journal: list[int] = []
        self._emptied: frozenset[str] = frozenset()  # of the current run (_emptied_sides)
        # folder pairs whose folder is gone from one side: (row, survivor, its store, side)
        self._vanished: list[tuple[FolderPairRow, Folder, Store, str]] = []
        self._unreadable = 0
        self._restore = False  # slow_sync(restore=True) is running
        self._in_run = False  # cancel is honoured within sync / slow_sync only (not plan)
        self._cancelled = False  # latched: the run saw the cancel event set

    # ------------------------------------------------------------------ public API

    def sync(self, folders: Iterable[str] | None = None, *, force: bool = False) -> SyncReport:
        """Two-way delta sync of all folder pairs (or those whose A or B id is in ``folders``)."""
        return self._run(folders, force=force, deep=False)

    def slow_sync(
        self, folder: str | None = None, *, force: bool = False, restore: bool = False
    ) -> SyncReport:
        """Full re-compare ("Slowsync"): list and fetch everything, compare fingerprints.

        ``folder`` (an id of either side) limits it to that folder's pair; an id the pair
        does not have raises :class:`~oxsync.errors.UnknownFolderError`.

        ``restore=True`` is for a store that lost items (a server restored from an old
        backup or reset, a vdir emptied by mistake): a synced item gone from one side is
        made again there from the other side's copy instead of being deleted on the other
        side, and nothing is deleted, neither items nor folders (a folder gone from one
        side is left for a later sync, with a warning). Items present on both sides are
        compared as usual."""
        self._restore = restore
        try:
            return self._run([folder] if folder else None, force=force, deep=True)
        finally:
            self._restore = False

    def plan(self, folders: Iterable[str] | None = None) -> list[PlannedAction]:
        """Dry run: what :meth:`sync` would do now, without writing anything."""
        out: list[PlannedAction] = []
        pairs, planned_folders = self._pair_folders(dry_run=True)
        out.extend(planned_folders)
        wanted = set(folders) if folders is not None else None
        selected = {
            fp.row.id if fp.row.id >= 0 else -i - 1: fp
            for i, fp in enumerate(pairs)
            if wanted is None or {fp.a_folder.id, fp.b_folder.id} & wanted
        }
        deltas = {key: self._detect(fp, deep=False)[0] for key, fp in selected.items()}
        moves, deltas = find_moves(deltas, self._can_move())
        for move in moves:
            out.append(PlannedAction(selected[move.target].a_folder.name, str(move)))
        for key, fp in selected.items():
            for action in P.plan_folder(deltas[key], self.policy):
                if not isinstance(action, P.Refresh | P.Unignore):
                    out.append(PlannedAction(fp.a_folder.name, str(action)))
        return out

    def ignored(self) -> list[IgnoredItem]:
        """Items a store refused for a lasting reason, with the reason."""
        ids = {row.id for row in self.state.folder_pairs(self.pair)}
        return [i for i in self.state.ignored() if i.folder_pair in ids]

    def retry_ignored(self, items: Iterable[str] | None = None) -> int:
        """Flag ignored items (all, or by item id) to be tried at the next sync."""
        total = 0
        for row in self.state.folder_pairs(self.pair):
            total += self.state.mark_retry(row.id, list(items) if items is not None else None)
        return total

    def status(self) -> list[FolderPairStatus]:
        """Per folder pair: counts, cursors, pending journal entries, last sync time."""
        out = []
        for row in self.state.folder_pairs(self.pair):
            out.append(
                FolderPairStatus(
                    row.a_folder,
                    row.b_folder,
                    row.kind,
                    self.state.count_pairs(row.id),
                    len(self.state.ignored(row.id)),
                    len(self.state.journal(row.id)),
                    row.last_sync,
                    row.a_cursor,
                    row.b_cursor,
                )
            )
        return out

    # ------------------------------------------------------------------ the run

    def _run(self, folders: Iterable[str] | None, *, force: bool, deep: bool) -> SyncReport:
        # one run per pair and state: two would each create what is new (duplicates)
        with run_lock(self.state.path, self.pair, self.state):
            self._in_run, self._cancelled = True, False
            try:
                return self._run_locked(folders, force=force, deep=deep)
            finally:
                self._in_run = False

    def _run_locked(self, folders: Iterable[str] | None, *, force: bool, deep: bool) -> SyncReport:
        started = time.perf_counter()
        report = SyncReport()
        self._unreadable = 0  # items put on the ignored list because fetch could not read them
        self._emit("started", "sync started")
        if self._stopping():
            return self._end(report, started, None)
        wanted = set(folders) if folders is not None else None
        self._vanished = []
        pairs, _ = self._pair_folders(dry_run=False)
        selected = [
            fp for fp in pairs if wanted is None or {fp.a_folder.id, fp.b_folder.id} & wanted
        ]
        if deep and wanted and not selected:  # (a push may name a folder oxsync does not sync)
            raise UnknownFolderError(
                f"pair {self.pair!r} has no folder with the id {sorted(wanted)[0]!r} on either"
                " side (oxsync folders lists them)"
            )
        ends = self._unfinished_moves(pairs, selected)
        sources = set().union(*ends.values())
        selected += [fp for fp in pairs if fp not in selected and fp.row.id in sources]
        detected: dict[int, tuple[_Pair, P.FolderDelta, Changes, Changes]] = {}
        for fp in selected:
            if self._stopping():
                report.incomplete += 1
                continue
            report.folders += 1
            self._emit("folder", f"looking for changes in {fp.a_folder.name}", fp.a_folder.name)
            try:
                detected[fp.row.id] = (fp, *self._detect(fp, deep=deep))
            except _Cancelled:
                report.incomplete += 1
            except (TransientError, LastingError) as exc:
                self._folder_error(fp, exc, report)
        for target, moved_from in ends.items():
            # an unfinished move's source folder could not be read: its target waits too
            if target in detected and moved_from - detected.keys():
                del detected[target]
                report.incomplete += 1
        self._emptied = self._emptied_sides(detected)
        brake: MassDeleteError | None = None
        if self._restore:  # nothing is deleted: a folder gone from one side waits
            report.warnings.extend(
                f"folder {survivor.name!r} is gone from side {'A' if side == 'B' else 'B'}: "
                "a restoring slow sync does not make folders again nor delete them; the "
                "next sync decides"
                for _, survivor, _, side in self._vanished
            )
        elif not self._stopping():  # (the next run decides about vanished folders)
            brake = self._settle_vanished(force, report, detected, pairs)
        deltas = {key: value[1] for key, value in detected.items()}
        moves, deltas = find_moves(deltas, self._can_move())
        held = self._execute_moves(moves, detected, deltas, report)
        for key, (fp, _, a_changes, b_changes) in detected.items():
            if self._stopping():
                report.incomplete += 1
                continue
            try:
                self._finish_folder(
                    fp, deltas[key], a_changes, b_changes, report, force=force, hold=key in held
                )
            except MassDeleteError as exc:
                brake = brake or exc
                report.errors.append(str(exc))
                self._emit("error", str(exc), fp.a_folder.name)
            except (TransientError, LastingError) as exc:
                self._folder_error(fp, exc, report)
        return self._end(report, started, brake)

    def _end(self, report: SyncReport, started: float, brake: MassDeleteError | None) -> SyncReport:
        for store in (self.a, self.b):
            # Stores may note warnings that are no failure (OX [1006] appointment clashes).
            # Any mutable sequence: OXStore keeps a bounded deque (a list is cleared here
            # only while an engine runs the store), which an isinstance(list) test missed.
            pending = getattr(store, "warnings", None)
            if isinstance(pending, MutableSequence) and pending:
                report.warnings.extend(str(w) for w in pending)
                pending.clear()
        report.ignored += self._unreadable
        report.duration = time.perf_counter() - started
        report.cancelled = self._cancelled
        how = "cancelled after" if report.cancelled else "finished in"
        self._emit("finished", f"sync {how} {report.duration:.3f}s", count=report.changed)
        if brake is not None:
            brake.report = report
            raise brake
        return report

    def _unfinished_moves(
        self, pairs: Sequence[_Pair], selected: Sequence[_Pair]
    ) -> dict[int, set[int]]:
        """Folder pairs of ``selected`` holding a move a run started and never recorded
        (its journal entry), mapped to the folder pairs the moved items' pairs are still in.

        Both ends of such a move are synced together: seen alone, the target folder holds
        the two moved copies as new items without their pair and base (the edit of one
        side could lose against the other's old version), or one new item to copy next
        to the one left in the source folder.
        """
        ids = [fp.row.id for fp in pairs]
        ends: dict[int, set[int]] = {}
        for fp in selected:
            for entry in self.state.journal(fp.row.id):
                if entry.op != "move" or not entry.uid or not entry.target_id:
                    continue
                for other in ids:
                    if other == fp.row.id:
                        continue
                    row = self.state.pairs_by_id(other, entry.target, [entry.target_id])
                    found = row.get(entry.target_id)
                    if found is not None and found.uid == entry.uid:
                        ends.setdefault(fp.row.id, set()).add(other)
                        break
        return ends

    def _emptied_sides(
        self, detected: Mapping[int, tuple[_Pair, P.FolderDelta, Changes, Changes]]
    ) -> frozenset[str]:
        """Sides whose every synced folder that held paired items now lists none.

        That is the signature of a wrong or unmounted path (a vdir is created empty where
        it is missing), far more often than of a deliberate deletion of everything: the
        brake then stops the deletions it would cause on the other side, however few.
        Only full listings can tell an empty folder.
        """
        if not self.empty_side_brake:
            return frozenset()
        # per folder pair holding items: (side A lists nothing, side B lists nothing)
        holding = [
            (a_ch.full and not a_ch.changed, b_ch.full and not b_ch.changed)
            for fp, _, a_ch, b_ch in detected.values()
            if self.state.count_pairs(fp.row.id) > 0
        ]
        holding += [  # a folder gone from one side lists nothing there
            (side == "B", side == "A")
            for row, _, _, side in self._vanished
            if self.state.count_pairs(row.id) > 0
        ]
        if not holding:
            return frozenset()
        return frozenset(
            side for side, index in (("a", 0), ("b", 1)) if all(h[index] for h in holding)
        )

    def _settle_vanished(
        self,
        force: bool,
        report: SyncReport,
        detected: dict[int, tuple[_Pair, P.FolderDelta, Changes, Changes]],
        pairs: Sequence[_Pair],
    ) -> MassDeleteError | None:
        """Folders gone from one side: delete the other side's folder, unless that would
        trip the brake (its items count as deleted items; see :meth:`_check_brake`). A
        held deletion keeps the folder pair, so a later run (or ``force``) decides again;
        the first brake is returned, to be raised when the run ends.

        A surviving folder holding items new or changed since the last sync (made there,
        moved there, edited there) is not deleted with them: as an edit wins over a
        deletion, those items stay, the folder is made again on the other side and paired
        with it (detected into ``detected``, so this run copies them, and finds the moves
        into it), and only its unchanged synced items are deleted. Its parents stay too, as
        does a folder holding a folder still synced.
        """
        brake = None
        settle: list[tuple[FolderPairRow, Folder, Store, str]] = []
        for row, survivor, store, side in self._vanished:
            count = self.state.count_pairs(row.id)
            gone_side = "a" if side == "B" else "b"
            if (
                not force
                and count
                and (gone_side in self._emptied or count >= self.min_delete_brake)
            ):
                exc = MassDeleteError(
                    survivor.name, side, count, count, self.max_delete_ratio, folder_gone=True
                )
                report.errors.append(str(exc))
                self._emit("error", str(exc), survivor.name)
                brake = brake or exc
                continue
            if not survivor.is_default and _writable(store) and not survivor.read_only:
                settle.append((row, survivor, store, side))
            else:
                self.state.remove_folder_pair(row.id)
        looked = {
            row.id: self._survivor_items(row, survivor, store, side.lower())
            for row, survivor, store, side in settle
        }
        parents = {survivor.id: survivor.parent_id for _, survivor, _, _ in settle}
        # a folder still synced (or new) inside one of them keeps it too: deleting the
        # parent would take it, and what it holds, along
        live = {(s, f.parent_id) for p in pairs for s, f in (("A", p.a_folder), ("B", p.b_folder))}
        keep: set[str] = set()
        for row, survivor, _, side in settle:
            if looked[row.id][0] or (side, survivor.id) in live:
                folder_id: str | None = survivor.id
                while folder_id in parents and folder_id not in keep:
                    keep.add(folder_id)
                    folder_id = parents[folder_id]
        # (side, folder id) -> the other side's folder id, of the pairs that stay
        mapping = {
            key: there
            for p in pairs
            for key, there in (
                (("a", p.a_folder.id), p.b_folder.id),
                (("b", p.b_folder.id), p.a_folder.id),
            )
        }

        def depth(folder_id: str | None) -> int:
            return 1 + depth(parents[folder_id]) if folder_id in parents else 0

        for row, survivor, store, side in sorted(
            settle, key=lambda x: depth(x[1].parent_id)
        ):  # parents first
            doomed = looked[row.id][1]
            if survivor.id in keep:
                self._keep_vanished(
                    row, survivor, store, side.lower(), doomed, detected, report, mapping
                )
                continue
            with contextlib.suppress(NotFoundError):  # (gone with a parent deleted before)
                self._call(store.delete_folder, survivor.id)
            self._emit("folder", f"deleted folder {survivor.name} on {side}")
            self.state.remove_folder_pair(row.id)
        return brake

    def _survivor_items(
        self, row: FolderPairRow, folder: Folder, store: Store, side: str
    ) -> tuple[list[str], list[tuple[str, str]]]:
        """The items of a folder whose pair vanished on the other side: those new or
        changed since the last sync (ids), and the unchanged synced ones (id, version);
        with ``delete_wins`` the changed synced ones are among the latter."""
        listed = {ref.id: ref.version for ref in self._call(store.changes, folder.id, None).changed}
        known = self.state.versions(row.id, side)
        kept = [i for i in listed if i not in known]
        doomed = [(i, v) for i, v in listed.items() if known.get(i) == v]
        moved = [i for i, v in listed.items() if i in known and known[i] != v]
        if moved:
            pairs = self.state.pairs_by_id(row.id, side, moved)
            found = self._fetch(store, folder, moved, row, side)
            delta = P.FolderDelta(
                {},
                {},
                {},
                {},
                caps_a=self.a.capabilities,
                caps_b=self.b.capabilities,
                stored_a=getattr(self.a, "stored_form", None),
                stored_b=getattr(self.b, "stored_form", None),
            )
            for item_id in moved:
                seen, pair = found.get(item_id), pairs.get(item_id)
                if seen is not None and seen.deleted:
                    continue
                if seen is not None and (
                    self.policy.delete_wins  # (the deletion wins over the edit there)
                    or (pair is not None and P.unchanged(seen, pair, side, delta))
                ):
                    doomed.append((item_id, seen.version))
                else:  # edited there, or unreadable: kept
                    kept.append(item_id)
        return kept, doomed

    def _keep_vanished(
        self,
        row: FolderPairRow,
        survivor: Folder,
        store: Store,
        side: str,
        doomed: Sequence[tuple[str, str]],
        detected: dict[int, tuple[_Pair, P.FolderDelta, Changes, Changes]],
        report: SyncReport,
        mapping: dict[tuple[str, str], str],
    ) -> None:
        """Keep a folder gone from the other side for its new and changed items: delete
        its unchanged synced items, make it again on the other side, pair the two."""
        size = max(1, store.capabilities.batch_size)
        for i in range(0, len(doomed), size):  # (one changed since is refused: it stays)
            ops: list[Op] = [Delete(item_id, version) for item_id, version in doomed[i : i + size]]
            self._apply_with_retry(store, survivor.id, ops)
        there = P.other(side)
        other_store = self.b if side == "a" else self.a
        parent = mapping.get((side, survivor.parent_id)) if survivor.parent_id else None
        made = self._call(other_store.create_folder, survivor.name, survivor.kind, parent)
        fa, fb = (survivor, made) if side == "a" else (made, survivor)
        with self.state.transaction():
            self.state.remove_folder_pair(row.id)
            new_row = self.state.add_folder_pair(self.pair, fa.id, fb.id, fa.kind.value)
        mapping.update({(side, survivor.id): made.id, (there, made.id): survivor.id})
        self._emit(
            "folder",
            f"kept folder {survivor.name} on {side.upper()} for its new or changed items"
            f" (deleted on {there.upper()}); made it again there",
        )
        fp = _Pair(new_row, fa, fb)
        try:
            detected[new_row.id] = (fp, *self._detect(fp, deep=False))
        except (TransientError, LastingError) as exc:  # (the next run copies them)
            self._folder_error(fp, exc, report)

    def _folder_error(self, fp: _Pair, exc: Exception, report: SyncReport) -> None:
        report.errors.append(f"{fp.a_folder.name}: {exc}")
        report.incomplete += 1
        self._emit("error", str(exc), fp.a_folder.name)

    def _finish_folder(
        self,
        fp: _Pair,
        delta: P.FolderDelta,
        a_changes: Changes,
        b_changes: Changes,
        report: SyncReport,
        *,
        force: bool,
        hold: bool,
    ) -> None:
        actions = P.plan_folder(delta, self.policy)
        if actions:
            self._emit(
                "folder",
                f"applying {len(actions)} change(s) in {fp.a_folder.name}",
                fp.a_folder.name,
                count=len(actions),
            )
        actions = self._drop_read_only(fp, actions, report)
        self._check_brake(fp, actions, force)
        complete = self._execute(fp, actions, report, delta) and not hold
        if complete:
            with self.state.transaction():
                self.state.set_cursors(fp.row.id, a_changes.cursor, b_changes.cursor, time.time())
                self.state.clear_journal(fp.row.id)
        else:
            report.incomplete += 1

    # ------------------------------------------------------------------ moves

    def _can_move(self) -> dict[str, bool]:
        return {
            side: store.capabilities.moves and not store.capabilities.read_only
            for side, store in (("a", self.a), ("b", self.b))
        }

    def _execute_moves(
        self,
        moves: Sequence[DetectedMove],
        detected: Mapping[int, tuple[_Pair, P.FolderDelta, Changes, Changes]],
        deltas: dict[int, P.FolderDelta],
        report: SyncReport,
    ) -> set[int]:
        """Apply detected moves on the other side; returns folder pairs to sync again.

        A move the store refuses for a lasting reason falls back to delete + create (its
        items go back into the deltas for the planner).
        """
        held: set[int] = set()
        for move in moves:
            if self._stopping():  # the folders are not finished: the next run sees the rest
                break
            src, dst = detected[move.source][0], detected[move.target][0]
            target = P.other(move.side)
            store = self.a if target == "a" else self.b
            src_folder = src.a_folder if target == "a" else src.b_folder
            dst_folder = dst.a_folder if target == "a" else dst.b_folder
            pair = move.pair
            if move.both is not None:  # moved on both sides: only the state moves
                row = self._replan_moved(move, dst, move.both, deltas)
                with self.state.transaction():
                    self.state.delete_pairs(src.row.id, [pair.a_id])
                    self.state.put_pairs([row])
                self._emit("applied", str(move), dst.a_folder.name)
                continue
            if src_folder.read_only or dst_folder.read_only:
                self._unmove(move, deltas)
                continue
            (journal_id,) = self.state.journal_add(
                dst.row.id, [(target, "move", move.seen.id, pair.side_id(target), pair.uid)]
            )
            # the version the other side's item has now (it may have been edited there)
            version = move.other.version if move.other is not None else pair.side_version(target)
            try:
                (result,) = self._call(
                    store.apply,
                    src_folder.id,
                    [Move(pair.side_id(target), dst_folder.id, version)],
                )
                if isinstance(result, Failure):
                    if result.kind.lasting:
                        self._unmove(move, deltas)
                    else:
                        held.update((move.source, move.target))
                    continue
                if move.other is not None:
                    there = attrs.evolve(move.other, id=result.id, version=result.version)
                    row = self._replan_moved(move, dst, there, deltas)
                else:
                    row, written = self._moved_row(
                        move, dst, result, store, dst_folder.id, deltas[move.target]
                    )
                    if not written:  # the edit made with the move waits for the next run:
                        held.add(move.target)  # keep the target folder's cursors for it
            except (TransientError, LastingError) as exc:
                self._emit("error", f"move failed: {exc}", dst.a_folder.name)
                held.update((move.source, move.target))
                continue
            with self.state.transaction():
                self.state.delete_pairs(src.row.id, [pair.a_id])
                self.state.put_pairs([row])
                self.state.journal_done([journal_id])
            report.side(target).moved += 1
            self._emit("applied", str(move), dst.a_folder.name)
        return held

    def _moved_row(
        self,
        move: DetectedMove,
        dst: _Pair,
        moved: Applied,
        store: Store,
        folder_id: str,
        delta: P.FolderDelta,
    ) -> tuple[ItemPairRow, bool]:
        """The pair row after a move; an edit made together with the move is written too.

        Also returns False when that edit could not be written: the row then keeps the old
        content paired, and the target folder must keep its cursors (a delta store would
        otherwise never list the edited item again, and the edit was lost).
        """
        side, target = move.side, P.other(move.side)
        pair, seen = move.pair, move.seen
        t_id, t_version, t_fp, base = moved.id, moved.version, pair.side_fp(target), pair.base
        s_version, s_fp = seen.version, seen.fp
        written = True
        # what the moved copy means: the store's own renderings of the base are no edit
        meant = P.meant(seen, pair, side, delta)
        if seen.fp != pair.side_fp(side) and pair.base and meant.blob == pair.base:
            s_fp = pair.side_fp(side)  # only its store's rendering: still holds the base
        elif seen.fp != pair.side_fp(side):
            assert meant.record is not None
            record = _with_uid(meant.record, pair.uid)
            (result,) = self._call(store.apply, folder_id, [Update(t_id, record, t_version)])
            if isinstance(result, Applied):
                base, _ = canonical(record)
                t_id, t_version, t_fp = (
                    result.id,
                    result.version,
                    fingerprint_of(type(record), base),
                )
            else:  # keep the old content paired; the next run sees the edit again
                s_version, s_fp = "", pair.side_fp(side)
                written = False
        ids = {side: seen.id, target: t_id}
        versions = {side: s_version, target: t_version}
        fps = {side: s_fp, target: t_fp}
        row = ItemPairRow(
            dst.row.id,
            ids["a"],
            ids["b"],
            versions["a"],
            versions["b"],
            fps["a"],
            fps["b"],
            pair.kind,
            pair.uid,
            base,
        )
        return row, written

    @staticmethod
    def _replan_moved(
        move: DetectedMove, dst: _Pair, there: P.Seen, deltas: dict[int, P.FolderDelta]
    ) -> ItemPairRow:
        """The pair row in the target folder of an item the other side edited (then moved
        here by the engine) or moved here too (``there``: that side's item in the target);
        both sides' versions go to the target folder's planner, as changes of that pair.

        The row keeps the last synced fingerprints and base and no versions, so the planner
        (and, after a crash, the next run's detection) takes whatever content differs from
        the last sync for a change: an edit is propagated, merged or a conflict, never
        lost; unchanged content only gets its version noted.
        """
        side, target = move.side, P.other(move.side)
        pair, seen = move.pair, move.seen
        ids = {side: seen.id, target: there.id}
        row = ItemPairRow(
            dst.row.id,
            ids["a"],
            ids["b"],
            "",
            "",
            pair.a_fp,
            pair.b_fp,
            pair.kind,
            pair.uid,
            pair.base,
        )
        changes = {side: seen, target: there}
        delta = deltas[move.target]
        deltas[move.target] = attrs.evolve(
            delta,
            a={**delta.a, row.a_id: changes["a"]},
            b={**delta.b, row.b_id: changes["b"]},
            pairs_a={**delta.pairs_a, row.a_id: row},
            pairs_b={**delta.pairs_b, row.b_id: row},
        )
        return row

    @staticmethod
    def _unmove(move: DetectedMove, deltas: dict[int, P.FolderDelta]) -> None:
        """Give a move's items back to the planner (delete here, create there)."""
        side = move.side
        gone = P.Seen(move.pair.side_id(side), "")
        back = [(move.source, side, gone), (move.target, side, move.seen)]
        if move.other is not None:  # the other side's edit, where it was made
            back.append((move.source, P.other(side), move.other))
        for key, which, seen in back:
            delta = deltas[key]
            if which == "a":
                deltas[key] = attrs.evolve(delta, a={**delta.a, seen.id: seen})
            else:
                deltas[key] = attrs.evolve(delta, b={**delta.b, seen.id: seen})

    # ------------------------------------------------------------------ detect

    def _detect(self, fp: _Pair, *, deep: bool) -> tuple[P.FolderDelta, Changes, Changes]:
        row = fp.row
        seen: dict[str, dict[str, P.Seen]] = {}
        pairs: dict[str, dict[str, ItemPairRow]] = {}
        ignored: dict[str, dict[str, IgnoredItem]] = {}
        changes: dict[str, Changes] = {}
        for side, store, folder in (("a", self.a, fp.a_folder), ("b", self.b, fp.b_folder)):
            cursor = None if deep else (row.a_cursor if side == "a" else row.b_cursor)
            ch = self._call(store.changes, folder.id, cursor)
            changes[side] = ch
            ignored[side] = self.state.ignored_on(row.id, side)
            retry = {i for i, entry in ignored[side].items() if entry.retry}
            if ch.full:
                known = self.state.versions(row.id, side)
                listed = {ref.id: ref.version for ref in ch.changed}
                # with the paired items whose change the other store refused (see below)
                again = retry | {i for i in ignored[side] if i in known}
                wanted = [i for i, v in listed.items() if deep or known.get(i) != v or i in again]
                if not deep:
                    wanted = _still_unreadable(wanted, listed, ignored[side], retry)
                deleted = [i for i in known if i not in listed]
                side_pairs = self.state.pairs_by_id(row.id, side, [*wanted, *deleted])
            else:
                candidates = {ref.id: ref.version for ref in ch.changed}
                for item_id in retry:
                    candidates.setdefault(item_id, "")
                # A paired item whose change the other store refused: the planner needs its
                # content if the other side changes it too (plan_folder: held items).
                for item_id in self.state.versions_of(row.id, side, ignored[side]):
                    candidates.setdefault(item_id, "")
                # Most refs of a delta are echoes of our own writes: compare versions with a
                # light query first, load full pair rows only for real candidates.
                known = self.state.versions_of(row.id, side, [*candidates, *ch.deleted])
                wanted = [i for i, v in candidates.items() if known.get(i) != v or i in retry]
                wanted = _still_unreadable(wanted, candidates, ignored[side], retry)
                listed = candidates
                deleted = [i for i in ch.deleted if i in known or i in ignored[side]]
                side_pairs = self.state.pairs_by_id(row.id, side, [*wanted, *deleted])
            found = self._fetch(store, folder, wanted, row, side, listed)
            side_seen = {i: P.Seen(i, "") for i in deleted}
            side_seen.update(found)
            seen[side] = side_seen
            pairs[side] = side_pairs
        self._fetch_refused(fp, seen, pairs, ignored)
        # creates a run journalled and never saw the result of: uid -> (source id, target)
        creates = {
            e.uid: (e.source_id, e.target)
            for e in self.state.journal(row.id)
            if e.op == "create" and e.uid and e.source_id
        }
        pending = {uid: source for uid, (source, _) in creates.items()}
        delta = P.FolderDelta(
            seen["a"],
            seen["b"],
            pairs["a"],
            pairs["b"],
            ignored["a"],
            ignored["b"],
            pending,
            self.a.capabilities,
            self.b.capabilities,
            {uid: target for uid, (_, target) in creates.items()},
            getattr(self.a, "stored_form", None),
            getattr(self.b, "stored_form", None),
            restore=self._restore and deep,
        )
        return delta, changes["a"], changes["b"]

    def _fetch_refused(
        self,
        fp: _Pair,
        seen: dict[str, dict[str, P.Seen]],
        pairs: dict[str, dict[str, ItemPairRow]],
        ignored: dict[str, dict[str, IgnoredItem]],
    ) -> None:
        """Fetch the unpaired items whose copy the other store refused, when that other
        side has new items: one with the same uid is the same item (plan_folder matches
        them). A delta store lists a refused item only when it changes."""
        row = fp.row
        for side, store, folder in (("a", self.a, fp.a_folder), ("b", self.b, fp.b_folder)):
            there = P.other(side)
            if not any(
                s.record is not None and i not in pairs[there] for i, s in seen[there].items()
            ):
                continue
            ids = [
                i
                for i, entry in ignored[side].items()
                if entry.fingerprint
                and not entry.fingerprint.startswith(_UNREAD)
                and i not in seen[side]
            ]
            paired = self.state.versions_of(row.id, side, ids)
            ids = [i for i in ids if i not in paired]
            if ids:
                seen[side].update(self._fetch(store, folder, ids, row, side))

    def _fetch(
        self,
        store: Store,
        folder: Folder,
        ids: Sequence[str],
        row: FolderPairRow,
        side: str,
        listed: Mapping[str, str] | None = None,
    ) -> dict[str, P.Seen]:
        """Fetch ``ids``; an item the store cannot read goes on the ignored list, with the
        version ``listed`` gave it, so that it is read again only when that changes."""
        out: dict[str, P.Seen] = {}
        size = max(1, store.capabilities.batch_size)
        # a fetched item's own bytes are kept only if the other store can write them
        usable = (self.b if side == "a" else self.a).capabilities.native_media_types
        bad: list[IgnoredItem] = []
        for i in range(0, len(ids), size):
            if i and self._stopping():
                raise _Cancelled
            batch = ids[i : i + size]
            got = self._call(store.fetch, folder.id, batch)
            for item_id in batch:
                item = got.get(item_id)
                if isinstance(item, Item):
                    blob, fp = canonical(item.record)
                    native = item.native
                    if native is not None and native.media_type not in usable:
                        native = None
                    out[item_id] = P.Seen(item_id, item.version, item.record, blob, fp, native)
                elif item is None:
                    # The store broke its contract (one answer per id). Reading the silence
                    # as a deletion would delete the item on the other side: retry instead.
                    raise TransientError(
                        f"{store.name} gave no answer for item {item_id!r} of folder {folder.id!r}"
                    )
                elif item.kind is FailureKind.NOT_FOUND:
                    out[item_id] = P.Seen(item_id, "")  # vanished: a deletion
                elif item.kind.lasting:
                    bad.append(
                        IgnoredItem(
                            row.id,
                            side,
                            item_id,
                            item.kind.value,
                            f"cannot read: {item.message}",
                            _UNREAD + (listed or {}).get(item_id, ""),
                            time.time(),
                            False,
                        )
                    )
                else:
                    raise TransientError(f"cannot read item {item_id}: {item.message}")
        if bad:
            self.state.ignore(bad)
            self._unreadable += len(bad)
            for entry in bad:
                self._emit("ignored", f"{entry.item_id}: {entry.reason}", folder.name)
        return out

    # ------------------------------------------------------------------ plan guards

    def _drop_read_only(
        self, fp: _Pair, actions: list[P.Action], report: SyncReport
    ) -> list[P.Action]:
        """Drop writes to read-only stores or folders; changes refused so are ignored items.

        Whole read-only stores are sources only: nothing is recorded. A read-only folder
        (say, a shared folder with read rights) refuses the other side's edits as the
        server would, so those go on the ignored list with the reason.
        """
        stores_ro = {s for s, st in (("a", self.a), ("b", self.b)) if st.capabilities.read_only}
        folders_ro = {s for s, f in (("a", fp.a_folder), ("b", fp.b_folder)) if f.read_only}
        blocked = stores_ro | folders_ro
        if not blocked:
            return actions
        kept: list[P.Action] = []
        refused: list[IgnoredItem] = []
        gone: list[str] = []  # A ids of pairs whose deletion was refused
        now = time.time()
        for action in actions:
            targets = _targets(action) & blocked
            if not targets:
                kept.append(action)
                continue
            self._emit("ignored", f"read-only, not applied: {action}", fp.a_folder.name)
            if targets <= stores_ro:
                continue
            reason = f"folder {fp.a_folder.name!r} is read-only for this account"
            if isinstance(action, P.CopyNew | P.Overwrite):
                refused.append(
                    IgnoredItem(
                        fp.row.id,
                        P.other(action.target),
                        _source_id(action) or "",
                        "permission",
                        reason,
                        action.source_fp,
                        now,
                        False,
                    )
                )
                if isinstance(action, P.Overwrite) and not action.pair.folder_pair:
                    self.state.put_pairs([_refused_match(fp.row, action)])
            elif isinstance(action, P.Remove):
                # As for a deletion the store refuses (_fail): the item that stays is the
                # one set aside, unpaired, until it changes. Kept paired, its next change
                # was written to the deleted item on the other side: not found, at every run.
                side = action.target
                refused.append(
                    IgnoredItem(
                        fp.row.id,
                        side,
                        action.pair.side_id(side),
                        "permission",
                        f"cannot delete: {reason}",
                        action.pair.side_fp(side),
                        now,
                        False,
                    )
                )
                gone.append(action.pair.a_id)
        if gone:
            self.state.delete_pairs(fp.row.id, gone)
        if refused:
            self.state.ignore(refused)
            report.ignored += len(refused)
        return kept

    def _check_brake(self, fp: _Pair, actions: Sequence[P.Action], force: bool) -> None:
        if force:
            return
        total = self.state.count_pairs(fp.row.id)
        for side in ("a", "b"):
            count = sum(1 for x in actions if isinstance(x, P.Remove) and x.target == side)
            emptied = P.other(side) in self._emptied and count == total  # see _emptied_sides
            if count and (
                emptied
                or (count >= self.min_delete_brake and count > self.max_delete_ratio * total)
            ):
                raise MassDeleteError(
                    fp.a_folder.name, side.upper(), count, total, self.max_delete_ratio
                )

    # ------------------------------------------------------------------ execute

    def _execute(
        self,
        fp: _Pair,
        actions: Sequence[P.Action],
        report: SyncReport,
        delta: P.FolderDelta,
    ) -> bool:
        row = fp.row
        works: list[_Work] = []
        with self.state.transaction():
            for action in actions:
                self._apply_local(row, action, report)
                ops = self._ops_for(fp, action, delta)
                if ops:
                    works.append(_Work(action, ops, record=_written_record(action, ops)))
            entries = []
            for work in works:
                for side, op in work.ops.items():
                    source_id = _source_id(work.action)
                    target_id = None if isinstance(op, Create) else op.id
                    uid = op.record.uid if isinstance(op, Create) else None
                    entries.append((side, _op_name(op), source_id, target_id, uid))
            ids = iter(self.state.journal_add(row.id, entries))
            for work in works:
                work.journal_ids = [next(ids) for _ in work.ops]
        _link_kept(works)
        complete = True
        for side, store, folder in (("a", self.a, fp.a_folder), ("b", self.b, fp.b_folder)):
            queue = [w for w in works if side in w.ops and _ready(w, side)]
            size = max(1, store.capabilities.batch_size)
            for i in range(0, len(queue), size):
                batch = queue[i : i + size]
                results = self._apply_with_retry(store, folder.id, [w.ops[side] for w in batch])
                with self.state.transaction():
                    for work, result in zip(batch, results, strict=True):
                        work.results[side] = result
                        if not self._settle(row, work, report):
                            complete = False
                    self._flush()
                if self._stopping():
                    # nothing of the works not started reached a store: their journal
                    # entries go (a two-sided one half done keeps its own, as after a crash)
                    self.state.journal_done(
                        [i for w in works if not w.results for i in w.journal_ids]
                    )
                    return False
        return complete and all(len(w.results) == len(w.ops) for w in works)

    def _apply_local(self, row: FolderPairRow, action: P.Action, report: SyncReport) -> None:
        """Actions that only touch the state (inside the execute transaction)."""
        if isinstance(action, P.Link):
            a, b = action.a, action.b
            # a side holding only its rendering of the other's record is recorded as if
            # written with it: the other's (fuller) record is the base (P.Link.rendered)
            base = b if action.rendered == "a" else a
            assert base.record is not None
            self.state.put_pairs(
                [
                    ItemPairRow(
                        row.id,
                        a.id,
                        b.id,
                        a.version,
                        b.version,
                        b.fp if action.rendered == "a" else a.fp,
                        a.fp if action.rendered == "b" else b.fp,
                        item_kind_of(base.record).value,
                        base.record.uid,
                        base.blob,
                    )
                ]
            )
        elif isinstance(action, P.Refresh):
            self.state.set_versions(
                row.id, action.side, [(action.pair.side_id(action.side), action.version)]
            )
        elif isinstance(action, P.Forget):
            self.state.delete_pairs(row.id, [action.pair.a_id])
        elif isinstance(action, P.Unignore):
            self.state.unignore(row.id, action.side, [action.item_id])
        elif isinstance(action, P.Relink):  # (replaces the row holding the other side's id)
            self.state.put_pairs([action.row])

    def _ops_for(self, fp: _Pair, action: P.Action, delta: P.FolderDelta) -> dict[str, Op]:
        if isinstance(action, P.CopyNew):
            record = (
                action.record
                if action.record.uid
                else attrs.evolve(action.record, uid=uuid.uuid4().hex)
            )
            native = _native_of(delta, P.other(action.target), action.source_id, record)
            return {action.target: Create(record, native)}
        if isinstance(action, P.Overwrite):
            pair = action.pair
            record = _with_uid(action.record, pair.uid)
            source = P.other(action.target)
            native = _native_of(delta, source, pair.side_id(source), record)
            return {
                action.target: Update(
                    pair.side_id(action.target),
                    record,
                    pair.side_version(action.target),
                    native,
                )
            }
        if isinstance(action, P.DualWrite):
            pair = action.pair
            record = _with_uid(action.record, pair.uid)
            return {
                "a": Update(pair.a_id, record, pair.a_version),
                "b": Update(pair.b_id, record, pair.b_version),
            }
        if isinstance(action, P.CreateBoth):
            return {"a": Create(action.record), "b": Create(action.record)}
        if isinstance(action, P.Remove):
            pair = action.pair
            return {
                action.target: Delete(pair.side_id(action.target), pair.side_version(action.target))
            }
        return {}

    def _apply_with_retry(self, store: Store, folder_id: str, ops: list[Op]) -> list[OpResult]:
        results = list(self._call(store.apply, folder_id, ops))
        for attempt in range(self.retries):
            again = [
                i
                for i, r in enumerate(results)
                if isinstance(r, Failure) and r.kind is FailureKind.TRANSIENT
            ]
            if not again:
                break
            self._sleep(self.backoff * 2**attempt)
            retried = self._call(store.apply, folder_id, [ops[i] for i in again])
            for i, result in zip(again, retried, strict=True):
                results[i] = result
        return results

    def _settle(self, row: FolderPairRow, work: _Work, report: SyncReport) -> bool:
        """Record a finished op; returns False if the folder must be synced again."""
        action = work.action
        side, result = next(reversed(work.results.items()))
        if isinstance(result, Failure):
            if isinstance(action, P.Remove) and result.kind is FailureKind.NOT_FOUND:
                result = Applied(action.pair.side_id(action.target), "")
                work.results[side] = result
            else:
                return self._fail(row, work, side, result, report)
        if len(work.results) < len(work.ops):
            return True  # the other side's part is still to come
        self._done_journal.extend(work.journal_ids)
        self._record(row, work, report)
        return True

    def _flush(self) -> None:
        """Write the rows gathered for one batch (inside its transaction)."""
        if self._new_rows:
            self.state.put_pairs(self._new_rows)
            self._new_rows = []
        if self._done_journal:
            self.state.journal_done(self._done_journal)
            self._done_journal = []

    def _fail(
        self, row: FolderPairRow, work: _Work, side: str, failure: Failure, report: SyncReport
    ) -> bool:
        work.ops = {s: op for s, op in work.ops.items() if s in work.results}  # skip the rest
        if not failure.kind.lasting:
            # Conflict, vanished target or transient: keep the journal and the cursors, so
            # the next run sees both sides' changes again and decides afresh.
            self._emit("error", f"{failure.kind.value}: {failure.message}", row.a_folder)
            return False
        self.state.journal_done(work.journal_ids)
        action = work.action
        if isinstance(action, P.CopyNew | P.Overwrite):
            source = P.other(action.target)
            entry = IgnoredItem(
                row.id,
                source,
                _source_id(action) or "",
                failure.kind.value,
                failure.message,
                action.source_fp,
                time.time(),
                False,
            )
            if isinstance(action, P.Overwrite) and not action.pair.folder_pair:
                self._new_rows.append(_refused_match(row, action))
        elif isinstance(action, P.Remove):
            entry = IgnoredItem(
                row.id,
                action.target,
                action.pair.side_id(action.target),
                failure.kind.value,
                failure.message,
                action.pair.side_fp(action.target),
                time.time(),
                False,
            )
            self.state.delete_pairs(row.id, [action.pair.a_id])
        elif isinstance(action, P.DualWrite) and action.pair.folder_pair:
            self._fail_dual_write(row, work, side, failure, report)
            return True
        elif isinstance(action, P.DualWrite):  # two new items matched by uid: no pair yet
            entry = IgnoredItem(
                row.id,
                P.other(side),
                action.pair.side_id(P.other(side)),
                failure.kind.value,
                failure.message,
                "",
                time.time(),
                False,
            )
        else:
            report.errors.append(f"{action}: {failure.message}")
            return True
        self.state.ignore([entry])
        report.ignored += 1
        self._emit("ignored", f"{entry.item_id}: {failure.message}", row.a_folder)
        return True

    def _fail_dual_write(
        self, row: FolderPairRow, work: _Work, side: str, failure: Failure, report: SyncReport
    ) -> None:
        """A merge one side of a pair refused: set the two versions aside as they now are.

        The pair keeps its base and fingerprints (the merge is still to be made) but gets
        the versions the sides hold now, so the next write to either expects the right one
        (with the old ones, every later write failed on its version, at every run). Each
        side whose item did not get the merge goes on the ignored list with what it holds;
        held so, it meets the other side's next change as a conflict, and a retry merges
        again. If A took the merge, A's item is set aside holding it.
        """
        action = work.action
        assert isinstance(action, P.DualWrite)
        pair = action.pair
        applied = work.results.get("a") if side == "b" else None
        a_version = applied.version if isinstance(applied, Applied) else pair.a_version
        self.state.set_versions(row.id, "a", [(pair.a_id, a_version)])
        self.state.set_versions(row.id, "b", [(pair.b_id, pair.b_version)])
        if isinstance(applied, Applied):
            merged_fp = fingerprint_of(type(action.record), action.blob)
            held = [("a", merged_fp)]
        else:
            held = [("a", action.a_fp), ("b", action.b_fp)]
        now = time.time()
        self.state.ignore(
            [
                IgnoredItem(
                    row.id,
                    s,
                    pair.side_id(s),
                    failure.kind.value,
                    failure.message,
                    fp,
                    now,
                    False,
                )
                for s, fp in held
            ]
        )
        report.ignored += 1
        self._emit("ignored", f"{pair.side_id(side)}: {failure.message}", row.a_folder)

    def _record(self, row: FolderPairRow, work: _Work, report: SyncReport) -> None:
        action = work.action
        if isinstance(action, P.Remove):
            self.state.delete_pairs(row.id, [action.pair.a_id])
            report.side(action.target).deleted += 1
            return
        record = work.record
        if record is None:
            raise AssertionError(f"no record written for {action}")
        planned: object = getattr(action, "record", None)
        blob: bytes = getattr(action, "blob", b"")
        if not blob or planned is not record:  # the uid was filled in: serialise again
            blob = canonical(record)[0]
        fp = fingerprint_of(type(record), blob)
        kind = item_kind_of(record).value
        res = {s: r for s, r in work.results.items() if isinstance(r, Applied)}
        if isinstance(action, P.CopyNew):
            t, s = action.target, P.other(action.target)
            ids = {t: res[t].id, s: action.source_id}
            versions = {t: res[t].version, s: action.source_version}
            fps = {t: fp, s: action.source_fp}
            report.side(t).created += 1
        elif isinstance(action, P.Overwrite):
            t, s = action.target, P.other(action.target)
            ids = {t: action.pair.side_id(t), s: action.pair.side_id(s)}
            versions = {t: res[t].version, s: action.source_version}
            fps = {t: fp, s: action.source_fp}
            report.side(t).updated += 1
            if action.conflict:
                report.conflicts += 1
                self._emit(
                    "conflict",
                    f"{record.uid or ids[s]}: changed on both sides{_naming(action.fields)};"
                    f" {self.policy.name} kept {s.upper()}'s version",
                    row.a_folder,
                )
        elif isinstance(action, P.DualWrite):
            ids = {"a": action.pair.a_id, "b": action.pair.b_id}
            versions = {"a": res["a"].version, "b": res["b"].version}
            fps = {"a": fp, "b": fp}
            report.a.updated += 1
            report.b.updated += 1
            report.conflicts += 1
            self._emit(
                "conflict",
                f"{record.uid or ids['a']}: changed on both sides{_naming(action.fields)};"
                f" {self.policy.name} merged them",
                row.a_folder,
            )
        else:
            assert isinstance(action, P.CreateBoth)
            ids = {"a": res["a"].id, "b": res["b"].id}
            versions = {"a": res["a"].version, "b": res["b"].version}
            fps = {"a": fp, "b": fp}
            report.a.created += 1
            report.b.created += 1
            companion = work.companion
            if action.keeps is not None and companion is not None and not _written(companion):
                # The kept version is saved; the write over it is still to be made.
                self._new_rows.append(attrs.evolve(action.keeps, folder_pair=row.id))
        self._new_rows.append(
            ItemPairRow(
                row.id,
                ids["a"],
                ids["b"],
                versions["a"],
                versions["b"],
                fps["a"],
                fps["b"],
                kind,
                record.uid,
                blob,
            )
        )

    # ------------------------------------------------------------------ folders

    def _pair_folders(self, *, dry_run: bool) -> tuple[list[_Pair], list[PlannedAction]]:
        planned: list[PlannedAction] = []
        a_folders = self._usable_folders(self.a)
        b_folders = self._usable_folders(self.b)
        pairs: list[_Pair] = []
        taken_a: set[str] = set()
        taken_b: set[str] = set()
        for row in self.state.folder_pairs(self.pair):
            fa, fb = a_folders.get(row.a_folder), b_folders.get(row.b_folder)
            if fa is not None and fb is not None:
                pairs.append(_Pair(row, fa, fb))
                taken_a.add(fa.id)
                taken_b.add(fb.id)
                continue
            survivor, store, side = (fb, self.b, "B") if fa is None else (fa, self.a, "A")
            if dry_run:
                if survivor is not None:
                    planned.append(PlannedAction(survivor.name, f"delete folder on {side}"))
                continue
            if survivor is None:
                self.state.remove_folder_pair(row.id)
                continue
            taken_a.add(survivor.id) if side == "A" else taken_b.add(survivor.id)
            # decided after detection, when an emptied side can be told (_settle_vanished)
            self._vanished.append((row, survivor, store, side))
        mapping_ab = {p.a_folder.id: p.b_folder.id for p in pairs}
        mapping_ba = {v: k for k, v in mapping_ab.items()}
        for src_side, src, dst, taken_src, taken_dst, mapping in (
            ("a", a_folders, b_folders, taken_a, taken_b, mapping_ab),
            ("b", b_folders, a_folders, taken_b, taken_a, mapping_ba),
        ):
            dst_store = self.b if src_side == "a" else self.a
            for folder in src.values():
                if folder.id in taken_src:
                    continue
                match = _match_folder(folder, dst, taken_dst, mapping)
                if match is None:
                    if not (_writable(dst_store) and dst_store.capabilities.folder_ops):
                        continue
                    if dry_run:
                        src_store = self.a if src_side == "a" else self.b
                        count = len(self._call(src_store.changes, folder.id, None).changed)
                        target = P.other(src_side).upper()
                        planned.append(
                            PlannedAction(
                                folder.name,
                                f"create folder on {target} and copy {count} item(s) into it",
                            )
                        )
                        continue
                    parent = mapping.get(folder.parent_id) if folder.parent_id else None
                    match = self._call(dst_store.create_folder, folder.name, folder.kind, parent)
                    self._emit("folder", f"created folder {folder.name}")
                taken_src.add(folder.id)
                taken_dst.add(match.id)
                mapping[folder.id] = match.id
                fa, fb = (folder, match) if src_side == "a" else (match, folder)
                if dry_run:  # an unsaved pair (no state rows): everything in it is new
                    row = FolderPairRow(
                        -1, self.pair, fa.id, fb.id, fa.kind.value, None, None, None
                    )
                    pairs.append(_Pair(row, fa, fb))
                    continue
                row = self.state.add_folder_pair(self.pair, fa.id, fb.id, fa.kind.value)
                pairs.append(_Pair(row, fa, fb))
        return pairs, planned

    def _usable_folders(self, store: Store) -> dict[str, Folder]:
        kinds = store.capabilities.kinds
        out = {}
        for folder in self._call(store.folders):
            if self.folder_kinds is not None and folder.kind not in self.folder_kinds:
                continue
            if folder.kind.item_kinds & kinds:
                out[folder.id] = folder
        return out

    # ------------------------------------------------------------------ plumbing

    def _call(self, fn: Callable[..., T], *args: Any) -> T:
        for attempt in range(self.retries + 1):
            try:
                return fn(*args)
            except TransientError as exc:
                if attempt == self.retries:
                    raise
                log.info("transient failure (%s), retrying", exc)
                self._sleep(self.backoff * 2**attempt)
        raise AssertionError("unreachable")

    def _stopping(self) -> bool:
        """Whether the run is to stop at this safe point (:attr:`cancel` set; latched)."""
        if not self._cancelled and self._in_run and self.cancel is not None:
            self._cancelled = self.cancel.is_set()
        return self._cancelled

    def _emit(self, kind: str, message: str, folder: str | None = None, count: int = 0) -> None:
        log.debug("%s: %s", kind, message)
        if self.observers:
            event = SyncEvent(kind, message, folder, count)
            for observer in self.observers:
                observer(event)


class _Cancelled(Exception):
    """Detection stopped between fetch batches (:attr:`SyncEngine.cancel`)."""


_UNREAD = "unread:"
"""Prefix of the ``fingerprint`` of an ignored item its store could not read: there is no
content to fingerprint, so it holds the version listed when the read failed."""


def _still_unreadable(
    wanted: list[str],
    versions: Mapping[str, str],
    ignored: Mapping[str, IgnoredItem],
    retry: set[str],
) -> list[str]:
    """``wanted`` without the items that could not be read at the version listed now (a
    broken file is not read, refused and reported again at every run)."""
    if not ignored:
        return wanted
    return [
        i
        for i in wanted
        if i in retry
        or (entry := ignored.get(i)) is None
        or not versions.get(i)
        or entry.fingerprint != _UNREAD + versions[i]
    ]


def _naming(fields: Sequence[str]) -> str:
    """`` (fields: a, b)`` for a conflict message, or nothing."""
    return f" (fields: {', '.join(fields)})" if fields else ""


def _targets(action: P.Action) -> set[str]:
    if isinstance(action, P.CopyNew | P.Overwrite | P.Remove):
        return {action.target}
    if isinstance(action, P.DualWrite | P.CreateBoth):
        return {"a", "b"}
    return set()


def _refused_match(row: FolderPairRow, action: P.Overwrite) -> ItemPairRow:
    """The pair of two items new on both sides (matched by uid) whose write to the target
    was refused: the target's content is the last synced one (``action.pair.base``), the
    source's a change held back by the ignored list. Left unpaired, the next run (or a
    retry) copied either item to the other side, next to its match."""
    pair, target = action.pair, action.target
    if target == "b":
        return attrs.evolve(pair, folder_pair=row.id, a_fp=pair.b_fp)
    return attrs.evolve(pair, folder_pair=row.id, b_fp=pair.a_fp)


def _with_uid(record: Record, uid: str | None) -> Record:
    # Keep the uid the pair was created with when a side does not carry one.
    return record if record.uid or not uid else attrs.evolve(record, uid=uid)


def _native_of(delta: P.FolderDelta, side: str, item_id: str, record: Record) -> Native | None:
    """The source item's own bytes, when ``record`` is exactly what they encode.

    Identity, not equality: a merged, uid-filled or capability-restored record is a new
    object, and its bytes must be written from the record.
    """
    seen = (delta.a if side == "a" else delta.b).get(item_id)
    if seen is None or seen.native is None or seen.record is not record:
        return None
    return seen.native


def _ready(work: _Work, side: str) -> bool:
    # A write over a version keep-both saves runs once the copy is on the other side
    # (written first, as A's part runs before B's): a copy that could not be made leaves
    # the version in place instead of losing it.
    if work.waits is not None and not isinstance(work.waits.results.get(P.other(side)), Applied):
        return False
    # B-side parts of two-sided actions run only if the A part succeeded.
    if side == "b" and "a" in work.ops:
        return isinstance(work.results.get("a"), Applied)
    return True


def _link_kept(works: Sequence[_Work]) -> None:
    """Tie each keep-both copy to the write over the version it keeps (see _Work)."""
    writes = {
        (w.action.pair.a_id, w.action.pair.b_id): w
        for w in works
        if isinstance(w.action, P.Overwrite | P.DualWrite)
    }
    for work in works:
        action = work.action
        if isinstance(action, P.CreateBoth) and action.keeps is not None:
            write = writes.get((action.keeps.a_id, action.keeps.b_id))
            if write is not None:
                write.waits, work.companion = work, write


def _written(work: _Work) -> bool:
    """Whether every write of ``work`` went through."""
    return all(isinstance(work.results.get(s), Applied) for s in _targets(work.action))


def _written_record(action: P.Action, ops: Mapping[str, Op]) -> Record | None:
    for op in ops.values():
        if isinstance(op, Create | Update):
            return op.record
    return None


def _source_id(action: P.Action) -> str | None:
    if isinstance(action, P.CopyNew):
        return action.source_id
    if isinstance(action, P.Overwrite):
        return action.pair.side_id(P.other(action.target))
    return None


def _op_name(op: Op) -> str:
    return type(op).__name__.lower()


def _writable(store: Store) -> bool:
    return not store.capabilities.read_only


def _match_folder(
    folder: Folder, candidates: Mapping[str, Folder], taken: set[str], mapping: Mapping[str, str]
) -> Folder | None:
    free = [c for c in candidates.values() if c.id not in taken and c.kind is folder.kind]
    if folder.is_default:
        for c in free:
            if c.is_default:
                return c
    parent = mapping.get(folder.parent_id) if folder.parent_id else None
    for c in free:
        if c.name == folder.name and c.parent_id == parent and not c.is_default:
            return c
    # A top-level folder one store has (OX's shared and public folders) is made by the
    # first sync under the other store's default folder of its kind (Outlook's Contacts):
    # with a fresh state the two are the same folder, not two to create again.
    defaults = {c.id for c in candidates.values() if c.is_default and c.kind is folder.kind}
    for c in free:
        if (
            c.name == folder.name
            and not c.is_default
            and (
                (parent is None and not folder.parent_id and c.parent_id in defaults)
                or (c.parent_id is None and parent in defaults)
            )
        ):
            return c
    return None
