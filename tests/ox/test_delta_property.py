"""Property: following OXStore's deltas reproduces the server's folder exactly."""

from __future__ import annotations

import httpx
from hypothesis import given
from hypothesis import strategies as st

from oxsync.adapters.ox import OXStore
from oxsync.testing.oxserver import OXApp, OXBackend
from tests.ox.conftest import CANARY

# (action, which): create, edit or delete (the which-th live object, modulo), "forget" drops
# every tombstone (as a server whose DELETED records expired), "sync" reads a delta.
actions = st.lists(
    st.tuples(
        st.sampled_from(["create", "edit", "delete", "forget", "sync"]),
        st.integers(min_value=0, max_value=50),
    ),
    max_size=40,
)


@given(actions)
def test_following_deltas_reproduces_the_server_folder(steps: list[tuple[str, int]]) -> None:
    backend = OXBackend()
    backend.add_user("alice", CANARY)
    backend.add_user("bob", "pw")
    folder = backend.default_folder("alice", "contact")
    store = OXStore(
        "http://ox.test",
        "alice",
        CANARY,
        list_every=0.0,
        transport=httpx.WSGITransport(app=OXApp(backend)),
    )
    first = store.changes(str(folder), None)
    mirror = {ref.id: ref.version for ref in first.changed}
    cursor = first.cursor
    n = 0

    def sync() -> None:
        nonlocal cursor
        delta = store.changes(str(folder), cursor)
        assert not delta.full
        for gone in delta.deleted:
            mirror.pop(gone, None)
        for ref in delta.changed:
            mirror[ref.id] = ref.version
        cursor = delta.cursor

    for action, which in [*steps, ("sync", 0)]:
        live = backend.objects_in(folder)
        if action == "create":
            n += 1
            backend.save("alice", folder, {"last_name": f"c{n}"})
        elif action == "edit" and live:
            backend.save("alice", folder, {"note": f"e{n}"}, object_id=live[which % len(live)].id)
            n += 1
        elif action == "delete" and live:
            backend.delete("alice", live[which % len(live)].id)
        elif action == "forget":
            backend.tombstones.clear()
        elif action == "sync":
            sync()
    expected = {str(o.id): str(o.last_modified) for o in backend.objects_in(folder)}
    assert mirror == expected
    store.close()
