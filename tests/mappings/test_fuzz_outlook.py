"""Outlook property dicts with wrong values: a record or a MappingError, nothing else.

What pywin32 hands back is not always what the object model documents: a property of
another type (a user edited a form field, an add-in wrote it), an out-of-range enum, a
date outside Python's range, a structured part (recurrence, recipients, members,
attachments) of the wrong shape. Each test starts from what ``to_outlook`` writes for a
generated record, replaces some values with hostile ones, and reads it back.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oxsync.core.records import ItemKind
from oxsync.errors import MappingError
from oxsync.mappings import outlook
from oxsync.testing import strategies

PARIS = ZoneInfo("Europe/Paris")

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.binary(max_size=30),
    st.sampled_from(["", " ", "\x00", "\ud800", "4501-01-01", "tomorrow", "9" * 5000]),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
    st.dates(),
    st.times(),
    st.just(datetime.max),
    st.just(datetime.min),
    st.just(timedelta(days=1)),
)
_HOSTILE = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(inner, inner),
        st.dictionaries(st.sampled_from(["Name", "Address", "Type", "FileName", "Data",
                                         "OriginalDate", "Deleted", "RecurrenceType",
                                         "Interval", "Occurrences", "DayOfWeekMask",
                                         "PatternStartDate", "PatternEndDate",
                                         "MeetingResponseStatus", "Start", "End"]),
                        inner, max_size=4),
    ),
    max_leaves=6,
)  # fmt: skip

_KINDS = st.sampled_from(list(ItemKind))


def _read(kind: ItemKind, props: dict[str, Any]) -> None:
    try:
        outlook.from_outlook(kind, props, tz=PARIS, list_separator=";")
    except MappingError as exc:
        assert exc.errors, "a MappingError names at least one field"
        for error in exc.errors:
            assert error.path and isinstance(error.path, str)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_wrong_values_in_written_properties_are_mapping_errors(data: st.DataObject) -> None:
    kind = data.draw(_KINDS)
    record = data.draw(strategies.records(kind))
    props = outlook.to_outlook(record, tz=PARIS, list_separator=";")
    names = sorted(props)
    for name in data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=4)):
        props[name] = data.draw(_HOSTILE)
    _read(kind, props)


@settings(max_examples=150, deadline=None)
@given(_KINDS, st.dictionaries(st.text(max_size=25), _HOSTILE, max_size=6))
def test_unknown_and_garbage_keys_are_mapping_errors(kind: ItemKind, props: dict[str, Any]) -> None:
    _read(kind, props)


@settings(max_examples=150, deadline=None)
@given(
    _KINDS,
    st.sampled_from(
        ["Start", "End", "Birthday", "Anniversary", "DueDate", "StartDate", "DateCompleted",
         "ReminderTime", "TaskDueDate", "_recurrence", "_exceptions", "_recipients",
         "_members", "_attachments", "_picture", "_user_properties", "_timezone",
         "Categories", "Body", "HTMLBody", "Duration", "ReminderMinutesBeforeStart"]
    ),
    _HOSTILE,
)  # fmt: skip
def test_each_sensitive_key_alone_is_a_mapping_error_or_a_record(
    kind: ItemKind, name: str, value: Any
) -> None:
    _read(kind, {name: value})


def test_dates_at_the_edges_of_pythons_range() -> None:
    for kind in ItemKind:
        for value in (datetime.min, datetime.max, date.min, date.max, time.max):
            for name in ("Start", "End", "Birthday", "DueDate", "ReminderTime"):
                _read(kind, {name: value})


def test_instants_the_zone_moves_out_of_range_are_write_errors_naming_the_field() -> None:
    import attrs

    from oxsync.testing.samples import sample

    kiritimati, honolulu = ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Pacific/Honolulu")
    event = attrs.evolve(sample(ItemKind.EVENT, 1), recurrence=None, exceptions=())
    late = datetime(9999, 12, 31, 22, tzinfo=UTC)
    early = datetime(1, 1, 1, 1, tzinfo=UTC)
    for record, zone in (
        (attrs.evolve(event, start=late, end=late + timedelta(hours=1)), kiritimati),
        (attrs.evolve(event, start=early, end=early + timedelta(hours=1)), honolulu),
    ):
        try:
            outlook.to_outlook(record, tz=zone)
        except MappingError as exc:
            assert {"start", "end"} & {e.path for e in exc.errors}
        else:
            raise AssertionError("an instant Outlook's zone cannot hold was written")
