"""Moves between folders: seen as a deletion in one folder pair and a new item with the
same uid in another, on the same side, they are propagated as a store ``Move`` instead of
a delete plus a create, so the other side keeps its item (its id, its attachments, the
references other items hold to it).

:func:`find_moves` is pure: it takes the detected deltas of every folder pair of one sync
and returns the moves and the deltas without the items the moves account for. A move is
found only when the other side can move (``capabilities.moves``) and did not itself change
or delete the item; anything else falls back to the planner's usual rules.
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
    ``target`` (new id, version and content on ``side``).
    """

    side: str
    source: int
    target: int
    pair: ItemPairRow
    seen: Seen

    def __str__(self) -> str:
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
    for side in ("a", "b"):
        target_side = other(side)
        if not can_move.get(target_side) or len(deltas) < 2:
            continue
        gone: dict[str, tuple[int, Seen, ItemPairRow]] = {}
        for fp_id, delta in out.items():
            seen_map, pairs = _side(delta, side)
            other_changes, _ = _side(delta, target_side)
            for item_id, seen in seen_map.items():
                pair = pairs.get(item_id)
                if not seen.deleted or pair is None or not pair.uid:
                    continue
                if pair.side_id(target_side) in other_changes:
                    continue  # the other side touched it too: let the planner decide
                gone.setdefault(pair.uid, (fp_id, seen, pair))
        if not gone:
            continue
        taken: dict[int, set[str]] = {}
        for fp_id, delta in out.items():
            seen_map, pairs = _side(delta, side)
            for item_id, seen in seen_map.items():
                if seen.deleted or item_id in pairs or seen.record is None:
                    continue
                match = gone.get(seen.record.uid or "")
                if match is None or match[0] == fp_id:
                    continue
                source_fp, deleted, pair = match
                del gone[seen.record.uid or ""]
                moves.append(DetectedMove(side, source_fp, fp_id, pair, seen))
                taken.setdefault(source_fp, set()).add(deleted.id)
                taken.setdefault(fp_id, set()).add(item_id)
        for fp_id, ids in taken.items():
            out[fp_id] = _without(out[fp_id], side, ids)
    return moves, out


def _side(delta: FolderDelta, side: str) -> tuple[Mapping[str, Seen], Mapping[str, ItemPairRow]]:
    return (delta.a, delta.pairs_a) if side == "a" else (delta.b, delta.pairs_b)


def _without(delta: FolderDelta, side: str, ids: Sequence[str] | set[str]) -> FolderDelta:
    if side == "a":
        return attrs.evolve(delta, a={k: v for k, v in delta.a.items() if k not in ids})
    return attrs.evolve(delta, b={k: v for k, v in delta.b.items() if k not in ids})
