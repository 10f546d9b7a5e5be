"""Differential tests: the vCard content-line splitter agrees with vobject's ``parseLine``.

``oxsync.mappings.vcard`` splits the common content line (no quoted parameter) itself and
hands the rest to vobject; the writer formats and folds lines itself. Proved here: every
generated card (vCard 3.0 and 4.0), every card mutated the ways other producers write
(re-folded anywhere, LF line ends, lower-case names, groups, quoted parameters) and every
fixture read with our splitter gives exactly the records read with vobject splitting every
line; and what our writer writes, read through vobject's splitter, is the record again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import vobject
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oxsync.core.records import ItemKind
from oxsync.core.serial import to_data
from oxsync.mappings import vcard
from oxsync.testing.strategies import records
from tests.mappings.test_vcard_roundtrip import project_vcard

FIXTURES = Path(__file__).parent / "fixtures"
KINDS = [ItemKind.CONTACT, ItemKind.DISTRIBUTION_LIST]


def _read(text: str, split: Any) -> list[Any]:
    out = []
    for chunk in vcard._cards(text):
        result = vcard._read_card(chunk, split)
        out.append(repr(result.errors) if isinstance(result, Exception) else to_data(result))
    return out


def _assert_same(text: str) -> None:
    assert _read(text, None) == _read(text, vcard._library_line)


@pytest.mark.parametrize("version", ["3.0", "4.0"])
@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.value)
def test_written_cards_read_back_through_vobject_line_parsing(kind: ItemKind, version: str) -> None:
    @settings(suppress_health_check=[HealthCheck.too_slow])
    @given(records(kind))
    def check(record: Any) -> None:
        text = vcard.contact_to_vcard(record, version).decode("utf-8")
        assert _read(text, vcard._library_line) == [to_data(project_vcard(record))]
        assert _read(text, None) == [to_data(project_vcard(record))]
        assert max(len(line.encode()) for line in text.split("\r\n")) <= 75
        vobject.readOne(text)  # the whole card is acceptable to vobject too

    check()


@st.composite
def _mutated(draw: Any, kind: ItemKind) -> str:
    record = draw(records(kind))
    text = vcard.contact_to_vcard(record, draw(st.sampled_from(["3.0", "4.0"]))).decode()
    lines = text.replace("\r\n ", "").split("\r\n")[:-1]
    out = []
    for line in lines:
        name, sep, rest = line.partition(":")
        choice = draw(st.integers(0, 7))
        if choice == 0 and not name.upper().startswith(("BEGIN", "END")):
            line = name.lower() + sep + rest
        elif choice == 1 and not name.upper().startswith(("BEGIN", "END", "VERSION")):
            line = "item1." + line  # an Apple group
        elif choice == 2 and ";" in name and '"' not in name:
            head, _, param = name.rpartition(";")
            key, eq, value = param.partition("=")
            line = f'{head};{key}="{value}"{sep}{rest}' if eq else line
        elif choice == 3 and not name.upper().startswith(("BEGIN", "END")):
            line = name + ";X-FOO=bar" + sep + rest
        out.append(line)
    newline = draw(st.sampled_from(["\r\n", "\n"]))
    folded = []
    for line in out:
        cuts = sorted(set(draw(st.lists(st.integers(1, max(1, len(line) - 1)), max_size=3))))
        pieces = [line[a:b] for a, b in zip([0, *cuts], [*cuts, len(line)], strict=True)]
        folded.append((newline + " ").join(p for p in pieces if p) + newline)
    return "".join(folded)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.value)
def test_our_splitter_reads_mutated_cards_as_vobject_does(kind: ItemKind) -> None:
    @settings(suppress_health_check=[HealthCheck.too_slow])
    @given(_mutated(kind))
    def check(text: str) -> None:
        _assert_same(text)

    check()


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.vcf")), ids=lambda p: p.name)
def test_our_splitter_reads_every_fixture_as_vobject_does(path: Path) -> None:
    _assert_same(path.read_text("utf-8"))


def test_a_huge_folded_photo_reads_back_without_quadratic_unfolding() -> None:
    import time

    from oxsync.core.records import Contact, Photo

    contact = Contact(
        uid="u", photo=Photo(data=b"\xff" * (6 * 1024 * 1024), content_type="image/png")
    )
    data = vcard.contact_to_vcard(contact)  # ~110,000 folded lines
    started = time.process_time()
    assert vcard.vcard_to_records(data) == [contact]
    assert time.process_time() - started < 20  # quadratic joining took minutes
