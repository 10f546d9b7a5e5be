"""What Outlook itself does to property values written to a new item (no COM call).

:meth:`RecordIO.stored_form` predicts what the store reads back of a record it writes:
the mapping's round trip, then these rules of the object model, applied to the property
dict between ``to_outlook`` and ``from_outlook``. Each rule is one the fake object model
(``oxsync.testing.outlook``) implements from the reference, and the conformance test
``test_what_a_store_reads_back_is_no_edit_to_the_engine`` holds the two together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import attrs

from oxsync.core.records import Event, Record
from oxsync.mappings.recurrence import event_occurrences, first_occurrence

NO_DATE_YEAR = 4501  # Outlook's "no date" is 4501-01-01
_NOT_STARTED, _IN_PROGRESS, _COMPLETE = 0, 1, 2  # OlTaskStatus
_NOT_DELEGATED, _DELEGATION_UNKNOWN = 0, 1  # OlTaskDelegationState

OCCURRENCE = ("Subject", "Location", "Start", "End", "Body", "BusyStatus", "AllDayEvent")
"""The properties of an occurrence the store reads (what a change exception can change)."""


def usual_occurrence(series: Mapping[str, Any], original: datetime, minutes: int) -> dict[str, Any]:
    """What the occurrence of ``series`` at ``original`` holds when nobody changed it: an
    exception reads as the properties that differ from these."""
    return dict(series, Start=original, End=original + timedelta(minutes=minutes))


def settle_task(props: dict[str, Any]) -> None:
    """Outlook's coupling of a task's status, completion flag, percentage and completion
    date, played in the order the store writes them (``Status`` and ``Complete`` last).

    Completing a task makes it 100 %; 100 % completes it; leaving "completed" clears the
    date (and a 100 % back to 0). The date Outlook stamps on a task completed without one
    is left out: the store writes it itself and reads it back as no date
    (``STAMP_PROPERTY``).
    """
    if "Status" not in props and "PercentComplete" not in props:
        return
    state: dict[str, Any] = {
        "Status": _NOT_STARTED,
        "Complete": False,
        "PercentComplete": 0,
        "DateCompleted": None,
    }

    def complete() -> None:
        state.update(Complete=True, Status=_COMPLETE, PercentComplete=100)

    order: list[str] = [n for n in ("DateCompleted", "PercentComplete") if n in props]
    order += [n for n in ("Status", "Complete") if n in props]
    for name in order:
        value = props[name]
        if name == "DateCompleted":
            state[name] = value if isinstance(value, date) and value.year < NO_DATE_YEAR else None
        elif name == "PercentComplete":
            state[name] = int(value or 0)
            if state[name] == 100:
                complete()
            elif state["Status"] == _COMPLETE or state["Complete"]:
                state.update(Complete=False, DateCompleted=None)
                state["Status"] = _IN_PROGRESS if state[name] else _NOT_STARTED
        elif name == "Status":
            state[name] = int(value)
            if state[name] == _COMPLETE:
                complete()
            elif state["Complete"]:
                state.update(Complete=False, DateCompleted=None)
                if state["PercentComplete"] == 100:
                    state["PercentComplete"] = 0
        elif value:  # Complete
            complete()
        elif state["Status"] == _COMPLETE:
            state.update(Status=_NOT_STARTED, PercentComplete=0, DateCompleted=None)
    props.update(state)


def delegation_after_write(props: dict[str, Any], delegated: bool) -> None:
    """``DelegationState`` is read-only: a delegated record is written with ``Assign()``,
    which leaves the state unknown until the assignee answers."""
    props["DelegationState"] = _DELEGATION_UNKNOWN if delegated else _NOT_DELEGATED


def members_as_read(members: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """List members as read back: a member without an address is resolved by its name,
    which becomes its address; a name equal to the address reads as no name."""
    out = []
    for member in members:
        name, address = member.get("Name") or "", member.get("Address") or ""
        if not address:
            name, address = "", name
        out.append({"Name": "" if name == address else name, "Address": address})
    return out


def exceptions_as_read(props: dict[str, Any]) -> None:
    """A series' exceptions as read back: in date order, each changed occurrence holding
    only what differs from the occurrence as the series would have it."""
    exceptions = props.get("_exceptions")
    if not exceptions or not props.get("_recurrence"):
        return
    start, end = props.get("Start"), props.get("End")
    minutes = (
        int((end - start).total_seconds() // 60)
        if isinstance(start, datetime) and isinstance(end, datetime)
        else 0
    )
    series = {n: props.get(n) for n in OCCURRENCE}
    read = []
    for item in sorted(exceptions, key=lambda e: e["OriginalDate"]):
        out = {"OriginalDate": item["OriginalDate"], "Deleted": bool(item.get("Deleted"))}
        if not out["Deleted"]:
            usual = usual_occurrence(series, item["OriginalDate"], minutes)
            for name in OCCURRENCE:
                value = item.get(name, usual.get(name))
                if value != usual.get(name):
                    out[name] = value
        read.append(out)
    props["_exceptions"] = read


def occurring_deletions(record: Record) -> Record:
    """The event with only the deleted dates that are occurrences of its series: deleting
    an occurrence the series does not have is nothing to Outlook (no exception made)."""
    rule = getattr(record, "recurrence", None)
    if not isinstance(record, Event) or rule is None or not rule.deleted:
        return record
    days = sorted(rule.deleted)
    whole = attrs.evolve(record, recurrence=attrs.evolve(rule, deleted=()))
    try:
        starts = event_occurrences(whole, between=(days[0], days[-1]))
    except ValueError:  # a rule the expansion refuses: Outlook's answer is unknown here
        return record
    held = {s.date() if isinstance(s, datetime) else s for s in starts}
    kept = tuple(day for day in rule.deleted if day in held)
    if kept == rule.deleted:
        return record
    return attrs.evolve(record, recurrence=attrs.evolve(rule, deleted=kept))


def start_on_rule(record: Record) -> Record:
    """The event with its series starting on its first occurrence: Outlook moves a
    series' start that does not fall on its rule there (keeping its length)."""
    if not isinstance(record, Event) or record.recurrence is None or record.start is None:
        return record
    try:
        first = first_occurrence(record)
    except ValueError:  # a rule the expansion refuses: Outlook's answer is unknown here
        return record
    if first is None or first == record.start:
        return record
    if isinstance(record.start, datetime) != isinstance(first, datetime):
        return record
    shift = first - record.start
    end = record.end + shift if record.end is not None else None
    start = record.start + shift
    return attrs.evolve(record, start=start, end=end)
