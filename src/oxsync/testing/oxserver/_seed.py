"""Seed an OX account with a realistic mix of items, through the store (as a client would).

Used by ``oxsync demo`` and ``python -m oxsync.testing.oxserver --seed N``: contacts (the
first with a photo), a distribution list of three of them, a weekly series with a deleted
and a changed occurrence, sample events and tasks, and a recurring task.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import attrs

from oxsync.adapters.ox import OXStore
from oxsync.core.records import (
    Contact,
    DistributionList,
    DistributionListMember,
    Event,
    EventException,
    FolderKind,
    Frequency,
    ItemKind,
    Photo,
    Record,
    Recurrence,
    Task,
    Weekday,
)
from oxsync.core.store import Applied, Create, Op
from oxsync.errors import OxsyncError
from oxsync.testing.samples import sample

__all__ = ["seed_account"]

# A 1×1 PNG: enough to show that photos travel.
_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


def seed_account(store: OXStore, items: int) -> None:
    """Create ``items`` contacts, a list, ``items // 5`` events (and a series) and as many
    tasks (and a recurring one) in the account's default folders; closes ``store``.

    Raises :class:`~oxsync.errors.OxsyncError` when the server refuses one of them.
    """
    try:
        folders = {f.kind: f for f in store.folders() if f.is_default}
        contacts = [_contact(i) for i in range(items)]
        if contacts:
            first = attrs.evolve(contacts[0], photo=Photo(data=_PNG, content_type="image/png"))
            contacts[0] = first
        members = tuple(
            DistributionListMember(display_name=c.display_name, email=c.emails.email1)
            for c in contacts[:3]
        )
        lists = [DistributionList(uid="demo-list", display_name="Demo team", members=members)]
        _create(store, folders[FolderKind.CONTACTS].id, [*contacts, *lists])
        start = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
        series = Event(
            uid="demo-weekly",
            summary="Weekly meeting",
            location="Room 1",
            start=start,
            end=start + timedelta(hours=1),
            timezone="Europe/Paris",
            recurrence=Recurrence(
                frequency=Frequency.WEEKLY,
                weekdays=int(Weekday.MONDAY),
                count=10,
                deleted=((start + timedelta(weeks=2)).date(),),
            ),
            exceptions=(
                EventException(
                    original_start=start + timedelta(weeks=1),
                    summary="Weekly meeting (moved room)",
                    location="Room 2",
                ),
            ),
        )
        events = [series, *(sample(ItemKind.EVENT, i) for i in range(max(1, items // 5)))]
        _create(store, folders[FolderKind.CALENDAR].id, events)
        tasks = [sample(ItemKind.TASK, i) for i in range(max(1, items // 5))]
        tasks.append(
            Task(
                uid="demo-recurring-task",
                summary="Water the plants",
                due=start.date(),
                recurrence=Recurrence(frequency=Frequency.WEEKLY, weekdays=int(Weekday.FRIDAY)),
            )
        )
        _create(store, folders[FolderKind.TASKS].id, tasks)
    finally:
        store.close()


def _create(store: OXStore, folder_id: str, records: Sequence[Record]) -> None:
    ops: list[Op] = [Create(r) for r in records]
    for op, result in zip(ops, store.apply(folder_id, ops), strict=True):
        if not isinstance(result, Applied):
            uid = op.record.uid if isinstance(op, Create) else "?"
            raise OxsyncError(f"the server refused a seeded item ({uid}): {result}")


def _contact(i: int) -> Contact:
    record = sample(ItemKind.CONTACT, i)
    assert isinstance(record, Contact)
    return record
