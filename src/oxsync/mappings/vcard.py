"""vCard (RFC 2426 v3.0, RFC 6350 v4.0, read-only v2.1) ⇄ ``Contact`` / ``DistributionList``.

Content lines are split here when they have no quoted parameter (most lines: vobject's
objects cost more than the whole mapping) and by ``vobject``'s ``parseLine`` otherwise;
``tests/mappings/test_vcard_fast.py`` proves both splits read the same records. Values are
decoded and encoded here (quoted-printable and charsets of v2.1 included), because
vobject's own value handling keeps only the text before the first unescaped comma
(``NOTE:Hello, world``), mangles vCard 4 data URIs and cannot quote parameters with double
quotes (RFC 6868 is done here). Folding and TEXT escaping come from
:mod:`oxsync.mappings.contentline`, shared with iCalendar.

    >>> from oxsync.core.records import Contact, Phones
    >>> c = Contact(uid="u1", first_name="Ada", last_name="Lovelace",
    ...             phones=Phones(mobile="+44 7700 900123"))
    >>> b"TEL;TYPE=cell:+44 7700 900123" in contact_to_vcard(c)
    True
    >>> vcard_to_records(contact_to_vcard(c, version="4.0")) == [c]
    True

Mapping notes (the whole table is in ``docs/adapters/vdir.md``, "File formats"):

- Each telephone slot of Annex B has a fixed TYPE set (:data:`PHONE_TYPES`); on reading,
  an exact TYPE match wins, then the closest free slot, so Google's or Apple's numbers
  land somewhere sensible. A number with no free slot is a field error, never dropped.
- E-mail slots: ``email1`` TYPE=work, ``email2`` TYPE=home, ``email3`` TYPE=x-other.
- A missing ``display_name`` is written as a generated FN marked ``X-OXSYNC-GENERATED``
  so it reads back as ``None``.
- Distribution lists: ``KIND:group`` + ``MEMBER`` (v4) or ``X-ADDRESSBOOKSERVER-KIND`` +
  ``X-ADDRESSBOOKSERVER-MEMBER`` (v3, Apple). A member is ``mailto:`` its address or
  ``urn:uuid:`` the contact's UID; ``CN`` carries its name.
- Photos: v3 ``ENCODING=b;TYPE=JPEG``, v4 ``data:`` URI; a photo given as a link (Google)
  is kept as a ``text/uri-list`` photo and written back as the link.
- Fields with no standard property use ``X-OXSYNC-*`` names listed in :data:`X_PROPERTIES`
  (plus Microsoft's ``X-MS-*`` for manager / assistant / spouse / anniversary).

This module is longer than most because it holds the whole vCard table, both versions and
both directions in one place; splitting it would scatter one mapping over files.
"""

from __future__ import annotations

import base64
import binascii
import quopri
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

from vobject.base import parseLine

from oxsync.core import records as r
from oxsync.errors import FieldError, MappingError
from oxsync.mappings.contentline import decode_document, fold
from oxsync.mappings.contentline import escape_text as _escape
from oxsync.mappings.values import MAX_NOTE_CHARS, MAX_TEXT_CHARS, ascii_int

__all__ = [
    "PHONE_TYPES",
    "X_PROPERTIES",
    "contact_to_vcard",
    "record_to_vcard",
    "vcard_to_records",
    "vcard_to_results",
]

PHONE_TYPES: dict[str, tuple[str, ...]] = {
    "business": ("work", "voice"),
    "business2": ("work", "voice", "x-2nd"),
    "home": ("home", "voice"),
    "home2": ("home", "voice", "x-2nd"),
    "mobile": ("cell",),
    "mobile2": ("cell", "x-2nd"),
    "car": ("car",),
    "company": ("x-company",),
    "assistant": ("x-assistant",),
    "callback": ("x-callback",),
    "isdn": ("isdn",),
    "radio": ("x-radio",),
    "other": ("voice", "x-other"),
    "pager": ("pager",),
    "primary": ("x-primary",),
    "telex": ("x-telex",),
    "ttytdd": ("textphone",),
    "ip": ("x-ip",),
    "business_fax": ("work", "fax"),
    "home_fax": ("home", "fax"),
    "other_fax": ("fax", "x-other"),
}
"""TEL TYPE values written for each :class:`~oxsync.core.records.Phones` slot (Annex B)."""

_TEXT_X = {
    "file_as": "X-OXSYNC-FILE-AS",
    "initials": "X-OXSYNC-INITIALS",
    "office_location": "X-OX-ROOM-NUMBER",
    "manager_name": "X-MS-MANAGER",
    "assistant_name": "X-MS-ASSISTANT",
    "spouse_name": "X-MS-SPOUSE",
    "hobby": "X-OXSYNC-HOBBY",
    "children": "X-OXSYNC-CHILDREN",
    "marital_status": "X-OXSYNC-MARITAL-STATUS",
    "customer_id": "X-OXSYNC-CUSTOMER-ID",
    "government_id": "X-OXSYNC-GOVERNMENT-ID",
    "account": "X-OXSYNC-ACCOUNT",
    "referred_by": "X-OXSYNC-REFERRED-BY",
    "language": "X-OXSYNC-LANGUAGE",
    "employee_type": "X-OXSYNC-EMPLOYEE-TYPE",
    "tax_id": "X-OXSYNC-TAX-ID",
    "branches": "X-OXSYNC-BRANCHES",
    "sales_volume": "X-OXSYNC-SALES-VOLUME",
    "commercial_register": "X-OXSYNC-COMMERCIAL-REGISTER",
    "business_category": "X-OXSYNC-BUSINESS-CATEGORY",
    "info": "X-OXSYNC-INFO",
    "note_html": "X-OXSYNC-NOTE-HTML",
    "selected_mailing_address": "X-OXSYNC-MAILING-ADDRESS",
    "email1_display_name": "X-OXSYNC-EMAIL1-DISPLAY-NAME",
    "email2_display_name": "X-OXSYNC-EMAIL2-DISPLAY-NAME",
    "email3_display_name": "X-OXSYNC-EMAIL3-DISPLAY-NAME",
}
_ALIASES = {  # other producers' names for the same fields (read only)
    "manager_name": ("X-MANAGER", "X-EVOLUTION-MANAGER"),
    "assistant_name": ("X-ASSISTANT", "X-EVOLUTION-ASSISTANT"),
    "spouse_name": ("X-SPOUSE", "X-EVOLUTION-SPOUSE"),
}
_TEXT_X_READ = {
    **{alias: name for name, aliases in _ALIASES.items() for alias in aliases},
    **{prop: name for name, prop in _TEXT_X.items()},
}
_TEXT_X_PRIMARY = frozenset(_TEXT_X.values())
X_PROPERTIES: dict[str, str] = {
    **{prop: name for name, prop in _TEXT_X.items()},
    "X-OXSYNC-GENERATED (FN parameter)": "FN was generated: display_name is None",
    "X-OXSYNC-GENDER": "gender (vCard 3; v4 uses GENDER)",
    "X-OXSYNC-NUMBER-OF-CHILDREN": "number_of_children",
    "X-OX-USERFIELD-01 … 20": "user_fields",
    "X-OXSYNC-SENSITIVITY": "sensitivity PERSONAL (CLASS:PRIVATE is written too)",
    "X-OXSYNC-COLOR-LABEL": "color_label 0-10",
    "X-OXSYNC-LABEL": "address label (vCard 4; v3 uses LABEL)",
    "X-OXSYNC-ATTACHMENT": "attachments (base64, FMTTYPE and FILENAME parameters)",
    "X-ANNIVERSARY / X-MS-ANNIVERSARY": "anniversary in vCard 3 (v4 uses ANNIVERSARY)",
    "X-OXSYNC-CONTACT-UID / X-OXSYNC-EMAIL-SLOT (MEMBER parameters)": "list member reference",
}
"""Project-defined and vendor X- names this module writes, with the field each carries."""

_ADDRESSES = (
    ("business_address", "work", "business"),
    ("home_address", "home", "home"),
    ("other_address", "x-other", "other"),
)
_EMAIL_TYPES = (("email1", "work"), ("email2", "home"), ("email3", "x-other"))
_URLS = (("web_page", None), ("business_home_page", "work"), ("personal_home_page", "home"))
_IM_PROPS = (
    "X-MS-IMADDRESS",
    "IMPP",
    "X-JABBER",
    "X-AIM",
    "X-ICQ",
    "X-MSN",
    "X-YAHOO",
    "X-SKYPE",
    "X-SKYPE-USERNAME",
    "X-GOOGLE-TALK",
)
_IGNORED_TYPES = {"pref", "internet", "voice", "x400", "postal", "parcel", "dom", "intl"}
_NO_MAIL = "invalid:nomail"
_NEEDS_QUOTES = re.compile(r"[:;,]")
_USERFIELD = re.compile(r"X-OX-USERFIELD-(\d{1,2})")
_SPLIT_COMMA = re.compile(r"(?<!\\)((?:\\\\)*),")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SPLIT = re.compile(r"(?<!\\)((?:\\\\)*);")
_UNESCAPE = re.compile(r"\\(.)", re.S)
_NO_LINES: list[Any] = []  # shared: never appended to
_TEXT_X_ROWS = tuple((name, prop, name.startswith("email")) for name, prop in _TEXT_X.items())
_TEL_ROWS = tuple(
    (slot, "TEL;TYPE=" + ",".join(types), f"phones.{slot}") for slot, types in PHONE_TYPES.items()
)
_EMAIL_ROWS = tuple(
    (slot, f"EMAIL;TYPE=internet,{etype}", f"EMAIL;TYPE={etype}", f"emails.{slot}")
    for slot, etype in _EMAIL_TYPES
)
_DATE = re.compile(r"(\d{4}|--)-?(\d{2})-?(\d{2})(?:T.*)?")
_PHOTO_TYPES = {"JPEG": "image/jpeg", "JPG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif"}


# =========================================================================== writing


def record_to_vcard(record: r.Record, version: str = "3.0") -> bytes:
    """vCard text for a :class:`Contact` or :class:`DistributionList`."""
    if isinstance(record, r.Contact | r.DistributionList):
        return contact_to_vcard(record, version)
    raise MappingError(
        f"{type(record).__name__} has no vCard form",
        [FieldError("$", "only contacts and distribution lists are vCards")],
    )


def contact_to_vcard(record: r.Contact | r.DistributionList, version: str = "3.0") -> bytes:
    """vCard ``version`` ("3.0" or "4.0") text of a contact or a distribution list."""
    if version not in ("3.0", "4.0"):
        raise MappingError(
            "unsupported vCard version", [FieldError("version", f"{version!r} is not 3.0 or 4.0")]
        )
    out = _Writer(version)
    if isinstance(record, r.DistributionList):
        _write_list(out, record)
    else:
        _write_contact(out, record)
    out.errs.raise_if_any(f"cannot write {type(record).__name__} {record.uid!r} as vCard")
    return out.serialize()


class _Writer:
    """Collects content lines (values already escaped) and the field errors met.

    Lines are formatted here rather than through vobject objects: the values are escaped
    by this module anyway, and building vobject content lines cost 3 ms per card.
    """

    def __init__(self, version: str) -> None:
        self.v4 = version == "4.0"
        self.lines = [f"VERSION:{version}"]
        self.errs = _Errors()

    def add(self, name: str, value: str, params: dict[str, str | list[str]] | None = None) -> None:
        head = name.upper()
        for key, val in (params or {}).items():
            values = val if isinstance(val, list) else [_param(val)]
            head += f";{key}=" + ",".join(
                f'"{v}"' if _NEEDS_QUOTES.search(v) else v for v in values
            )
        self.lines.append(f"{head}:{value}")

    def text(
        self,
        name: str,
        value: str | None,
        path: str,
        params: dict[str, str | list[str]] | None = None,
    ) -> None:
        checked = _check_out(value, self.errs, path)
        if checked is not None:
            self.add(name, _escape(checked), params)

    def line(self, head: str, value: str | None, path: str) -> None:
        """``text`` with the name and parameters already formatted (hot loops)."""
        checked = _check_out(value, self.errs, path)
        if checked is not None:
            self.lines.append(f"{head}:{_escape(checked)}")

    def serialize(self) -> bytes:
        lines = ["BEGIN:VCARD", *self.lines, "END:VCARD"]
        return "".join([fold(line) for line in lines]).encode("utf-8")


def _write_common(out: _Writer, rec: r.Contact | r.DistributionList) -> None:
    if rec.uid is not None:
        out.text("UID", rec.uid, "uid")
    out.text("NOTE", rec.note, "note")
    if rec.categories:
        for i, cat in enumerate(rec.categories):
            if not cat or _check_out(cat, out.errs, f"categories[{i}]") is None:
                out.errs.add(f"categories[{i}]", "empty or invalid category")
        out.add("CATEGORIES", ",".join(_escape(c) for c in rec.categories))
    if rec.sensitivity is not r.Sensitivity.NORMAL:
        out.add(
            "CLASS", "CONFIDENTIAL" if rec.sensitivity is r.Sensitivity.CONFIDENTIAL else "PRIVATE"
        )
        if rec.sensitivity is r.Sensitivity.PERSONAL:
            out.add("X-OXSYNC-SENSITIVITY", "PERSONAL")
    if rec.color_label is not None:
        if not 0 <= rec.color_label <= 10:
            out.errs.add("color_label", f"{rec.color_label} is not within 0-10")
        out.add("X-OXSYNC-COLOR-LABEL", str(rec.color_label))
    if rec.last_modified is not None:
        out.add("REV", rec.last_modified.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ"))


def _write_list(out: _Writer, dl: r.DistributionList) -> None:
    if out.v4:
        out.add("KIND", "group")
    else:
        out.add("X-ADDRESSBOOKSERVER-KIND", "group")
        out.add("N", _escape(dl.display_name or "") + ";;;;")
    out.text("FN", dl.display_name or "", "display_name")
    if not dl.display_name:
        out.add("FN", "", {"X-OXSYNC-GENERATED": "TRUE"})
    _write_common(out, dl)
    prop = "MEMBER" if out.v4 else "X-ADDRESSBOOKSERVER-MEMBER"
    for i, m in enumerate(dl.members):
        path = f"members[{i}]"
        params: dict[str, str | list[str]] = {}
        if _check_out(m.display_name, out.errs, f"{path}.display_name"):
            params["CN"] = m.display_name or ""
        if m.email:
            if _check_out(m.email, out.errs, f"{path}.email") is None:
                continue
            value = "mailto:" + m.email
            if m.contact_uid:
                params["X-OXSYNC-CONTACT-UID"] = m.contact_uid
        elif m.contact_uid:
            value = "urn:uuid:" + m.contact_uid
        else:
            value = _NO_MAIL  # a name only (Apple's convention for "no address")
        if not 0 <= m.email_slot <= 3:
            out.errs.add(f"{path}.email_slot", f"{m.email_slot} is not within 0-3")
        elif m.email_slot:
            params["X-OXSYNC-EMAIL-SLOT"] = str(m.email_slot)
        out.add(prop, value, params)


def _write_contact(out: _Writer, c: r.Contact) -> None:
    names = [c.last_name, c.first_name, c.middle_name, c.title, c.suffix]
    for name, value in zip(
        ("last_name", "first_name", "middle_name", "title", "suffix"), names, strict=True
    ):
        _check_out(value, out.errs, name)
    out.add("N", ";".join(_escape(v or "") for v in names))
    if c.display_name:
        out.text("FN", c.display_name, "display_name")
    else:
        fallback = " ".join(v for v in (c.first_name, c.last_name) if v) or c.company or ""
        out.add("FN", _escape(fallback), {"X-OXSYNC-GENERATED": "TRUE"})
    out.text("NICKNAME", c.nickname, "nickname")
    out.text("TITLE", c.job_title, "job_title")
    out.text("ROLE", c.profession, "profession")
    if c.company or c.department:
        _check_out(c.company, out.errs, "company")
        _check_out(c.department, out.errs, "department")
        org = _escape(c.company or "")
        out.add("ORG", org + (";" + _escape(c.department) if c.department else ""))
    for name, prop, on_emails in _TEXT_X_ROWS:
        value = getattr(c.emails if on_emails else c, name)
        if value is not None:  # most are unset: skip the call
            out.text(prop, value, name)
    _write_date(out, "BDAY", c.birthday)
    _write_date(out, "ANNIVERSARY" if out.v4 else "X-ANNIVERSARY", c.anniversary)
    if c.anniversary and not out.v4:
        _write_date(out, "X-MS-ANNIVERSARY", c.anniversary)
    if c.gender:
        if out.v4:
            code = {"male": "M", "female": "F"}.get(c.gender)
            out.add("GENDER", code) if code else out.text("GENDER", c.gender, "gender")
        else:
            out.text("X-OXSYNC-GENDER", c.gender, "gender")
    if c.number_of_children is not None:
        out.add("X-OXSYNC-NUMBER-OF-CHILDREN", str(c.number_of_children))
    phones = c.phones
    for slot, head, path in _TEL_ROWS:
        value = getattr(phones, slot)
        if value is not None:
            out.line(head, value, path)
    for slot, head3, head4, path in _EMAIL_ROWS:
        value = getattr(c.emails, slot)
        if value is not None:
            out.line(head4 if out.v4 else head3, value, path)
    for name, atype, selected in _ADDRESSES:
        _write_address(out, name, atype, getattr(c, name), c.selected_mailing_address == selected)
    for name, utype in _URLS:
        out.text("URL", getattr(c, name), name, {"TYPE": utype} if utype else None)
    out.text("IMPP", c.im_address, "im_address")
    out.text("IMPP", c.im_address2, "im_address2", {"TYPE": "x-2nd"})
    for i, value in enumerate(c.user_fields):
        if i >= 20:
            out.errs.add("user_fields", "more than 20 user fields")
            break
        out.text(f"X-OX-USERFIELD-{i + 1:02d}", value, f"user_fields[{i}]")
    if c.photo is not None:
        _write_photo(out, c.photo)
    for i, att in enumerate(c.attachments):
        _check_out(att.filename, out.errs, f"attachments[{i}].filename")
        out.add(
            "X-OXSYNC-ATTACHMENT",
            base64.b64encode(att.data).decode("ascii"),
            {"ENCODING": "b", "FMTTYPE": att.content_type, "FILENAME": att.filename},
        )
    _write_common(out, c)


def _write_address(out: _Writer, name: str, atype: str, adr: r.Address, pref: bool) -> None:
    parts = [adr.po_box, None, adr.street, adr.city, adr.state, adr.postal_code, adr.country]
    if adr.label is None and all(p is None or p == "" for p in parts):
        return  # an empty address (most of them): nothing to check or write
    for field_name in ("po_box", "street", "city", "state", "postal_code", "country", "label"):
        _check_out(getattr(adr, field_name), out.errs, f"{name}.{field_name}")
    types = [atype, "pref"] if pref else [atype]
    if any(parts):
        out.add("ADR", ";".join(_escape(p or "") for p in parts), {"TYPE": types})
    if adr.label:
        out.text(
            "X-OXSYNC-LABEL" if out.v4 else "LABEL", adr.label, f"{name}.label", {"TYPE": atype}
        )


def _write_date(out: _Writer, prop: str, value: date | None) -> None:
    if value is None:
        return
    if value.year == 1604:  # Apple's "no year" placeholder
        out.add(
            prop,
            value.strftime("--%m%d") if out.v4 else value.isoformat(),
            None if out.v4 else {"X-APPLE-OMIT-YEAR": "1604"},
        )
    else:
        out.add(
            prop, f"{value.year:04d}{value:%m%d}" if out.v4 else f"{value.year:04d}-{value:%m-%d}"
        )


def _write_photo(out: _Writer, photo: r.Photo) -> None:
    if photo.content_type == "text/uri-list":
        out.add(
            "PHOTO", photo.data.decode("utf-8", "replace"), None if out.v4 else {"VALUE": "uri"}
        )
        return
    data = base64.b64encode(photo.data).decode("ascii")
    if out.v4:
        out.add("PHOTO", f"data:{photo.content_type};base64,{data}")
    else:
        subtype = photo.content_type.split("/")[-1].upper()
        out.add("PHOTO", data, {"ENCODING": "b", "TYPE": "JPEG" if subtype == "JPEG" else subtype})


# =========================================================================== reading


def vcard_to_records(data: bytes) -> list[r.Record]:
    """Every contact and list in ``data``; raises :class:`MappingError` naming each bad card."""
    results = vcard_to_results(data)
    failures = [x for x in results if isinstance(x, MappingError)]
    if failures:
        errors = [e for f in failures for e in f.errors]
        raise MappingError(f"{len(failures)} of {len(results)} vCards unreadable", errors)
    return [x for x in results if not isinstance(x, MappingError)]


def vcard_to_results(data: bytes) -> list[r.Record | MappingError]:
    """One result per vCard in ``data``: its record or a :class:`MappingError` explaining it.

    Content lines outside any ``BEGIN:VCARD`` ... ``END:VCARD`` (a card whose BEGIN line
    is damaged) are one failed result too, naming the UID they hold if any: nothing of a
    document is dropped without a word.
    """
    text = decode_document(data, "vCard")
    chunks = list(_cards(text))
    if not any(chunk[0].strip().upper() == "BEGIN:VCARD" for chunk in chunks):
        raise MappingError("no vCard found", [FieldError("$", "no BEGIN:VCARD ... END:VCARD")])
    return [
        _read_card(chunk)
        if chunk[0].strip().upper() == "BEGIN:VCARD"
        else MappingError(
            f"vCard {_label(chunk)} unreadable",
            [FieldError("$", f"{len(chunk)} line(s) outside BEGIN:VCARD ... END:VCARD")],
        )
        for chunk in chunks
    ]


def _cards(text: str) -> Iterator[list[str]]:
    """Split into the physical lines of each vCard, joining quoted-printable soft line
    breaks (v2.1) first."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    qp = "QUOTED-PRINTABLE" in text.upper()  # soft breaks only matter then
    current: list[str] | None = None
    outside: list[str] = []  # content lines between cards: a damaged card's
    depth = 0
    i = 0
    count = len(lines)
    while i < count:
        line = lines[i]
        if qp and line.endswith("=") and "QUOTED-PRINTABLE" in line.upper():
            joined = []  # soft line breaks, joined once (not quadratically)
            while line.endswith("=") and i + 1 < count:
                joined.append(line[:-1])
                i += 1
                line = lines[i]
            line = "".join(joined) + line
        i += 1
        upper = line.strip().upper()
        if upper == "BEGIN:VCARD":
            depth += 1
            if current is None:
                if outside:
                    yield outside
                    outside = []
                current = []
        if current is not None:
            current.append(line)
        elif upper and upper != "END:VCARD":  # blank lines and a stray END carry nothing
            outside.append(line)
        if upper == "END:VCARD" and current is not None:
            depth -= 1
            if depth == 0:
                yield current
                current = None
    if current is not None:
        yield current  # unterminated: the parser reports it
    elif outside:
        yield outside


def _read_card(chunk: list[str], split: Any = None) -> r.Record | MappingError:
    try:
        card = _parse(chunk, split)
    except MappingError as exc:
        return MappingError(f"vCard {_label(chunk)} unreadable", exc.errors)
    except Exception as exc:  # vobject raises ParseError and, on odd input, others
        return MappingError(f"vCard {_label(chunk)} unreadable", [FieldError("$", str(exc))])
    errs = _Errors()
    try:
        reader = _Reader(card, errs)
        record = reader.read()
    except MappingError as exc:
        return exc
    except Exception as exc:
        errs.add("$", f"{type(exc).__name__}: {exc}")
        record = None
    if errs.items or record is None:
        return MappingError(f"vCard {_label(chunk)} unreadable", errs.items)
    return record


def _label(chunk: list[str]) -> str:
    """How an error names a card: its UID if a line gives one."""
    uid_match = re.search(r"^UID[^:\n]*:(.*)$", "\n".join(chunk), re.M | re.I)
    return repr(uid_match.group(1).strip()) if uid_match else "(no UID)"


def _parse(chunk: list[str], split: Any = None) -> dict[str, list[_Line]]:
    """The content lines of one vCard by upper-case name, values still escaped
    (``encoded``) unless they were quoted-printable. vobject's value decoding is skipped on
    purpose: it keeps only the text before the first unescaped comma (``NOTE:Hello, world``
    would lose ", world"). ``split`` replaces :func:`_split_line` (the differential tests
    pass vobject's own line parser)."""
    split = split or _split_line
    lines: dict[str, list[_Line]] = {}
    depth = 0
    logical: list[str] = []
    pieces: list[str] = []  # joined once: a huge folded PHOTO must not copy quadratically
    for text in chunk:  # unfold (RFC 6350 §3.2): a leading blank continues the line
        if pieces and (text.startswith(" ") or text.startswith("\t")):
            pieces.append(text[1:])
        else:
            if pieces:
                logical.append(pieces[0] if len(pieces) == 1 else "".join(pieces))
            pieces = [text]
    if pieces:
        logical.append(pieces[0] if len(pieces) == 1 else "".join(pieces))
    for number, text in enumerate(logical, 1):
        if not text or text.isspace():
            continue
        name, params, value = split(text, number)
        upper = _UPPER.get(name) or _upper(name)
        if upper in ("BEGIN", "END"):
            depth += 1 if upper == "BEGIN" else -1
            continue
        if depth != 1:
            continue  # a nested vCard (AGENT) belongs to its own property
        line = _Line(upper, params, value)
        if upper in lines:
            lines[upper].append(line)
        else:
            lines[upper] = [line]
    if depth != 0:
        raise MappingError("unterminated vCard", [FieldError("$", "BEGIN:VCARD without END")])
    return lines


def _split_line(text: str, number: int) -> tuple[str, list[list[str]], str]:
    """Name, parameters and value of a content line. The common case (no quoted parameter)
    is split here; anything else goes through vobject's full parser."""
    colon = text.find(":")
    head = text[:colon]
    if colon <= 0 or '"' in head:
        name, params, value, _group = parseLine(text, number)
        return name, params, value
    if ";" not in head:  # most lines: no parameters
        return head.rpartition(".")[2].strip(), [], text[colon + 1 :]
    name, *raw_params = head.split(";")
    params = []
    for raw in raw_params:
        key, sep, values = raw.partition("=")
        params.append([key.strip(), *values.split(",")] if sep else [raw.strip()])
    return name.rpartition(".")[2].strip(), params, text[colon + 1 :]


_UPPER: dict[str, str] = {}  # property name -> upper case, bounded


def _upper(name: str) -> str:
    upper = name.upper()
    if len(_UPPER) < 4096:
        _UPPER[name] = upper
    return upper


def _library_line(text: str, number: int) -> tuple[str, list[list[str]], str]:
    """:func:`_split_line` done by vobject alone: the reference of the differential tests."""
    name, params, value, _group = parseLine(text, number)
    return name, params, value


class _Line:
    """One content line as vobject's ``parseLine`` splits it (its ContentLine objects cost
    more than the whole mapping); quoted-printable values are decoded here."""

    __slots__ = ("encoded", "name", "params", "singletonparams", "types", "value")

    def __init__(self, name: str, params: list[list[str]], value: str) -> None:
        self.name = name
        self.params: dict[str, list[str]] = {}
        self.singletonparams: list[str] = []
        self.types: set[str] | None = None  # TYPE values, computed when first asked
        self.value = value
        self.encoded = True  # backslash escapes still in the value
        if not params:
            return
        for param in params:
            if len(param) == 1:
                self.singletonparams.append(param[0])
            else:
                self.params.setdefault(param[0].upper(), []).extend(param[1:])
        qp = "QUOTED-PRINTABLE" in (p.upper() for p in self.params.get("ENCODING", [])) or (
            "QUOTED-PRINTABLE" in (p.upper() for p in self.singletonparams)
        )
        self.encoded = not qp
        if qp:
            charset = (self.params.get("CHARSET") or ["utf-8"])[0]
            try:
                self.value = quopri.decodestring(value.encode("utf-8")).decode(charset)
            except (LookupError, ValueError) as exc:  # UnicodeError; NUL in a name
                raise MappingError(
                    "bad quoted-printable value", [FieldError(name, f"cannot decode: {exc}")]
                ) from None


# the records' fast constructors (see records.constructor): a card builds four of them
_CONTACT = r.constructor(r.Contact)
_PHONES = r.constructor(r.Phones)
_EMAILS = r.constructor(r.Emails)
_ADDRESS = r.constructor(r.Address)


class _Reader:
    """Reads one parsed (undecoded) vCard into a record."""

    def __init__(self, card: dict[str, list[_Line]], errs: _Errors) -> None:
        self.errs = errs
        self.lines: dict[str, list[Any]] = card
        self.version = self.first_raw("VERSION") or "3.0"
        if self.version not in ("2.1", "3.0", "4.0"):
            errs.add("VERSION", f"vCard version {self.version!r} is not supported")

    # -- access -----------------------------------------------------------------

    def all(self, prop: str) -> list[Any]:
        return self.lines.get(prop, _NO_LINES)

    def first_raw(self, prop: str) -> str | None:
        lines = self.all(prop)
        return str(lines[0].value).strip() if lines else None

    def text(self, prop: str, path: str, line: Any = None) -> str | None:
        if line is None:
            lines = self.all(prop)
            if not lines:
                return None
            line = lines[0]
        return _check_in(_value(line), self.errs, path)

    # -- records ----------------------------------------------------------------

    def read(self) -> r.Record:
        kind = self.first_raw("KIND") or self.first_raw("X-ADDRESSBOOKSERVER-KIND") or ""
        if kind.lower() == "group":
            return self.read_list()
        return self.read_contact()

    def common(self) -> dict[str, Any]:
        cls = (self.first_raw("CLASS") or "PUBLIC").upper()
        sensitivity = {
            "PRIVATE": r.Sensitivity.PRIVATE,
            "CONFIDENTIAL": r.Sensitivity.CONFIDENTIAL,
        }.get(cls, r.Sensitivity.NORMAL)
        if (
            sensitivity is r.Sensitivity.PRIVATE
            and (self.first_raw("X-OXSYNC-SENSITIVITY") or "").upper() == "PERSONAL"
        ):
            sensitivity = r.Sensitivity.PERSONAL
        color = None
        raw = self.first_raw("X-OXSYNC-COLOR-LABEL")
        if raw is not None:
            label = ascii_int(raw)
            if label is not None and label <= 10:
                color = label
            else:
                self.errs.add("color_label", f"{raw!r} is not within 0-10")
        categories: list[str] = []
        for line in self.all("CATEGORIES"):
            categories.extend(c for c in _split(line, ",") if c)
        return {
            "uid": self.text("UID", "uid"),
            "note": self.note(),
            "categories": tuple(categories),
            "sensitivity": sensitivity,
            "color_label": color,
            "last_modified": _rev(self.first_raw("REV")),
        }

    def note(self) -> str | None:
        """NOTE may repeat (cardinality * in RFC 2426 and 6350); the record holds one note,
        so the texts are joined, a blank line apart, rather than all but one dropped."""
        texts = [_value(line) for line in self.all("NOTE")]
        return _check_in("\n\n".join(t for t in texts if t), self.errs, "note")

    def display_name(self) -> str | None:
        lines = self.all("FN")
        if not lines or str(lines[0].params.get("X-OXSYNC-GENERATED", [""])[0]).upper() == "TRUE":
            return None
        return self.text("FN", "display_name", lines[0])

    def read_list(self) -> r.DistributionList:
        members = []
        for i, line in enumerate(self.all("MEMBER") + self.all("X-ADDRESSBOOKSERVER-MEMBER")):
            path = f"members[{i}]"
            value = str(line.value).strip()
            params = {k.upper(): _unparam(v[0]) for k, v in line.params.items() if v}
            email = uid = None
            if value.lower().startswith("mailto:"):
                email = value[7:]
            elif value.lower().startswith("urn:uuid:"):
                uid = value[9:]
            elif value.lower() != _NO_MAIL:
                self.errs.add(path, f"member {value!r} is neither mailto: nor urn:uuid:")
                continue
            uid = params.get("X-OXSYNC-CONTACT-UID", uid)
            slot = params.get("X-OXSYNC-EMAIL-SLOT", "0")
            if slot not in ("0", "1", "2", "3"):
                self.errs.add(f"{path}.email_slot", f"{slot!r} is not within 0-3")
                slot = "0"
            members.append(
                r.DistributionListMember(
                    display_name=params.get("CN") or None,
                    email=email or None,
                    contact_uid=uid,
                    email_slot=int(slot),
                )
            )
        return r.DistributionList(
            display_name=self.display_name(), members=tuple(members), **self.common()
        )

    def read_contact(self) -> r.Contact:
        fields: dict[str, Any] = self.common()
        n_lines = self.all("N")
        if n_lines:
            parts = _split(n_lines[0], ";") + [""] * 5
            for name, value in zip(
                ("last_name", "first_name", "middle_name", "title", "suffix"), parts, strict=False
            ):
                fields[name] = _check_in(value, self.errs, name)
        fields["display_name"] = self.display_name()
        fields["nickname"] = self.text("NICKNAME", "nickname")
        fields["job_title"] = self.text("TITLE", "job_title")
        fields["profession"] = self.text("ROLE", "profession")
        if self.all("ORG"):
            org = [*_split(self.all("ORG")[0], ";"), "", ""]
            fields["company"] = _check_in(org[0], self.errs, "company")
            fields["department"] = _check_in(
                ";".join(o for o in org[1:] if o), self.errs, "department"
            )
        emails: dict[str, Any] = {}
        for prop, lines in self.lines.items():  # only the properties the card has
            wanted = _TEXT_X_READ.get(prop)
            if wanted is None:
                continue
            target = emails if wanted.startswith("email") else fields
            if prop in _TEXT_X_PRIMARY or not target.get(wanted):
                target[wanted] = self.text(prop, wanted, lines[0]) or target.get(wanted)
        fields["birthday"] = self.date("BDAY", "birthday")
        fields["anniversary"] = (
            self.date("ANNIVERSARY", "anniversary")
            or self.date("X-ANNIVERSARY", "anniversary")
            or self.date("X-MS-ANNIVERSARY", "anniversary")
            or self.date("X-EVOLUTION-ANNIVERSARY", "anniversary")
        )
        fields["gender"] = self.gender()
        raw_children = self.first_raw("X-OXSYNC-NUMBER-OF-CHILDREN")
        if raw_children is not None:
            children = ascii_int(raw_children)
            if children is not None:
                fields["number_of_children"] = children
            else:
                self.errs.add("number_of_children", f"{raw_children!r} is not a number")
        fields["phones"] = self.phones()
        fields["emails"] = self.emails(emails)
        fields.update(self.addresses())
        fields.update(self.urls())
        fields.update(self.instant_messaging())
        fields["user_fields"] = self.user_fields()
        fields["photo"] = self.photo()
        fields["attachments"] = self.attachments()
        return _CONTACT(**fields)

    # -- field groups -----------------------------------------------------------

    def date(self, prop: str, path: str) -> date | None:
        lines = self.all(prop)
        if not lines:
            return None
        raw = str(lines[0].value).strip()
        match = _DATE.fullmatch(raw)
        if not match:
            self.errs.add(path, f"{raw!r} is not a date")
            return None
        year = 1604 if match.group(1) == "--" else int(match.group(1))
        try:
            return date(year, int(match.group(2)), int(match.group(3)))
        except ValueError as exc:
            self.errs.add(path, f"{raw!r}: {exc}")
            return None

    def gender(self) -> str | None:
        raw = self.text("GENDER", "gender")
        if raw is not None:
            code, _, text = raw.partition(";")
            known = {"M": "male", "F": "female"}.get(code.strip().upper())
            return known or text or raw
        return self.text("X-OXSYNC-GENDER", "gender") or self.text("X-GENDER", "gender")

    def phones(self) -> r.Phones:
        lines = [(line, _types(line)) for line in self.all("TEL")]
        for line in self.all("X-MS-TEL"):
            lines.append((line, {"x-" + t for t in _types(line)}))
        for line in self.all("EMAIL"):
            if "tlx" in _types(line):
                lines.append((line, {"x-telex"}))
        slots: dict[str, str] = {}
        pending = []
        for line, types in lines:  # exact matches first, so they keep their slot
            exact = _PHONE_SLOTS_BY_SET.get(frozenset(types), ())
            slot = next((s for s in exact if s not in slots), None)
            if slot is None:
                pending.append((line, types))
            else:
                slots[slot] = self.text("", f"phones.{slot}", line) or ""
        for line, types in pending:
            slot = _closest_phone_slot(types, slots)
            if slot is None:
                self.errs.add(
                    "phones",
                    f"no free telephone slot for {_value(line)!r} "
                    f"(TYPE {','.join(sorted(types)) or 'none'})",
                )
                continue
            slots[slot] = self.text("", f"phones.{slot}", line) or ""
        return _PHONES(**{k: (_tel(v) or None) for k, v in slots.items()})

    def emails(self, extra: dict[str, Any]) -> r.Emails:
        found: dict[str, str | None] = {}
        pending = []
        for line in self.all("EMAIL"):
            types = _types(line)
            if "tlx" in types:
                continue
            slot = next((s for s, t in _EMAIL_TYPES if t in types and s not in found), None)
            if slot is None:
                pending.append(line)
            else:
                found[slot] = self.text("", f"emails.{slot}", line)
        for line in pending:
            slot = next((s for s, _ in _EMAIL_TYPES if s not in found), None)
            if slot is None:
                self.errs.add("emails", f"more than 3 e-mail addresses ({_value(line)!r})")
                continue
            found[slot] = self.text("", f"emails.{slot}", line)
        return _EMAILS(**found, **extra)

    def addresses(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        labels = {}
        for line in self.all("LABEL") + self.all("X-OXSYNC-LABEL"):
            labels[_address_slot(_types(line), set())] = self.text("", "label", line)
        taken: set[str] = set()
        selected = self.text("X-OXSYNC-MAILING-ADDRESS", "selected_mailing_address")
        for line in self.all("ADR"):
            types = _types(line)
            slot = _address_slot(types, taken)
            if slot is None:
                self.errs.add("addresses", f"more than 3 addresses ({_value(line)!r})")
                continue
            taken.add(slot)
            parts = _split(line, ";") + [""] * 7
            name = f"{slot}_address"
            values = {
                k: _check_in(v, self.errs, f"{name}.{k}")
                for k, v in zip(
                    ("po_box", "extended", "street", "city", "state", "postal_code", "country"),
                    parts,
                    strict=False,
                )
            }
            extended = values.pop("extended")
            if extended:
                values["street"] = "\n".join(x for x in (extended, values["street"]) if x)
            out[name] = _ADDRESS(**values, label=labels.pop(slot, None))
            if "pref" in _raw_types(line) and selected is None:
                selected = slot
        for slot, label in labels.items():
            if slot is not None:
                out[f"{slot}_address"] = r.Address(label=label)
        out["selected_mailing_address"] = selected
        return out

    def urls(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        pending = []
        for line in self.all("URL"):
            types = _types(line)
            slot = next(
                (n for n, t in _URLS if t is not None and t in types and n not in out), None
            )
            if slot is None and not types and "web_page" not in out:
                slot = "web_page"
            if slot is None:
                pending.append(line)
            else:
                out[slot] = self.text("", slot, line)
        for line in pending:
            slot = next((n for n, _ in _URLS if n not in out), None)
            if slot is None:
                self.errs.add("web_page", f"more than 3 web addresses ({_value(line)!r})")
                continue
            out[slot] = self.text("", slot, line)
        return out

    def instant_messaging(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        pending = []
        for line in (line for prop in _IM_PROPS for line in self.all(prop)):
            slot = "im_address2" if "x-2nd" in _types(line) else "im_address"
            if slot in out:
                pending.append(line)
            else:
                out[slot] = self.text("", slot, line)
        for line in pending:
            free = next((s for s in ("im_address", "im_address2") if s not in out), None)
            if free is None:
                self.errs.add(
                    "im_address", f"more than 2 instant messaging addresses ({_value(line)!r})"
                )
                continue
            out[free] = self.text("", free, line)
        return out

    def user_fields(self) -> tuple[str | None, ...]:
        values: dict[int, str | None] = {}
        for name, lines in self.lines.items():
            match = _USERFIELD.fullmatch(name) if name.startswith("X-OX-USERFIELD-") else None
            if match and 1 <= int(match.group(1)) <= 20:
                index = int(match.group(1)) - 1
                values[index] = self.text("", f"user_fields[{index}]", lines[0])
        if not values:
            return ()
        return tuple(values.get(i) for i in range(max(values) + 1))

    def photo(self) -> r.Photo | None:
        lines = self.all("PHOTO")
        if not lines:
            return None
        line = lines[0]
        raw = re.sub(r"\s+", "", str(line.value))
        params = {k.upper(): [str(x) for x in v] for k, v in line.params.items()}
        encoding = (params.get("ENCODING") or [""])[0].upper()
        try:
            if raw.lower().startswith("data:"):
                head, _, payload = raw.partition(",")
                ctype = head[5:].split(";")[0] or "application/octet-stream"
                if ";base64" not in head.lower():
                    self.errs.add("photo", "only base64 data URIs are supported")
                    return None
                return r.Photo(data=base64.b64decode(payload, validate=True), content_type=ctype)
            if encoding in ("B", "BASE64"):
                subtype = ((params.get("TYPE") or line.singletonparams or ["JPEG"])[0]).upper()
                ctype = _PHOTO_TYPES.get(subtype, "image/" + subtype.lower().removeprefix("image/"))
                return r.Photo(data=base64.b64decode(raw, validate=True), content_type=ctype)
        except (binascii.Error, ValueError) as exc:
            self.errs.add("photo", f"invalid base64 data: {exc}")
            return None
        return r.Photo(data=str(line.value).strip().encode(), content_type="text/uri-list")

    def attachments(self) -> tuple[r.Attachment, ...]:
        out = []
        for i, line in enumerate(self.all("X-OXSYNC-ATTACHMENT")):
            params = {k.upper(): _unparam(v[0]) for k, v in line.params.items() if v}
            try:
                data = base64.b64decode(re.sub(r"\s+", "", str(line.value)), validate=True)
            except (binascii.Error, ValueError):
                self.errs.add(f"attachments[{i}]", "invalid base64 data")
                continue
            out.append(
                r.Attachment(
                    filename=params.get("FILENAME") or "attachment",
                    content_type=params.get("FMTTYPE") or "application/octet-stream",
                    data=data,
                )
            )
        return tuple(out)


# --------------------------------------------------------------------------- helpers

_PHONE_SETS = {
    slot: frozenset(t for t in types if t != "voice") for slot, types in PHONE_TYPES.items()
}
_PHONE_SLOTS_BY_SET: dict[frozenset[str], tuple[str, ...]] = {}
for _slot, _set in _PHONE_SETS.items():  # slots in PHONE_TYPES order, by their TYPE set
    _PHONE_SLOTS_BY_SET[_set] = (*_PHONE_SLOTS_BY_SET.get(_set, ()), _slot)
_PHONE_FALLBACK = (
    "other",
    "primary",
    "callback",
    "radio",
    "company",
    "ip",
    "assistant",
    "car",
    "isdn",
    "pager",
    "telex",
    "ttytdd",
)
_FAX_FALLBACK = ("business_fax", "home_fax", "other_fax")


def _closest_phone_slot(types: set[str], taken: dict[str, str]) -> str | None:
    """The free slot whose TYPE set best matches ``types`` (a foreign producer's TEL)."""
    candidates = sorted(
        (s for s, t in _PHONE_SETS.items() if t - {"x-2nd"} <= types),
        key=lambda s: (-len(_PHONE_SETS[s] & types), "x-2nd" in _PHONE_SETS[s]),
    )
    fallback = _FAX_FALLBACK if "fax" in types else _PHONE_FALLBACK
    for slot in [*candidates, *fallback]:
        if slot not in taken and (_PHONE_SETS[slot] - {"x-2nd"} <= types or slot in fallback):
            return str(slot)
    return None


def _address_slot(types: set[str], taken: set[str]) -> str | None:
    for slot, atype in (("business", "work"), ("home", "home"), ("other", "x-other")):
        if atype in types and slot not in taken:
            return slot
    for slot in ("other", "home", "business"):
        if slot not in taken:
            return slot
    return None


def _raw_types(line: Any) -> set[str]:
    cached: set[str] | None = getattr(line, "types", None)
    if cached is not None:
        return cached
    found: set[str] = set()
    for value in [*line.params.get("TYPE", ()), *line.singletonparams]:
        value = str(value)
        if "," in value or '"' in value or value != value.strip():
            found.update(t.strip().strip('"').lower() for t in value.split(","))
        else:
            found.add(value.lower())
    if line.params.get("PREF"):
        found.add("pref")
    line.types = found
    return found


def _types(line: Any) -> set[str]:
    return _raw_types(line) - _IGNORED_TYPES


_TEL_URI = re.compile(r"(?i)^tel:(?=[+\d(*#])")


def _tel(value: str) -> str:
    # vCard 4 writes numbers as tel: URIs; strip the scheme only in front of a number, so a
    # plain text value such as "TEL:" (or "tel: ask reception") is kept as written.
    return _TEL_URI.sub("", value, count=1)


def _value(line: Any) -> str:
    """A text value: unescaped unless quoted-printable decoding already produced it."""
    text = str(line.value)
    if line.encoded and "\\" in text:
        text = _UNESCAPE.sub(_unescaped, text)
    return text.replace("\r\n", "\n") if "\r" in text else text


def _unescaped(match: re.Match[str]) -> str:
    return "\n" if match.group(1) in "nN" else match.group(1)


def _split(line: Any, sep: str) -> list[str]:
    """Split a structured value on unescaped ``sep`` and unescape each part."""
    text = str(line.value)
    if not line.encoded:
        return text.replace("\r\n", "\n").split(sep)
    if "\\" not in text:
        return text.split(sep)
    pattern = _SPLIT if sep == ";" else _SPLIT_COMMA
    parts = pattern.sub(lambda m: m.group(1) + "\x00", text).split("\x00")
    return [_UNESCAPE.sub(_unescaped, p) for p in parts]


def _param(text: str) -> str:
    """RFC 6868 parameter encoding (vobject refuses double quotes and newlines)."""
    return text.replace("^", "^^").replace("\n", "^n").replace('"', "^'")


def _unparam(text: str) -> str:
    return re.sub(
        r"\^(.)", lambda m: {"n": "\n", "'": '"', "^": "^"}.get(m.group(1), m.group(0)), text
    )


def _rev(raw: str | None) -> datetime | None:
    """REV is bookkeeping: an unreadable one is ignored rather than failing the card."""
    if not raw:
        return None
    digits = raw.replace("-", "").replace(":", "").rstrip("Z")
    try:
        return datetime.strptime(digits[:15], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None


class _Errors:
    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(FieldError(path, message))

    def raise_if_any(self, message: str) -> None:
        if self.items:
            raise MappingError(message, self.items)


def _limit(path: str) -> int:
    return MAX_NOTE_CHARS if path in ("note", "note_html") else MAX_TEXT_CHARS


def _check_out(value: str | None, errs: _Errors, path: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        errs.add(path, f"expected text, got {type(value).__name__}")
        return None
    if len(value) > MAX_TEXT_CHARS and len(value) > _limit(path):
        errs.add(path, f"{len(value)} characters, more than {_limit(path)}")
        return None
    if not value.isprintable() and (_CONTROL.search(value) or "\r" in value):
        errs.add(path, "contains a control character")
        return None
    return value


def _check_in(value: str | None, errs: _Errors, path: str) -> str | None:
    if not value:
        return None
    if len(value) > MAX_TEXT_CHARS and len(value) > _limit(path):
        errs.add(path, f"{len(value)} characters, more than {_limit(path)}")
        return None
    return value
