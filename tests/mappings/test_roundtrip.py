"""Hypothesis round trips: canonical -> native -> canonical for OX XML and Outlook."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from lxml import etree

from oxsync.core.records import FolderKind, ItemKind, item_kind_of
from oxsync.core.serial import to_data
from oxsync.mappings import outlook, ox_xml
from oxsync.testing.strategies import records

from .projections import drop, project_outlook, project_ox

KINDS = list(ItemKind)


def _through_ox(record, *, full: bool):
    prop = ox_xml.new_prop()
    ox_xml.encode(record, prop, full=full)
    # through bytes, as on the wire
    wire = etree.tostring(prop, encoding="utf-8")
    return ox_xml.decode(
        ox_xml.kind_of(etree.fromstring(wire), _folder(record)), etree.fromstring(wire)
    )


def _folder(record):
    kind = item_kind_of(record)
    return next(f for f in FolderKind if kind in f.item_kinds)


def _same(got, want) -> None:
    assert to_data(got) == to_data(want)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.value)
@pytest.mark.parametrize("full", [True, False], ids=["full", "sparse"])
def test_ox_xml_round_trip_keeps_everything_ox_can_hold(kind, full):
    @given(records(kind))
    def check(record):
        unsupported = ox_xml.OX_UNSUPPORTED[kind]
        got = drop(_through_ox(record, full=full), unsupported)
        _same(got, project_ox(record, unsupported))

    check()


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.value)
@pytest.mark.parametrize(("zone", "separator"), [("Europe/Paris", ";"), ("Pacific/Fiji", ",")])
def test_outlook_round_trip_keeps_everything_outlook_can_hold(kind, zone, separator):
    tz = ZoneInfo(zone)

    @given(records(kind))
    def check(record):
        props = outlook.to_outlook(record, tz=tz, list_separator=separator)
        back = outlook.from_outlook(kind, props, tz=tz, list_separator=separator)
        unsupported = outlook.OUTLOOK_UNSUPPORTED[kind]
        _same(drop(back, unsupported), project_outlook(record, unsupported, tz))

    check()


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.value)
def test_projection_is_stable_through_both_forms(kind):
    """What survives OX also survives a second OX trip unchanged (no ping-pong)."""

    @given(records(kind))
    def check(record):
        once = _through_ox(record, full=True)
        _same(_through_ox(once, full=True), once)

    check()
