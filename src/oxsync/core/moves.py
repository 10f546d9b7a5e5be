"""Moves between folders: seen as a deletion in one folder pair and a new item with the
same uid in another, on the same side, they are propagated as a store ``Move`` instead of
a delete plus a create, so the other side keeps its item (its id, its attachments, the
references other items hold to it).

:func:`find_moves` is pure: it takes the detected deltas of every folder pair of one sync
and returns the moves and the deltas without the items the moves account for. A move is
found only when the other side can move (``capabilities.moves``) and did not delete the
item; anything else falls back to the planner's usual rules. An item the other side edited
is moved all the same (``DetectedMove.other``): the engine moves it, then hands both sides'
versions to the planner in the target folder, which merges them like any edit or conflict.
Falling back to delete + create there would keep both: the edit re-created in the source
folder (a modification wins over a deletion) and the moved copy in the target.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs
from attrs import frozen

from oxsync.core.plan import FolderDelta, Seen, other
from oxsync.core.state import ItemPairRow

__all__ = ["DetectedMove", "find_moves"]


@frozen
class DetectedMove:
    """Side ``side`` moved an item from folder pair ``source`` to folder pair ``target``.

    ``pair`` is the item pair in ``source``; ``seen`` is the item as it now is in
    ``target`` (new id, version and content on ``side``); ``other`` is the other side's
    change of the item in ``source`` (an edit), if it made one; ``both`` is the other
    side's item in ``target`` when that side moved it there too (nothing to move then).
    """

    side: str
    source: int
    target: int
    pair: ItemPairRow
    seen: Seen
    other: Seen | None = None
    both: Seen | None = None

    def __str__(self) -> str:
        if self.both is not None:
            return f"moved on A and B: {self.seen.id} / {self.both.id}"
        return (
            f"move on {other(self.side).upper()}: {self.pair.side_id(other(self.side))} "
            f"(moved on {self.side.upper()})"
        )


def find_moves(
    deltas: Mapping[int, FolderDelta], can_move: Mapping[str, bool]
) -> tuple[list[DetectedMove], dict[int, FolderDelta]]:
    """Match deletions with same-uid creations across folder pairs; see the module doc.

    ``deltas`` maps folder pair ids to their deltas; ``can_move`` says per side whether that
    side's store supports moves (the move is applied on the *other* side).
    """
    moves: list[DetectedMove] = []
    out = dict(deltas)
    if len(deltas) < 2:
        return moves, out
    for side in ("a", "b"):
        target_side = other(side)
        movable = can_move.get(target_side, False)
        gone: dict[str, tuple[int, Seen, ItemPairRow, Seen | None]] = {}
        for fp_id, delta in out.items():
            seen_map, pairs = _side(delta, side)
            other_changes, _ = _side(delta, target_side)
            for item_id, seen in seen_map.items():
                pair = pairs.get(item_id)
                if not seen.deleted or pair is None or not pair.uid:
                    continue
                other_seen = other_changes.get(pair.side_id(target_side))
                gone_there = other_seen is not None and other_seen.deleted
                if movable or gone_there:  # (moved there too needs no store move)
                    gone.setdefault(pair.uid, (fp_id, seen, pair, other_seen))
        if not gone:
            continue
        taken: dict[tuple[int, str], set[str]] = {}
        for fp_id, delta in out.items():
            seen_map, pairs = _side(delta, side)
            # uids deleted here too: a new item with one of them was made again in place
            # (the planner pairs it so: plan.Relink), not moved here from elsewhere
            remade = {pairs[i].uid for i, s in seen_map.items() if s.deleted and i in pairs}
            for item_id, seen in seen_map.items():
                if seen.deleted or item_id in pairs or seen.record is None:
                    continue
                uid = seen.record.uid or ""
                match = gone.get(uid)
                if match is None or match[0] == fp_id or uid in remade:
                    continue
                source_fp, deleted, pair, other_seen = match
                both = None
                if other_seen is not None and other_seen.deleted:
                    # Gone from the source on the other side too: moved to this folder as
                    # well (re-paired here, keeping the base), or deleted or moved elsewhere
                    # (the planner's rules decide).
                    both = _new_here(delta, target_side, uid, taken.get((fp_id, target_side)))
                    if both is None:
                        continue
                    other_seen = None
                del gone[uid]
                moves.append(DetectedMove(side, source_fp, fp_id, pair, seen, other_seen, both))
                taken.setdefault((source_fp, side), set()).add(deleted.id)
                taken.setdefault((fp_id, side), set()).add(item_id)
                if other_seen is not None:
                    taken.setdefault((source_fp, target_side), set()).add(other_seen.id)
                if both is not None:
                    taken.setdefault((source_fp, target_side), set()).add(pair.side_id(target_side))
                    taken.setdefault((fp_id, target_side), set()).add(both.id)
        for (fp_id, taken_side), ids in taken.items():
            out[fp_id] = _without(out[fp_id], taken_side, ids)
    return moves, out


def _new_here(delta: FolderDelta, side: str, uid: str, taken: set[str] | None) -> Seen | None:
    """The item new on ``side`` of this folder pair with ``uid``, if any."""
    seen_map, pairs = _side(delta, side)
    for item_id, seen in seen_map.items():
        record = seen.record
        if record is None or record.uid != uid or item_id in pairs:
            continue
        if taken is None or item_id not in taken:
            return seen
    return None


def _side(delta: FolderDelta, side: str) -> tuple[Mapping[str, Seen], Mapping[str, ItemPairRow]]:
    return (delta.a, delta.pairs_a) if side == "a" else (delta.b, delta.pairs_b)


def _without(delta: FolderDelta, side: str, ids: Sequence[str] | set[str]) -> FolderDelta:
    if side == "a":
        return attrs.evolve(delta, a={k: v for k, v in delta.a.items() if k not in ids})
    return attrs.evolve(delta, b={k: v for k, v in delta.b.items() if k not in ids})
