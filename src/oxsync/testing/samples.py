"""Deterministic sample records for tests, benchmarks and demos.

Values are chosen so that every store can keep them exactly: aware UTC datetimes on whole
minutes, dates for all-day items, short unicode text.

    >>> sample(ItemKind.CONTACT, 3).last_name
    'Lovelace-3'
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import attrs

from oxsync.core import records as r
from oxsync.core.records import ItemKind
from oxsync.core.serial import to_data
from oxsync.core.store import Capabilities

__all__ = ["comparable", "sample", "samples"]

_BASE = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def sample(kind: ItemKind, i: int) -> r.Record:
    """The ``i``-th sample record of ``kind`` (same ``i``, same record)."""
    uid = f"oxsync-sample-{kind.value}-{i}"
    if kind is ItemKind.CONTACT:
        return r.Contact(
            uid=uid,
            first_name=f"Ada {i}",
            last_name=f"Lovelace-{i}",
            display_name=f"Ada Lovelace {i}",
            company="Analytical Engines Ltd",
            job_title="Mathématicienne",
            emails=r.Emails(email1=f"ada{i}@example.org"),
            phones=r.Phones(business=f"+44 20 7946 {i % 10000:04d}", mobile="+44 7700 900123"),
            business_address=r.Address(
                street="12 St James's Sq", city="London", postal_code="SW1Y 4JH", country="UK"
            ),
            birthday=date(1815, 12, 10),
            note=f"Note {i} — ünïcødé ✓",
            categories=("Work", "VIP"),
        )
    if kind is ItemKind.DISTRIBUTION_LIST:
        return r.DistributionList(
            uid=uid,
            display_name=f"Team {i}",
            members=(
                r.DistributionListMember(display_name="Grace", email="grace@example.org"),
                r.DistributionListMember(display_name="Alan", email=f"alan{i}@example.org"),
            ),
        )
    start = _BASE + timedelta(days=i % 365, hours=i % 8)
    if kind is ItemKind.EVENT:
        return r.Event(
            uid=uid,
            summary=f"Réunion {i}",
            location="Salle 3",
            start=start,
            end=start + timedelta(hours=1),
            timezone="Europe/Paris",
            note=f"Agenda {i}",
            categories=("Meetings",),
            alarm=r.Alarm(minutes_before=15),
        )
    return r.Task(
        uid=uid,
        summary=f"Tâche {i}",
        due=(_BASE + timedelta(days=i % 100)).date(),
        status=r.TaskStatus.IN_PROGRESS,
        importance=r.Importance.HIGH,
        percent_complete=i % 101,
        note=f"Do thing {i}",
    )


def samples(kind: ItemKind, n: int, start: int = 0) -> list[r.Record]:
    """``n`` distinct sample records of ``kind``."""
    return [sample(kind, i) for i in range(start, start + n)]


def comparable(record: r.Record, capabilities: Capabilities) -> dict[str, object]:
    """Plain data of ``record`` without volatile fields and fields the store cannot hold."""
    kind = r.item_kind_of(record)
    drop = set(capabilities.unsupported_fields.get(kind, frozenset()))
    drop |= {a.name for a in attrs.fields(type(record)) if a.metadata.get(r.VOLATILE)}
    data = to_data(record)
    for name in drop:
        head, _, rest = name.partition(".")
        if rest and isinstance(data.get(head), dict):
            data[head].pop(rest, None)
            if not data[head]:
                data.pop(head)
        else:
            data.pop(name, None)
    return data
