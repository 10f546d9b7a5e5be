"""Outlook (COM / MAPI) as an oxsync store.

``OutlookStore`` works over the Outlook object model: on Windows through pywin32 (extra
``outlook``, imported only when a store is created), anywhere over the fake object model
of :mod:`oxsync.testing.outlook`::

    >>> from oxsync.testing.outlook import Application
    >>> store = OutlookStore(Application(tz="Europe/Paris"))
    >>> [f.name for f in store.folders()]
    ['Calendar', 'Contacts', 'Tasks']

Importing this package never needs pywin32; creating a store without an application on
a system other than Windows raises :class:`OutlookUnavailableError`.
"""

from oxsync.adapters.outlook._boundary import (
    FakeObjectModel,
    ObjectModel,
    OutlookUnavailableError,
    Pywin32ObjectModel,
)
from oxsync.adapters.outlook._errors import translate as translate_com_error
from oxsync.adapters.outlook._store import KEY_PROPERTY, UID_PROPERTY, OutlookStore

__all__ = [
    "KEY_PROPERTY",
    "UID_PROPERTY",
    "FakeObjectModel",
    "ObjectModel",
    "OutlookStore",
    "OutlookUnavailableError",
    "Pywin32ObjectModel",
    "translate_com_error",
]
