"""Free/busy with odd dates and ranges, client and test server."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import pytest

from oxsync.adapters.ox import OXClient, OXStore
from oxsync.errors import InvalidDataError, NotFoundError
from oxsync.testing.oxserver import OXApp, OXBackend
from tests.ox.conftest import CANARY, http

VFREEBUSY = b"BEGIN:VCALENDAR\r\nBEGIN:VFREEBUSY\r\nEND:VFREEBUSY\r\nEND:VCALENDAR\r\n"


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@pytest.mark.parametrize(
    ("day", "sent"),
    [
        (date(1, 1, 1), "00010101"),
        (date(999, 1, 15), "09990115"),
        (date(45, 12, 3), "00451203"),
        (date(9999, 12, 31), "99991231"),
    ],
)
def test_days_of_any_year_are_sent_as_yyyymmdd(day: date, sent: str) -> None:
    # strftime("%Y") does not pad years below 1000 on glibc: date(1, 1, 1) went out as
    # "10101" (OX: 400) and date(999, 1, 15) as "999115", which yyyyMMdd reads as 9991-01-05
    params: list[httpx.QueryParams] = []

    def handler(request: httpx.Request) -> httpx.Response:
        params.append(request.url.params)
        return httpx.Response(200, content=VFREEBUSY)

    client = OXClient("http://ox.test", "alice", CANARY, transport=httpx.MockTransport(handler))
    assert client.freebusy("bob", "example.org", day, day) == []
    assert params[0]["start"] == sent and params[0]["end"] == sent


def test_the_widest_range_finds_the_appointments(app: OXApp, backend: OXBackend) -> None:
    folder = backend.default_folder("alice", "calendar")
    for when in (datetime(2026, 3, 2, 9, tzinfo=UTC), datetime(999, 3, 2, 9, tzinfo=UTC)):
        backend.save(
            "alice",
            folder,
            {"title": "x", "start_date": _ms(when), "end_date": _ms(when) + 3_600_000},
        )
    store = OXStore("http://ox.test", "alice", CANARY, transport=httpx.WSGITransport(app=app))
    busy = store.free_busy("alice@example.org", date(1, 1, 1), date(9999, 12, 31))
    # the test server wrote the year 999 as "999" too: 9990302T090000Z
    assert [b.start for b in busy] == [
        datetime(999, 3, 2, 9, tzinfo=UTC),
        datetime(2026, 3, 2, 9, tzinfo=UTC),
    ]
    store.close()


@pytest.mark.parametrize("period", ["99999999999", "-99999999999", "1" * 5000, "x"])
def test_the_test_server_answers_a_period_out_of_range_with_400(app: OXApp, period: str) -> None:
    # timedelta(days=30 * months) overflowed: the exception went up through the WSGI app
    got = http(app).get(
        "/servlet/webdav.freebusy",
        params={
            "contextid": "1",
            "username": "alice",
            "server": "example.org",
            "period": period,
        },
    )
    assert got.status_code == 400


def test_an_unknown_or_bare_address_is_a_clear_error(store: OXStore) -> None:
    # an unknown address read "HTTP 404 404 Not Found"; a bare name went to the server as
    # user 'alice' at server '' (the same 404)
    with pytest.raises(NotFoundError) as info:
        store.free_busy("nobody@example.org", date(2026, 3, 1), date(2026, 3, 8))
    assert "no user or resource with the address 'nobody@example.org'" in str(info.value)
    for address in ("alice", "@example.org", "alice@"):
        with pytest.raises(InvalidDataError, match="e-mail address"):
            store.free_busy(address, date(2026, 3, 1), date(2026, 3, 8))


def test_an_error_page_does_not_repeat_its_status() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, content=b"<html><h1>404 Not Found</h1></html>")

    client = OXClient("http://ox.test", "alice", CANARY, transport=httpx.MockTransport(handler))
    with pytest.raises(NotFoundError) as info:
        client.freebusy("bob", "example.org", date(2026, 3, 1), date(2026, 3, 8))
    assert "HTTP 404 Not Found" in str(info.value) and "404 404" not in str(info.value)
