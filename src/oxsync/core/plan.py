"""The planner: a pure function from what changed on both sides to the actions to take.

Input (:class:`FolderDelta`): for one folder pair, the items seen changed on side A and on
side B (:class:`Seen`; ``record is None`` means deleted), the item pairs they belong to,
the ignored items and the uids of creates a crashed run may have left behind. Output: a
list of actions (:data:`Action`), each naming the side it writes to. The planner does no
I/O, so every (A state × B state) combination is unit-tested directly.

The rules, per item pair (A change × B change):

==================  ================  ======================================================
A                   B                 action
==================  ================  ======================================================
new                 (no match)        CopyNew → B
(no match)          new               CopyNew → A
new                 new, same uid     Link if equal, else conflict without base
modified            unchanged         Overwrite B   (a version-only change: Refresh)
deleted             unchanged         Remove on B
modified            modified          Link if equal, else conflict (policy)
deleted             modified          modification wins: CopyNew → A (Remove if delete_wins)
deleted             deleted           Forget
==================  ================  ======================================================

"new, same uid" also matches by fingerprint when neither side has a uid.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeAlias

import attrs
from attrs import frozen

from oxsync.core.policy import ConflictPolicy
from oxsync.core.records import VOLATILE, ItemKind, Record, item_kind_of, record_class
from oxsync.core.serial import canonical, fingerprint_of, from_data, to_data
from oxsync.core.state import IgnoredItem, ItemPairRow
from oxsync.core.store import Capabilities, Native
from oxsync.errors import MappingError

__all__ = [
    "Action",
    "CopyNew",
    "CreateBoth",
    "DualWrite",
    "FolderDelta",
    "Forget",
    "Link",
    "Overwrite",
    "Refresh",
    "Relink",
    "Remove",
    "Seen",
    "Unignore",
    "meant",
    "other",
    "plan_folder",
    "unchanged",
]


def other(side: str) -> str:
    """The other side: ``"a"`` ↔ ``"b"``."""
    return "b" if side == "a" else "a"


@frozen
class Seen:
    """An item seen changed on one side: ``record=None`` means it is gone."""

    id: str
    version: str
    record: Record | None = None
    blob: bytes = b""
    fp: str = ""
    native: Native | None = None  # the store's own bytes of ``record`` (Item.native)

    @property
    def deleted(self) -> bool:
        """Whether the item was deleted."""
        return self.record is None


@frozen
class FolderDelta:
    """Everything the planner needs for one folder pair."""

    a: Mapping[str, Seen]
    b: Mapping[str, Seen]
    pairs_a: Mapping[str, ItemPairRow]
    pairs_b: Mapping[str, ItemPairRow]
    ignored_a: Mapping[str, IgnoredItem] = attrs.field(factory=dict)
    ignored_b: Mapping[str, IgnoredItem] = attrs.field(factory=dict)
    pending_uids: Mapping[str, str] = attrs.field(factory=dict)  # uid -> source id
    caps_a: Capabilities = Capabilities()
    caps_b: Capabilities = Capabilities()
    pending_sides: Mapping[str, str] = attrs.field(factory=dict)  # uid -> side written to
    # (with pending_uids: the creates a run journalled and never saw the result of)
    stored_a: StoredForm | None = None  # Store.stored_form of side A, if it has one
    stored_b: StoredForm | None = None
    restore: bool = False  # a slow sync restoring: an item gone from one side was lost
    # there, not deleted; it is copied back from the other side (nothing is deleted)


StoredForm: TypeAlias = Callable[[Record], Record]
"""A store's ``stored_form``: what its ``fetch`` returns of an item written from a record."""


# ----------------------------------------------------------------------------- actions


@frozen
class CopyNew:
    """Create ``record`` on ``target``; pair it with the source item."""

    target: str
    source_id: str
    source_version: str
    source_fp: str
    record: Record
    blob: bytes

    def __str__(self) -> str:
        return f"create on {self.target.upper()}: {_label(self.record)} (from {self.source_id})"


@frozen
class Overwrite:
    """Replace the paired item on ``target`` with ``record`` (the source side's content)."""

    target: str
    pair: ItemPairRow
    source_version: str
    source_fp: str
    record: Record
    blob: bytes
    conflict: bool = False
    fields: tuple[str, ...] = ()  # of a conflict: the fields the two sides held otherwise

    def __str__(self) -> str:
        what = "resolve conflict, update" if self.conflict else "update"
        item = self.pair.side_id(self.target)
        return f"{what} on {self.target.upper()}: {_label(self.record)} ({item})"


@frozen
class DualWrite:
    """Write the merged ``record`` to both sides (a merge changed fields of both)."""

    pair: ItemPairRow
    record: Record
    blob: bytes
    a_fp: str = ""  # what each side holds before the write
    b_fp: str = ""
    fields: tuple[str, ...] = ()  # the fields the two sides held otherwise

    def __str__(self) -> str:
        return f"merge into A and B: {_label(self.record)} ({self.pair.a_id} / {self.pair.b_id})"


@frozen
class CreateBoth:
    """Create ``record`` on both sides as a new pair (keep-both's extra copy).

    ``keeps`` is the pair row to record when the extra copy is on both sides but the
    paired write over the version it keeps did not happen (a conflict on its version, a
    transient failure): that version (B's) is saved, so it is no longer a change to keep
    again; A's (no version, so it is read again; no fingerprint) is still to be written.
    The engine makes that write only once the copy is on the other side, so the version
    is never lost.
    """

    record: Record
    blob: bytes
    keeps: ItemPairRow | None = None

    def __str__(self) -> str:
        return f"create on A and B (kept both): {_label(self.record)}"


@frozen
class Remove:
    """Delete the paired item on ``target`` (it was deleted on the other side)."""

    target: str
    pair: ItemPairRow

    def __str__(self) -> str:
        return f"delete on {self.target.upper()}: {self.pair.side_id(self.target)}"


@frozen
class Link:
    """Pair two equal items without writing.

    ``rendered`` names the side whose copy is only its store's rendering of the other's
    record (``stored_form``): the pair's base is then the other side's (fuller) record,
    and the rendering side is recorded as holding it, as if the engine had written it.
    """

    a: Seen
    b: Seen
    rendered: str = ""

    def __str__(self) -> str:
        return f"pair equal items {self.a.id} ⇄ {self.b.id}"


@frozen
class Refresh:
    """Only the version moved on ``side`` (same content): remember the new version."""

    pair: ItemPairRow
    side: str
    version: str

    def __str__(self) -> str:
        return f"note new version of {self.pair.side_id(self.side)} on {self.side.upper()}"


@frozen
class Forget:
    """Both sides deleted the item: drop the pair."""

    pair: ItemPairRow

    def __str__(self) -> str:
        return f"forget {self.pair.a_id} / {self.pair.b_id} (deleted on both sides)"


@frozen
class Unignore:
    """The item was on the ignored list but is gone or changed: drop the entry."""

    side: str
    item_id: str

    def __str__(self) -> str:
        return f"take {self.item_id} off the ignored list"


@frozen
class Relink:
    """An item deleted and made again with the same uid on one side takes the deleted
    item's place in its pair: ``row`` replaces ``pair`` in the state (before any write)."""

    pair: ItemPairRow
    row: ItemPairRow
    side: str

    def __str__(self) -> str:
        old, new = self.pair.side_id(self.side), self.row.side_id(self.side)
        return f"re-pair {new} on {self.side.upper()} (made again in place of {old})"


Action: TypeAlias = (
    CopyNew
    | Overwrite
    | DualWrite
    | CreateBoth
    | Remove
    | Link
    | Refresh
    | Forget
    | Unignore
    | Relink
)


def _label(record: Record) -> str:
    for name in ("display_name", "summary", "last_name", "first_name"):
        value = getattr(record, name, None)
        if value:
            return repr(value)
    return f"{type(record).__name__}({record.uid or '?'})"


# ----------------------------------------------------------------------------- planner


def plan_folder(delta: FolderDelta, policy: ConflictPolicy) -> list[Action]:
    """Plan the actions for one folder pair (pure; see the module docstring)."""
    actions: list[Action] = []
    paired: dict[tuple[str, str], tuple[ItemPairRow, Seen | None, Seen | None]] = {}
    new_a: list[Seen] = []
    new_b: list[Seen] = []
    held: list[tuple[str, Seen, ItemPairRow]] = []
    refused: list[tuple[str, Seen]] = []
    for side, seen_map, pairs, new in (
        ("a", delta.a, delta.pairs_a, new_a),
        ("b", delta.b, delta.pairs_b, new_b),
    ):
        ignored = delta.ignored_a if side == "a" else delta.ignored_b
        for item_id, seen in seen_map.items():
            entry = ignored.get(item_id)
            pair = pairs.get(item_id)
            if entry is not None:
                if seen.deleted or entry.fingerprint != seen.fp or entry.retry:
                    actions.append(Unignore(side, item_id))
                else:
                    if pair is not None:
                        held.append((side, seen, pair))
                    elif not seen.deleted:
                        refused.append((side, seen))
                    continue  # unchanged since refused: leave it alone
            if pair is None:
                if not seen.deleted:
                    new.append(seen)
                continue
            key = (pair.a_id, pair.b_id)
            _, sa, sb = paired.get(key, (pair, None, None))
            paired[key] = (pair, seen, sb) if side == "a" else (pair, sa, seen)
    # A paired item whose change the other store refused, now changed on that other side
    # too: the two changes are a conflict for the policy. Leaving the refused one out would
    # overwrite it with the other side's content (or fail on its version, at every run).
    for side, seen, pair in held:
        key = (pair.a_id, pair.b_id)
        if key in paired:
            _, sa, sb = paired[key]
            paired[key] = (pair, seen, sb) if side == "a" else (pair, sa, seen)
            actions.append(Unignore(side, seen.id))

    _relink_recreated(paired, new_a, new_b, delta, actions)

    # An item whose copy the other store refused, when an item with its uid is new on that
    # other side: the same item on both sides now, matched like any two new items. Left
    # out, the other side's item was copied back next to it: the uid twice.
    uids = {
        side: {s.record.uid for s in new if s.record and s.record.uid}
        for side, new in (("a", new_a), ("b", new_b))
    }
    for side, seen in refused:
        uid = seen.record.uid if seen.record else None
        if uid and uid in uids[other(side)] and uid not in uids[side]:
            (new_a if side == "a" else new_b).append(seen)
            uids[side].add(uid)
            actions.append(Unignore(side, seen.id))

    for pair, sa, sb in paired.values():
        actions.extend(_plan_pair(pair, sa, sb, delta, policy))
    actions.extend(_plan_new(new_a, new_b, delta, policy))
    # Keep-both's copy of a version an interrupted run already copied (new, unpaired, on
    # one side or both): that item is copied or linked as a new one, not made again.
    made = uids["a"] | uids["b"]
    return [x for x in actions if not (isinstance(x, CreateBoth) and x.record.uid in made)]


def _relink_recreated(
    paired: dict[tuple[str, str], tuple[ItemPairRow, Seen | None, Seen | None]],
    new_a: list[Seen],
    new_b: list[Seen],
    delta: FolderDelta,
    actions: list[Action],
) -> None:
    """Pair an item deleted on one side and made again there with the same uid (a contact
    deleted, then imported again from its vCard) in the deleted item's place, as a change
    of it, while the other side still holds the item.

    Left apart, the deletion met the other side's edit (the edit wins: copied back) and
    the new item was copied as well: the uid twice on both sides. Paired, the two sides'
    versions meet as any two changes do (a one-sided change, or a conflict for the
    policy). When the other side deleted the item too, the usual rules already keep the
    new one (the pair is forgotten, the new item copied).
    """
    for side, new in (("a", new_a), ("b", new_b)):
        if not new:
            continue
        by_uid: dict[str, Seen] = {}
        for seen in new:
            uid = seen.record.uid if seen.record is not None else None
            if uid and delta.pending_sides.get(uid) != side:  # (not the engine's own create)
                by_uid.setdefault(uid, seen)
        for key, (pair, sa, sb) in list(paired.items()):
            gone, there = (sa, sb) if side == "a" else (sb, sa)
            if gone is None or not gone.deleted or (there is not None and there.deleted):
                continue
            again = by_uid.pop(pair.uid or "", None)
            if again is None or again.record is None:
                continue
            if item_kind_of(again.record).value != pair.kind:
                by_uid[pair.uid or ""] = again
                continue
            if side == "a":
                row = attrs.evolve(pair, a_id=again.id, a_version="")
                paired[key] = (row, again, sb)
            else:
                row = attrs.evolve(pair, b_id=again.id, b_version="")
                paired[key] = (row, sa, again)
            new.remove(again)
            actions.append(Relink(pair, row, side))


def _plan_pair(
    pair: ItemPairRow, sa: Seen | None, sb: Seen | None, delta: FolderDelta, policy: ConflictPolicy
) -> list[Action]:
    # A change that only moved the version (same content) is no change; remember the
    # version so later writes expect the right one.
    if delta.restore and sa is not None and sb is not None and sa.deleted != sb.deleted:
        return _restored(pair, sa, sb, delta)
    refreshed: list[Action] = []
    if sa is not None and not sa.deleted:
        sa = meant(sa, pair, "a", delta)
        if _unchanged(sa, pair, "a", delta):
            if sa.version != pair.a_version:
                pair = attrs.evolve(pair, a_version=sa.version)
                refreshed.append(Refresh(pair, "a", sa.version))
            sa = None
    if sb is not None and not sb.deleted:
        sb = meant(sb, pair, "b", delta)
        if _unchanged(sb, pair, "b", delta):
            if sb.version != pair.b_version:
                pair = attrs.evolve(pair, b_version=sb.version)
                refreshed.append(Refresh(pair, "b", sb.version))
            sb = None
    if sa is None and sb is None:
        return refreshed
    return _plan_changed_pair(pair, sa, sb, delta, policy)


def _restored(pair: ItemPairRow, sa: Seen, sb: Seen, delta: FolderDelta) -> list[Action]:
    """A restoring slow sync: the item one side lost is made again there from the other
    side's copy, the last synced record's fuller values kept where that copy is only its
    store's rendering of them (as for any one-sided change), and paired anew."""
    survivor, side = (sb, "b") if sa.deleted else (sa, "a")
    survivor = meant(survivor, pair, side, delta)
    assert survivor.record is not None
    record, blob = _restore_unsupported(survivor.record, survivor.blob, pair, side, delta)
    return [
        Forget(pair),
        CopyNew(other(side), survivor.id, survivor.version, survivor.fp, record, blob),
    ]


def unchanged(seen: Seen, pair: ItemPairRow, side: str, delta: FolderDelta) -> bool:
    """Whether ``seen`` (an item read from ``side``) holds the content last synced in
    ``pair``, its store's renderings and the fields it cannot hold aside."""
    if seen.deleted:
        return False
    return _unchanged(meant(seen, pair, side, delta), pair, side, delta)


def _unchanged(seen: Seen, pair: ItemPairRow, side: str, delta: FolderDelta) -> bool:
    """Whether ``seen`` holds what its side held when last synced.

    A store that cannot hold some fields reads a copy written there back without them,
    while the state recorded the written (fuller) record's fingerprint: compared on the
    fields that side can hold, the copy is the last synced content (the base), not an edit
    to write back to the other side. Likewise a copy whose every difference from the base
    is the store's own rendering of it (:func:`meant` put the base's values back).
    """
    if seen.fp == pair.side_fp(side):
        return True
    assert seen.record is not None
    if pair.base and seen.blob == pair.base:
        return True
    caps = delta.caps_a if side == "a" else delta.caps_b
    kind = item_kind_of(seen.record)
    missing = caps.unsupported_fields.get(kind)
    if not missing or not pair.base:
        return False
    base = _base_record(pair)
    if base is None or type(base) is not type(seen.record):
        return False
    return _held_fp(seen.record, missing) == _held_fp(base, missing)


def meant(seen: Seen, pair: ItemPairRow, side: str, delta: FolderDelta) -> Seen:
    """``seen`` with every field its store merely re-rendered given the base's value back.

    A store keeps some values in a lossier form than the record written to it (Outlook
    reads an OX user back as an external attendee, a list member's contact reference as
    an address). When that store saves the item again by itself (a dismissed reminder),
    the copy read back differs from the base without anybody having edited it. The
    store's ``stored_form(base)`` is what it reads back of the base: a field where
    ``seen`` equals it was not edited, so it takes the base's (fuller) value. What
    remains is the real edit, and only that reaches the other side. ``fp`` stays what
    the store really holds, for the state.
    """
    stored = delta.stored_a if side == "a" else delta.stored_b
    if stored is None or not pair.base or seen.fp == pair.side_fp(side):
        return seen
    assert seen.record is not None
    base = _base_record(pair)
    if base is None or type(base) is not type(seen.record):
        return seen
    try:
        rendered = stored(base)
    except (MappingError, TypeError, ValueError, OverflowError):  # it cannot render it:
        return seen  # compare as is
    if type(rendered) is not type(base):
        return seen
    last = pair.side_fp(side)
    if last != fingerprint_of(type(base), pair.base) and last != canonical(rendered)[1]:
        # this side was last synced holding neither the base (written by the engine) nor
        # its rendering of it (its own edit carried to the other side with the base's
        # fuller values kept): its copy is its own, and compared as is
        return seen
    data, base_data = to_data(seen.record), to_data(base)
    meant = _unrendered(data, to_data(rendered), base_data)
    for derived, source_of in DERIVED_FIELDS.items():
        if meant.get(source_of) != base_data.get(source_of):  # a rendering of old text
            meant.pop(derived, None)
            if derived in data:
                meant[derived] = data[derived]
    if meant == data:
        return seen
    record = from_data(item_kind_of(base), meant)
    blob, _ = canonical(record)
    return attrs.evolve(seen, record=record, blob=blob)


_ABSENT = object()


def _unrendered(
    seen: dict[str, Any], rendered: dict[str, Any], base: dict[str, Any]
) -> dict[str, Any]:
    """Field by field (one level into nested records): the base's value where ``seen``
    equals ``rendered``, else ``seen``'s (default values are absent from the dicts).

    In a list (attendees, list members) whose rendering keeps one element per element of
    the base, each element of ``seen`` equal to a rendered one is that base element:
    removing one attendee in Outlook leaves the others OX users."""
    out: dict[str, Any] = {}
    for name in {**seen, **rendered, **base}:
        s, r, b = (d.get(name, _ABSENT) for d in (seen, rendered, base))
        if isinstance(s, dict) and isinstance(r, dict) and isinstance(b, dict):
            out[name] = _unrendered(s, r, b)
            continue
        if s == r:
            value = b
        elif isinstance(s, list) and isinstance(r, list) and isinstance(b, list):
            value = _unrendered_items(s, r, b)
        else:
            value = s
        if value is not _ABSENT:
            out[name] = value
    return out


def _unrendered_items(seen: list[Any], rendered: list[Any], base: list[Any]) -> list[Any]:
    if len(rendered) != len(base):
        return seen
    back: dict[str, Any] = {}
    for shown, held in zip(rendered, base, strict=True):
        back.setdefault(json.dumps(shown, sort_keys=True, default=str), held)
    return [back.get(json.dumps(item, sort_keys=True, default=str), item) for item in seen]


def _held_fp(record: Record, names: Iterable[str]) -> str:
    """The fingerprint of ``record`` without fields ``names`` (``part.field`` for a nested
    one): what a store that cannot hold them keeps of it."""
    data = to_data(record)
    for name in names:
        head, _, rest = name.partition(".")
        if rest:
            if rest in data.get(head, {}):
                data[head] = {k: v for k, v in data[head].items() if k != rest}
        else:
            data.pop(head, None)
    return canonical(from_data(item_kind_of(record), data))[1]


def _plan_changed_pair(
    pair: ItemPairRow, sa: Seen | None, sb: Seen | None, delta: FolderDelta, policy: ConflictPolicy
) -> list[Action]:
    if sb is None:
        assert sa is not None
        return [_propagate(pair, sa, "b", delta)]
    if sa is None:
        return [_propagate(pair, sb, "a", delta)]
    if sa.deleted and sb.deleted:
        return [Forget(pair)]
    if sa.deleted or sb.deleted:
        survivor, side = (sb, "b") if sa.deleted else (sa, "a")
        if policy.delete_wins:
            # (expecting the edited version: with the last synced one a store that checks
            # versions refused the deletion as a conflict, at every run)
            if side == "a":
                fresh = attrs.evolve(pair, a_version=survivor.version)
            else:
                fresh = attrs.evolve(pair, b_version=survivor.version)
            return [Remove(side, fresh)]
        assert survivor.record is not None
        # The modification wins: recreate it where it was deleted, as a new pair (with what
        # the survivor's store cannot hold taken from the base, as for any one-sided change).
        record, blob = _restore_unsupported(survivor.record, survivor.blob, pair, side, delta)
        return [
            Forget(pair),
            CopyNew(other(side), survivor.id, survivor.version, survivor.fp, record, blob),
        ]
    if sa.fp == sb.fp:
        return [Link(sa, sb)]
    assert sa.record is not None and sb.record is not None
    base = _base_record(pair)
    fresh = attrs.evolve(pair, a_version=sa.version, b_version=sb.version)
    return _resolve(fresh, sa, sb, base, delta, policy)


def _propagate(pair: ItemPairRow, seen: Seen, target: str, delta: FolderDelta) -> Action:
    if seen.deleted:
        return Remove(target, pair)
    assert seen.record is not None
    record, blob = _restore_unsupported(seen.record, seen.blob, pair, other(target), delta)
    return Overwrite(target, pair, seen.version, seen.fp, record, blob)


def _resolve(
    pair: ItemPairRow | None,
    sa: Seen,
    sb: Seen,
    base: Record | None,
    delta: FolderDelta,
    policy: ConflictPolicy,
) -> list[Action]:
    assert sa.record is not None and sb.record is not None
    # A store that cannot hold a field has no say on it: the policy sees the other side's
    # value there (a field neither holds comes from the base), so no winner erases it.
    ra, fa = _fill_unsupported(sa, sb, "a", base, delta)
    rb, fb = _fill_unsupported(sb, sa, "b", base, delta)
    resolution = policy.resolve(base, ra, rb)
    merged = resolution.merged
    blob, fp = canonical(merged)
    fields = _overwritten(ra, rb, merged, base)
    actions: list[Action] = []
    # The state keeps the fingerprints the sides really hold (sa.fp, sb.fp), so the next
    # run does not take the missing fields for an edit.
    if pair is None:
        # New on both sides with the same uid but different content.
        if fp == fa:
            actions.append(Link(sa, sb) if fa == fb else _overwrite_new(sa, sb, "b", merged, blob))
        elif fp == fb:
            actions.append(_overwrite_new(sb, sa, "a", merged, blob))
        else:
            link = Link(sa, sb)
            actions.append(DualWrite(_pair_from_link(link), merged, blob, sa.fp, sb.fp, fields))
    elif fp == fa:
        actions.append(
            Overwrite("b", pair, sa.version, sa.fp, merged, blob, conflict=True, fields=fields)
        )
    elif fp == fb:
        actions.append(
            Overwrite("a", pair, sb.version, sb.fp, merged, blob, conflict=True, fields=fields)
        )
    else:
        actions.append(DualWrite(pair, merged, blob, sa.fp, sb.fp, fields))
    if resolution.extra is not None:
        # The copy's uid is derived from the item and the version it keeps: a run that
        # meets the same conflict again after a crash finds the copy it made (plan_folder).
        extra = attrs.evolve(resolution.extra, uid=_kept_uid(sb))
        extra_blob, _ = canonical(extra)
        if pair is None:
            kind = item_kind_of(sb.record).value
            keeps = ItemPairRow(
                0, sa.id, sb.id, "", sb.version, "", sb.fp, kind, sb.record.uid, sb.blob
            )
        else:
            keeps = attrs.evolve(pair, a_version="", a_fp="", b_version=sb.version, b_fp=sb.fp)
        actions.append(CreateBoth(extra, extra_blob, keeps))
    return actions


def _overwritten(ra: Record, rb: Record, merged: Record, base: Record | None) -> tuple[str, ...]:
    """The top-level fields where a side's edit did not make it into ``merged`` (without a
    base: where the two versions differ). Names only: a log line names them, never the
    values, which are the user's data; server timestamps and the uid are no edit."""
    da, db, dm = to_data(ra), to_data(rb), to_data(merged)
    skip = {"uid", *_VOLATILE_FIELDS}
    if base is None:
        names = {n for n in {*da, *db} if da.get(n) != db.get(n)}
    else:
        d0 = to_data(base)
        names = {
            n
            for d in (da, db)
            for n in {*d, *d0, *dm}
            if d.get(n) != d0.get(n) and d.get(n) != dm.get(n)
        }
    return tuple(sorted(names - skip))


_VOLATILE_FIELDS = frozenset(
    a.name
    for kind in ItemKind
    for a in attrs.fields(record_class(kind))
    if a.metadata.get(VOLATILE)
)


def _kept_uid(seen: Seen) -> str:
    """The uid of keep-both's copy of ``seen``'s version: the same for the same version of
    the same item, so a retry recognises the copy an interrupted run made."""
    return uuid.uuid5(_KEPT, f"{seen.id}\n{seen.fp}").hex


_KEPT = uuid.UUID("6f1d64a2-5a43-4c59-9d0e-2b1a8f0c7e31")
"""Namespace of :func:`_kept_uid`."""


def _pair_from_link(link: Link) -> ItemPairRow:
    return ItemPairRow(
        0, link.a.id, link.b.id, link.a.version, link.b.version, link.a.fp, link.b.fp, "", None, b""
    )


def _overwrite_new(
    source: Seen, target_seen: Seen, target: str, record: Record, blob: bytes, conflict: bool = True
) -> Overwrite:
    """The write of ``record`` over ``target_seen``, an item new on ``target`` that was
    matched with the new ``source``. The pair row carries the target's content as the
    base, so that a store refusing the write can still be recorded as paired with the
    source's content a change held back (SyncEngine._fail): left unpaired, either item
    was later copied to the other side next to its match."""
    a, b = (source, target_seen) if target == "b" else (target_seen, source)
    assert target_seen.record is not None
    pair = attrs.evolve(
        _pair_from_link(Link(a, b)),
        kind=item_kind_of(target_seen.record).value,
        uid=target_seen.record.uid,
        base=target_seen.blob,
    )
    return Overwrite(target, pair, source.version, source.fp, record, blob, conflict=conflict)


def _unfinished_create(sa: Seen, sb: Seen, delta: FolderDelta) -> str | None:
    """The side ("a" or "b") to which a crashed run wrote one of these two new items as a
    copy of the other, if the journal says so (None otherwise).

    That copy is the engine's own half-finished write, not anyone's edit: where it
    differs from its source, the store kept only part of it (OX saved the item, then
    the upload of its files was cut off), so it is completed from the source rather
    than weighed against it by the policy (newest-wins took the fresh, partial copy and
    erased what it lacked from the source).
    """
    assert sa.record is not None and sb.record is not None
    for uid in dict.fromkeys((sa.record.uid, sb.record.uid)):
        if not uid:
            continue
        side, source = delta.pending_sides.get(uid), delta.pending_uids.get(uid)
        if side == "b" and source == sa.id:
            return "b"
        if side == "a" and source == sb.id:
            return "a"
    return None


def _plan_new(
    new_a: Sequence[Seen], new_b: Sequence[Seen], delta: FolderDelta, policy: ConflictPolicy
) -> list[Action]:
    actions: list[Action] = []
    by_uid: dict[str, Seen] = {}
    by_fp: dict[str, Seen] = {}
    for seen in new_b:
        assert seen.record is not None
        if seen.record.uid:
            by_uid.setdefault(seen.record.uid, seen)
        by_fp.setdefault(seen.fp, seen)
    # uid a crashed run gave to a create, by source id (one lookup per new item)
    pending_by_source = {src: uid for uid, src in delta.pending_uids.items()}
    matched_b: set[str] = set()
    for sa in new_a:
        assert sa.record is not None
        match = None
        uid = sa.record.uid
        if uid and uid in by_uid and by_uid[uid].id not in matched_b:
            match = by_uid[uid]
        else:
            pending = pending_by_source.get(sa.id)
            if pending and pending in by_uid and by_uid[pending].id not in matched_b:
                match = by_uid[pending]
            elif sa.fp in by_fp and by_fp[sa.fp].id not in matched_b:
                cand = by_fp[sa.fp]
                assert cand.record is not None
                if not cand.record.uid or not uid or cand.record.uid == uid:
                    match = cand
        if match is None:
            record, blob = sa.record, sa.blob
            actions.append(CopyNew("b", sa.id, sa.version, sa.fp, record, blob))
            continue
        matched_b.add(match.id)
        if match.fp == sa.fp or _same_but_uid(sa, match):
            actions.append(Link(sa, match))
            continue
        rendered = _rendering(sa, match, delta)
        if rendered:
            actions.append(Link(sa, match, rendered))
            continue
        written = _unfinished_create(sa, match, delta)
        if written == "b":
            actions.append(_overwrite_new(sa, match, "b", sa.record, sa.blob, conflict=False))
        elif written == "a":
            assert match.record is not None
            actions.append(_overwrite_new(match, sa, "a", match.record, match.blob, conflict=False))
        else:
            actions.extend(_resolve(None, sa, match, None, delta, policy))
    for sb in new_b:
        if sb.id not in matched_b:
            assert sb.record is not None
            actions.append(CopyNew("a", sb.id, sb.version, sb.fp, sb.record, sb.blob))
    return actions


def _rendering(sa: Seen, sb: Seen, delta: FolderDelta) -> str:
    """The side ("a" or "b") whose new item is only its store's rendering of the other's
    (what it reads back of a record written to it: ``stored_form``), or "".

    Two stores that already hold the same items before their first sync (a user moving
    from another sync tool) differ where one keeps values in a lossier form; weighed as a
    conflict, newest-wins would push the lossier copy over the fuller one."""
    for side, stored, source, copy in (
        ("b", delta.stored_b, sa, sb),
        ("a", delta.stored_a, sb, sa),
    ):
        if stored is None or source.record is None or copy.record is None:
            continue
        try:
            rendered = stored(source.record)
        except (MappingError, TypeError, ValueError, OverflowError):
            continue
        if type(rendered) is type(copy.record) and canonical(rendered)[1] == copy.fp:
            return side
    return ""


def _same_but_uid(a: Seen, b: Seen) -> bool:
    # A create whose store assigned the uid (journal recovery) differs only in the uid.
    assert a.record is not None and b.record is not None
    if a.record.uid == b.record.uid:
        return False
    return canonical(attrs.evolve(a.record, uid=b.record.uid))[1] == b.fp


def _base_record(pair: ItemPairRow) -> Record | None:
    if not pair.base:
        return None
    return from_data(ItemKind(pair.kind), json.loads(pair.base))


DERIVED_FIELDS: dict[str, str] = {"note_html": "note"}
"""Fields that render another field: restored from the base only while that one is unchanged.

``note_html`` is the rich form of ``note``. A plain-text side that edits the note cannot
edit its formatting; keeping the old HTML would show the old text on the rich side, so the
formatting is dropped and the new plain text wins. While the text is unchanged the
formatting survives a round trip through the plain side.
"""


def _restore_unsupported(
    record: Record, blob: bytes, pair: ItemPairRow, source: str, delta: FolderDelta
) -> tuple[Record, bytes]:
    """Fill fields the source side cannot hold from the base, so they are never erased."""
    caps = delta.caps_a if source == "a" else delta.caps_b
    missing = caps.unsupported_fields.get(item_kind_of(record))
    if not missing or not pair.base:
        return record, blob
    base = _base_record(pair)
    if base is None or type(base) is not type(record):
        return record, blob
    data = to_data(record)
    _fill_fields(data, missing, to_data(base))
    restored = from_data(item_kind_of(record), data)
    return restored, canonical(restored)[0]


def _fill_unsupported(
    seen: Seen, other_seen: Seen, side: str, base: Record | None, delta: FolderDelta
) -> tuple[Record, str]:
    """``seen``'s record with the fields its side cannot hold filled in, and its fingerprint.

    Each such field comes from the other side's record when that side holds it (its value
    is the only one anybody knows), else from the base.
    """
    record, other_record = seen.record, other_seen.record
    assert record is not None and other_record is not None
    kind = item_kind_of(record)
    caps, other_caps = (delta.caps_a, delta.caps_b) if side == "a" else (delta.caps_b, delta.caps_a)
    missing = caps.unsupported_fields.get(kind)
    if not missing or type(other_record) is not type(record):
        # (the fingerprint of what ``seen`` means: see meant)
        return record, fingerprint_of(type(record), seen.blob) if seen.blob else seen.fp
    other_missing = other_caps.unsupported_fields.get(kind, frozenset())
    base_data = to_data(base) if base is not None and type(base) is type(record) else {}
    data, other_data = to_data(record), to_data(other_record)
    _fill_fields(data, missing - other_missing, other_data)
    _fill_fields(data, missing & other_missing, base_data)
    filled = from_data(kind, data)
    return filled, canonical(filled)[1]


def _fill_fields(data: dict[str, Any], names: Iterable[str], donor: dict[str, Any]) -> None:
    """Copy fields ``names`` (``part.field`` for a nested one) from ``donor`` into ``data``.

    A derived field (:data:`DERIVED_FIELDS`) is copied only while the field it renders is
    the same in both: a rendering of other text would be stale.
    """
    for name in names:
        source_of = DERIVED_FIELDS.get(name)
        if source_of is not None and data.get(source_of) != donor.get(source_of):
            continue
        head, _, rest = name.partition(".")
        if rest:
            part = dict(data.get(head, {}))
            if rest in donor.get(head, {}):
                part[rest] = donor[head][rest]
                data[head] = part
        elif head in donor:
            data[head] = donor[head]
