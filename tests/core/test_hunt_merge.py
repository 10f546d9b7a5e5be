"""Three-way merge and the conflict policies, as properties over generated records.

A record is cut into *leaves*: a plain field; one slot of a slot part (a phone number, an
address line); or a group of fields that only make sense together (an event's start, end,
all-day flag and zone). Each leaf of ``a`` and ``b`` is the base's, or an edit. The merge
must give, leaf by leaf, what the one side that changed it wrote, the common value if both
wrote the same, and the preferred side's only if both wrote different values; never a mix
of two versions inside one leaf.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import attrs
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from oxsync.core.policy import Policy, merge_records
from oxsync.core.records import (
    VOLATILE,
    Address,
    Alarm,
    Contact,
    Emails,
    Event,
    Frequency,
    ItemKind,
    Phones,
    Photo,
    Recurrence,
    Task,
    Weekday,
)
from oxsync.core.serial import fingerprint
from oxsync.testing.strategies import records

SLOT_PARTS = (Address, Emails, Phones)
GROUPS: dict[type[Any], tuple[str, ...]] = {
    Event: ("start", "end", "all_day", "timezone"),
    Task: ("start", "due"),
}
CHOICES = ("base", "a", "b", "same", "different")

Leaf = tuple[str, ...]


def leaves(cls: type[Any]) -> list[tuple[str, Leaf]]:
    """``(how, path)`` per leaf: ``field``, ``slot`` (part, slot) or ``group`` (names)."""
    group = GROUPS.get(cls, ())
    out: list[tuple[str, Leaf]] = [("group", group)] if group else []
    for f in attrs.fields(cls):
        if f.metadata.get(VOLATILE) or f.name == "uid" or f.name in group:
            continue
        if isinstance(f.default, SLOT_PARTS):
            out += [("slot", (f.name, s.name)) for s in attrs.fields(type(f.default))]
        else:
            out.append(("field", (f.name,)))
    return out


def get(record: Any, how: str, path: Leaf) -> Any:
    if how == "slot":
        return getattr(getattr(record, path[0]), path[1])
    if how == "group":
        return tuple(getattr(record, name) for name in path)
    return getattr(record, path[0])


def with_leaves(record: Any, values: list[tuple[str, Leaf, Any]]) -> Any:
    changes: dict[str, Any] = {}
    parts: dict[str, dict[str, Any]] = {}
    for how, path, value in values:
        if how == "slot":
            parts.setdefault(path[0], {})[path[1]] = value
        elif how == "group":
            changes.update(zip(path, value, strict=True))
        else:
            changes[path[0]] = value
    for name, slots in parts.items():
        changes[name] = attrs.evolve(getattr(record, name), **slots)
    return attrs.evolve(record, **changes)


def merged_leaf(base: Any, a: Any, b: Any, prefer_a: bool) -> Any:
    """The three-way rule for one leaf (the specification)."""
    if a == b or b == base:
        return a
    if a == base:
        return b
    return a if prefer_a else b


@st.composite
def conflicts(draw: st.DrawFn) -> tuple[Any, Any, Any]:
    """``(base, a, b)``: two edits of one record, leaf by leaf from two other records."""
    kind = draw(st.sampled_from(ItemKind))
    base, x, y = (draw(records(kind)) for _ in range(3))
    base = attrs.evolve(base, uid="u1")
    a_values, b_values = [], []
    for how, path in leaves(type(base)):
        choice = draw(st.sampled_from(CHOICES))
        xv, yv = get(x, how, path), get(y, how, path)
        if choice in ("a", "same", "different"):
            a_values.append((how, path, xv))
        if choice in ("b", "same", "different"):
            b_values.append((how, path, xv if choice == "same" else yv))
    return base, with_leaves(base, a_values), with_leaves(base, b_values)


# no shrinking: shrinking three many-field records takes minutes; the failure is readable
@settings(max_examples=50, deadline=None, phases=(Phase.explicit, Phase.generate))
@given(conflicts(), st.booleans(), st.integers(-5, 5))
def test_conflict_policies_over_generated_edits(
    case: tuple[Any, Any, Any], prefer_a: bool, minutes: int
) -> None:
    """One generated conflict, every property (generating records is the costly part)."""
    base, a, b = case
    # the merge takes each leaf from the side that changed it
    merged = merge_records(base, a, b, prefer_a=prefer_a)
    for how, path in leaves(type(base)):
        want = merged_leaf(get(base, how, path), get(a, how, path), get(b, how, path), prefer_a)
        assert get(merged, how, path) == want, (how, path)
    assert merged.uid == "u1"
    # ... whichever side is A
    assert merged == merge_records(base, b, a, prefer_a=not prefer_a)
    # symmetric policies do not depend on which side is A (no tie of last_modified)
    now = datetime(2024, 5, 1, 12, tzinfo=UTC)
    a = attrs.evolve(a, last_modified=now)
    b = attrs.evolve(b, last_modified=now + timedelta(minutes=minutes or 1))
    for policy, mirrored in (
        (Policy.A_WINS, Policy.B_WINS),
        (Policy.NEWEST_WINS, Policy.NEWEST_WINS),
        (Policy.MERGE, Policy.MERGE),
        (Policy.MERGE.with_options(winner="a"), Policy.MERGE.with_options(winner="b")),
    ):
        assert policy.resolve(base, a, b).merged == mirrored.resolve(base, b, a).merged
    # keep-both keeps A's version paired and B's as a new item with its own uid
    resolution = Policy.KEEP_BOTH.resolve(base, a, b)
    assert resolution.merged == a
    assert resolution.extra is not None and resolution.extra.uid not in (None, a.uid)
    assert fingerprint(attrs.evolve(resolution.extra, uid=b.uid)) == fingerprint(b)


# ------------------------------------------------------------------ the cases found


def test_a_cleared_slot_part_still_merges_slot_by_slot() -> None:
    """A cleared its only phone number (its ``phones`` became the empty default), B added
    another: both edits must survive, whichever side is preferred."""
    base = Contact(uid="u1", last_name="L", phones=Phones(mobile="111"))
    a = Contact(uid="u1", last_name="L")
    b = Contact(uid="u1", last_name="L", phones=Phones(mobile="111", business="222"))
    for prefer_a in (True, False):
        assert merge_records(base, a, b, prefer_a=prefer_a).phones == Phones(business="222")
        assert merge_records(base, b, a, prefer_a=prefer_a).phones == Phones(business="222")


def test_a_photo_is_never_a_mix_of_two_photos() -> None:
    base = Contact(uid="u1", photo=Photo(data=b"old", content_type="image/jpeg"))
    a = Contact(uid="u1", photo=Photo(data=b"new png", content_type="image/png"))
    b = Contact(uid="u1", photo=Photo(data=b"new jpeg", content_type="image/jpeg"))
    for prefer_a in (True, False):
        photo = merge_records(base, a, b, prefer_a=prefer_a).photo
        assert photo == (a.photo if prefer_a else b.photo)


def test_a_recurrence_is_never_a_mix_of_two_rules() -> None:
    start = datetime(2024, 1, 1, 9, tzinfo=UTC)
    weekly = Recurrence(frequency=Frequency.WEEKLY, weekdays=Weekday.MONDAY)
    base = Event(uid="u1", start=start, end=start, recurrence=weekly)
    monthly = Recurrence(frequency=Frequency.MONTHLY, day_of_month=5)
    a = attrs.evolve(base, recurrence=monthly)
    b = attrs.evolve(base, recurrence=attrs.evolve(weekly, weekdays=Weekday.MONDAY | 8))
    for prefer_a in (True, False):
        rule = merge_records(base, a, b, prefer_a=prefer_a).recurrence
        assert rule == (a.recurrence if prefer_a else b.recurrence)
    alarm_a = attrs.evolve(base, alarm=Alarm(at=start))
    alarm_b = attrs.evolve(base, alarm=Alarm(minutes_before=30))
    base_alarm = attrs.evolve(base, alarm=Alarm(minutes_before=15))
    assert merge_records(base_alarm, alarm_a, alarm_b, prefer_a=False).alarm == alarm_b.alarm


def test_an_event_moved_on_one_side_and_stretched_on_the_other_keeps_its_times_whole() -> None:
    """A moved the meeting to the next day, B made it an hour longer. Start from A and end
    from B would end the meeting a day before it starts."""
    start = datetime(2024, 3, 4, 9, tzinfo=UTC)
    base = Event(uid="u1", summary="s", start=start, end=start + timedelta(hours=1))
    a = attrs.evolve(base, start=start + timedelta(days=1), end=start + timedelta(days=1, hours=1))
    b = attrs.evolve(base, end=start + timedelta(hours=2), summary="longer")
    merged = merge_records(base, a, b, prefer_a=False)
    assert (merged.start, merged.end) == (b.start, b.end) and merged.summary == "longer"
    merged = merge_records(base, a, b, prefer_a=True)
    assert (merged.start, merged.end) == (a.start, a.end) and merged.summary == "longer"
    # turned into an all-day event on one side: dates and the flag come together
    allday = attrs.evolve(
        base, start=date(2024, 3, 4), end=date(2024, 3, 5), all_day=True, timezone=None
    )
    merged = merge_records(base, allday, b, prefer_a=False)
    assert type(merged.start) is type(merged.end) and merged.all_day is False
