"""Shared value conversions (field-map.md §4)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from oxsync.core.records import (
    AttendeeKind,
    BusyStatus,
    Importance,
    ParticipationStatus,
    Sensitivity,
    TaskStatus,
)
from oxsync.mappings import values as v


@pytest.mark.parametrize(
    ("status", "outlook", "ox"),
    [
        (BusyStatus.FREE, 0, 4),
        (BusyStatus.TENTATIVE, 1, 2),
        (BusyStatus.BUSY, 2, 1),
        (BusyStatus.OUT_OF_OFFICE, 3, 3),
    ],
)
def test_busy_status_tables(status, outlook, ox):
    assert v.OUTLOOK_BUSY_STATUS.to_native(status) == outlook
    assert v.OX_SHOWN_AS.to_native(status) == ox
    assert v.OUTLOOK_BUSY_STATUS.from_native(outlook) is status
    assert v.OX_SHOWN_AS.from_native(ox) is status


def test_working_elsewhere_is_lossy_in_ox_only():
    assert v.OUTLOOK_BUSY_STATUS.from_native(4) is BusyStatus.WORKING_ELSEWHERE
    assert v.OX_SHOWN_AS.to_native(BusyStatus.WORKING_ELSEWHERE) == 1
    assert not v.OX_SHOWN_AS.round_trips(BusyStatus.WORKING_ELSEWHERE)


@pytest.mark.parametrize("n", range(5))
def test_task_status_ox_is_outlook_plus_one(n):
    status = v.OUTLOOK_TASK_STATUS.from_native(n)
    assert v.OX_TASK_STATUS.to_native(status) == n + 1
    assert isinstance(status, TaskStatus)


@pytest.mark.parametrize("n", range(3))
def test_priority_ox_is_importance_plus_one(n):
    importance = v.OUTLOOK_IMPORTANCE.from_native(n)
    assert v.OX_PRIORITY.to_native(importance) == n + 1
    assert v.OX_PRIORITY.from_native(n + 1) is importance


def test_undefined_ox_priority_reads_as_normal():
    assert v.OX_PRIORITY.from_native(0) is Importance.NORMAL


@pytest.mark.parametrize("table", [v.OX_SHOWN_AS, v.OX_TASK_STATUS, v.OUTLOOK_SENSITIVITY])
@pytest.mark.parametrize("bad", [-1, 99, True, "1"])
def test_out_of_range_or_mistyped_enum_values_are_refused(table, bad):
    with pytest.raises(ValueError, match="is not a"):
        table.from_native(bad)


def test_sensitivity_private_flag_and_the_no_ping_pong_rule():
    assert [v.private_flag(s) for s in Sensitivity] == [False, True, True, True]
    assert v.sensitivity_from_private_flag(True) is Sensitivity.PRIVATE
    assert v.sensitivity_from_private_flag(False, Sensitivity.PERSONAL) is Sensitivity.NORMAL
    for kept in (Sensitivity.PERSONAL, Sensitivity.CONFIDENTIAL):
        assert v.sensitivity_from_private_flag(True, kept) is kept
        assert v.keep_sensitivity(Sensitivity.PRIVATE, kept) is kept
    assert v.keep_sensitivity(Sensitivity.PRIVATE, Sensitivity.NORMAL) is Sensitivity.PRIVATE


@pytest.mark.parametrize(
    ("status", "outlook", "ox"),
    [
        (ParticipationStatus.NONE, 0, "none"),
        (ParticipationStatus.TENTATIVE, 2, "tentative"),
        (ParticipationStatus.ACCEPTED, 3, "accept"),
        (ParticipationStatus.DECLINED, 4, "decline"),
    ],
)
def test_participation_status(status, outlook, ox):
    assert v.OUTLOOK_RESPONSE_STATUS.to_native(status) == outlook
    assert v.OX_CONFIRM.to_native(status) == ox
    assert v.OX_CONFIRM.from_native(ox) is status


def test_not_responded_reads_as_none_and_numbers_match_the_http_api():
    assert v.OUTLOOK_RESPONSE_STATUS.from_native(5) is ParticipationStatus.NONE
    assert [v.OX_CONFIRM_NUMBER.to_native(s) for s in ParticipationStatus] == [0, 1, 2, 3]


def test_participant_types():
    assert [v.OX_PARTICIPANT_TYPE.to_native(k) for k in AttendeeKind] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("text", "sep", "names"),
    [
        ("Work;VIP", ";", ("Work", "VIP")),
        (" Work ; VIP ;", ";", ("Work", "VIP")),
        ("Work,VIP", ",", ("Work", "VIP")),
        ("Travail, Équipe", ",", ("Travail", "Équipe")),
        ("", ",", ()),
        (None, ";", ()),
    ],
)
def test_split_categories(text, sep, names):
    assert v.split_categories(text, sep) == names


def test_join_categories_keeps_order_and_refuses_the_separator_in_a_name():
    assert v.join_categories(("b", "a"), ",") == "b,a"
    assert v.join_categories(("b", "a"), ";") == "b;a"
    assert v.join_categories((), ",") is None
    with pytest.raises(ValueError, match="separator"):
        v.join_categories(("a,b",), ",")


def test_ox_timestamps_are_utc_milliseconds():
    moment = datetime(2008, 7, 2, 12, 0, 0, 123000, tzinfo=UTC)
    ms = v.datetime_to_ox(moment)
    assert ms == 1_215_000_000_123  # the reference's example lastsync, plus 123 ms
    assert v.datetime_from_ox(ms) == moment
    assert v.datetime_from_ox(str(ms)) == moment
    paris = moment.astimezone(timezone(timedelta(hours=2)))
    assert v.datetime_to_ox(paris) == ms
    assert v.datetime_from_ox(0) == datetime(1970, 1, 1, tzinfo=UTC)


def test_naive_datetimes_are_refused_for_timed_values():
    with pytest.raises(ValueError, match="naive"):
        v.datetime_to_ox(datetime(2026, 1, 1))


def test_ox_dates_are_utc_midnight_and_ignore_a_time_part():
    assert v.date_to_ox(date(1970, 1, 2)) == 86_400_000
    assert v.date_from_ox(86_400_000) == date(1970, 1, 2)
    assert v.date_from_ox(86_400_000 + 43_199_000) == date(1970, 1, 2)
    assert v.date_to_ox(date(1815, 12, 10)) < 0
    assert v.date_from_ox(v.date_to_ox(date(1815, 12, 10))) == date(1815, 12, 10)


@pytest.mark.parametrize("bad", ["12a", "", "1e3", 1.5, None, "9" * 30, "\u00b2", "-\u0662"])
def test_bad_ox_milliseconds(bad):
    with pytest.raises((ValueError, TypeError)):
        v.datetime_from_ox(bad)
    with pytest.raises((ValueError, TypeError)):
        v.date_from_ox(bad)


@pytest.mark.parametrize("bad", ["\u00b2", "\u0661\u0662", "-\u00b3"])
def test_non_ascii_digits_are_not_milliseconds(bad):
    # str.isdigit() accepts them; the message says what is wrong, not int()'s complaint
    with pytest.raises(ValueError, match="not a number of milliseconds"):
        v.datetime_from_ox(bad)


def test_durations_in_minutes():
    assert v.minutes_to_ox(90) == "90"
    assert v.minutes_from_ox("90") == 90
    assert v.minutes_from_ox("90.0") == 90
    for bad in ("abc", "-5", "nan", "inf"):
        with pytest.raises(ValueError):
            v.minutes_from_ox(bad)
    with pytest.raises(ValueError):
        v.minutes_to_ox(-1)


def test_outlook_no_date_sentinel():
    assert v.outlook_date(datetime(4501, 1, 1)) is None
    assert v.outlook_date(datetime(4501, 1, 1, tzinfo=UTC)) is None
    assert v.outlook_date_value(None) == datetime(4501, 1, 1)
    assert v.outlook_date(datetime(2026, 1, 1, 9, tzinfo=UTC)) == datetime(2026, 1, 1, 9)
    assert v.outlook_date_value(date(1815, 12, 10)) == datetime(1815, 12, 10)


def test_check_text():
    assert v.check_text("") is None
    assert v.check_text("été".encode()) == "été"
    with pytest.raises(ValueError, match="UTF-8"):
        v.check_text(b"\xff\xfe")
    with pytest.raises(ValueError, match="surrogate"):
        v.check_text("a\ud800")
    with pytest.raises(TypeError):
        v.check_text(42)
    with pytest.raises(ValueError, match="limit"):
        v.check_text("x" * (v.MAX_TEXT_CHARS + 1))


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("0", 0),
        ("0042", 42),
        ("9" * 30, int("9" * 30)),
        ("", None),
        ("-1", None),
        (" 1", None),
        ("1.0", None),
        ("\u00b2", None),
        ("\u0661\u0662", None),
        ("12a", None),
        ("9" * 4300, int("9" * 4300)),
        ("9" * 4301, None),  # past int()'s limit for text: no number, not a ValueError
    ],
    ids=lambda value: value[:12] if isinstance(value, str) else None,
)
def test_ascii_int_reads_ascii_digits_only(text: str, number: int | None) -> None:
    assert v.ascii_int(text) == number
