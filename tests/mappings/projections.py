"""What each native form can hold of a canonical record, written independently of the codecs.

A round trip canonical -> native -> canonical must give ``project_<form>(record)``:
the record with the form's ``*_UNSUPPORTED`` fields reset to their defaults and the
documented lossy values normalised. These rules restate field-map.md, not the code.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from oxsync.core import records as r
from oxsync.core.records import Frequency, ItemKind
from oxsync.mappings.html_text import text_of_html


def drop(record: Any, paths: frozenset[str]) -> Any:
    """Reset every (dotted) path in ``paths`` to its default."""
    top: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {}
    for path in paths:
        head, _, tail = path.partition(".")
        if tail:
            nested.setdefault(head, {})[tail] = None
        else:
            top[head] = attrs.fields_dict(type(record))[head].default
    changes = dict(top)
    for head, tails in nested.items():
        value = getattr(record, head)
        if value is None:
            continue
        defaults = {t: attrs.fields_dict(type(value))[t].default for t in tails}
        value = attrs.evolve(value, **defaults)
        if value == r.Alarm():  # an alarm with nothing left is no alarm
            value = None
        changes[head] = value
    return attrs.evolve(record, **changes)


def _utc(value: Any) -> Any:
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def _trim(values: tuple[Any, ...]) -> tuple[Any, ...]:
    out = list(values)
    while out and out[-1] is None:
        out.pop()
    return tuple(out)


def _zero_none(value: int | None) -> int | None:
    return value or None


def _rule(rule: r.Recurrence | None, *, ox: bool) -> r.Recurrence | None:
    if rule is None:
        return None
    changes: dict[str, Any] = {"deleted": tuple(sorted(set(rule.deleted)))}
    if rule.frequency is Frequency.WEEKLY and not rule.weekdays:
        changes["weekdays"] = 127
    if ox and rule.frequency is Frequency.YEARLY and rule.interval > 1:
        # OX has no yearly interval: every 12·N months
        changes.update(frequency=Frequency.MONTHLY, interval=12 * rule.interval, month=None)
    return attrs.evolve(rule, **changes)


def project_ox(record: Any, unsupported: frozenset[str]) -> Any:
    """The record as OX WebDAV/XML keeps it."""
    kind = r.item_kind_of(record)
    record = drop(record, unsupported)
    changes: dict[str, Any] = {}
    if record.sensitivity in (r.Sensitivity.PERSONAL, r.Sensitivity.CONFIDENTIAL):
        changes["sensitivity"] = r.Sensitivity.PRIVATE
    changes["color_label"] = _zero_none(record.color_label)
    if kind is ItemKind.CONTACT:
        changes["user_fields"] = _trim(record.user_fields)
    if kind is ItemKind.DISTRIBUTION_LIST:
        changes["members"] = tuple(
            attrs.evolve(m, contact_uid=m.contact_uid if m.email_slot else None)
            for m in record.members
        )
    if kind in (ItemKind.EVENT, ItemKind.TASK):
        changes["attendees"] = tuple(_ox_attendee(a) for a in record.attendees)
        changes["recurrence"] = _rule(record.recurrence, ox=True)
    if kind is ItemKind.EVENT:
        changes["start"], changes["end"] = _utc(record.start), _utc(record.end)
        if record.busy_status is r.BusyStatus.WORKING_ELSEWHERE:
            changes["busy_status"] = r.BusyStatus.BUSY
    if kind is ItemKind.TASK:
        for name in ("start", "due", "date_completed"):
            value = getattr(record, name)
            if isinstance(value, datetime) and value.astimezone(UTC).time() == time():
                changes[name] = value.astimezone(UTC).date()
        changes["total_work"] = _zero_none(record.total_work)
        changes["actual_work"] = _zero_none(record.actual_work)
    return attrs.evolve(record, **changes)


def _ox_attendee(person: r.Attendee) -> r.Attendee:
    kind = person.kind
    if kind is r.AttendeeKind.RESOURCE_GROUP:
        kind = r.AttendeeKind.RESOURCE
    resource = kind is r.AttendeeKind.RESOURCE
    return attrs.evolve(
        person,
        kind=kind,
        role=r.AttendeeRole.RESOURCE if resource else r.AttendeeRole.REQUIRED,
        comment=None,
        user_id=None if kind is r.AttendeeKind.EXTERNAL else person.user_id,
    )


def project_outlook(record: Any, unsupported: frozenset[str], tz: ZoneInfo) -> Any:
    """The record as the Outlook object model keeps it (session zone ``tz``)."""
    kind = r.item_kind_of(record)
    record = drop(record, unsupported)
    changes: dict[str, Any] = {}
    if getattr(record, "note_html", None):  # an HTML item: the text of its HTML
        changes["note"] = text_of_html(record.note_html).replace("\r\n", "\n") or None
    if kind is ItemKind.CONTACT:
        if record.gender not in (None, "female", "male"):
            changes["gender"] = None
        changes["user_fields"] = _trim(record.user_fields[:4])
    if kind is ItemKind.DISTRIBUTION_LIST:
        changes["members"] = tuple(
            r.DistributionListMember(display_name=m.display_name, email=m.email)
            for m in record.members
        )
    if kind in (ItemKind.EVENT, ItemKind.TASK):
        changes["attendees"] = tuple(_outlook_attendee(a) for a in record.attendees)
        changes["recurrence"] = _rule(record.recurrence, ox=False)
    if kind is ItemKind.EVENT:
        changes["start"], changes["end"] = _utc(record.start), _utc(record.end)
        changes["color_label"] = _zero_none(record.color_label)
        if record.organizer is not None:
            changes["organizer"] = attrs.evolve(
                record.organizer,
                kind=r.AttendeeKind.EXTERNAL,
                role=r.AttendeeRole.CHAIR,
                user_id=None,
                comment=None,
            )
        if record.recurrence is None:
            changes["exceptions"] = ()
        else:
            changes["exceptions"] = tuple(
                attrs.evolve(
                    e,
                    original_start=_utc(e.original_start),
                    start=_utc(e.start),
                    end=_utc(e.end),
                )
                for e in record.exceptions
            )
    if kind is ItemKind.TASK:
        for name in ("start", "due", "date_completed"):
            value = getattr(record, name)
            if isinstance(value, datetime):
                local = value.astimezone(tz)
                changes[name] = local.date() if local.time() == time() else _utc(value)
        changes["total_work"] = _zero_none(record.total_work)
        changes["actual_work"] = _zero_none(record.actual_work)
        if record.recurrence is not None and record.start is None:
            changes["recurrence"] = attrs.evolve(changes["recurrence"], deleted=())
    return attrs.evolve(record, **changes)


def _outlook_attendee(person: r.Attendee) -> r.Attendee:
    resource = person.role is r.AttendeeRole.RESOURCE
    return attrs.evolve(
        person,
        kind=r.AttendeeKind.RESOURCE if resource else r.AttendeeKind.EXTERNAL,
        role=r.AttendeeRole.REQUIRED if person.role is r.AttendeeRole.CHAIR else person.role,
        user_id=None,
        comment=None,
    )
