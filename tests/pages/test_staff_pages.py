"""The staff pages over HTTP: signed-out visits go to sign-in, ``next`` stays on this site,
and bad input gets a clear 4xx page that changes nothing, never a 500."""

from __future__ import annotations

import re

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests import office
from tests.conftest import StaffUserFactory

Client = AsyncTestClient[Litestar]
PASSWORD = "richtig-geheim-42"
_TOKEN = re.compile(r'name="_csrf_token" value="([^"]+)"')


@pytest.fixture
def pages(client: Client) -> Client:
    """``client`` showing each redirect instead of following it."""
    client.follow_redirects = False
    return client


async def _form_token(client: Client, path: str) -> str:
    found = _TOKEN.search((await client.get(path)).text)
    assert found is not None, f"no form on {path}"
    return found.group(1)


async def _signed_in(client: Client, email: str, next_path: str = "") -> str:
    """Through the sign-in form; where it sends the browser."""
    token = await _form_token(client, "/staff/login")
    answer = await client.post(
        "/staff/login",
        data={"_csrf_token": token, "email": email, "password": PASSWORD, "next": next_path},
    )
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


async def test_signed_out_pages_send_to_sign_in(pages: Client, db: asyncpg.Connection) -> None:
    await office.open_office(db, "wache")
    answer = await pages.get("/staff/wache")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/staff/login?next=%2Fstaff%2Fwache"
    assert (await pages.get("/staff")).headers["location"] == "/staff/login"
    # A form sent after the session ended: nothing happens, sign in again.
    token = await _form_token(pages, "/staff/login")
    answer = await pages.post("/staff/wache/call-next", data={"_csrf_token": token})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/staff/login"
    # Without the form token the post is refused before anything else.
    assert (await pages.post("/staff/wache/call-next")).status_code == 403


async def test_next_leads_only_to_a_path_of_this_site(
    pages: Client, db: asyncpg.Connection, staff_user: StaffUserFactory
) -> None:
    await office.open_office(db, "wache")
    email = "dana@example.org"
    await staff_user("desk", ["wache"], email=email, password=PASSWORD)
    assert await _signed_in(pages, email, "/admin") == "/admin"
    for outside in ("//evil.example", "https://evil.example/", "/\\evil.example", "staff"):
        assert await _signed_in(pages, email, outside) == "/staff"


async def test_bad_input_gets_a_clear_answer(
    pages: Client, db: asyncpg.Connection, staff_user: StaffUserFactory
) -> None:
    await office.open_office(db, "wache")
    email = "dana@example.org"
    await staff_user("desk", ["wache"], email=email, password=PASSWORD)
    await _signed_in(pages, email)
    token = await _form_token(pages, "/staff/wache/desks")

    async def post(path: str, **fields: str) -> int:
        answer = await pages.post(path, data={"_csrf_token": token, **fields})
        assert "<h1>" in answer.text or answer.status_code == 303
        return answer.status_code

    assert await post("/staff/wache/desks", desk="abc") == 422
    assert await post("/staff/wache/desks", desk="99999") == 404
    assert await post("/staff/wache/tickets/1/explode") == 404
    assert await post("/staff/wache/appointments/!!/check-in") == 422
    assert await post("/staff/wache/appointments/ABCDEF/fly") == 404
    # Without a desk an action cannot run: choose one first.
    answer = await pages.post("/staff/wache/call-next", data={"_csrf_token": token})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/staff/wache/desks"
    assert (await pages.get("/staff/nirgendwo")).status_code == 403
    assert (await pages.get("/staff/wache/call-next")).status_code == 405
    assert await db.fetchval("select count(*) from ticket") == 0

    assert (await pages.get("/t/kurz")).status_code == 404
    answer = await pages.post("/t/kurz/call-ahead", data={"_csrf_token": token})
    assert answer.status_code == 404


async def test_no_page_has_anything_inline_that_the_csp_blocks(
    pages: Client, db: asyncpg.Connection, staff_user: StaffUserFactory
) -> None:
    made = await office.open_office(db, "wache")
    email = "dana@example.org"
    await staff_user("desk", ["wache"], email=email, password=PASSWORD)
    issued = await pages.post(
        "/api/v1/kiosk/tickets", json={"service": "ausweis"}, headers=office.bearer(made.kiosk)
    )
    public_id = issued.json()["public_id"]
    await _signed_in(pages, email)
    token = await _form_token(pages, "/staff/wache/desks")
    desk = str(made.desks["Schalter 1"])
    await pages.post("/staff/wache/desks", data={"_csrf_token": token, "desk": desk})
    shown = {}
    for path in ("/staff/login", "/staff/wache/desks", "/staff/wache", f"/t/{public_id}"):
        answer = await pages.get(path)
        assert answer.status_code == 200, path
        shown[path] = answer.text
    assert "A001" in shown["/staff/wache"]
    assert "Sie sind als Nächstes dran." in shown[f"/t/{public_id}"]
    inline = re.compile(r"<script(?![^>]*\bsrc=)|\sstyle=|\son[a-z]+=", re.IGNORECASE)
    assert not [path for path, html in shown.items() if inline.search(html)]
