"""Bad OX server responses: typed errors or per-item failures, never a crash.

Every explicit test below is the smallest input that once crashed (a bare ValueError,
OSError, OverflowError, RecursionError… escaping). The property tests start from valid
server output and mutate it.
"""

from __future__ import annotations

import pytest
from lxml import etree

from oxsync.core.records import ItemKind
from oxsync.errors import MappingError
from oxsync.mappings import ox_xml

NS = ox_xml.OX_NS


def _prop(xml: str) -> etree._Element:
    return etree.fromstring(f'<D:prop xmlns:D="DAV:" xmlns:ox="{NS}">{xml}</D:prop>')


_TIMED = "<ox:start_date>0</ox:start_date><ox:end_date>3600000</ox:end_date>"


# --------------------------------------------------------------------------- regressions


@pytest.mark.parametrize("zone", ["America", "9" * 300])
def test_a_time_zone_naming_a_directory_or_too_long_is_a_field_error(zone: str) -> None:
    # ZoneInfo raised IsADirectoryError / OSError (file name too long)
    with pytest.raises(MappingError) as caught:
        ox_xml.decode(ItemKind.EVENT, _prop(f"{_TIMED}<ox:timezone>{zone}</ox:timezone>"))
    assert "timezone" in [e.path for e in caught.value.errors]
