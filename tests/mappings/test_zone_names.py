"""Time-zone names that are no IANA zone, in every mapping: typed errors, never OSError.

``ZoneInfo("America")`` raises IsADirectoryError (a tzdata directory), a name of hundreds
of characters OSError, ``"../x"`` ValueError, ``"Foo/Bar"`` ZoneInfoNotFoundError (a
KeyError). Each reader and writer catches all of them (``values.UNKNOWN_ZONE``).
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import attrs
import pytest

from oxsync.adapters.ox._series import _zone as series_zone
from oxsync.core import records as r
from oxsync.core.records import ItemKind
from oxsync.errors import MappingError
from oxsync.mappings import ical, outlook, ox_xml, recurrence
from oxsync.testing.samples import sample

BAD_NAMES = ["America", "Europe", "x" * 300, "../etc/passwd", "America/", "Foo/Bar", "\x00"]
PARIS = ZoneInfo("Europe/Paris")


def _event(zone: str) -> r.Event:
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    return attrs.evolve(
        sample(ItemKind.EVENT, 1),
        start=start,
        end=start + timedelta(hours=1),
        timezone=zone,
        recurrence=r.Recurrence(frequency=r.Frequency.DAILY, count=3),
        exceptions=(),
    )


@pytest.mark.parametrize("zone", BAD_NAMES, ids=lambda z: z[:12].encode().hex())
def test_readers_report_the_zone_as_a_field(zone: str) -> None:
    with pytest.raises(MappingError) as info:
        outlook.from_outlook(
            ItemKind.EVENT,
            {"Start": datetime(2026, 3, 2, 10), "End": datetime(2026, 3, 2, 11),
             "_timezone": zone},
            tz=PARIS,
        )  # fmt: skip
    assert "timezone" in {e.path for e in info.value.errors}
    if "\x00" not in zone:  # lxml refuses a NUL in text: no server sends one
        prop = ox_xml.new_prop()
        ox_xml.encode(_event("Europe/Paris"), prop)
        for child in prop.iterchildren(f"{{{ox_xml.OX_NS}}}timezone"):
            child.text = zone
        with pytest.raises(MappingError) as info:
            ox_xml.decode(ItemKind.EVENT, prop)
        assert "timezone" in {e.path for e in info.value.errors}
    document = ical.event_to_ical(_event("Europe/Paris")).replace(
        b"Europe/Paris", zone.replace("\x00", "").encode()
    )
    with contextlib.suppress(MappingError):  # a whole-file error is typed too
        ical.ical_to_results(document)


@pytest.mark.parametrize("zone", BAD_NAMES, ids=lambda z: z[:12].encode().hex())
def test_writers_and_expansion_refuse_the_zone_with_typed_errors(zone: str) -> None:
    event = _event(zone)
    with pytest.raises(MappingError):
        outlook.to_outlook(event, tz=PARIS)
    with pytest.raises(ValueError, match="time zone"):
        recurrence.event_occurrences(event)
    with contextlib.suppress(MappingError):  # refused naming the field, or written: fine
        ical.event_to_ical(event)
    # the OX store's change-exception bookkeeping reads such an event in UTC
    assert series_zone(event) == ZoneInfo("UTC")
