"""OX WebDAV/XML mapping scenarios: one multistatus document of N contacts.

- ``mapping.ox_xml_parse``: bytes of a server-shaped PROPFIND answer -> N canonical
  contacts (hardened lxml parse + :func:`oxsync.mappings.ox_xml.decode`). Target from
  issue 3: 10,000 contacts in ≤ 0.5 s.
- ``mapping.ox_xml_floor``: what any lxml-based decoder of that document must do and no
  more: the same hardened parse, then every child of every ``D:prop`` visited with its tag
  looked up and its text read, nothing converted or built. ``ox_xml_parse`` minus this is
  the decoder's own cost.
- ``mapping.ox_xml_write``: N contacts -> bytes of one PROPPATCH ``propertyupdate``
  document (full writes, as an update sends them).
- ``mapping.vcard_write`` / ``mapping.ical_write``: N sample contacts / events -> one
  vCard 3.0 / VCALENDAR document each, as the vdir store writes its files (the parse
  scenarios of these forms are in ``benchmarks/vdir.py``). Target for vCard: ≤ 1 s.
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from benchmarks.registry import scenario
from oxsync.adapters.ox._codec import parse_document
from oxsync.core.records import ItemKind
from oxsync.mappings import ox_xml
from oxsync.testing.samples import sample

DAV = "DAV:"
D = "{DAV:}"
OX = "{" + ox_xml.OX_NS + "}"


def multistatus(items: int) -> bytes:
    """A PROPFIND answer as the server shapes it (ox-webdav-xml.md §2.2)."""
    root = etree.Element(D + "multistatus", nsmap={"D": DAV})
    for i in range(items):
        response = etree.SubElement(root, D + "response", nsmap={"ox": ox_xml.OX_NS})
        etree.SubElement(response, D + "href").text = str(1000 + i)
        propstat = etree.SubElement(response, D + "propstat")
        prop = etree.SubElement(propstat, D + "prop")
        for name, text in (
            ("object_status", "CREATE"),
            ("object_id", str(1000 + i)),
            ("folder_id", "25"),
            ("last_modified", str(1_215_000_000_000 + i)),
            ("creation_time", "1215000000000"),
        ):
            etree.SubElement(prop, OX + name).text = text
        ox_xml.encode(sample(ItemKind.CONTACT, i), prop, full=False)
        etree.SubElement(propstat, D + "status").text = "200"
        etree.SubElement(propstat, D + "responsedescription").text = "OK"
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def parse_contacts(document: bytes) -> list[object]:
    """Decode every contact of a multistatus document (the OX store's hardened parse)."""
    root = parse_document(document)
    # iterchildren matches tags in C (iterfind runs lxml's Python ElementPath)
    return [
        ox_xml.decode(ItemKind.CONTACT, prop)
        for response in root.iterchildren(D + "response")
        for propstat in response.iterchildren(D + "propstat")
        for prop in propstat.iterchildren(D + "prop")
    ]


@scenario("mapping.ox_xml_parse", repeat=5)
def ox_xml_parse(items: int) -> Callable[[], object]:
    document = multistatus(items)

    def run() -> object:
        records = parse_contacts(document)
        assert len(records) == items
        return records

    return run


@scenario("mapping.ox_xml_floor", repeat=5)
def ox_xml_floor(items: int) -> Callable[[], object]:
    document = multistatus(items)
    known = ox_xml._PLANS[ItemKind.CONTACT].entries  # the decoder's own tag table

    def run() -> object:
        root = parse_document(document)
        found = 0
        for response in root.iterchildren(D + "response"):
            for propstat in response.iterchildren(D + "propstat"):
                for prop in propstat.iterchildren(D + "prop"):
                    for child in prop:
                        if child.tag in known and child.text:
                            found += 1
        assert found >= items
        return None

    return run


@scenario("mapping.ox_xml_write", repeat=5)
def ox_xml_write(items: int) -> Callable[[], object]:
    contacts = [sample(ItemKind.CONTACT, i) for i in range(items)]

    def run() -> object:
        root = etree.Element(D + "propertyupdate", nsmap={"D": DAV, "ox": ox_xml.OX_NS})
        for i, contact in enumerate(contacts):
            prop = etree.SubElement(etree.SubElement(root, D + "set"), D + "prop")
            etree.SubElement(prop, OX + "object_id").text = str(1000 + i)
            ox_xml.encode(contact, prop)
        return etree.tostring(root, encoding="UTF-8")

    return run


@scenario("mapping.vcard_write", repeat=3)
def vcard_write(items: int) -> Callable[[], object]:
    from oxsync.mappings.vcard import contact_to_vcard

    contacts = [sample(ItemKind.CONTACT, i) for i in range(items)]

    def run() -> object:
        return [contact_to_vcard(contact) for contact in contacts]

    return run


@scenario("mapping.ical_write", repeat=3)
def ical_write(items: int) -> Callable[[], object]:
    from oxsync.mappings.ical import event_to_ical

    events = [sample(ItemKind.EVENT, i) for i in range(items)]

    def run() -> object:
        return [event_to_ical(event) for event in events]

    return run
