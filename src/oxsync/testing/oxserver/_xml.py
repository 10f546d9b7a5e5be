"""XML helpers of the test server: a hardened parser and the response builders.

The server parses namespace-aware but matches elements by local name, as OX does; data
elements count only in the ox namespace (children of ``D:prop`` in other namespaces are
skipped). Bodies with a DOCTYPE are refused before lxml sees them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeAlias

from lxml import etree  # type: ignore[import-untyped]

OX_NS = "http://www.open-xchange.org"
DAV_NS = "DAV:"
OX = "{" + OX_NS + "}"
D = "{" + DAV_NS + "}"
NSMAP = {"D": DAV_NS, "ox": OX_NS}

Element: TypeAlias = etree._Element

MAX_REQUEST_BYTES = 32 * 1024 * 1024

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
)


class BadXML(Exception):
    """The request body is not acceptable XML (answered with ``[1400]``)."""


def parse(body: bytes) -> Element:
    """Parse a request body; raise :class:`BadXML` for anything hostile or broken."""
    if not body.strip():
        raise BadXML("empty body")
    if len(body) > MAX_REQUEST_BYTES:
        raise BadXML("body too large")
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise BadXML("DTDs are not accepted")
    try:
        return etree.fromstring(body, _PARSER)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise BadXML(str(exc)) from None


def local(el: Element) -> str:
    """Local name of an element ('' for comments and the like)."""
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def is_ox(el: Element) -> bool:
    """Whether ``el`` is an element of the ox namespace."""
    return isinstance(el.tag, str) and el.tag.startswith(OX)


def children(el: Element, name: str) -> Iterator[Element]:
    """Element children of ``el`` with local name ``name`` (any namespace)."""
    for child in el:
        if local(child) == name:
            yield child


def first(el: Element, name: str) -> Element | None:
    """The first child of ``el`` with local name ``name``."""
    return next(children(el, name), None)


def ox_fields(prop: Element) -> dict[str, Element]:
    """The ox-namespace children of a ``D:prop`` keyed by local name (last one wins)."""
    return {local(c): c for c in prop if is_ox(c)}


def text_of(fields: dict[str, Element], name: str) -> str | None:
    """Stripped text of field ``name``; ``None`` when absent or empty."""
    el = fields.get(name)
    if el is None or el.text is None:
        return None
    value = el.text.strip()
    return value or None


def int_of(fields: dict[str, Element], name: str) -> int | None:
    """Integer value of field ``name``; ``None`` when absent, empty or not a number."""
    value = text_of(fields, name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def bool_of(fields: dict[str, Element], name: str) -> bool:
    """OX boolean parsing: ``true`` in any case is true, anything else false."""
    return (text_of(fields, name) or "").lower() == "true"


def sub(parent: Element, name: str, text: object = None) -> Element:
    """Append ``ox:name`` with ``text`` to ``parent``."""
    el = etree.SubElement(parent, OX + name)
    if text is not None:
        el.text = str(text)
    return el


def response(href: object, status: int, description: str) -> tuple[Element, Element]:
    """A ``D:response`` with ``href`` and one propstat; returns (response, prop)."""
    resp = etree.Element(D + "response", nsmap=NSMAP)
    etree.SubElement(resp, D + "href").text = str(href)
    propstat = etree.SubElement(resp, D + "propstat")
    prop = etree.SubElement(propstat, D + "prop")
    etree.SubElement(propstat, D + "status").text = str(status)
    etree.SubElement(propstat, D + "responsedescription").text = description
    return resp, prop


def multistatus(fragments: Iterable[bytes], version: str) -> bytes:
    """Join serialised ``D:response`` fragments into a multistatus document."""
    head = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<D:multistatus xmlns:D="DAV:" '
        f'version="{version}" buildname="oxsync-test">'
    ).encode()
    return head + b"".join(fragments) + b"</D:multistatus>"


def serialise(el: Element) -> bytes:
    """UTF-8 bytes of an element, without XML declaration."""
    return bytes(etree.tostring(el, encoding="UTF-8", xml_declaration=False))


def render_fields(fields: Iterable[Element]) -> bytes:
    """Serialise elements as a run of ``ox:`` children (for a ``D:prop`` declaring ox).

    The elements are moved under one holder declaring ``D`` and ``ox``, so that none of
    them repeats the namespace declarations; the holder's own tags are cut off.
    """
    holder = etree.Element(OX + "fields", nsmap=NSMAP)
    for el in fields:
        holder.append(el)
    if len(holder) == 0:
        return b""
    data = bytes(etree.tostring(holder, encoding="UTF-8", xml_declaration=False))
    return data[data.index(b">") + 1 : -len(b"</ox:fields>")]
