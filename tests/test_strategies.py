"""The shipped Hypothesis strategies generate records that make sense."""

from __future__ import annotations

from hypothesis import given

from oxsync.core.records import Event, ItemKind
from oxsync.testing.strategies import records


@given(records(ItemKind.EVENT))
def test_generated_events_never_end_before_they_start(event: Event) -> None:
    # A series anchored on its first occurrence across a DST change once got its end
    # shifted by wall-clock time, one hour before its start.
    if event.start is not None and event.end is not None:
        assert event.end >= event.start
    for exception in event.exceptions:
        if exception.start is not None and exception.end is not None:
            assert exception.end >= exception.start
