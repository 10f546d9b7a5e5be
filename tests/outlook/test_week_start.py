"""A weekly series every 2 or more weeks, and the day its weeks start on.

The canonical model expands rules as RFC 5545 does by default, weeks starting on Monday
(``WKST=MO``); Outlook groups a pattern's weeks from its first day of the week
(MS-OXOCAL ``FirstDOW``, from the calendar options, which the object model does not
expose; Sunday in the fake by default, as in a US Outlook). Every other week on Saturday
and Sunday is then not the same days on both sides. ``OutlookStore(first_day_of_week=)``
says which day Outlook uses; a rule whose days that day (or, unknown, any day) groups
otherwise than Monday is refused as INVALID on write, and such an Outlook pattern is an
unreadable item (a per-item failure) on read.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.adapters.outlook import OutlookStore
from oxsync.adapters.outlook._weekstart import LOCALE_STARTS
from oxsync.core import records as r
from oxsync.core.store import Applied, Create, Failure, FailureKind, Item, Update
from oxsync.mappings.recurrence import event_occurrences, regroups
from oxsync.testing.outlook import Application, constants
from tests.outlook.helpers import default

W = r.Weekday
DAYS = list(W)  # Sunday first, as OlDaysOfWeek
SATURDAY = datetime(2026, 3, 7, 9, tzinfo=UTC)


def series(
    mask: int = W.SATURDAY | W.SUNDAY,
    interval: int = 2,
    start: datetime = SATURDAY,
    uid: str = "weekends",
    count: int = 6,
) -> r.Event:
    return r.Event(
        uid=uid,
        summary="Every other weekend",
        start=start,
        end=start + timedelta(hours=1),
        timezone="Europe/Paris",
        recurrence=r.Recurrence(
            frequency=r.Frequency.WEEKLY, interval=interval, weekdays=mask, count=count
        ),
    )


def outlook_days(app: Application, subject: str | None = None) -> list[date]:
    items = app.Session.GetDefaultFolder(constants.olFolderCalendar).Items
    items.IncludeRecurrences = True
    items.Sort("[Start]")
    window = "[Start] >= '01/01/2026 12:00 AM' AND [Start] < '01/01/2028 12:00 AM'"
    return [
        item.Start.date()
        for item in items.Restrict(window)
        if subject is None or item.Subject == subject
    ]


def canonical_days(event: r.Event) -> list[date]:
    out = []
    for start in event_occurrences(event):
        assert isinstance(start, datetime)
        out.append(start.date())
    return out


def calendar_count(app: Application) -> int:
    return int(app.Session.GetDefaultFolder(constants.olFolderCalendar).Items.Count)


# --------------------------------------------------------------------------- the helper


def test_regroups_names_the_masks_a_week_start_splits_otherwise_than_monday() -> None:
    weekend = W.SATURDAY | W.SUNDAY
    assert regroups(weekend, W.SUNDAY)
    assert not regroups(weekend, W.MONDAY)
    assert not regroups(W.MONDAY | W.WEDNESDAY, W.SUNDAY)
    assert regroups(W.MONDAY | W.WEDNESDAY, W.TUESDAY)
    # unknown: any week start may split two days or more; one day never
    assert regroups(W.MONDAY | W.TUESDAY, None)
    for day in DAYS:
        assert not regroups(day, None)
        assert not regroups(day, day)


# --------------------------------------------------------------------------- writing


@pytest.mark.parametrize("first_day", [None, W.SUNDAY])
def test_a_fortnightly_weekend_is_refused_unless_weeks_start_on_monday(
    first_day: W | None,
) -> None:
    app = Application(tz="Europe/Paris")
    store = OutlookStore(app, first_day_of_week=first_day)
    folder = default(store, r.FolderKind.CALENDAR)
    fine = series(W.TUESDAY, uid="tuesdays")
    refused, done = store.apply(folder, [Create(series()), Create(fine)])
    assert isinstance(refused, Failure), refused
    assert refused.kind is FailureKind.INVALID
    assert refused.fields == ("recurrence",)
    assert "every 2 weeks on Saturday, Sunday" in refused.message
    assert "first_day_of_week" in refused.message
    # nothing written of the refused series; the rest of the batch is
    assert isinstance(done, Applied), done
    assert calendar_count(app) == 1
    assert outlook_days(app) == canonical_days(fine)


def test_an_update_to_a_refused_rule_writes_nothing() -> None:
    app = Application(tz="Europe/Paris")
    store = OutlookStore(app)
    folder = default(store, r.FolderKind.CALENDAR)
    (created,) = store.apply(folder, [Create(series(W.SATURDAY, uid="saturdays"))])
    assert isinstance(created, Applied), created
    before = store.fetch(folder, [created.id])[created.id]
    assert isinstance(before, Item)
    days = outlook_days(app)
    (updated,) = store.apply(folder, [Update(created.id, series(uid="saturdays"), created.version)])
    assert isinstance(updated, Failure) and updated.kind is FailureKind.INVALID, updated
    after = store.fetch(folder, [created.id])[created.id]
    assert after == before
    assert outlook_days(app) == days


def test_with_weeks_from_monday_the_weekend_is_written_on_the_canonical_days() -> None:
    app = Application(tz="Europe/Paris", first_day_of_week=constants.olMonday)
    store = OutlookStore(app, first_day_of_week=W.MONDAY)
    folder = default(store, r.FolderKind.CALENDAR)
    event = series()
    (done,) = store.apply(folder, [Create(event)])
    assert isinstance(done, Applied), done
    assert outlook_days(app) == canonical_days(event)
    got = store.fetch(folder, [done.id])[done.id]
    assert isinstance(got, Item)
    assert got.record.recurrence == event.recurrence  # type: ignore[union-attr]


@pytest.mark.parametrize("outlook_first_day", DAYS)
@pytest.mark.parametrize("start_day", range(7))
def test_a_single_day_every_other_week_is_written_whatever_the_week_start(
    outlook_first_day: W, start_day: int
) -> None:
    # the series' start need not fall on its day: Outlook counts the weeks from the
    # pattern's start, which the store puts on the rule's first occurrence
    app = Application(tz="Europe/Paris", first_day_of_week=int(outlook_first_day))
    store = OutlookStore(app)
    event = series(W.SATURDAY, start=SATURDAY + timedelta(days=start_day))
    (done,) = store.apply(default(store, r.FolderKind.CALENDAR), [Create(event)])
    assert isinstance(done, Applied), done
    assert outlook_days(app) == canonical_days(event)


def test_the_store_option_takes_names_and_refuses_nonsense() -> None:
    app = Application()
    assert OutlookStore(app, first_day_of_week="monday").first_day_of_week is W.MONDAY
    assert OutlookStore(app, first_day_of_week="sunday").first_day_of_week is W.SUNDAY
    assert OutlookStore(app).first_day_of_week is None
    for wrong in ("lundi", W.SATURDAY | W.SUNDAY, 0):
        with pytest.raises(ValueError, match="first_day_of_week"):
            OutlookStore(app, first_day_of_week=wrong)  # type: ignore[arg-type]


def test_the_fake_refuses_a_first_day_that_is_no_day() -> None:
    with pytest.raises(ValueError, match="first_day_of_week"):
        Application(first_day_of_week=3)


# --------------------------------------------------------------------------- reading


def outlook_series(app: Application, mask: int, subject: str = "Made in Outlook") -> Any:
    """A weekly series every other week made by the user in Outlook."""
    calendar = app.Session.GetDefaultFolder(constants.olFolderCalendar)
    item = calendar.Items.Add(constants.olAppointmentItem)
    item.Subject = subject
    item.Start = datetime(2026, 3, 7, 10)
    item.End = datetime(2026, 3, 7, 11)
    pattern = item.GetRecurrencePattern()
    pattern.RecurrenceType = constants.olRecursWeekly
    pattern.DayOfWeekMask = mask
    pattern.Interval = 2
    pattern.Occurrences = 6
    item.Save()
    return item


WEEKEND_MASK = constants.olSaturday | constants.olSunday


@pytest.mark.parametrize("first_day", [None, W.SUNDAY])
def test_an_outlook_fortnightly_weekend_is_an_unreadable_item(first_day: W | None) -> None:
    app = Application(tz="Europe/Paris")
    outlook_series(app, WEEKEND_MASK)
    outlook_series(app, constants.olSaturday, "Saturdays")
    store = OutlookStore(app, first_day_of_week=first_day)
    folder = default(store, r.FolderKind.CALENDAR)
    refs = store.changes(folder, None).changed
    assert len(refs) == 2  # listed: a failure of its own, not a deletion
    got = store.fetch(folder, [ref.id for ref in refs])
    failures = [v for v in got.values() if isinstance(v, Failure)]
    items = [v for v in got.values() if isinstance(v, Item)]
    assert len(failures) == 1 and len(items) == 1, got
    assert failures[0].kind is FailureKind.INVALID
    assert "every 2 weeks on Saturday, Sunday" in failures[0].message
    assert items[0].record.summary == "Saturdays"  # type: ignore[union-attr]


def test_with_weeks_from_sunday_an_outlook_pattern_sunday_does_not_split_is_read() -> None:
    app = Application(tz="Europe/Paris")
    outlook_series(app, constants.olMonday | constants.olWednesday)
    store = OutlookStore(app, first_day_of_week=W.SUNDAY)
    folder = default(store, r.FolderKind.CALENDAR)
    (ref,) = store.changes(folder, None).changed
    got = store.fetch(folder, [ref.id])[ref.id]
    assert isinstance(got, Item), got
    assert isinstance(got.record, r.Event)
    assert outlook_days(app) == canonical_days(got.record)


def test_with_weeks_from_monday_an_outlook_fortnightly_weekend_is_read() -> None:
    app = Application(tz="Europe/Paris", first_day_of_week=constants.olMonday)
    outlook_series(app, WEEKEND_MASK)
    store = OutlookStore(app, first_day_of_week=W.MONDAY)
    folder = default(store, r.FolderKind.CALENDAR)
    (ref,) = store.changes(folder, None).changed
    got = store.fetch(folder, [ref.id])[ref.id]
    assert isinstance(got, Item), got
    assert isinstance(got.record, r.Event)
    rule = got.record.recurrence
    assert rule is not None and rule.weekdays == W.SATURDAY | W.SUNDAY and rule.interval == 2
    assert outlook_days(app) == canonical_days(got.record)


def test_a_synced_series_turned_into_a_fortnightly_weekend_in_outlook_loses_nothing() -> None:
    app = Application(tz="Europe/Paris")
    outlook = OutlookStore(app)
    memory = MemoryStore(name="mem")
    engine = SyncEngine(outlook, memory, state=State(":memory:"), policy=Policy.NEWEST_WINS)
    outlook_series(app, constants.olSaturday, "Saturdays")
    outlook_series(app, WEEKEND_MASK, "Weekends")  # never readable
    first = engine.sync()
    assert [rec.summary for rec in memory.records("calendar").values()] == [  # type: ignore[union-attr]
        "Saturdays"
    ]
    assert first.b.created == 1
    # the user makes the synced series every other weekend in Outlook
    calendar = app.Session.GetDefaultFolder(constants.olFolderCalendar)
    item = next(i for i in calendar.Items if i.Subject == "Saturdays")
    app.clock.advance(minutes=1)
    pattern = item.GetRecurrencePattern()
    pattern.DayOfWeekMask = WEEKEND_MASK
    item.Save()
    second = engine.sync()
    (kept,) = memory.records("calendar").values()
    assert isinstance(kept, r.Event) and kept.summary == "Saturdays"
    assert kept.recurrence is not None and kept.recurrence.weekdays == W.SATURDAY
    assert second.b.deleted == second.a.deleted == 0
    assert second.b.updated == second.a.updated == 0
    assert calendar_count(app) == 2


# --------------------------------------------------------------------------- property


@given(
    mask=st.integers(1, 127),
    interval=st.integers(1, 4),
    outlook_first_day=st.sampled_from(DAYS),
    told=st.booleans(),
    offset=st.integers(0, 13),
    count=st.integers(1, 8),
)
def test_what_the_store_accepts_falls_on_the_canonical_days_in_outlook(
    mask: int, interval: int, outlook_first_day: W, told: bool, offset: int, count: int
) -> None:
    """Whatever Outlook's first day of the week, told to the store or not: a rule the
    store writes has the canonical days in Outlook; one it refuses leaves nothing."""
    if not told:  # untold, the store allows for the days Windows' locales start weeks on
        assume(outlook_first_day in LOCALE_STARTS)
    app = Application(tz="Europe/Paris", first_day_of_week=int(outlook_first_day))
    store = OutlookStore(app, first_day_of_week=outlook_first_day if told else None)
    event = series(mask, interval, SATURDAY + timedelta(days=offset), count=count)
    (done,) = store.apply(default(store, r.FolderKind.CALENDAR), [Create(event)])
    starts = (outlook_first_day,) if told else LOCALE_STARTS
    split = interval > 1 and any(regroups(mask, day) for day in starts)
    if isinstance(done, Failure):
        assert done.kind is FailureKind.INVALID and split, done
        assert calendar_count(app) == 0
        return
    assert not split or (told and outlook_first_day is W.MONDAY)
    assert outlook_days(app) == canonical_days(event)
    got = store.fetch(default(store, r.FolderKind.CALENDAR), [done.id])[done.id]
    assert isinstance(got, Item), got
    assert isinstance(got.record, r.Event)
    assert got.record.recurrence == event.recurrence
    assert canonical_days(got.record) == canonical_days(event)


def test_the_config_passes_the_option_and_checks_its_value() -> None:
    from oxsync.config import parse_config
    from oxsync.errors import ConfigError

    config = parse_config('[stores.o]\ntype = "outlook"\nfirst_day_of_week = "monday"\n')
    assert config.store("o").options == {"first_day_of_week": "monday"}
    with pytest.raises(ConfigError, match="first_day_of_week"):
        parse_config('[stores.o]\ntype = "outlook"\nfirst_day_of_week = "lundi"\n')
    with pytest.raises(ConfigError, match="first_day_of_week"):
        parse_config('[stores.o]\ntype = "outlook"\nfirst_day_of_week = 3\n')


def test_an_all_day_single_day_series_off_its_rule_has_the_canonical_days() -> None:
    app = Application(tz="Europe/Paris")
    store = OutlookStore(app)
    sunday = date(2026, 3, 8)
    event = r.Event(
        uid="all-day",
        summary="Saturdays",
        start=sunday,
        end=sunday + timedelta(days=1),
        all_day=True,
        recurrence=r.Recurrence(
            frequency=r.Frequency.WEEKLY, interval=2, weekdays=W.SATURDAY, count=4
        ),
    )
    (done,) = store.apply(default(store, r.FolderKind.CALENDAR), [Create(event)])
    assert isinstance(done, Applied), done
    expected = [d for d in event_occurrences(event) if not isinstance(d, datetime)]
    assert (
        outlook_days(app)
        == expected
        == [date(2026, 3, 21) + timedelta(weeks=2 * n) for n in range(4)]
    )


def test_a_task_rule_is_refused_as_an_event_rule_is() -> None:
    app = Application(tz="Europe/Paris")
    store = OutlookStore(app)
    folder = default(store, r.FolderKind.TASKS)
    weekend = r.Recurrence(frequency=r.Frequency.WEEKLY, interval=2, weekdays=W.SATURDAY | W.SUNDAY)
    due = date(2026, 3, 7)
    refused, regenerating = store.apply(
        folder,
        [
            Create(r.Task(uid="t1", summary="Chores", due=due, recurrence=weekend)),
            Create(
                r.Task(
                    uid="t2",
                    summary="Chores",
                    due=due,
                    recurrence=attrs.evolve(weekend, regenerate=True),
                )
            ),
        ],
    )
    assert isinstance(refused, Failure) and refused.kind is FailureKind.INVALID, refused
    assert isinstance(regenerating, Applied), regenerating
    tasks = app.Session.GetDefaultFolder(constants.olFolderTasks).Items
    assert tasks.Count == 1


@pytest.mark.parametrize(
    ("first_day", "days"),
    [
        # from Sat Mar 7 2026: the Sunday of its Sunday-week (Mar 1) is before the start
        (constants.olSunday, [7, 15, 21, 29]),
        (constants.olMonday, [7, 8, 21, 22]),
    ],
)
def test_the_fake_groups_every_other_week_from_its_first_day_of_the_week(
    first_day: int, days: list[int]
) -> None:
    app = Application(tz="Europe/Paris", first_day_of_week=first_day)
    item = outlook_series(app, WEEKEND_MASK)
    assert [d.day for d in outlook_days(app)][:4] == days
    with pytest.raises(AttributeError):
        _ = item.GetRecurrencePattern()._FirstDOW  # no object-model property


@pytest.mark.parametrize("outlook_first_day", LOCALE_STARTS)
def test_untold_every_other_monday_and_wednesday_is_written_on_the_canonical_days(
    outlook_first_day: W,
) -> None:
    """The common fortnightly meeting on weekdays is no weekend rule: untold, the store
    writes it, and it falls on the same days whichever day Outlook's locale starts on."""
    app = Application(tz="Europe/Paris", first_day_of_week=int(outlook_first_day))
    store = OutlookStore(app)
    event = series(W.MONDAY | W.WEDNESDAY, 2, SATURDAY + timedelta(days=2), count=6)
    (done,) = store.apply(default(store, r.FolderKind.CALENDAR), [Create(event)])
    assert isinstance(done, Applied), done
    assert outlook_days(app) == canonical_days(event)


@pytest.mark.parametrize(
    "mask", [W.SATURDAY | W.MONDAY, W.FRIDAY | W.SATURDAY, W.SUNDAY | W.TUESDAY]
)
def test_untold_a_weekend_day_with_another_day_is_refused(mask: W) -> None:
    app = Application(tz="Europe/Paris")
    store = OutlookStore(app)
    (done,) = store.apply(
        default(store, r.FolderKind.CALENDAR), [Create(series(mask, 2, SATURDAY, count=4))]
    )
    assert isinstance(done, Failure) and done.kind is FailureKind.INVALID
    assert "set first_day_of_week" in done.message
    assert calendar_count(app) == 0
