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

from oxsync.core.records import (
    Address,
    Contact,
    DistributionList,
    Emails,
    Event,
    Phones,
    Record,
    Task,
    item_kind_of,
)
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

_SLOT_PARTS = (Address, Emails, Phones)
"""Nested parts whose fields are independent slots (a phone number, an address line): they
merge field by field. Every other nested part (a photo, an alarm, a recurrence, an
organizer) is one value: mixing two versions' fields (one photo's bytes with the other's
content type, one rule's frequency with the other's weekdays) would make a value neither
side wrote."""

_SLOT_FIELDS: dict[type[Any], frozenset[str]] = {
    cls: frozenset(f.name for f in attrs.fields(cls) if isinstance(f.default, _SLOT_PARTS))
    for cls in (Contact, DistributionList, Event, Task)
}

_GROUPS: dict[type[Any], tuple[tuple[str, ...], ...]] = {
    Event: (("start", "end", "all_day", "timezone"),),
    Task: (("start", "due"),),
}
"""Fields that only make sense together and merge as one value: one side's new start with
the other side's new end can end before it starts, or mix a date with a time."""


def merge_records(base: Record | None, a: Record, b: Record, *, prefer_a: bool = True) -> Record:
    """Three-way field merge: a field changed on one side only takes that side's value.

    Slot parts (phones, e-mails, addresses) merge field by field; other nested parts and
    the groups of :data:`_GROUPS` (an event's times) merge as one value. A field changed on
    both sides to different values takes ``a``'s value if ``prefer_a`` else ``b``'s.
    Without a base, a field set on one side only is taken from it.
    """
    cls = type(a)
    base_data = to_data(base) if base is not None and type(base) is cls else {}
    a_data, b_data = to_data(a), to_data(b)
    slots = _SLOT_FIELDS.get(cls, frozenset())
    groups = _GROUPS.get(cls, ())
    grouped = {name for group in groups for name in group}
    merged: dict[str, Any] = {}
    for key in a_data.keys() | b_data.keys() | base_data.keys():
        if key in grouped:
            continue
        va, vb = a_data.get(key, _MISSING), b_data.get(key, _MISSING)
        vbase = base_data.get(key, _MISSING)
        if key in slots:
            # A part left at its default is omitted from the data: it is an empty one, not
            # an unknown one, so a side that cleared it still merges slot by slot.
            value: Any = _merge_slots(_part(vbase), _part(va), _part(vb), prefer_a)
        else:
            value = _pick(vbase, va, vb, prefer_a)
        if value is not _MISSING:
            merged[key] = value
    for group in groups:
        ga, gb, gbase = (
            tuple(d.get(k, _MISSING) for k in group) for d in (a_data, b_data, base_data)
        )
        chosen = a_data if _pick(gbase, ga, gb, prefer_a) is ga else b_data
        merged.update((k, chosen[k]) for k in group if k in chosen)
    return from_data(item_kind_of(a), merged)


def _pick(base: Any, a: Any, b: Any, prefer_a: bool) -> Any:
    if a == b or b == base:
        return a
    if a == base:
        return b
    return a if prefer_a else b


def _part(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _merge_slots(
    base: dict[str, Any], a: dict[str, Any], b: dict[str, Any], prefer_a: bool
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in a.keys() | b.keys() | base.keys():
        value = _pick(base.get(key, _MISSING), a.get(key, _MISSING), b.get(key, _MISSING), prefer_a)
        if value is not _MISSING:
            out[key] = value
    return out
