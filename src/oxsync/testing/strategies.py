"""Hypothesis strategies for canonical records.

Values are what a user can type into Outlook or the OX web UI: unicode text without
control characters (newlines and tabs allowed), aware UTC datetimes on whole minutes,
dates from 1900 to 2100, recurrences of every shape with deleted occurrences and (for
events) changed occurrences. Fields one native form cannot hold are generated too; a
round-trip test projects them out with that form's ``*_UNSUPPORTED`` set.

    >>> from hypothesis import given
    >>> @given(records(ItemKind.CONTACT))
    ... def test(contact): ...
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
from hypothesis import strategies as st

from oxsync.core import records as r
from oxsync.core.records import ItemKind
from oxsync.mappings.recurrence import occurrences

__all__ = [
    "alarms",
    "attendees",
    "categories",
    "contacts",
    "distribution_lists",
    "events",
    "instants",
    "records",
    "recurrences",
    "tasks",
    "texts",
]

ZONES = ("Europe/Paris", "America/New_York", "Pacific/Fiji", "UTC", "Asia/Kolkata")
"""IANA zones events are generated in (DST in both hemispheres, half-hour offsets)."""

_CHARS = st.characters(
    blacklist_categories=("Cs", "Cc", "Co", "Cn"),  # no surrogates/control/private/unassigned
    blacklist_characters="\ufeff",
) | st.sampled_from("\n\t")


def texts(max_size: int = 40) -> st.SearchStrategy[str | None]:
    """Optional text: ``None`` or 1..``max_size`` characters, unicode included."""
    return st.none() | st.text(_CHARS, min_size=1, max_size=max_size)


def _word() -> st.SearchStrategy[str]:
    # no list separators, no surrounding blanks: what a category name can be
    alphabet = st.characters(
        blacklist_categories=("Cs", "Cc", "Co", "Cn", "Zs", "Zl", "Zp"),
        blacklist_characters=",;\ufeff",
    )
    return st.text(alphabet, min_size=1, max_size=12)


def categories() -> st.SearchStrategy[tuple[str, ...]]:
    """Category tuples (order kept, duplicates allowed)."""
    return st.lists(_word(), max_size=4).map(tuple)


def instants() -> st.SearchStrategy[datetime]:
    """Aware UTC datetimes on whole minutes, 1900–2100."""
    return st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2100, 12, 30)).map(
        lambda d: d.replace(second=0, microsecond=0, tzinfo=UTC)
    )


def _dates() -> st.SearchStrategy[date]:
    return st.dates(min_value=date(1900, 1, 2), max_value=date(2100, 12, 30))


def alarms(kind: ItemKind) -> st.SearchStrategy[r.Alarm | None]:
    """Relative alarms for events, absolute ones for tasks (each form's natural shape)."""
    if kind is ItemKind.EVENT:
        return st.none() | st.builds(r.Alarm, minutes_before=st.integers(0, 40_000))
    return st.none() | st.builds(r.Alarm, at=instants())


def attendees() -> st.SearchStrategy[r.Attendee]:
    """Participants of every kind, role and answer."""
    return st.builds(
        r.Attendee,
        email=st.none() | st.emails(),
        name=texts(20),
        kind=st.sampled_from(r.AttendeeKind),
        role=st.sampled_from(r.AttendeeRole),
        status=st.sampled_from(r.ParticipationStatus),
        user_id=st.none() | st.integers(1, 10**6).map(str),
        comment=texts(20),
    )


def recurrences(task: bool = False, deleted: bool = True) -> st.SearchStrategy[r.Recurrence]:
    """Rules of every shape: daily, weekly masks, monthly/yearly by day or nth weekday.

    ``deleted`` adds arbitrary deleted dates (not necessarily occurrences); events get
    real ones from :func:`events` instead.
    """
    masks = st.integers(1, 127)
    ends = st.sampled_from(["none", "until", "count"])

    @st.composite
    def build(draw: Any) -> r.Recurrence:
        freq = draw(st.sampled_from(r.Frequency))
        values: dict[str, Any] = {"frequency": freq, "interval": draw(st.integers(1, 5))}
        if freq is r.Frequency.WEEKLY:
            values["weekdays"] = draw(masks)
        elif freq in (r.Frequency.MONTHLY, r.Frequency.YEARLY):
            if draw(st.booleans()):
                values["day_of_month"] = draw(st.integers(1, 28))
            else:
                values["weekdays"] = draw(masks)
                values["nth"] = draw(st.integers(1, 5))
            if freq is r.Frequency.YEARLY:
                values["month"] = draw(st.integers(1, 12))
        end = draw(ends)
        if end == "until":
            values["until"] = draw(_dates())
        elif end == "count":
            values["count"] = draw(st.integers(1, 500))
        if deleted:
            values["deleted"] = tuple(sorted(set(draw(st.lists(_dates(), max_size=3)))))
        if task:
            values["regenerate"] = draw(st.booleans())
        return r.Recurrence(**values)

    return build()


def _photo() -> st.SearchStrategy[r.Photo | None]:
    return st.none() | st.builds(
        r.Photo,
        data=st.binary(min_size=1, max_size=64),
        content_type=st.sampled_from(["image/jpeg", "image/png", "image/gif"]),
    )


def _address() -> st.SearchStrategy[r.Address]:
    return st.builds(
        r.Address,
        **{
            f: texts(20)
            for f in ("street", "postal_code", "city", "state", "country", "po_box", "label")
        },
    )


def _phones() -> st.SearchStrategy[r.Phones]:
    return st.builds(r.Phones, **{a.name: texts(16) for a in attrs.fields(r.Phones)})


def _emails() -> st.SearchStrategy[r.Emails]:
    return st.builds(
        r.Emails,
        **{f"email{i}": st.none() | st.emails() for i in (1, 2, 3)},
        **{f"email{i}_display_name": texts(20) for i in (1, 2, 3)},
    )


_CONTACT_TEXT = [
    "title",
    "first_name",
    "middle_name",
    "last_name",
    "suffix",
    "display_name",
    "file_as",
    "nickname",
    "initials",
    "job_title",
    "company",
    "department",
    "office_location",
    "profession",
    "manager_name",
    "assistant_name",
    "spouse_name",
    "hobby",
    "children",
    "marital_status",
    "web_page",
    "business_home_page",
    "personal_home_page",
    "im_address",
    "im_address2",
    "customer_id",
    "government_id",
    "account",
    "referred_by",
    "language",
    "employee_type",
    "tax_id",
    "branches",
    "sales_volume",
    "commercial_register",
    "business_category",
    "info",
    "note_html",
]


def contacts() -> st.SearchStrategy[r.Contact]:
    """Contacts with every field of Annex B table 11.1 and the extra fields."""
    return st.builds(
        r.Contact,
        uid=st.none() | st.uuids().map(str),
        **{name: texts() for name in _CONTACT_TEXT},
        note=texts(200),
        birthday=st.none() | _dates(),
        anniversary=st.none() | _dates(),
        gender=st.sampled_from([None, "female", "male", "other"]),
        number_of_children=st.none() | st.integers(0, 20),
        phones=_phones(),
        emails=_emails(),
        business_address=_address(),
        home_address=_address(),
        other_address=_address(),
        selected_mailing_address=st.sampled_from([None, "home", "business", "other"]),
        user_fields=st.lists(texts(10), max_size=20).map(tuple),
        categories=categories(),
        sensitivity=st.sampled_from(r.Sensitivity),
        color_label=st.none() | st.integers(0, 10),
        photo=_photo(),
    )


def distribution_lists() -> st.SearchStrategy[r.DistributionList]:
    """Lists of one-off addresses and references to contacts."""
    member = st.builds(
        r.DistributionListMember,
        display_name=texts(20),
        email=st.none() | st.emails(),
        contact_uid=st.none() | st.uuids().map(str),
        email_slot=st.integers(0, 3),
    )
    return st.builds(
        r.DistributionList,
        uid=st.none() | st.uuids().map(str),
        display_name=texts(),
        members=st.lists(member, max_size=5).map(tuple),
        note=texts(100),
        categories=categories(),
        sensitivity=st.sampled_from(r.Sensitivity),
        color_label=st.none() | st.integers(0, 10),
    )


def _anchor_series(
    draw: Any, start: Any, end: Any, zone: str | None, rule: r.Recurrence
) -> tuple[Any, Any, r.Recurrence, tuple[r.EventException, ...]]:
    """Make a series realistic: it starts on its first occurrence (as Outlook and RFC 5545
    readers expect), its deleted dates and changed occurrences are real occurrences."""
    tz = ZoneInfo(zone or "UTC")
    local = start.astimezone(tz) if isinstance(start, datetime) else start
    found = occurrences(local, attrs.evolve(rule, until=None, count=12))
    if not found:
        return start, end, rule, ()
    first = found[0]
    # Keep the duration. (A wall-clock shift would be wrong across a DST change: aware
    # datetimes of one zone subtract as wall times, so the end could precede the start.)
    duration = end - start
    start = first.astimezone(UTC) if isinstance(first, datetime) else first
    end = start + duration

    def day(moment: Any) -> date:
        return moment.date() if isinstance(moment, datetime) else moment

    if rule.count is not None:
        found = found[: rule.count]
    if rule.until is not None:
        if rule.until < day(first):
            rule = attrs.evolve(rule, until=day(found[min(2, len(found) - 1)]))
        found = [o for o in found if day(o) <= rule.until]  # type: ignore[operator]
    later = found[1:]
    gone = draw(st.lists(st.sampled_from(later), max_size=3, unique=True)) if later else []
    rule = attrs.evolve(rule, deleted=tuple(sorted({day(o) for o in gone})))
    kept = [o for o in later if o not in gone]
    moved = draw(st.lists(st.sampled_from(kept), max_size=2, unique=True)) if kept else []
    length = end - start
    exceptions = []
    for original in moved:
        original = original.astimezone(UTC) if isinstance(original, datetime) else original
        offset = (
            timedelta(hours=draw(st.integers(-3, 3)))
            if isinstance(original, datetime)
            else (timedelta(days=draw(st.integers(-1, 1))))
        )
        moved_start = draw(st.none() | st.just(original + offset))
        exceptions.append(
            r.EventException(
                original_start=original,
                summary=draw(texts(20)),
                location=draw(texts(20)),
                start=moved_start,
                end=None if moved_start is None else moved_start + length,
                note=draw(texts(20)),
                busy_status=draw(st.none() | st.sampled_from(r.BusyStatus)),
            )
        )
    return start, end, rule, tuple(exceptions)


@st.composite
def events(draw: Any) -> r.Event:
    """Timed events in several zones and all-day events, recurring or not."""
    all_day = draw(st.booleans())
    start: date | datetime
    if all_day:
        start = draw(_dates())
        end: date | datetime = start + timedelta(days=draw(st.integers(1, 5)))
        zone = draw(st.none() | st.sampled_from(ZONES))
    else:
        start = draw(instants())
        end = start + timedelta(minutes=draw(st.integers(0, 60 * 48)))
        zone = draw(st.sampled_from(ZONES))
    rule = draw(st.none() | recurrences(deleted=False))
    exceptions: tuple[r.EventException, ...] = ()
    if rule is not None:
        start, end, rule, exceptions = _anchor_series(draw, start, end, zone, rule)
    return r.Event(
        uid=draw(st.none() | st.uuids().map(str)),
        summary=draw(texts()),
        location=draw(texts()),
        start=start,
        end=end,
        all_day=all_day,
        timezone=zone,
        busy_status=draw(st.sampled_from(r.BusyStatus)),
        alarm=draw(alarms(ItemKind.EVENT)),
        note=draw(texts(200)),
        note_html=draw(texts()),
        categories=draw(categories()),
        sensitivity=draw(st.sampled_from(r.Sensitivity)),
        color_label=draw(st.none() | st.integers(0, 10)),
        importance=draw(st.sampled_from(r.Importance)),
        organizer=draw(st.none() | attendees()),
        attendees=tuple(draw(st.lists(attendees(), max_size=4))),
        recurrence=rule,
        exceptions=exceptions,
        sequence=draw(st.none() | st.integers(0, 100)),
    )


def _task_date() -> st.SearchStrategy[date | datetime | None]:
    return st.none() | _dates() | instants()


def tasks() -> st.SearchStrategy[r.Task]:
    """Tasks with every field of Annex B table 11.3, OX costs, recurrence, delegation."""
    return st.builds(
        r.Task,
        uid=st.none() | st.uuids().map(str),
        summary=texts(),
        start=_task_date(),
        due=_task_date(),
        status=st.sampled_from(r.TaskStatus),
        importance=st.sampled_from(r.Importance),
        percent_complete=st.integers(0, 100),
        date_completed=_task_date(),
        alarm=alarms(ItemKind.TASK),
        note=texts(200),
        note_html=texts(),
        categories=categories(),
        sensitivity=st.sampled_from(r.Sensitivity),
        color_label=st.none() | st.integers(0, 10),
        total_work=st.none() | st.integers(0, 100_000),
        actual_work=st.none() | st.integers(0, 100_000),
        companies=texts(),
        mileage=texts(),
        billing_information=texts(),
        actual_costs=st.none() | st.decimals(0, 10**6, places=2).map(str),
        target_costs=st.none() | st.decimals(0, 10**6, places=2).map(str),
        currency=st.none() | st.sampled_from(["EUR", "USD", "CHF"]),
        recurrence=st.none() | recurrences(task=True, deleted=False),
        owner=texts(),
        delegation_state=st.sampled_from(r.DelegationState),
        attendees=st.lists(attendees(), max_size=3).map(tuple),
    )


def records(kind: ItemKind) -> st.SearchStrategy[Any]:
    """Records of one kind."""
    return {
        ItemKind.CONTACT: contacts,
        ItemKind.DISTRIBUTION_LIST: distribution_lists,
        ItemKind.EVENT: events,
        ItemKind.TASK: tasks,
    }[kind]()
