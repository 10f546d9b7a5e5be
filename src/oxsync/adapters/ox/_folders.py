"""OX folder elements <-> :class:`~oxsync.core.records.Folder`.

Only calendar, contact and task folders exist for WebDAV/XML. System parents (0-5) are
not listed by OX, so a folder under them gets ``parent_id=None``. Shared folders (another
user's private folder) are named "Owner – Folder" as the OXtender showed them; the global
address book (6) is a read-only system folder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from oxsync.adapters.ox._codec import Element, OXResponse, add, child_text, children, local
from oxsync.core.records import Folder, FolderKind, FolderType, Permission
from oxsync.errors import ProtocolError

__all__ = ["MODULE_OF", "SERVLET_OF", "folder_from", "permissions_element", "sort_parents_first"]

MODULE_OF = {
    FolderKind.CONTACTS: "contact",
    FolderKind.CALENDAR: "calendar",
    FolderKind.TASKS: "task",
}
"""Folder kind -> OX module name."""
_KIND_OF = {v: k for k, v in MODULE_OF.items()}
SERVLET_OF = {
    FolderKind.CONTACTS: "contacts",
    FolderKind.CALENDAR: "calendar",
    FolderKind.TASKS: "tasks",
}
"""Folder kind -> servlet (``/servlet/webdav.<servlet>``)."""
_SYSTEM = {"0", "1", "2", "3", "4", "5"}
_GAL = "6"
_ATTRS = (
    "folderpermission",
    "objectreadpermission",
    "objectwritepermission",
    "objectdeletepermission",
)
_OX = "{http://www.open-xchange.org}"


def _bool(text: str | None) -> bool:
    return (text or "").strip().lower() == "true"


def _permissions(prop: Element) -> tuple[Permission, ...]:
    out = []
    for holder in children(prop, "permissions"):
        for entry in holder:
            kind = local(entry)
            if kind not in ("user", "group"):
                continue
            try:
                levels = [int(entry.get(_OX + a) or entry.get(a) or "0") for a in _ATTRS]
            except ValueError:
                raise ProtocolError("unreadable folder permission levels") from None
            admin = _bool(entry.get(_OX + "admin_flag") or entry.get("admin_flag"))
            out.append(
                Permission(
                    entity=(entry.text or "").strip(),
                    is_group=kind == "group",
                    folder_level=levels[0],
                    read_level=levels[1],
                    write_level=levels[2],
                    delete_level=levels[3],
                    admin=admin,
                )
            )
    return tuple(out)


def folder_from(
    resp: OXResponse,
    me: str | None,
    my_groups: Iterable[str],
    owner_name: Callable[[str], str | None],
) -> Folder | None:
    """The :class:`Folder` of a CREATE entry (``None`` for modules WebDAV/XML lacks)."""
    prop = resp.prop
    kind = _KIND_OF.get((child_text(prop, "module") or "").lower())
    if kind is None:
        return None
    folder_id = child_text(prop, "object_id") or resp.href
    parent = child_text(prop, "folder_id")
    ox_type = (child_text(prop, "type") or "private").lower()
    title = child_text(prop, "title") or f"no folder name {folder_id}"
    owner = child_text(prop, "owner")
    permissions = _permissions(prop)
    if folder_id == _GAL:
        ftype = FolderType.SYSTEM
    else:
        ftype = {"shared": FolderType.SHARED, "public": FolderType.PUBLIC}.get(
            ox_type, FolderType.PRIVATE
        )
    if ftype is FolderType.SHARED and owner:
        title = f"{owner_name(owner) or owner} – {title}"
    groups = set(my_groups) | {"0"}
    mine = [
        p
        for p in permissions
        if (p.is_group and p.entity in groups) or (not p.is_group and p.entity == me)
    ]
    create = max((p.folder_level for p in mine), default=0)
    write = max((p.write_level for p in mine), default=0)
    read_only = folder_id == _GAL or (me is not None and (create < 4 or write < 2))
    return Folder(
        id=folder_id,
        name=title,
        kind=kind,
        parent_id=None if parent in _SYSTEM or parent is None else parent,
        type=ftype,
        is_default=_bool(child_text(prop, "defaultfolder")),
        owner=owner,
        permissions=permissions,
        read_only=read_only,
    )


def sort_parents_first(folders: Sequence[Folder]) -> list[Folder]:
    """Folders ordered so that a listed parent comes before its children."""
    by_id = {f.id: f for f in folders}
    out: list[Folder] = []
    done: set[str] = set()
    for folder in sorted(folders, key=lambda f: (len(f.id), f.id)):
        # a loop, not recursion: a server may nest folders thousands deep, or in a cycle
        chain: list[Folder] = []
        seen: set[str] = set()
        node: Folder | None = folder
        while node is not None and node.id not in done and node.id not in seen:
            chain.append(node)
            seen.add(node.id)
            node = by_id.get(node.parent_id or "")
        for found in reversed(chain):
            done.add(found.id)
            out.append(found)
    return out


def permissions_element(prop: Element, permissions: Sequence[Permission]) -> None:
    """Append ``ox:permissions`` for ``permissions`` to a folder's ``D:prop``."""
    holder = add(prop, "permissions")
    for p in permissions:
        entry = add(holder, "group" if p.is_group else "user", p.entity)
        for attr, value in zip(
            _ATTRS, (p.folder_level, p.read_level, p.write_level, p.delete_level), strict=True
        ):
            entry.set(_OX + attr, str(value))
        entry.set(_OX + "admin_flag", str(p.admin).lower())
