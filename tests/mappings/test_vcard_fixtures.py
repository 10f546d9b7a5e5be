"""Real-world-like vCard files (Outlook 2.1, Google, Apple, OX, RFC 6350 examples, broken
input) import without crash; what cannot be read is a per-card error."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from oxsync.core import records as r
from oxsync.errors import MappingError
from oxsync.mappings.vcard import contact_to_vcard, vcard_to_records, vcard_to_results

FIXTURES = Path(__file__).parent / "fixtures"
VCF = sorted(FIXTURES.glob("*.vcf"))


def _read(name: str) -> list[r.Record | MappingError]:
    return vcard_to_results((FIXTURES / name).read_bytes())


@pytest.mark.parametrize("version", ["3.0", "4.0"])
@pytest.mark.parametrize("path", VCF, ids=lambda p: p.name)
def test_every_fixture_imports_without_crash_and_rewrites_identically(
    path: Path, version: str
) -> None:
    results = vcard_to_results(path.read_bytes())
    assert results
    for result in results:
        if isinstance(result, MappingError):
            assert result.errors
            continue
        assert isinstance(result, r.Contact | r.DistributionList)
        assert vcard_to_records(contact_to_vcard(result, version)) == [result]


def test_outlook_21_quoted_printable_types_and_microsoft_extensions() -> None:
    (andre,) = _read("outlook_21.vcf")
    assert isinstance(andre, r.Contact)
    assert (andre.title, andre.first_name, andre.middle_name, andre.last_name, andre.suffix) == (
        "M.",
        "André",
        "Marie",
        "Dupont",
        "Jr",
    )
    assert (andre.company, andre.department) == ("Société Générale", "Informatique")
    assert andre.note == "Rencontré au salon.\nRappeler en mars, avant le 15 mars."
    assert andre.phones == r.Phones(
        business="+33 1 23 45 67 89",
        home="+33 1 98 76 54 32",
        mobile="+33 6 12 34 56 78",
        business_fax="+33 1 23 45 67 00",
        car="+33 6 00 00 00 01",
        assistant="+33 1 23 45 67 80",
    )
    assert andre.emails.email1 == "andre.dupont@example.fr"
    assert andre.business_address.city == "Paris"
    assert andre.business_address.label == "29 boulevard Haussmann\n75009 Paris\nFrance"
    assert andre.selected_mailing_address == "business"
    assert (andre.manager_name, andre.spouse_name) == ("Claire Martin", "Sophie")
    assert (andre.birthday, andre.anniversary) == (date(1975, 4, 12), date(2001, 6, 15))
    assert andre.im_address == "andre@im.example.fr"
    assert andre.photo is not None and andre.photo.data.startswith(b"\xff\xd8")
    assert andre.photo.content_type == "image/jpeg"
    assert andre.last_modified == datetime(2026, 1, 10, 10, 10, 10, tzinfo=UTC)


def test_google_untyped_numbers_find_free_slots_and_photo_link_is_kept() -> None:
    grace, alan = _read("google_contacts.vcf")
    assert isinstance(grace, r.Contact) and isinstance(alan, r.Contact)
    assert grace.phones.business == "+1 202-555-0100"
    assert grace.phones.business2 == "+1 202-555-0101"  # the second WORK number
    assert grace.phones.other == "+1 202-555-0199"  # no TYPE at all
    assert grace.web_page == "https://grace.example.com"
    assert grace.photo == r.Photo(
        data=b"https://lh3.googleusercontent.com/contacts/AAAA=s100", content_type="text/uri-list"
    )
    assert grace.note is not None and "COBOL, nanoseconds, and pirate flags." in grace.note
    assert alan.birthday == date(1604, 6, 23)  # yearless: Apple's placeholder year


def test_apple_groups_members_and_yearless_birthday() -> None:
    ada, team = _read("apple_contacts.vcf")
    assert isinstance(ada, r.Contact) and isinstance(team, r.DistributionList)
    assert ada.birthday == date(1604, 12, 10)
    assert ada.phones.mobile == "+44 7700 900123" and ada.phones.mobile2 == "+44 7700 900456"
    assert ada.selected_mailing_address == "home"
    assert team.display_name == "Engine team"
    assert [m.contact_uid for m in team.members] == [
        "3F2504E0-4F89-11D3-9A0C-0305E82C3301",
        "9B2504E0-4F89-11D3-9A0C-0305E82C3302",
    ]


def test_rfc6350_uri_telephones_data_uri_photo_and_kind_group() -> None:
    simon, family = _read("rfc6350_v4.vcf")
    assert isinstance(simon, r.Contact) and isinstance(family, r.DistributionList)
    assert simon.phones.business == "+1-418-656-9254;ext=102"
    assert simon.phones.mobile == "+1-418-262-6501"
    assert simon.gender == "male"
    assert simon.anniversary == date(2009, 8, 8)  # no shift through a timezone
    assert simon.photo is not None and simon.photo.content_type == "image/png"
    assert simon.photo.data.startswith(b"\x89PNG")
    assert [(m.email, m.contact_uid, m.display_name) for m in family.members] == [
        (None, "03a0e51f-d1aa-4385-8a53-e29025acd8af", None),
        (None, "b8767877-b4a1-4c70-9acc-505d3819e519", None),
        ("subscriber1@example.com", None, None),
        ("bob@example.com", None, "Bob"),
    ]


def test_ox_types_telex_escaped_categories_and_private_class() -> None:
    juergen, team = _read("ox_contacts.vcf")
    assert isinstance(juergen, r.Contact) and isinstance(team, r.DistributionList)
    assert juergen.display_name == "Müller, Jürgen"
    assert juergen.office_location == "4.11" and juergen.profession == "Informatiker"
    assert juergen.phones.business2 == "+49 2761 8385-1"
    assert juergen.phones.assistant == "+49 2761 8385-2"
    assert juergen.phones.callback == "+49 2761 8385-3"
    assert juergen.phones.company == "+49 2761 8385-9"
    assert juergen.phones.telex == "123456 oxde"
    assert juergen.emails.email3 == "jm@example.net"
    assert juergen.categories == ("Kollegen", "Köln, Bonn")
    assert juergen.note == "Mag keine Meetings vor 9 Uhr; trinkt Tee."
    assert juergen.sensitivity is r.Sensitivity.PRIVATE
    assert [(m.contact_uid, m.email) for m in team.members] == [
        ("4711@ox.example.de", None),
        (None, "extern@partner.example"),
    ]


def test_broken_cards_each_get_their_own_error_and_the_good_one_survives() -> None:
    results = _read("broken.vcf")
    good = [x for x in results if not isinstance(x, MappingError)]
    assert [c.uid for c in good] == ["good-card"]
    paths = [sorted({e.path for e in x.errors}) for x in results if isinstance(x, MappingError)]
    assert paths == [["birthday"], ["photo"], ["emails"], ["$"]]
    assert "unterminated" in str(results[-1])


def test_repeated_notes_are_joined_not_dropped() -> None:
    # NOTE may repeat (RFC 2426 / 6350: cardinality *); only the first was kept, so the
    # others vanished from the other store at the first sync
    card = (
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ada\r\nN:Lovelace;Ada;;;\r\nUID:u1\r\n"
        b"NOTE:first\\, one\r\nNOTE:\r\nNOTE:second\\nline\r\nEND:VCARD\r\n"
    )
    (contact,) = vcard_to_records(card)
    assert contact.note == "first, one\n\nsecond\nline"
    (again,) = vcard_to_records(contact_to_vcard(contact))
    assert again.note == contact.note
