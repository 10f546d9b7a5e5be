"""The XML envelope of OX WebDAV/XML: hardened parsing and request/response shapes.

Parsing is the only place where untrusted bytes meet lxml. It refuses, with
:class:`~oxsync.errors.HostileInputError`, any document with a DTD (entity bombs,
external entities), and documents over a size limit; a broken document (bad syntax,
invalid UTF-8) is a :class:`~oxsync.errors.ProtocolError`. The parser never resolves
entities, never touches the network and keeps lxml's ``huge_tree`` guard on.

Item content (contact, appointment and task fields) is :mod:`oxsync.mappings.ox_xml`'s
business; this module deals with the envelope and the object-level elements only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import TypeAlias
from xml.sax.saxutils import unescape

from attrs import frozen
from lxml import etree  # type: ignore[import-untyped]

from oxsync.errors import HostileInputError, ProtocolError
from oxsync.mappings.values import ascii_int

__all__ = [
    "DAV_NS",
    "DEFAULT_MAX_BYTES",
    "OX_NS",
    "ConflictItem",
    "OXResponse",
    "child_text",
    "children",
    "local",
    "number",
    "parse_document",
    "parse_multistatus",
    "propertyupdate",
    "propfind",
]

OX_NS = "http://www.open-xchange.org"
DAV_NS = "DAV:"
_OX = "{" + OX_NS + "}"
_D = "{" + DAV_NS + "}"
_NSMAP = {"D": DAV_NS, "ox": OX_NS}
Element: TypeAlias = etree._Element

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
"""Largest document accepted (64 MiB: 10,000 full contacts take about 15 MiB)."""

_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_CODE = re.compile(r"^\s*\[([0-9]{1,18})\]")  # more digits: no OX code (int() takes 4300 at most)
_LIST_ID = re.compile(r"<(?:[\w.-]+:)?id(?:\s[^>]*)?(?<!/)>\s*([^<]*?)\s*</")
_LIST_TAG = re.compile(r"<(?:[\w.-]+:)?id[\s/>]")


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,  # no xml:id lookups: skips a hash table of every id (-15 % parse)
    )


_PARSER = _parser()


def parse_document(body: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Element:
    """Parse an XML document safely; return its root element.

    Raises :class:`HostileInputError` for oversize documents and any DOCTYPE or ENTITY
    declaration, :class:`ProtocolError` for anything lxml cannot read.
    """
    if len(body) > max_bytes:
        raise HostileInputError(f"XML document of {len(body)} bytes exceeds {max_bytes}")
    if _DTD.search(body):
        raise HostileInputError("XML document declares a DTD or entities; refused")
    if not body.strip():
        raise ProtocolError("empty XML document")
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise ProtocolError(f"unreadable XML: {exc.msg}") from exc
    except ValueError as exc:  # e.g. unicode strings with encoding declarations
        raise ProtocolError(f"unreadable XML: {exc}") from exc
    if root is None:
        raise ProtocolError("XML document without a root element")
    if root.getroottree().docinfo.internalDTD is not None:  # one the byte search missed
        raise HostileInputError("XML document declares a DTD (in a wide encoding); refused")
    return root


MAX_DIGITS = 30
"""Most digits of a number in an OX answer (ids, statuses, lengths have far fewer)."""


def number(text: str) -> int | None:
    """:func:`~oxsync.mappings.values.ascii_int` for numbers in OX answers: ``None`` also
    for more than :data:`MAX_DIGITS` digits (``int()`` raises ValueError past 4300)."""
    return ascii_int(text) if len(text) <= MAX_DIGITS else None


def local(el: Element) -> str:
    """Local name of an element (OX matches by local name)."""
    tag = el.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def children(el: Element, name: str) -> list[Element]:
    """Element children of ``el`` with local name ``name`` (any namespace)."""
    return list(el.iterchildren("{*}" + name))


def child_text(el: Element, name: str) -> str | None:
    """Stripped text of the first child named ``name``; ``None`` when absent or empty.

    The ox and DAV: namespaces are tried first, then any namespace. ``iterchildren``
    matches tags in C; ``findtext`` would go through lxml's Python ElementPath (twice the
    time, three lookups per object of a listing).
    """
    for tag in _child_tags(name):
        for child in el.iterchildren(tag):
            text = child.text
            return (text.strip() or None) if text else None
    return None


@cache
def _child_tags(name: str) -> tuple[str, str, str]:
    # names are the code's own constants: a handful, built once each
    return (_OX + name, _D + name, "{*}" + name)


def _child(el: Element, name: str) -> Element | None:
    found = el.find(_D + name)
    return found if found is not None else el.find("{*}" + name)


@frozen
class ConflictItem:
    """An appointment clashing with one being saved (``[1006]``)."""

    subject: str
    start_ms: int
    end_ms: int
    full_time: bool


@frozen
class OXResponse:
    """One ``D:response``: href, HTTP-like status, description, OX code and the prop."""

    href: str
    status: int
    description: str
    code: int | None
    prop: Element
    conflicts: tuple[ConflictItem, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the status is 2xx."""
        return 200 <= self.status < 300

    def text(self, name: str) -> str | None:
        """Text of a child element of the prop."""
        return child_text(self.prop, name)


def parse_multistatus(root: Element) -> list[OXResponse]:
    """The ``D:response`` entries of a multistatus document, in document order.

    ``D:status`` may be a bare integer (OX) or an ``HTTP/1.1 200 OK`` line (groupuser).
    Raises :class:`ProtocolError` for any other shape.
    """
    if local(root) != "multistatus":
        raise ProtocolError(f"expected a multistatus document, got <{local(root)}>")
    out = []
    for resp in root.iterchildren(_D + "response", "{*}response"):
        # one pass over the few children of each entry: 10,000-entry listings are common
        href, stat, holders = "0", None, []
        for child in resp:
            name = local(child)
            if name == "href":
                href = (child.text or "").strip() or "0"
            elif name == "propstat" and stat is None:
                stat = child
            elif name == "conflictitems":
                holders.append(child)
        if stat is None:
            raise ProtocolError("D:response without D:propstat")
        prop, status_text, description = None, "", ""
        for child in stat:
            name = local(child)
            if name == "prop" and prop is None:
                prop = child
            elif name == "status":
                status_text = child.text or ""
            elif name == "responsedescription":
                description = (child.text or "").strip()
            elif name == "conflictitems":
                holders.append(child)
        status = _status(status_text)
        match = _CODE.match(description)
        conflicts = [_conflict(i) for h in holders for i in children(h, "conflictitem")]
        out.append(
            OXResponse(
                href,
                status,
                description,
                int(match.group(1)) if match else None,
                prop if prop is not None else etree.Element(_D + "prop"),
                tuple(conflicts),
            )
        )
    return out


def _status(text: str) -> int:
    parts = text.split()
    for part in parts[:2]:
        code = number(part)
        if code is not None:
            return code
    raise ProtocolError(f"unreadable D:status {text[:40]!r}")


def _conflict(item: Element) -> ConflictItem:
    pieces = (item.text or "").split(",")
    subject = item.get(_OX + "subject") or item.get("subject") or ""
    try:
        return ConflictItem(
            subject,
            int(pieces[0]),
            int(pieces[1]),
            len(pieces) > 2 and pieces[2].strip().lower() == "true",
        )
    except (IndexError, ValueError):
        raise ProtocolError("unreadable D:conflictitem") from None


def new_prop() -> Element:
    """A detached ``D:prop`` element."""
    return etree.Element(_D + "prop", nsmap=_NSMAP)


def add(parent: Element, name: str, text: object = None) -> Element:
    """Append ``ox:name`` (with ``text`` if not ``None``) to ``parent``."""
    el = etree.SubElement(parent, _OX + name)
    if text is not None:
        el.text = str(text)
    return el


def propfind(fields: Mapping[str, object]) -> bytes:
    """A ``D:propfind`` body whose ``D:prop`` holds one ox element per entry."""
    root = etree.Element(_D + "propfind", nsmap=_NSMAP)
    prop = etree.SubElement(root, _D + "prop")
    for name, value in fields.items():
        add(prop, name, value)
    return _bytes(root)


def propertyupdate(props: Iterable[Element]) -> bytes:
    """A ``D:propertyupdate`` body with one ``D:set`` block per prop element."""
    root = etree.Element(_D + "propertyupdate", nsmap=_NSMAP)
    for prop in props:
        etree.SubElement(root, _D + "set").append(prop)
    return _bytes(root)


def _bytes(root: Element) -> bytes:
    return bytes(etree.tostring(root, encoding="UTF-8", xml_declaration=True))


def object_list(resp: OXResponse) -> Sequence[str] | None:
    """The ids of a LIST entry; ``None`` unless every ``id`` element reads as one id.

    An id left out would read as a deleted object, so a list without ``object_list``,
    with an empty ``id`` or one holding anything but text, is no list at all. Ids are
    read as :func:`child_text` reads an ``object_id`` (stripped).
    """
    holders = children(resp.prop, "object_list")
    if not holders:
        return None
    # One regex over the serialised list instead of 10,000 element proxies: with a large
    # heap, creating the proxies triggers costly garbage collections.
    data = "".join(etree.tostring(h, encoding="unicode") for h in holders)
    found: list[str] = _LIST_ID.findall(data)
    if len(found) != len(_LIST_TAG.findall(data)) or "" in found:
        return None
    if "&" in data:  # text as serialised: &amp; &lt; &gt;
        found = [unescape(i) for i in found]
    return found
