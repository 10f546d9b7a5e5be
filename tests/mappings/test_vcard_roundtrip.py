"""Hypothesis round trips canonical -> vCard 3.0 / 4.0 bytes -> canonical."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import given

from oxsync.core import records as r
from oxsync.core.records import ItemKind
from oxsync.core.serial import to_data
from oxsync.mappings.vcard import contact_to_vcard, vcard_to_records
from oxsync.testing.strategies import records


def project_vcard(record: Any) -> Any:
    """What a vCard keeps: everything, except trailing empty user fields (X-OX-USERFIELD-nn
    lines are numbered, so a trailing gap has no line)."""
    if isinstance(record, r.Contact):
        fields = list(record.user_fields)
        while fields and fields[-1] is None:
            fields.pop()
        return attrs.evolve(record, user_fields=tuple(fields))
    return record


@pytest.mark.parametrize("version", ["3.0", "4.0"])
@pytest.mark.parametrize(
    "kind", [ItemKind.CONTACT, ItemKind.DISTRIBUTION_LIST], ids=lambda k: k.value
)
def test_vcard_round_trip_keeps_every_field(kind: ItemKind, version: str) -> None:
    @given(records(kind))
    def check(record: Any) -> None:
        (back,) = vcard_to_records(contact_to_vcard(record, version))
        assert to_data(back) == to_data(project_vcard(record))

    check()
