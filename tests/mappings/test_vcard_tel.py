"""TEL values: vCard 4 tel: URIs are unwrapped, text that merely starts with "tel:" is kept."""

from oxsync.core.records import Contact, Phones
from oxsync.mappings.vcard import contact_to_vcard, vcard_to_records


def test_text_that_looks_like_a_uri_scheme_survives() -> None:
    record = Contact(uid="u1", phones=Phones(other_fax="TEL:"))
    for version in ("3.0", "4.0"):
        (back,) = vcard_to_records(contact_to_vcard(record, version=version))
        assert back.phones.other_fax == "TEL:"


def test_vcard4_tel_uri_is_unwrapped() -> None:
    data = (
        b"BEGIN:VCARD\r\nVERSION:4.0\r\nUID:u2\r\nFN:Ada\r\n"
        b"TEL;VALUE=uri;TYPE=cell:tel:+33-1-23-45-67-89\r\nEND:VCARD\r\n"
    )
    (back,) = vcard_to_records(data)
    assert back.phones.mobile == "+33-1-23-45-67-89"
