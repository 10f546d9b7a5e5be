"""Conflict policies: what happens when both sides changed the same item.

A :class:`ConflictPolicy` turns ``(base, a, b)`` into a :class:`Resolution`: the content
each side should end with, and for keep-both an extra copy. The built-ins::

    Policy.A_WINS        side A's version replaces B's
    Policy.B_WINS        side B's version replaces A's
    Policy.NEWEST_WINS   the version with the later ``last_modified`` (A when unknown)
    Policy.MERGE         three-way field merge against the base; a field changed on both
                         sides to different values takes the ``fallback`` side's value
    Policy.KEEP_BOTH     A's version stays paired; B's version becomes a new item on both
    Policy.callback(fn)  fn(base, a, b) returns the record both sides get

Delete against modify keeps the modification unless ``delete_wins=True``.

    >>> from oxsync.core.records import Contact
    >>> base = Contact(first_name="Ada", last_name="King")
    >>> a = Contact(first_name="Augusta", last_name="King")
    >>> b = Contact(first_name="Ada", last_name="Lovelace")
    >>> Policy.MERGE.resolve(base, a, b).merged
    Contact(uid=None, title=None, first_name='Augusta', ...last_name='Lovelace'...)
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import attrs
from attrs import frozen

from oxsync.core.records import Record, item_kind_of
from oxsync.core.serial import from_data, to_data

__all__ = ["ConflictPolicy", "Policy", "Resolution", "merge_records"]

ConflictCallback = Callable[[Record | None, Record, Record], Record]


@frozen
class Resolution:
    """Outcome of a conflict: ``merged`` goes to both sides; ``extra`` (keep-both) is a new
    item created on both sides."""

    merged: Record
    extra: Record | None = None


@frozen
class ConflictPolicy:
    """A conflict policy; use the :class:`Policy` constants or :meth:`Policy.callback`."""

    name: str
    winner: str = "a"  # "a", "b" or "newest"
    merge: bool = False
    keep_both: bool = False
    delete_wins: bool = False
    callback: ConflictCallback | None = None

    def resolve(self, base: Record | None, a: Record, b: Record) -> Resolution:
        """Decide a conflict between ``a`` and ``b`` (``base`` = last synced, if any)."""
        if self.callback is not None:
            return Resolution(self.callback(base, a, b))
        winner = a if self._a_wins(a, b) else b
        if self.merge:
            return Resolution(merge_records(base, a, b, prefer_a=winner is a))
        if self.keep_both:
            copy = attrs.evolve(b, uid=uuid.uuid4().hex)
            return Resolution(a, extra=copy)
        return Resolution(winner)

    def _a_wins(self, a: Record, b: Record) -> bool:
        if self.winner == "b":
            return False
        if self.winner == "newest" and a.last_modified and b.last_modified:
            return a.last_modified >= b.last_modified
        return True

    def with_options(self, **changes: Any) -> ConflictPolicy:
        """A copy with other options, e.g. ``Policy.MERGE.with_options(winner="b")``."""
        return attrs.evolve(self, **changes)


class Policy:
    """The built-in conflict policies."""

    A_WINS = ConflictPolicy("a-wins", winner="a")
    B_WINS = ConflictPolicy("b-wins", winner="b")
    NEWEST_WINS = ConflictPolicy("newest-wins", winner="newest")
    MERGE = ConflictPolicy("merge", winner="newest", merge=True)
    KEEP_BOTH = ConflictPolicy("keep-both", keep_both=True)

    @staticmethod
    def callback(fn: ConflictCallback, name: str = "callback") -> ConflictPolicy:
        """A policy asking ``fn(base, a, b)`` for the record both sides get."""
        return ConflictPolicy(name, callback=fn)

    @staticmethod
    def from_name(name: str) -> ConflictPolicy:
        """The built-in policy called ``name`` (``a-wins``, ``merge``…)."""
        for policy in (
            Policy.A_WINS,
            Policy.B_WINS,
            Policy.NEWEST_WINS,
            Policy.MERGE,
            Policy.KEEP_BOTH,
        ):
            if policy.name == name.replace("_", "-").lower():
                return policy
        raise ValueError(
            f"unknown conflict policy {name!r}; "
            "choose a-wins, b-wins, newest-wins, merge or keep-both"
        )


_MISSING = object()


def merge_records(base: Record | None, a: Record, b: Record, *, prefer_a: bool = True) -> Record:
    """Three-way field merge: a field changed on one side only takes that side's value.

    Nested parts (phones, e-mails, addresses) merge field by field; a field changed on both
    sides to different values takes ``a``'s value if ``prefer_a`` else ``b``'s. Without a
    base, a field set on one side only is taken from it.
    """
    base_data = to_data(base) if base is not None and type(base) is type(a) else {}
    merged = _merge_dicts(base_data, to_data(a), to_data(b), prefer_a)
    return from_data(item_kind_of(a), merged)


def _merge_dicts(
    base: dict[str, Any], a: dict[str, Any], b: dict[str, Any], prefer_a: bool
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in a.keys() | b.keys() | base.keys():
        va, vb, vbase = a.get(key, _MISSING), b.get(key, _MISSING), base.get(key, _MISSING)
        if va == vb:
            value = va
        elif va == vbase:
            value = vb
        elif vb == vbase:
            value = va
        elif isinstance(va, dict) and isinstance(vb, dict):
            value = _merge_dicts(vbase if isinstance(vbase, dict) else {}, va, vb, prefer_a)
        else:
            value = va if prefer_a else vb
        if value is not _MISSING:
            out[key] = value
    return out
