"""Bad vCard input in either direction gives a MappingError naming every bad field."""

from __future__ import annotations

import pytest

from oxsync.core import records as r
from oxsync.errors import MappingError
from oxsync.mappings.vcard import contact_to_vcard, record_to_vcard, vcard_to_records


def _card(*lines: str, version: str = "3.0") -> bytes:
    body = "\r\n".join((f"VERSION:{version}", "FN:x", "N:x;;;;", *lines))
    return f"BEGIN:VCARD\r\n{body}\r\nEND:VCARD\r\n".encode()


def _paths(exc: pytest.ExceptionInfo[MappingError]) -> set[str]:
    return {e.path for e in exc.value.errors}


def test_writing_reports_every_bad_field_at_once() -> None:
    contact = r.Contact(
        last_name="ok",
        first_name="bell \x07",
        note="n" * (10 * 1024 * 1024),
        color_label=12,
        phones=r.Phones(mobile="+1\r\n2"),
    )
    with pytest.raises(MappingError) as caught:
        contact_to_vcard(contact)
    assert _paths(caught) == {"first_name", "note", "color_label", "phones.mobile"}


def test_unknown_version_and_non_contacts_are_refused() -> None:
    with pytest.raises(MappingError) as caught:
        contact_to_vcard(r.Contact(last_name="x"), version="2.1")
    assert _paths(caught) == {"version"}
    with pytest.raises(MappingError):
        record_to_vcard(r.Task(summary="x"))


def test_invalid_utf8_and_garbage_are_typed_errors() -> None:
    with pytest.raises(MappingError) as caught:
        vcard_to_records(_card("NOTE:caf\xe9").replace(b"\xc3\xa9", b"\xe9"))
    assert "UTF-8" in str(caught.value)
    with pytest.raises(MappingError):
        vcard_to_records(b"hello")


@pytest.mark.parametrize(
    ("lines", "path"),
    [
        (("BDAY:2001-13-01",), "birthday"),
        (("BDAY:yesterday",), "birthday"),
        (("X-ANNIVERSARY:2001-02-29",), "anniversary"),
        (("X-OXSYNC-COLOR-LABEL:red",), "color_label"),
        (("X-OXSYNC-NUMBER-OF-CHILDREN:two",), "number_of_children"),
        # digits to str.isdigit(), not to int(): the field is named, not "$"
        (("X-OXSYNC-COLOR-LABEL:\u00b2",), "color_label"),
        (("X-OXSYNC-NUMBER-OF-CHILDREN:\u00b3",), "number_of_children"),
        (("NOTE:" + "n" * (10 * 1024 * 1024),), "note"),
        (("IMPP:a", "IMPP:b", "IMPP:c"), "im_address"),
        (("URL:a", "URL:b", "URL:c", "URL:d"), "web_page"),
        (("ADR:;;a", "ADR:;;b", "ADR:;;c", "ADR:;;d"), "addresses"),
        (("PHOTO:data:image/png,notbase64",), "photo"),
    ],
)
def test_bad_card_values_name_the_field(lines: tuple[str, ...], path: str) -> None:
    with pytest.raises(MappingError) as caught:
        vcard_to_records(_card(*lines))
    assert path in _paths(caught)


def test_unknown_version_is_named() -> None:
    with pytest.raises(MappingError) as caught:
        vcard_to_records(_card(version="5.0"))
    assert _paths(caught) == {"VERSION"}


def test_too_many_telephones_is_an_error_not_a_silent_drop() -> None:
    tels = tuple(f"TEL;TYPE=fax:+1 555 {i:04d}" for i in range(4))
    with pytest.raises(MappingError) as caught:
        vcard_to_records(_card(*tels))
    assert _paths(caught) == {"phones"}


def test_bad_list_member_is_named() -> None:
    card = _card("KIND:group", "MEMBER:http://example.com/x", version="4.0")
    with pytest.raises(MappingError) as caught:
        vcard_to_records(card)
    assert _paths(caught) == {"members[0]"}


def test_docstring_examples_run() -> None:
    import doctest

    from oxsync.mappings import vcard

    result = doctest.testmod(vcard)
    assert result.attempted > 0 and result.failed == 0


def test_a_card_with_a_damaged_begin_line_is_a_failed_result_not_dropped() -> None:
    from oxsync.mappings.vcard import vcard_to_results

    card = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:{0}\r\nN:{0};;;;\r\nUID:{0}\r\nEND:VCARD\r\n"
    document = (
        card.format("a")
        + card.format("b").replace("BEGIN:VCARD", "BEGN:VCARD")
        + "\r\n"
        + card.format("c")
        + "END:VCARD\r\n"  # a stray END carries nothing: no result of its own
    ).encode()
    first, damaged, last = vcard_to_results(document)
    assert isinstance(first, r.Contact) and first.uid == "a"
    assert isinstance(last, r.Contact) and last.uid == "c"
    assert isinstance(damaged, MappingError) and "'b'" in str(damaged)
    assert "outside BEGIN:VCARD" in str(damaged)
    with pytest.raises(MappingError, match="1 of 3 vCards unreadable"):
        vcard_to_records(document)
    # a lone damaged card is still "no vCard found", as any text without one
    with pytest.raises(MappingError, match="no vCard found"):
        vcard_to_results(card.format("b").replace("BEGIN:VCARD", "BEGN:VCARD").encode())
