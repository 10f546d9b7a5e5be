"""The Jet filter language of ``Items.Restrict`` / ``Table.Restrict`` (reference §4).

``[LastModificationTime] > '01/15/2024 3:30 PM'``: a property in brackets, an operator
(= <> < > <= >=), a value in single or double quotes (quotes doubled inside), a number
or True/False; AND / OR / NOT and parentheses. Dates are parsed with the machine's
short date/time format (``Application.date_format``), compared in local time **without
seconds** — a date string with seconds fails, like on Outlook. Filters on the
properties Outlook refuses (Body, Categories, EntryID, …) fail, and so do user-defined
properties not defined in the folder. DASL (``@SQL=``) is not supported by the fake.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from oxsync.testing.outlook._com import E_INVALIDARG, com_error

__all__ = ["FORBIDDEN", "Predicate", "compile_filter"]

Predicate = Callable[[Callable[[str], Any]], bool]
"""A compiled filter: called with a getter from property name to (naive local) value."""

FORBIDDEN = frozenset(
    {
        "Body",
        "HTMLBody",
        "Categories",
        "Class",
        "Companies",
        "Children",
        "ContactNames",
        "Contacts",
        "DLName",
        "EntryID",
        "Email1EntryID",
        "Email2EntryID",
        "Email3EntryID",
        "MemberCount",
        "RecurrenceState",
        "ResponseState",
        "Saved",
        "Sent",
        "BodyFormat",
        "IsConflict",
        "RTFBody",
        "ReceivedByEntryID",
        "ConversationIndex",
    }
)

_TOKEN = re.compile(
    r"""\s*(?:(?P<prop>\[[^\]]+\])|(?P<op><>|<=|>=|=|<|>)|(?P<lp>\()|(?P<rp>\))
    |'(?P<sq>(?:[^']|'')*)'|"(?P<dq>(?:[^"]|"")*)"|(?P<num>-?\d+(?:\.\d+)?)
    |(?P<word>[A-Za-z]+))""",
    re.VERBOSE,
)


def compile_filter(
    text: str,
    *,
    date_format: str,
    user_defined: set[str] | dict[str, int],
    known: Callable[[str], bool],
) -> Predicate:
    """Compile a Jet filter; raise ``com_error`` for what Outlook rejects."""
    if text.strip().startswith("@SQL="):
        raise com_error(E_INVALIDARG, "DASL filters are not supported by the fake")
    tokens = _tokenize(text)
    parser = _Parser(tokens, date_format, user_defined, known)
    predicate = parser.expr()
    if parser.pos != len(tokens):
        raise com_error(E_INVALIDARG, f"Cannot parse condition. Error at {tokens[parser.pos]}")
    return predicate


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m:
            raise com_error(E_INVALIDARG, f"Cannot parse condition. Error at {text[pos:]!r}")
        kind = m.lastgroup or ""
        value = m.group(kind)
        if kind == "sq":
            value, kind = value.replace("''", "'"), "str"
        elif kind == "dq":
            value, kind = value.replace('""', '"'), "str"
        tokens.append((kind, value))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(
        self,
        tokens: list[tuple[str, str]],
        date_format: str,
        user_defined: set[str] | dict[str, int],
        known: Callable[[str], bool],
    ):
        self.tokens = tokens
        self.pos = 0
        self.date_format = date_format
        self.user_defined = user_defined
        self.known = known

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("end", "")

    def take(self, kind: str) -> str:
        got = self.peek()
        if got[0] != kind:
            raise com_error(
                E_INVALIDARG, f"Cannot parse condition. Expected {kind}, got {got[1]!r}"
            )
        self.pos += 1
        return got[1]

    def word(self, w: str) -> bool:
        kind, value = self.peek()
        if kind == "word" and value.upper() == w:
            self.pos += 1
            return True
        return False

    def expr(self) -> Predicate:
        left = self.term()
        while self.word("OR"):
            right = self.term()
            left = (lambda a, b: lambda get: a(get) or b(get))(left, right)
        return left

    def term(self) -> Predicate:
        left = self.factor()
        while self.word("AND"):
            right = self.factor()
            left = (lambda a, b: lambda get: a(get) and b(get))(left, right)
        return left

    def factor(self) -> Predicate:
        if self.word("NOT"):
            inner = self.factor()
            return lambda get: not inner(get)
        if self.peek()[0] == "lp":
            self.pos += 1
            inner = self.expr()
            self.take("rp")
            return inner
        return self.comparison()

    def comparison(self) -> Predicate:
        name = self.take("prop")[1:-1].strip()
        if name in FORBIDDEN:
            raise com_error(E_INVALIDARG, f'The property "{name}" cannot be used in a filter.')
        if not self.known(name) and name not in self.user_defined:
            raise com_error(E_INVALIDARG, f'The property "{name}" in the condition is not valid.')
        op = self.take("op")
        kind, raw = self.peek()
        self.pos += 1
        value: Any
        if kind == "str":
            value = raw
        elif kind == "num":
            value = float(raw)
        elif kind == "word" and raw.upper() in ("TRUE", "FALSE"):
            value = raw.upper() == "TRUE"
        else:
            raise com_error(E_INVALIDARG, f"Cannot parse condition. Error at {raw!r}")
        date_format = self.date_format
        return lambda get: _compare(get(name), op, value, date_format)


def _parse_date(text: str, date_format: str) -> datetime:
    date_only = date_format.split(" ")[0]
    for fmt in (date_format, date_only):
        try:
            return datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
    raise com_error(E_INVALIDARG, f'Cannot parse condition. Error at "{text}".')


def _compare(actual: Any, op: str, wanted: Any, date_format: str) -> bool:
    if isinstance(actual, datetime):
        if not isinstance(wanted, str):
            raise com_error(E_INVALIDARG, "type mismatch: a date needs a quoted date string")
        wanted = _parse_date(wanted, date_format)
        actual = actual.replace(tzinfo=None, second=0, microsecond=0)
    elif isinstance(actual, bool):
        wanted = bool(wanted)
    elif isinstance(actual, int | float):
        try:
            wanted = float(wanted)
        except ValueError:
            raise com_error(E_INVALIDARG, "type mismatch in condition") from None
    else:
        actual, wanted = str(actual or "").lower(), str(wanted).lower()
    if op == "=":
        return bool(actual == wanted)
    if op == "<>":
        return bool(actual != wanted)
    if op == "<":
        return bool(actual < wanted)
    if op == ">":
        return bool(actual > wanted)
    if op == "<=":
        return bool(actual <= wanted)
    return bool(actual >= wanted)
