"""The test server's behaviour: OX rules for folders, objects and permissions.

:class:`OXBackend` holds the context (users, groups, resources, folders, objects) behind
one lock. The WSGI layer calls its protocol methods with the authenticated user; tests
call the same methods through the admin API to act "as another user would", so both paths
share every rule: permissions, stale ``last_modified`` (``[1000]``), the in-batch
last-modified cache, calendar sanitising, appointment conflicts (``[1006]``), tombstones
and push notifications.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote

from lxml import etree  # type: ignore[import-untyped]

from oxsync.testing.oxserver._model import (
    GAL_FOLDER,
    Clock,
    OXAttachment,
    OXFolder,
    OXGroup,
    OXObject,
    OXPermission,
    OXResource,
    OXUser,
    Tombstone,
)
from oxsync.testing.oxserver._rules import (
    OBJECT_LEVEL,
    OWNER_RIGHTS,
    RECURRENCE,
    Conflict,
    LastModifiedCache,
    OXFault,
    element,
    elements,
    free_or_full,
    int_field,
    is_empty,
    parse_permissions,
    sanitise,
)
from oxsync.testing.oxserver._xml import (
    OX,
    Element,
    bool_of,
    children,
    int_of,
    local,
    render_fields,
    text_of,
)

__all__ = ["OXBackend"]


def _dates_of(el: Element | None) -> set[int]:
    """The ms values of a comma-separated exceptions element."""
    if el is None or not (el.text or "").strip():
        return set()
    try:
        return {int(part) for part in el.text.split(",") if part.strip()}
    except ValueError:
        raise OXFault(1100) from None


_ATTACHMENT_MODULES = {1: "calendar", 4: "task", 7: "contact"}
"""OX module type ids (Types.java) of the attachments servlet -> folder module."""

Notify = Callable[[int, set[int]], None]


class OXBackend:
    """An OX context in memory. All public methods are thread-safe."""

    def __init__(self, *, version: str = "6.22.0-Rev1", context_id: int = 1) -> None:
        self.version = version
        self.context_id = context_id
        self.clock = Clock()
        self.lock = threading.RLock()
        self.notify: Notify | None = None
        self.users: dict[int, OXUser] = {}
        self.groups: dict[int, OXGroup] = {}
        self.resources: dict[int, OXResource] = {}
        self.folders: dict[int, OXFolder] = {}
        self.objects: dict[int, OXObject] = {}
        self.by_folder: dict[int, dict[int, OXObject]] = {}
        self.tombstones: dict[int, list[Tombstone]] = {}
        self.attachments: dict[int, OXAttachment] = {}
        # series id -> its change exceptions (objects of their own), by object id
        self.change_exceptions: dict[int, dict[int, OXObject]] = {}
        self._ids = {"user": 2, "group": 10, "resource": 100, "folder": 20, "object": 1}
        now = self.clock.now()
        gal = OXFolder(
            GAL_FOLDER,
            5,
            "Global Address Book",
            "contact",
            owner=0,
            type="public",
            default=False,
            creation_time=now,
            last_modified=now,
            permissions=[OXPermission(0, group=True, folder=2, read=4)],
        )
        self._add_folder(gal)

    # ------------------------------------------------------------------ ids, helpers

    def _next(self, what: str) -> int:
        value = self._ids[what]
        self._ids[what] = value + 1
        return value

    def _add_folder(self, folder: OXFolder) -> OXFolder:
        self.folders[folder.id] = folder
        self.by_folder.setdefault(folder.id, {})
        return folder

    def user(self, login: str) -> OXUser:
        """The user with ``login`` (case-insensitive); KeyError if none."""
        for user in self.users.values():
            if user.login == login.lower():
                return user
        raise KeyError(login)

    def readers(self, folder: OXFolder) -> set[int]:
        """Users that may see ``folder`` and read objects in it (push recipients)."""
        out = set()
        for user in self.users.values():
            rights = folder.rights(user)
            if rights.sees and rights.read >= 2:
                out.add(user.id)
        return out

    def _push(self, folder_id: int, users: set[int]) -> None:
        if self.notify is not None and users:
            self.notify(folder_id, users)

    def _touched(self, obj: OXObject) -> None:
        obj.fragment = None
        obj.body = render_fields(obj.fields.values())
        self._push(obj.folder, self.readers(self.folders[obj.folder]))

    # ------------------------------------------------------------------ admin API

    def add_user(
        self,
        login: str,
        password: str,
        *,
        display_name: str | None = None,
        email: str | None = None,
        modules: Iterable[str] | None = None,
    ) -> OXUser:
        """Create a user with a GAL entry and default contact, calendar and task folders."""
        with self.lock:
            now = self.clock.now()
            uid = self._next("user")
            user = OXUser(
                uid,
                login.lower(),
                password,
                display_name or login.title(),
                email or f"{login.lower()}@example.org",
                last_modified=now,
            )
            if modules is not None:
                user.modules = set(modules)
            self.users[uid] = user
            gal_fields = {
                "displayname": user.display_name,
                "last_name": user.display_name,
                "email1": user.email,
                "distributionlist_flag": "false",
            }
            contact = self._new_object(GAL_FOLDER, "contact", elements(gal_fields), uid, now)
            user.contact_id = contact.id
            for module, title in (
                ("contact", "Contacts"),
                ("calendar", "Calendar"),
                ("task", "Tasks"),
            ):
                self._add_folder(
                    OXFolder(
                        self._next("folder"),
                        1,
                        title,
                        module,
                        owner=uid,
                        default=True,
                        permissions=[OXPermission(uid, False, *OWNER_RIGHTS)],
                        created_by=uid,
                        modified_by=uid,
                        creation_time=now,
                        last_modified=now,
                    )
                )
            return user

    def add_group(self, name: str, members: Iterable[str] = ()) -> OXGroup:
        """Create a group of the users with the given logins."""
        with self.lock:
            group = OXGroup(self._next("group"), name, last_modified=self.clock.now())
            for login in members:
                user = self.user(login)
                group.members.add(user.id)
                user.groups.add(group.id)
            self.groups[group.id] = group
            return group

    def add_resource(self, name: str, email: str | None = None) -> OXResource:
        """Create a bookable resource."""
        with self.lock:
            rid = self._next("resource")
            address = email or f"{name.lower().replace(' ', '.')}@resource.example.org"
            resource = OXResource(rid, name, address, self.clock.now())
            self.resources[rid] = resource
            return resource

    def default_folder(self, login: str, module: str) -> int:
        """Id of the default folder of ``module`` (contact|calendar|task) of a user."""
        with self.lock:
            owner = self.user(login).id
            for folder in self.folders.values():
                if folder.default and folder.owner == owner and folder.module == module:
                    return folder.id
            raise KeyError((login, module))

    def add_folder(
        self,
        owner: str,
        title: str,
        module: str,
        *,
        parent: int | None = None,
        public: bool = False,
        permissions: Iterable[OXPermission] | None = None,
    ) -> OXFolder:
        """Create a folder owned by ``owner`` (admin API: no permission check)."""
        with self.lock:
            user = self.user(owner)
            now = self.clock.now()
            perms = (
                list(permissions)
                if permissions is not None
                else [OXPermission(user.id, False, *OWNER_RIGHTS)]
            )
            folder = self._add_folder(
                OXFolder(
                    self._next("folder"),
                    parent or (2 if public else 1),
                    title,
                    module,
                    owner=user.id,
                    type="public" if public else "private",
                    permissions=perms,
                    created_by=user.id,
                    modified_by=user.id,
                    creation_time=now,
                    last_modified=now,
                )
            )
            self._push(folder.parent, self.readers(folder))
            return folder

    def share(self, folder_id: int, permissions: Iterable[OXPermission]) -> None:
        """Replace a folder's permissions (admin API); users losing sight get a DELETE."""
        with self.lock:
            folder = self.folders[folder_id]
            before = self.readers(folder)
            folder.permissions = list(permissions)
            folder.last_modified = self.clock.now()
            self._push(folder.parent, before | self.readers(folder))

    def save(
        self,
        login: str,
        folder_id: int,
        fields: Mapping[str, Any],
        *,
        object_id: int | None = None,
        ignore_conflicts: bool = True,
    ) -> OXObject:
        """Create or update an object as user ``login`` would over WebDAV (OX rules apply).

        ``fields`` maps element names to text (``None`` or ``""`` clears) or lxml elements.
        Raises :class:`OXFault` exactly where the protocol would answer an error.
        """
        with self.lock:
            folder = self.folders[folder_id]
            req = elements(fields)
            req["folder_id"] = element("folder_id", folder_id)
            if object_id is not None:
                req["object_id"] = element("object_id", object_id)
                req["last_modified"] = element(
                    "last_modified", self.objects[object_id].last_modified
                )
            if ignore_conflicts:
                req["ignore_conflicts"] = element("ignore_conflicts", "true")
            if folder.module in ("calendar", "task") and "alarm_flag" not in req:
                req["alarm_flag"] = element("alarm_flag", "true" if "alarm" in req else "false")
            servlet = {"contact": "contacts", "calendar": "calendar", "task": "tasks"}
            return self.object_op(
                self.user(login), servlet[folder.module], req, LastModifiedCache()
            )[0]

    def delete(self, login: str, object_id: int) -> None:
        """Delete an object as user ``login`` (permission rules apply)."""
        with self.lock:
            obj = self.objects[object_id]
            req = {
                "object_id": element("object_id", object_id),
                "folder_id": element("folder_id", obj.folder),
                "last_modified": element("last_modified", obj.last_modified),
                "method": element("method", "DELETE"),
            }
            servlet = {"contact": "contacts", "calendar": "calendar", "task": "tasks"}
            self.object_op(self.user(login), servlet[obj.module], req, LastModifiedCache())

    def objects_in(self, folder_id: int) -> list[OXObject]:
        """The objects of a folder, by id."""
        with self.lock:
            return sorted(self.by_folder.get(folder_id, {}).values(), key=lambda o: o.id)

    # ------------------------------------------------------------------ objects

    def _new_object(
        self, folder: int, module: str, fields: dict[str, Element], user: int, now: int
    ) -> OXObject:
        obj = OXObject(self._next("object"), folder, module, fields, user, user, now, now)
        obj.body = render_fields(fields.values())
        self.objects[obj.id] = obj
        self.by_folder.setdefault(folder, {})[obj.id] = obj
        return obj

    def visible_folder(self, user: OXUser, folder_id: int | None, module: str) -> OXFolder:
        """The folder ``folder_id`` if ``user`` sees it and it holds ``module``."""
        if folder_id is None:
            raise OXFault(1004)
        folder = self.folders.get(folder_id)
        if folder is None or folder.deleted or folder.module != module:
            raise OXFault(1001)
        if not folder.rights(user).sees:
            raise OXFault(1002)
        return folder

    def hidden_from(self, user: OXUser, obj: OXObject) -> bool:
        """A private appointment created by someone else."""
        return obj.module == "calendar" and obj.private and obj.created_by != user.id

    def listing(
        self,
        user: OXUser,
        module: str,
        folder_id: int | None,
        lastsync: int,
        *,
        modified: bool,
        deleted: bool,
        full_list: bool,
    ) -> tuple[list[tuple[int, int]], list[OXObject], list[int] | None]:
        """(DELETE entries, CREATE entries, LIST ids or None) for a folder since ``lastsync``."""
        with self.lock:
            folder = self.visible_folder(user, folder_id, module)
            rights = folder.rights(user)
            present = self.by_folder.get(folder.id, {})
            dels: list[tuple[int, int]] = []
            creates: list[OXObject] = []
            ids: list[int] = []
            read_all = rights.read >= 4
            for obj in present.values():
                if not read_all and not rights.may(rights.read, obj.created_by == user.id):
                    continue
                if module == "calendar" and self.hidden_from(user, obj):
                    if deleted and obj.last_modified > lastsync:
                        dels.append((obj.id, obj.last_modified))
                    continue
                ids.append(obj.id)
                if modified and obj.last_modified > lastsync:
                    creates.append(obj)
            if deleted:
                for tomb in self.tombstones.get(folder.id, ()):
                    if tomb.last_modified > lastsync and tomb.id not in present:
                        dels.append((tomb.id, tomb.last_modified))
            return dels, creates, (ids if full_list else None)

    def get(self, user: OXUser, module: str, object_id: int, folder_id: int | None) -> OXObject:
        """One object the user may read; :class:`OXFault` 1001 otherwise."""
        with self.lock:
            obj = self.objects.get(object_id)
            if obj is None or (folder_id is not None and obj.folder != folder_id):
                raise OXFault(1001)
            folder = self.visible_folder(user, obj.folder, module)
            rights = folder.rights(user)
            if not rights.may(rights.read, obj.created_by == user.id):
                raise OXFault(1002)
            if self.hidden_from(user, obj):
                raise OXFault(1001)
            return obj

    def object_op(
        self, user: OXUser, servlet: str, req: dict[str, Element], cache: LastModifiedCache
    ) -> tuple[OXObject, tuple[Conflict, ...]]:
        """Run one ``D:set`` block of an object servlet. Raises :class:`OXFault`."""
        module = {"contacts": "contact", "calendar": "calendar", "tasks": "task"}[servlet]
        method = (text_of(req, "method") or "SAVE").upper()
        with self.lock:
            folder = self.visible_folder(user, int_of(req, "folder_id"), module)
            object_id = int_of(req, "object_id")
            if method == "SAVE" and object_id is None:
                if module == "calendar" and (int_of(req, "recurrence_id") or 0) > 0:
                    return self._create_exception(user, folder, req, cache), ()
                return self._create(user, folder, module, req)
            if object_id is None:
                raise OXFault(1004)
            obj = self.objects.get(object_id)
            if obj is None or obj.folder != folder.id:
                raise OXFault(1001)
            rights = folder.rights(user)
            own = obj.created_by == user.id
            if not rights.may(rights.read, own) or self.hidden_from(user, obj):
                raise OXFault(1001) if self.hidden_from(user, obj) else OXFault(1002)
            if method == "CONFIRM":
                if module == "contact":
                    raise OXFault(1100)
                return self._confirm(user, obj, req), ()
            sent = int_of(req, "last_modified")
            if sent is None:
                raise OXFault(1004)
            if obj.last_modified > cache.effective(obj.id, sent):
                raise OXFault(1000)
            if method == "DELETE":
                if not rights.may(rights.delete, own):
                    raise OXFault(1002)
                if obj.is_exception:
                    self._remove_exception(user, obj, cache)
                else:
                    self._remove(obj, self.clock.now())
                return obj, ()
            if method != "SAVE":
                raise OXFault(1100)
            if not rights.may(rights.write, own):
                raise OXFault(1002)
            result = self._update(user, obj, folder, req)
            cache.remember(obj.id, sent, result[0].last_modified)
            return result

    def _create(
        self, user: OXUser, folder: OXFolder, module: str, req: dict[str, Element]
    ) -> tuple[OXObject, tuple[Conflict, ...]]:
        if folder.rights(user).folder < 4:
            raise OXFault(1002)
        fields = {
            name: copy.deepcopy(el)
            for name, el in req.items()
            if name not in OBJECT_LEVEL and not is_empty(el)
        }
        fields.pop("changeexceptions", None)  # kept by the server from the exception objects
        sanitise(module, req, fields, create=True)
        conflicts = self._conflicts(user, None, module, fields, req, user.id)
        now = self.clock.now()
        obj = self._new_object(folder.id, module, fields, user.id, now)
        self._touched(obj)
        return obj, conflicts

    def _update(
        self, user: OXUser, obj: OXObject, folder: OXFolder, req: dict[str, Element]
    ) -> tuple[OXObject, tuple[Conflict, ...]]:
        target = int_of(req, "folder")
        target_folder = None
        if obj.is_exception and target is not None and target != obj.folder:
            raise OXFault(1100)  # an exception moves with its series, never alone [I]
        if target is not None and target != obj.folder:
            target_folder = self.visible_folder(user, target, obj.module)
            rights = folder.rights(user)
            if target_folder.rights(user).folder < 4 or not rights.may(
                rights.delete, obj.created_by == user.id
            ):
                raise OXFault(1002)
        fields = dict(obj.fields)
        for name, el in req.items():
            if name in OBJECT_LEVEL:
                continue
            if is_empty(el):
                fields.pop(name, None)
            else:
                fields[name] = copy.deepcopy(el)
        sanitise(obj.module, req, fields, create=False)
        if obj.is_exception:
            # an exception is one occurrence: no pattern of its own, its position is fixed
            for name in (*RECURRENCE, "recurrence_date_position"):
                fields.pop(name, None)
            fields["recurrence_date_position"] = obj.fields["recurrence_date_position"]
            conflicts: tuple[Conflict, ...] = ()
        else:
            fields.pop("changeexceptions", None)
            if "changeexceptions" in obj.fields and "recurrence_type" in fields:
                fields["changeexceptions"] = obj.fields["changeexceptions"]
            conflicts = self._conflicts(user, obj.id, obj.module, fields, req, obj.created_by)
        now = self.clock.now()
        obj.fields = fields
        obj.modified_by, obj.last_modified = user.id, now
        if target_folder is not None:
            for moving in [obj, *self.change_exceptions.get(obj.id, {}).values()]:
                old = moving.folder
                self.by_folder[old].pop(moving.id, None)
                self.tombstones.setdefault(old, []).append(
                    Tombstone(moving.id, old, now, moving.module)
                )
                moving.folder = target_folder.id
                self.by_folder.setdefault(moving.folder, {})[moving.id] = moving
                if moving is not obj:
                    moving.last_modified = now
                    self._touched(moving)
            self._push(old, self.readers(self.folders[old]))
        if obj.module == "calendar" and not obj.is_exception:
            self._drop_gone_exceptions(obj, now)
        self._touched(obj)
        return obj, conflicts

    def _confirm(self, user: OXUser, obj: OXObject, req: dict[str, Element]) -> OXObject:
        answer = (text_of(req, "confirm") or "none").lower()
        if answer not in ("accept", "decline", "tentative", "none"):
            raise OXFault(1100)
        parts = obj.fields.get("participants")
        if parts is None:
            parts = obj.fields["participants"] = etree.Element(OX + "participants")
        else:
            parts = obj.fields["participants"] = copy.deepcopy(parts)
        mine = [p for p in children(parts, "user") if (p.text or "").strip() == str(user.id)]
        entry = mine[0] if mine else etree.SubElement(parts, OX + "user")
        entry.text = str(user.id)
        entry.set(OX + "confirm", answer)
        entry.set(OX + "external", "false")
        message = text_of(req, "confirm_message")
        if message:
            entry.set(OX + "confirmmessage", message)
        obj.last_modified, obj.modified_by = self.clock.now(), user.id
        self._touched(obj)
        return obj

    def _remove(self, obj: OXObject, now: int) -> None:
        if obj.id not in self.objects:
            return  # already gone with its series
        for exception in list(self.change_exceptions.pop(obj.id, {}).values()):
            self._remove(exception, now)
        if obj.series is not None:
            self.change_exceptions.get(obj.series, {}).pop(obj.id, None)
        if "attachments" in obj.fields:  # its files go with it
            for gone in [a.id for a in self.attachments.values() if a.target == obj.id]:
                del self.attachments[gone]
        self.objects.pop(obj.id, None)
        self.by_folder[obj.folder].pop(obj.id, None)
        self.tombstones.setdefault(obj.folder, []).append(
            Tombstone(obj.id, obj.folder, now, obj.module)
        )
        obj.last_modified = now
        self._touched(obj)

    # ------------------------------------------------------------------ change exceptions

    def _create_exception(
        self, user: OXUser, folder: OXFolder, req: dict[str, Element], cache: LastModifiedCache
    ) -> OXObject:
        """A changed occurrence: its own object, ``recurrence_id`` = the series.

        Needs ``recurrence_date_position`` (ms of 00:00 UTC of the occurrence's day) and
        write rights on the series; a ``last_modified`` sent is checked against the series.
        The series lists the day in ``changeexceptions`` (and no longer in
        ``deleteexceptions``) and its ``last_modified`` moves. [I]: the reference names the
        fields, not the save rules; OX's own clients update the series with a position.
        """
        series = self.objects.get(int_of(req, "recurrence_id") or 0)
        if series is None or series.folder != folder.id or series.module != "calendar":
            raise OXFault(1001)
        if series.is_exception or "recurrence_type" not in series.fields:
            raise OXFault(1100)
        rights = folder.rights(user)
        if self.hidden_from(user, series) or not rights.may(
            rights.write, series.created_by == user.id
        ):
            raise OXFault(1002)
        position = int_of(req, "recurrence_date_position")
        if position is None:
            raise OXFault(1004)
        if position % 86_400_000:
            raise OXFault(1100)
        sent = int_of(req, "last_modified")
        if sent is not None and series.last_modified > cache.effective(series.id, sent):
            raise OXFault(1000)
        if any(
            e.int("recurrence_date_position") == position
            for e in self.change_exceptions.get(series.id, {}).values()
        ):
            raise OXFault(1003)
        fields = {
            name: copy.deepcopy(el)
            for name, el in req.items()
            if name not in OBJECT_LEVEL and name not in RECURRENCE and not is_empty(el)
        }
        sanitise(
            "calendar",
            {**req, "recurrence_type": element("recurrence_type", "none")},
            fields,
            create=True,
        )
        fields["recurrence_date_position"] = element("recurrence_date_position", position)
        now = self.clock.now()
        exception = self._new_object(folder.id, "calendar", fields, user.id, now)
        exception.series = series.id
        self.change_exceptions.setdefault(series.id, {})[exception.id] = exception
        before = series.last_modified
        self._exception_dates(series, add_changed=position, drop_deleted=position)
        series.modified_by, series.last_modified = user.id, self.clock.now()
        cache.touch(series.id, before, series.last_modified)
        self._touched(exception)
        self._touched(series)
        return exception

    def _remove_exception(
        self, user: OXUser, exception: OXObject, cache: LastModifiedCache
    ) -> None:
        """Deleting a change exception deletes its occurrence: the series gets a delete
        exception for that day and its ``last_modified`` moves [I]."""
        position = exception.int("recurrence_date_position")
        self._remove(exception, self.clock.now())
        series = self.objects.get(exception.series or 0)
        if series is None:
            return
        before = series.last_modified
        self._exception_dates(series, drop_changed=position, add_deleted=position)
        series.modified_by, series.last_modified = user.id, self.clock.now()
        cache.touch(series.id, before, series.last_modified)
        self._touched(series)

    def _drop_gone_exceptions(self, series: OXObject, now: int) -> None:
        """After a series update: a series that is no longer recurring loses its change
        exceptions, and so does a day now listed in ``deleteexceptions`` [I]."""
        exceptions = self.change_exceptions.get(series.id)
        if not exceptions:
            return
        recurring = "recurrence_type" in series.fields
        deleted = _dates_of(series.fields.get("deleteexceptions"))
        for exception in list(exceptions.values()):
            position = exception.int("recurrence_date_position")
            if not recurring or position in deleted:
                self._remove(exception, now)
                self._exception_dates(series, drop_changed=position)

    def _exception_dates(
        self,
        series: OXObject,
        *,
        add_changed: int | None = None,
        drop_changed: int | None = None,
        add_deleted: int | None = None,
        drop_deleted: int | None = None,
    ) -> None:
        for name, add_day, drop_day in (
            ("changeexceptions", add_changed, drop_changed),
            ("deleteexceptions", add_deleted, drop_deleted),
        ):
            days = _dates_of(series.fields.get(name))
            if add_day is not None:
                days.add(add_day)
            if drop_day is not None:
                days.discard(drop_day)
            if days:
                series.fields[name] = element(name, ",".join(str(d) for d in sorted(days)))
            else:
                series.fields.pop(name, None)

    def exceptions_of(self, series_id: int) -> list[OXObject]:
        """The change exceptions of a series, by their day."""
        with self.lock:
            return sorted(
                self.change_exceptions.get(series_id, {}).values(),
                key=lambda e: e.int("recurrence_date_position") or 0,
            )

    def add_exception(
        self, login: str, series_id: int, position: int, changes: Mapping[str, Any]
    ) -> OXObject:
        """Create a change exception as user ``login`` would (OX rules apply).

        ``position`` is the ms of 00:00 UTC of the occurrence's day; the exception starts as
        a copy of the series' fields (``start_date``/``end_date`` moved to that day) with
        ``changes`` applied.
        """
        with self.lock:
            series = self.objects[series_id]
            fields: dict[str, Any] = {
                name: el
                for name, el in series.fields.items()
                if name not in RECURRENCE and name != "attachments"
            }
            start, end = series.int("start_date") or 0, series.int("end_date") or 0
            day = start - start % 86_400_000
            fields["start_date"] = str(position + start - day)
            fields["end_date"] = str(position + end - day)
            fields.update(changes)
            fields["recurrence_id"] = str(series_id)
            fields["recurrence_date_position"] = str(position)
            return self.save(login, series.folder, fields)

    def _conflicts(
        self,
        user: OXUser,
        object_id: int | None,
        module: str,
        fields: dict[str, Element],
        req: dict[str, Element],
        creator: int,
    ) -> tuple[Conflict, ...]:
        """Resource clashes always, user clashes unless ``ignore_conflicts``: [1006]."""
        if module != "calendar" or free_or_full(fields):
            return ()
        start, end = int_field(fields, "start_date"), int_field(fields, "end_date")
        if start is None or end is None:
            raise OXFault(1004)
        if end < start:
            raise OXFault(1100)
        users, resources = self._participants(fields, creator)
        ignore = bool_of(req, "ignore_conflicts")
        found = []
        for other in self.objects.values():
            if other.module != "calendar" or other.id == object_id or free_or_full(other.fields):
                continue
            o_start, o_end = other.int("start_date"), other.int("end_date")
            if o_start is None or o_end is None or not (start < o_end and o_start < end):
                continue
            o_users, o_res = self._participants(other.fields, other.created_by)
            if resources & o_res or (not ignore and users & o_users):
                hidden = self.hidden_from(user, other)
                found.append(
                    Conflict("" if hidden else other.text("title") or "", o_start, o_end, False)
                )
        if found:
            raise OXFault(1006, conflicts=found)
        return ()

    def _participants(
        self, fields: Mapping[str, Element], creator: int
    ) -> tuple[set[int], set[int]]:
        users, resources = {creator}, set()
        parts = fields.get("participants")
        for p in parts if parts is not None else ():
            if (p.get(OX + "external") or "false").lower() == "true":
                continue
            try:
                ident = int((p.text or "").strip())
            except ValueError:
                continue
            kind = local(p)
            if kind == "user":
                users.add(ident)
            elif kind == "resource":
                resources.add(ident)
            elif kind == "group" and ident in self.groups:
                users |= self.groups[ident].members
        return users, resources

    # ------------------------------------------------------------------ attachments

    def _attachment_target(
        self, user: OXUser, module: int, target: int, folder: int | None, *, write: bool
    ) -> OXObject:
        name = _ATTACHMENT_MODULES.get(module)
        if name is None:
            raise OXFault(1100)
        obj = self.get(user, name, target, folder)
        rights = self.folders[obj.folder].rights(user)
        if write and not rights.may(rights.write, obj.created_by == user.id):
            raise OXFault(1002)
        return obj

    def _render_attachments(self, obj: OXObject) -> None:
        mine = sorted(
            (a for a in self.attachments.values() if a.target == obj.id), key=lambda a: a.id
        )
        obj.fields.pop("attachments", None)
        if mine:
            holder = etree.Element(OX + "attachments")
            for a in mine:
                entry = etree.SubElement(holder, OX + "attachment")
                entry.text = quote(a.filename)
                entry.set(OX + "id", str(a.id))
                entry.set(OX + "last_modified", str(a.last_modified))
                entry.set(OX + "mimetype", a.mimetype)
                entry.set(OX + "rtf_flag", str(a.rtf).lower())
            obj.fields["attachments"] = holder
        obj.last_modified = self.clock.now()
        self._touched(obj)

    def put_attachment(
        self,
        user: OXUser,
        module: int,
        target: int,
        folder: int | None,
        filename: str,
        mimetype: str,
        data: bytes,
        *,
        rtf: bool = False,
        replace: int | None = None,
    ) -> OXAttachment:
        """Attach (or replace attachment ``replace`` with) a file; the object changes."""
        with self.lock:
            obj = self._attachment_target(user, module, target, folder, write=True)
            if replace is not None:
                old = self.attachments.get(replace)
                if old is None or old.target != obj.id:
                    raise OXFault(1001)
                del self.attachments[replace]
            att = OXAttachment(
                replace or self._next("object"),
                module,
                obj.id,
                obj.folder,
                filename,
                mimetype,
                rtf,
                data,
                user.id,
                self.clock.now(),
            )
            self.attachments[att.id] = att
            self._render_attachments(obj)
            return att

    def get_attachment(
        self, user: OXUser, module: int, target: int, folder: int | None, attachment_id: int
    ) -> OXAttachment:
        """An attachment of an object the user may read."""
        with self.lock:
            obj = self._attachment_target(user, module, target, folder, write=False)
            att = self.attachments.get(attachment_id)
            if att is None or att.target != obj.id:
                raise OXFault(1001)
            return att

    def delete_attachment(
        self, user: OXUser, module: int, target: int, folder: int | None, attachment_id: int
    ) -> None:
        """Remove an attachment; the object changes."""
        with self.lock:
            obj = self._attachment_target(user, module, target, folder, write=True)
            att = self.attachments.get(attachment_id)
            if att is None or att.target != obj.id:
                raise OXFault(1001)
            del self.attachments[attachment_id]
            self._render_attachments(obj)

    # ------------------------------------------------------------------ folders

    def folder_listing(
        self, user: OXUser, lastsync: int
    ) -> tuple[list[tuple[int, int]], list[OXFolder]]:
        """(DELETE entries, visible folders changed since ``lastsync``)."""
        with self.lock:
            dels, creates = [], []
            for folder in self.folders.values():
                if folder.last_modified <= lastsync:
                    continue
                if not folder.deleted and folder.rights(user).sees:
                    creates.append(folder)
                else:
                    dels.append((folder.id, folder.last_modified))
            return dels, creates

    def folder_op(self, user: OXUser, req: dict[str, Element]) -> OXFolder:
        """Run one ``D:set`` block of webdav.folders. Raises :class:`OXFault`."""
        method = (text_of(req, "method") or "SAVE").upper()
        with self.lock:
            object_id = int_of(req, "object_id")
            if method == "SAVE" and object_id is None:
                return self._create_folder(user, req)
            folder = self.folders.get(object_id) if object_id is not None else None
            if folder is None or folder.deleted or not folder.rights(user).sees:
                raise OXFault(1001 if object_id is not None else 1004)
            sent = int_of(req, "last_modified")
            if sent is None:
                raise OXFault(1004)
            if folder.last_modified > sent:
                raise OXFault(1000)
            rights = folder.rights(user)
            if method == "DELETE":
                if folder.default or not rights.admin:
                    raise OXFault(1002)
                self._delete_folder(folder)
                return folder
            if method == "CLEAR":
                if rights.delete < 4:
                    raise OXFault(1002)
                now = self.clock.now()
                for obj in list(self.by_folder.get(folder.id, {}).values()):
                    self._remove(obj, now)
                return folder
            if method != "SAVE":
                raise OXFault(1100)
            if not rights.admin:
                raise OXFault(1002)
            title = text_of(req, "title")
            if title is not None and not folder.default:
                folder.title = title
            if "permissions" in req:
                before = self.readers(folder)
                folder.permissions = parse_permissions(req["permissions"])
                self._push(folder.parent, before)
            folder.last_modified, folder.modified_by = self.clock.now(), user.id
            self._push(folder.parent, self.readers(folder))
            return folder

    def _create_folder(self, user: OXUser, req: dict[str, Element]) -> OXFolder:
        title = text_of(req, "title")
        module = (text_of(req, "module") or "").lower()
        kind = (text_of(req, "type") or "private").lower()
        parent = int_of(req, "folder_id") or 1
        if title is None or not module:
            raise OXFault(1004)
        if module not in ("calendar", "contact", "task") or kind not in ("private", "public"):
            raise OXFault(1100)
        if parent not in (1, 2):
            parent_folder = self.folders.get(parent)
            if parent_folder is None or parent_folder.deleted:
                raise OXFault(1001)
            if parent_folder.rights(user).folder < 8:
                raise OXFault(1002)
        elif parent == 1 and kind != "private":
            raise OXFault(1100)
        perms = (
            parse_permissions(req["permissions"])
            if "permissions" in req
            else [OXPermission(user.id, False, *OWNER_RIGHTS)]
        )
        now = self.clock.now()
        folder = self._add_folder(
            OXFolder(
                self._next("folder"),
                parent,
                title,
                module,
                owner=user.id,
                type="public" if parent == 2 else kind,
                permissions=perms,
                created_by=user.id,
                modified_by=user.id,
                creation_time=now,
                last_modified=now,
            )
        )
        self._push(parent, self.readers(folder))
        return folder

    def _delete_folder(self, folder: OXFolder) -> None:
        readers = self.readers(folder)
        now = self.clock.now()
        for child in [f for f in self.folders.values() if f.parent == folder.id]:
            if not child.deleted:
                self._delete_folder(child)
        for obj in list(self.by_folder.get(folder.id, {}).values()):
            self._remove(obj, now)
        folder.deleted = True
        folder.last_modified = self.clock.now()
        self._push(folder.parent, readers)

    # ------------------------------------------------------------------ free/busy

    def freebusy(
        self, address: str, start: int, end: int
    ) -> tuple[str, list[tuple[int, int, int]]] | None:
        """(mail, [(start, end, shown_as)]) for a user or resource address, or None."""
        with self.lock:
            user = next((u for u in self.users.values() if u.email == address.lower()), None)
            res = next((r for r in self.resources.values() if r.email == address.lower()), None)
            if user is None and res is None:
                return None
            busy = []
            for obj in sorted(self.objects.values(), key=lambda o: o.int("start_date") or 0):
                if obj.module != "calendar":
                    continue
                o_start, o_end = obj.int("start_date"), obj.int("end_date")
                if o_start is None or o_end is None or o_end <= start or o_start >= end:
                    continue
                users, resources = self._participants(obj.fields, obj.created_by)
                if (user is not None and user.id in users) or (
                    res is not None and res.id in resources
                ):
                    busy.append((o_start, o_end, obj.int("shown_as") or 1))
            return (user or res).email, busy  # type: ignore[union-attr]
