"""The plain text of an HTML note, as Outlook derives ``Body`` from ``HTMLBody``.

Outlook keeps an HTML item's plain text in step with its HTML: writing ``HTMLBody``
derives ``Body`` (and the RTF) from it. The Outlook mapping reads an HTML item's plain
note with this function rather than Outlook's own ``Body``, so the note read back is
exactly the one predicted (``OutlookStore.stored_form``), and the fake object model
(``oxsync.testing.outlook``) derives its ``Body`` with it too: block elements and ``<br>``
end lines, white space collapses as in HTML, scripts, styles and the head are hidden.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["text_of_html"]

_BLOCKS = frozenset({"p", "div", "li", "tr", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5",
                     "h6", "blockquote", "pre"})  # fmt: skip
_HIDDEN = frozenset({"head", "script", "style", "title"})
_SPACES = re.compile(r"\s+")


class _TextOfHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(_SPACES.sub(" ", data))  # HTML collapses white space


def text_of_html(source: str) -> str:
    """The plain text of an HTML body, its lines joined with CRLF (as in ``Body``)."""
    parser = _TextOfHtml()
    parser.feed(source)
    parser.close()
    lines = [line.strip() for line in "".join(parser.parts).split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return "\r\n".join(lines)
