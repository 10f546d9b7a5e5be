"""Documents with a byte-order mark (Windows exports) read as their plain UTF-8 form."""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Any

import pytest

from oxsync.errors import MappingError
from oxsync.mappings.ical import ical_to_results
from oxsync.mappings.vcard import vcard_to_results

FIXTURES = Path(__file__).parent / "fixtures"
DOCUMENTS = sorted([*FIXTURES.glob("*.vcf"), *FIXTURES.glob("*.ics")])


def _read(path: Path, data: bytes) -> list[Any]:
    reader = vcard_to_results if path.suffix == ".vcf" else ical_to_results
    try:
        results = reader(data)
    except MappingError as exc:  # a whole-document error
        return [("document", str(exc))]
    return [str(x) if isinstance(x, MappingError) else x for x in results]


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
        lambda text: text.encode("utf-16"),  # with its byte-order mark
        lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
    ],
    ids=["utf-8-bom", "utf-16", "utf-16-be-bom"],
)
@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_a_byte_order_mark_changes_nothing(path: Path, encode: Any) -> None:
    raw = path.read_bytes()
    text = raw.decode("utf-8")
    assert _read(path, encode(text)) == _read(path, raw)


@pytest.mark.parametrize("reader", [vcard_to_results, ical_to_results])
def test_bad_bytes_after_a_mark_are_reported_at_their_offset(reader: Any) -> None:
    with pytest.raises(MappingError, match="not UTF-8") as caught:
        reader(codecs.BOM_UTF8 + b"BEGIN:VCARD\r\nFN:\xff\r\nEND:VCARD\r\n")
    assert caught.value.errors[0].message == "invalid UTF-8 at byte 19"
    with pytest.raises(MappingError, match="not UTF-16"):
        reader(codecs.BOM_UTF16_LE + "BEGIN:VCARD".encode("utf-16-le") + b"\x00")  # odd length
