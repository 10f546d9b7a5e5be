"""OX folder permissions <-> Outlook's permission roles, in one table.

OX grants four levels per entity (folder, read, write, delete; OCLPermission numbers:
folder 0 none, 2 see, 4 create objects, 8 create subfolders, 128 admin; objects 0 none,
2 own, 4 all, 128 admin) plus an admin flag. Outlook offers eight named roles. The role
definitions are Microsoft's (MS-OXWSFOLD PermissionLevelType); the mapping onto OX levels
is ours (reference §4): the OXtender's own table was never published.

    >>> role_of(Permission(entity="17", folder_level=2, read_level=4))
    <OutlookRole.REVIEWER: 'reviewer'>
    >>> permission_for(OutlookRole.AUTHOR, "17").write_level
    2
"""

from __future__ import annotations

import enum

from oxsync.core.records import Permission

__all__ = ["ROLE_LEVELS", "OutlookRole", "permission_for", "role_of"]


class OutlookRole(enum.Enum):
    """Outlook's folder permission roles (``CUSTOM`` = no role matches)."""

    NONE = "none"
    CONTRIBUTOR = "contributor"
    REVIEWER = "reviewer"
    NONEDITING_AUTHOR = "nonediting_author"
    AUTHOR = "author"
    PUBLISHING_AUTHOR = "publishing_author"
    EDITOR = "editor"
    PUBLISHING_EDITOR = "publishing_editor"
    OWNER = "owner"
    CUSTOM = "custom"


ROLE_LEVELS: dict[OutlookRole, tuple[int, int, int, int, bool]] = {
    # role:                          folder read write delete admin
    OutlookRole.NONE: (0, 0, 0, 0, False),
    OutlookRole.CONTRIBUTOR: (4, 0, 0, 0, False),
    OutlookRole.REVIEWER: (2, 4, 0, 0, False),
    OutlookRole.NONEDITING_AUTHOR: (4, 4, 0, 2, False),
    OutlookRole.AUTHOR: (4, 4, 2, 2, False),
    OutlookRole.PUBLISHING_AUTHOR: (8, 4, 2, 2, False),
    OutlookRole.EDITOR: (4, 4, 4, 4, False),
    OutlookRole.PUBLISHING_EDITOR: (8, 4, 4, 4, False),
    OutlookRole.OWNER: (128, 128, 128, 128, True),
}
"""Outlook role -> OX levels (folder, read, write, delete, admin flag)."""


def permission_for(role: OutlookRole, entity: str, *, is_group: bool = False) -> Permission:
    """The OX permission entry granting ``role`` to ``entity``."""
    if role is OutlookRole.CUSTOM:
        raise ValueError("CUSTOM has no fixed levels; build the Permission directly")
    fp, rp, wp, dp, admin = ROLE_LEVELS[role]
    return Permission(
        entity=entity,
        is_group=is_group,
        folder_level=fp,
        read_level=rp,
        write_level=wp,
        delete_level=dp,
        admin=admin,
    )


def _level(value: int) -> int:
    # 128 (admin/max) counts as "all" for objects and "subfolders" for the folder.
    return min(value, 4)


def role_of(permission: Permission) -> OutlookRole:
    """The Outlook role with exactly these levels; owner-like levels give OWNER.

    Owner also accepts the 8/4/4/4 + admin form. Anything else (e.g. read own only) is
    ``CUSTOM``.
    """
    p = permission
    if p.admin and p.folder_level >= 8 and min(p.read_level, p.write_level, p.delete_level) >= 4:
        return OutlookRole.OWNER
    folder = 8 if p.folder_level >= 8 else p.folder_level
    key = (folder, _level(p.read_level), _level(p.write_level), _level(p.delete_level), p.admin)
    for role, levels in ROLE_LEVELS.items():
        if role is not OutlookRole.OWNER and levels == key:
            return role
    return OutlookRole.CUSTOM
