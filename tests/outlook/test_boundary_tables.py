"""The adapter reads every Outlook property the mapping tables write (no drift)."""

from oxsync.adapters.outlook._itemio import READ_PROPERTIES
from oxsync.mappings.outlook import TABLES, Prop


def test_every_mapped_property_is_read_from_opened_items() -> None:
    for kind, parts in TABLES.items():
        mapped = {p.name for p in parts if type(p) is Prop and not p.name.startswith("_")}
        missing = mapped - set(READ_PROPERTIES[kind])
        assert not missing, f"{kind.value}: mapped but never read: {sorted(missing)}"
