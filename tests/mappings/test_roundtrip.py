"""Hypothesis round trips: canonical -> native -> canonical for OX XML and Outlook."""

from __future__ import annotations

from datetime import date
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


def _maximal_contact():
    import attrs

    from oxsync.core import records as r
    from oxsync.mappings.values import MAX_NOTE_CHARS, MAX_TEXT_CHARS

    long = "é✓" * (MAX_TEXT_CHARS // 2)
    text_fields = {
        a.name: long
        for a in attrs.fields(r.Contact)
        if a.type in ("str | None",)
        and a.name not in ("note", "gender", "selected_mailing_address")
    }
    nested = {
        name: cls(**{a.name: long for a in attrs.fields(cls)})
        for name, cls in (
            ("phones", r.Phones),
            ("emails", r.Emails),
            ("business_address", r.Address),
            ("home_address", r.Address),
            ("other_address", r.Address),
        )
    }
    return r.Contact(
        **text_fields,
        **nested,
        note="ñ" * MAX_NOTE_CHARS,
        user_fields=(long,) * 20,
        categories=tuple(f"c{i}" for i in range(200)),
        photo=r.Photo(data=bytes(range(256)) * 4096),  # 1 MiB picture
        birthday=date(1, 1, 1),
        anniversary=date(4500, 12, 31),
        number_of_children=2**31 - 1,
        color_label=10,
        gender="female",
        selected_mailing_address="other",
        sensitivity=r.Sensitivity.CONFIDENTIAL,
    )


def test_maximal_contact_survives_both_forms():
    contact = _maximal_contact()
    unsupported = ox_xml.OX_UNSUPPORTED[ItemKind.CONTACT]
    _same(drop(_through_ox(contact, full=True), unsupported), project_ox(contact, unsupported))
    tz = ZoneInfo("Pacific/Kiritimati")
    back = outlook.from_outlook(ItemKind.CONTACT, outlook.to_outlook(contact, tz=tz), tz=tz)
    unsupported = outlook.OUTLOOK_UNSUPPORTED[ItemKind.CONTACT]
    _same(drop(back, unsupported), project_outlook(contact, unsupported, tz))


def test_empty_records_survive_both_forms():
    from oxsync.core import records as r

    empties = [
        r.Contact(),
        r.DistributionList(),
        r.Event(start=date(2026, 1, 1), end=date(2026, 1, 2), all_day=True),
        r.Task(),
    ]
    for record in empties:
        kind = item_kind_of(record)
        assert _through_ox(record, full=True) == record
        assert _through_ox(record, full=False) == record
        tz = ZoneInfo("UTC")
        assert outlook.from_outlook(kind, outlook.to_outlook(record, tz=tz), tz=tz) == record
