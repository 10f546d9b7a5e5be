"""RRULE text read into the canonical model means the same occurrences as RFC 5545 says
(python-dateutil's expansion of the text), or is refused: never other days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil import rrule as du
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from oxsync.errors import MappingError
from oxsync.mappings.recurrence import from_rrule, occurrences

CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
ZONES = ("Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Pacific/Fiji", "UTC")


@st.composite
def rrules(draw: st.DrawFn) -> str:
    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]))
    parts = [f"FREQ={freq}", f"INTERVAL={draw(st.integers(1, 3))}"]
    days = draw(st.lists(st.sampled_from(CODES), unique=True, max_size=3))
    if freq in ("DAILY", "WEEKLY") and days:
        parts.append("BYDAY=" + ",".join(days))
    elif freq in ("MONTHLY", "YEARLY"):
        if days and draw(st.booleans()):
            parts.append("BYDAY=" + ",".join(days))
            parts.append(f"BYSETPOS={draw(st.sampled_from([1, 2, 3, 4, -1]))}")
        else:
            parts.append(f"BYMONTHDAY={draw(st.integers(1, 31))}")
        if freq == "YEARLY":
            parts.append(f"BYMONTH={draw(st.integers(1, 12))}")
    if draw(st.booleans()):
        parts.append(f"WKST={draw(st.sampled_from(CODES))}")
    end = draw(st.sampled_from(["COUNT", "UNTIL", "UNTIL-UTC"]))
    if end == "COUNT":
        parts.append(f"COUNT={draw(st.integers(1, 12))}")
    else:  # filled in once DTSTART is known: a local or a UTC date-time
        parts.append(f"{end}=+{draw(st.integers(0, 800 * 24))}")
    return ";".join(draw(st.permutations(parts)))


def _with_until(text: str, start: datetime) -> str:
    """``UNTIL=+N`` / ``UNTIL-UTC=+N``: N hours after ``start``, on its wall clock or in
    UTC (as RFC 5545 wants with a zoned DTSTART)."""
    parts = []
    for part in text.split(";"):
        key, _, value = part.partition("=")
        if key.startswith("UNTIL"):
            end = start + timedelta(hours=int(value))
            if key == "UNTIL-UTC":
                value = end.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
            else:
                value = end.strftime("%Y%m%dT%H%M%S")
            part = f"UNTIL={value}"
        parts.append(part)
    return ";".join(parts)


@settings(max_examples=100, deadline=None)
@given(
    text=rrules(),
    zone=st.sampled_from(ZONES),
    day=st.dates(date(2015, 1, 1), date(2035, 12, 31)),
    hour=st.integers(0, 23),
)
def test_a_rule_read_has_the_occurrences_rfc_5545_gives_it_or_is_refused(
    text: str, zone: str, day: date, hour: int
) -> None:
    naive = datetime.combine(day, time(hour))
    # RFC 5545 leaves a DTSTART that is no occurrence undefined: start on the first one
    bare = ";".join(p for p in text.split(";") if not p.startswith("UNTIL"))
    first = next(iter(du.rrulestr(bare, dtstart=naive)), None)
    assume(first is not None)
    assert first is not None
    start = first.replace(tzinfo=ZoneInfo(zone))
    text = _with_until(text, start)
    floating = "UNTIL=" in text and not text.split("UNTIL=")[1].split(";")[0].endswith("Z")
    if floating:  # UNTIL on the wall clock of DTSTART's zone
        expected = [
            d.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
            for d in du.rrulestr(text, dtstart=first)
        ]
    else:
        expected = [d.astimezone(UTC) for d in du.rrulestr(text, dtstart=start)]
    try:
        rule = from_rrule(text, start)
    except MappingError:
        return
    got = occurrences(start, rule)
    assert [d.astimezone(UTC) for d in got] == expected  # type: ignore[union-attr]


def test_week_start_other_than_monday_is_refused_where_it_moves_occurrences() -> None:
    start = datetime(2027, 1, 3, 9, tzinfo=UTC)  # a Sunday
    try:
        rule = from_rrule("FREQ=WEEKLY;INTERVAL=2;BYDAY=SU,MO;WKST=SU;COUNT=4", start)
    except MappingError as exc:
        assert [e.path for e in exc.errors] == ["recurrence"]
        assert "WKST" in str(exc)
    else:  # pragma: no cover - the failure the test is about
        days = [o.date() for o in occurrences(start, rule)]  # type: ignore[union-attr]
        raise AssertionError(f"read as {days}, RFC 5545 says Jan 3, 4, 17, 18")
    # where it changes nothing it is read as before
    same = from_rrule("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TU;WKST=SU;COUNT=4", start)
    assert same == from_rrule("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TU;COUNT=4", start)
    weekly = from_rrule("FREQ=WEEKLY;BYDAY=SU,MO;WKST=SU", start)
    assert weekly == from_rrule("FREQ=WEEKLY;BYDAY=SU,MO", start)


def test_every_other_day_on_some_weekdays_is_not_read_as_every_other_week() -> None:
    start = datetime(2027, 1, 4, 9, tzinfo=UTC)  # a Monday
    text = "FREQ=DAILY;INTERVAL=2;BYDAY=MO,TU;COUNT=4"
    expected = list(du.rrulestr(text, dtstart=start))
    assert expected[1] - expected[0] == timedelta(days=8)
    try:
        rule = from_rrule(text, start)
    except MappingError as exc:
        assert "INTERVAL" in str(exc)
    else:
        assert occurrences(start, rule) == expected


def test_an_until_before_the_time_of_day_of_the_series_ends_it_the_day_before() -> None:
    start = datetime(2027, 1, 1, 9, tzinfo=ZoneInfo("Europe/Paris"))  # 08:00 UTC
    for text in (
        "FREQ=DAILY;UNTIL=20270105T075959Z",  # one second before the 5th's occurrence
        "FREQ=DAILY;UNTIL=20270105T085959",  # the same on the wall clock of Paris
    ):
        rule = from_rrule(text, start)
        assert rule.until == date(2027, 1, 4), text
        assert occurrences(start, rule)[-1] == datetime(2027, 1, 4, 9, tzinfo=start.tzinfo)
    # an UNTIL at or after the occurrence keeps it
    assert from_rrule("FREQ=DAILY;UNTIL=20270105T080000Z", start).until == date(2027, 1, 5)
    assert from_rrule("FREQ=DAILY;UNTIL=20270105T225959Z", start).until == date(2027, 1, 5)
