"""Content lines of iCalendar and vCard: the lexical layer of the fast read and write paths.

Both formats are sequences of *content lines* (RFC 5545 §3.1, RFC 6350 §3.2, RFC 2426 §2.1)::

    name *(";" param-name "=" param-value *("," param-value)) ":" value CRLF

folded at 75 octets by inserting CRLF followed by one space or tab. A ``param-value`` is
either plain text (no ``"``, ``;``, ``:`` or ``,``) or a double-quoted string. TEXT values
escape ``\\``, ``;``, ``,`` and newlines as ``\\\\``, ``\\;``, ``\\,`` and ``\\n`` (RFC 5545
§3.3.11, RFC 6350 §3.4).

Why this is hand-written although ``icalendar`` and ``vobject`` parse content lines:
profiled on 10,000 sample events (``python -m benchmarks --scenario mapping.ical_parse``,
10.2 s), 85 % of the time was icalendar's parser — ``Contentline.raw_parts`` scans every
line character by character in Python (1.3 s per 2,000 events under cProfile), builds a
case-insensitive ``Parameters`` dict per line (0.6 s) and a typed value object per property
(``vText``, ``vDDDTypes``, …) that the mapping immediately turns back into ``str`` or
``datetime``. Writing went through the same objects: 0.73 ms per event, 7.3 s for 10,000.
The issue's targets (≤ 3 s to read 10,000 events) cannot be met through that object model.

So this module lexes only the common, well-formed subset, with ``str.find``/``split`` in C,
and raises :class:`Unsupported` for anything else (a backslash in a parameter, RFC 6868
``^`` escapes, a parameter list where one value is expected, a control character, a name
that is not a token, …). The fast readers in :mod:`oxsync.mappings.ical_fast` then hand the
whole document to the library-based path, so an unusual file is read exactly as before:
the fast path may decline, never mis-read. The differential Hypothesis tests in
``tests/mappings/test_ical_fast.py`` and ``test_vcard_fast.py`` prove the two paths agree.
"""

from __future__ import annotations

import codecs
import re

from oxsync.errors import FieldError, MappingError

__all__ = [
    "ContentLine",
    "Unsupported",
    "decode_document",
    "escape_text",
    "fold",
    "parse_line",
    "quote_param",
    "unescape_text",
    "unfold",
]


# UTF-8 is the formats' encoding (RFC 5545 §3.1.4, RFC 6350 §3.1); Windows tools often
# put a byte-order mark first, and some write UTF-16 (with its mark).
_BOMS = (
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)


def decode_document(data: bytes, what: str) -> str:
    """The text of an iCalendar or vCard document (``what`` names it in errors).

    UTF-8, with a leading byte-order mark skipped; UTF-16 when its byte-order mark says so.
    Anything else raises :class:`MappingError` giving the offset of the first bad byte.
    """
    encoding, name, start = "utf-8", "UTF-8", 0
    if data[:1] in (b"\xef", b"\xff", b"\xfe"):
        for bom, codec, label in _BOMS:
            if data.startswith(bom):
                encoding, name, start = codec, label, len(bom)
                break
    try:
        return data[start:].decode(encoding) if start else data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise MappingError(
            f"{what} data is not {name}",
            [FieldError("$", f"invalid {name} at byte {exc.start + start}")],
        ) from exc


class Unsupported(Exception):
    """The input leaves the subset the fast path handles: use the library path instead."""


class ContentLine:
    """One unfolded content line: upper-case ``name``, raw ``params``, raw ``value``.

    ``params`` maps upper-case parameter names to their raw text (quotes kept, lists not
    split); :meth:`param` gives a single value. ``value`` is still escaped.

    >>> line = parse_line('ATTENDEE;CN="Doe, Jane";ROLE=CHAIR:mailto:jane@example.org')
    >>> line.name, line.param("CN"), line.param("ROLE"), line.value
    ('ATTENDEE', 'Doe, Jane', 'CHAIR', 'mailto:jane@example.org')
    """

    __slots__ = ("name", "params", "value")

    def __init__(self, name: str, params: dict[str, str], value: str) -> None:
        self.name = name
        self.params = params
        self.value = value

    def param(self, key: str) -> str | None:
        """The single value of parameter ``key`` (quotes removed), ``None`` if absent.

        Raises :class:`Unsupported` for a list of values or an escape the fast path does not
        decode (RFC 6868 ``^``, backslashes).
        """
        raw = self.params.get(key)
        if raw is None:
            return None
        if raw.startswith('"'):
            if len(raw) < 2 or not raw.endswith('"') or '"' in raw[1:-1]:
                raise Unsupported(f"parameter {key}={raw}")
            raw = raw[1:-1]
        elif "," in raw or '"' in raw or raw != raw.strip():
            # a list, or blanks icalendar strips around delimiters: the library decides
            raise Unsupported(f"parameter {key}={raw}")
        if "^" in raw or "\\" in raw:
            raise Unsupported(f"escaped parameter {key}={raw}")
        return raw

    def __repr__(self) -> str:
        return f"ContentLine({self.name!r}, {self.params!r}, {self.value!r})"


_FOLD = re.compile("(\r?\n)+[ \t]")  # RFC 5545 §3.1; the same tolerance as icalendar
_NEWLINE = re.compile("\r?\n")
_TOKEN = re.compile(r"[A-Za-z0-9-]+")
_NAMES: dict[str, str] = {}  # raw name -> upper-case name, validated once
_ESCAPE = re.compile(r"\\(.?)", re.S)


def unfold(text: str) -> list[str]:
    """The logical lines of ``text``: folds joined, empty lines dropped.

    >>> unfold("DESCRIPTION:long\\r\\n  text\\r\\nUID:1\\r\\n")
    ['DESCRIPTION:long text', 'UID:1']
    """
    return [line for line in _NEWLINE.split(_FOLD.sub("", text)) if line]


def parse_line(text: str) -> ContentLine:
    """Split one unfolded line into name, parameters and value (RFC 5545 §3.1).

    Raises :class:`Unsupported` for what the fast path leaves to the library: no colon, a
    name that is not a token, a parameter without ``=``, a backslash or control character
    before the value, an unbalanced quote, a repeated parameter, a carriage return.

    >>> parse_line("DTSTART;TZID=Europe/Paris:20260302T103000")
    ContentLine('DTSTART', {'TZID': 'Europe/Paris'}, '20260302T103000')
    """
    colon = text.find(":")
    if colon <= 0 or "\r" in text:
        raise Unsupported(text[:40])
    head = text[:colon]
    if '"' in head:
        head, colon = _quoted_head(text)
    name = _NAMES.get(head)
    if name is not None:  # the common line: a known name, no parameters
        return ContentLine(name, {}, text[colon + 1 :])
    if "\\" in head or not head.isprintable():
        raise Unsupported(text[:40])
    semi = head.find(";")
    raw_name = head if semi < 0 else head[:semi]
    name = _NAMES.get(raw_name)
    if name is None:
        if not _TOKEN.fullmatch(raw_name):
            raise Unsupported(f"property name {raw_name[:40]!r}")
        name = raw_name.upper()
        if len(_NAMES) < 4096:  # hostile input cannot grow it without bound
            _NAMES[raw_name] = name
    params: dict[str, str] = {}
    if semi >= 0:
        for item in _split_params(head[semi + 1 :]):
            key, sep, value = item.partition("=")
            key = key.upper()
            if not sep or not _TOKEN.fullmatch(key) or key in params:
                raise Unsupported(f"parameter {item[:40]!r}")
            params[key] = value
    return ContentLine(name, params, text[colon + 1 :])


def _quoted_head(text: str) -> tuple[str, int]:
    """The part before the value separator: the first colon outside double quotes."""
    in_quotes = False
    for i, char in enumerate(text):
        if char == '"':
            in_quotes = not in_quotes
        elif char == ":" and not in_quotes:
            return text[:i], i
    raise Unsupported(text[:40])


def _split_params(text: str) -> list[str]:
    if '"' not in text:
        return text.split(";")
    items, start, in_quotes = [], 0, False
    for i, char in enumerate(text):
        if char == '"':
            in_quotes = not in_quotes
        elif char == ";" and not in_quotes:
            items.append(text[start:i])
            start = i + 1
    if in_quotes:
        raise Unsupported(text[:40])
    items.append(text[start:])
    return items


def unescape_text(raw: str, escapes: str = "\\,;:nN") -> str:
    r"""A TEXT value unescaped in one pass (RFC 5545 §3.3.11): ``\\ \, \; \: \n \N``.

    ``escapes`` lists the characters a backslash may precede; any other escape raises
    :class:`Unsupported` (libraries differ on them; the library path decides).

    >>> unescape_text(r"Lunch\, then\nwalk in C:\\temp")
    'Lunch, then\nwalk in C:\\temp'
    """
    if "\\" not in raw:
        return raw

    def one(match: re.Match[str]) -> str:
        char = match.group(1)
        if not char or char not in escapes:
            raise Unsupported("backslash escape")
        return "\n" if char in "nN" else char

    return _ESCAPE.sub(one, raw)


def escape_text(text: str) -> str:
    r"""A TEXT value escaped for writing (RFC 5545 §3.3.11, RFC 6350 §3.4).

    >>> escape_text("a;b,c\\d\ne")
    'a\\;b\\,c\\\\d\\ne'
    """
    if "\\" not in text and ";" not in text and "," not in text and "\n" not in text:
        return text
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def quote_param(text: str) -> str:
    """A parameter value, double-quoted when it holds ``:``, ``;`` or ``,`` (RFC 5545 §3.2).

    Values with a double quote, a control character or a newline have no RFC 5545 form
    (RFC 6868 is not universally read back); callers check before.
    """
    if ":" in text or ";" in text or "," in text:
        return f'"{text}"'
    return text


def fold(line: str) -> str:
    """``line`` plus CRLF, folded so no physical line exceeds 75 octets (RFC 5545 §3.1).

    Folds never split a UTF-8 sequence.

    >>> fold("X:" + "é" * 40).encode().split(b"\\r\\n ")[0].__len__() <= 75
    True
    """
    if len(line) <= 75 and (line.isascii() or len(line.encode("utf-8")) <= 75):
        return line + "\r\n"
    data = line.encode("utf-8")
    parts = []
    start, limit = 0, 75
    while len(data) - start > limit:
        end = start + limit
        while data[end] & 0xC0 == 0x80:  # a continuation byte: fold before its sequence
            end -= 1
        parts.append(data[start:end])
        start, limit = end, 74  # the leading space of a continuation line counts
    parts.append(data[start:])
    return b"\r\n ".join(parts).decode("utf-8") + "\r\n"
