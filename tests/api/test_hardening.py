"""Hardening: headers on every response, bounded and strictly typed bodies, the inputs that
break naive servers, request ids and JSON logs, and outages answered with 503 (invariant 8).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar import Litestar, get
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from booking.api.app import create_app
from booking.api.errors import EXCEPTION_HANDLERS
from booking.api.security import CONTENT_SECURITY_POLICY, HSTS
from booking.demo import seed_demo
from booking.embedded import free_port
from booking.log_config import JsonFormatter, redact
from booking.settings import Settings

Client = AsyncTestClient[Litestar]
ERROR_FIELDS = {"status", "code", "message", "details"}
BOOKING = {
    "location": "mitte",
    "services": ["personalausweis"],
    "start": "2030-01-08T09:00:00+01:00",
    "name": "Erika Mustermann",
    "email": "erika@example.org",
}
BODY_LIMIT = 64 * 1024


def error(answer: Any, status: int) -> str:
    """The error's code, after checking the status and the one error shape."""
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == ERROR_FIELDS, body
    assert body["status"] == status
    code: str = body["code"]
    return code


@pytest.fixture
async def seeded(admin_client: Client, db: asyncpg.Connection) -> Client:
    """An admin's client on the demo catalogue."""
    await seed_demo(db, datetime.now(UTC))
    return admin_client


# -- headers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/locations", 200),
        ("GET", "/datenschutz", 200),
        ("GET", "/static/site.css", 200),
        ("GET", "/schema/openapi.json", 200),
        ("GET", "/healthz", 200),
        ("GET", "/nowhere", 404),
        ("DELETE", "/api/v1/locations", 405),
        ("GET", "/api/v1/availability?service=", 422),
    ],
)
async def test_every_response_carries_the_security_headers(
    client: Client, method: str, path: str, status: int
) -> None:
    answer = await client.request(method, path)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["x-frame-options"] == "DENY"
    assert "strict-transport-security" not in answer.headers  # plain HTTP: meaningless


def test_the_content_security_policy_allows_no_inline_script_and_no_framing() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


async def test_hsts_is_sent_when_the_service_is_public_over_https(
    settings: Settings, redis: Redis
) -> None:
    public = msgspec.structs.replace(settings, public_url="https://termine.example.org")
    async with AsyncTestClient(app=create_app(public)) as client:
        answer = await client.get("/healthz")
    assert answer.headers["strict-transport-security"] == HSTS


async def test_api_answers_are_not_cached_unless_the_handler_says_so(client: Client) -> None:
    assert (await client.get("/api/v1/locations")).headers["cache-control"] == "no-store"
    transparency = await client.get("/api/v1/transparency")
    assert transparency.headers["cache-control"] == "max-age=30, public"


# -- bodies --------------------------------------------------------------------------------


async def test_a_body_over_64_kib_is_refused_with_413_before_it_is_read(client: Client) -> None:
    padded = json.dumps({**BOOKING, "name": "x" * BODY_LIMIT})
    answer = await client.post(
        "/api/v1/appointments", content=padded, headers={"Content-Type": "application/json"}
    )
    assert error(answer, 413) == "payload_too_large"


async def test_a_streamed_body_without_length_is_cut_off_at_the_limit_too(client: Client) -> None:
    """Chunked upload, no Content-Length: the bytes are counted as they arrive."""
    chunk = {"type": "http.request", "body": b" " * (BODY_LIMIT // 4), "more_body": True}
    incoming: list[dict[str, Any]] = [chunk] * 5
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/api/v1/appointments", "raw_path": b"/api/v1/appointments",
        "query_string": b"", "root_path": "", "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80), "state": {},
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"),
                    (b"transfer-encoding", b"chunked")],
    }  # fmt: skip
    await client.app(scope, receive, send)
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["code"] == "payload_too_large"


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
)
async def test_a_json_body_sent_as_anything_else_is_refused_with_415(
    client: Client, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    answer = await client.post(
        "/api/v1/appointments", content=json.dumps(BOOKING).encode(), headers=headers
    )
    assert error(answer, 415) == "unsupported_media_type"


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/json"])
async def test_json_with_parameters_is_json(client: Client, content_type: str) -> None:
    answer = await client.post(
        "/api/v1/holds", content=b'{"location": "?"}', headers={"Content-Type": content_type}
    )
    assert error(answer, 422) == "invalid_input"


async def test_invalid_utf8_in_a_body_is_a_400(client: Client) -> None:
    answer = await client.post(
        "/api/v1/appointments",
        content=b'{"location": "mitte", "name": "\xff\xfe"}',
        headers={"Content-Type": "application/json"},
    )
    assert error(answer, 400) == "bad_request"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/availability?location=%ff&service=%c3%28", 422),
        ("/api/v1/availability/earliest?service=%ed%a0%80", 422),
        ("/api/v1/appointments/%ff%fe%fd%fc", 404),
        ("/api/v1/locations/%c0%af/transparency", 404),
    ],
)
async def test_invalid_utf8_in_paths_and_queries_is_a_4xx(
    seeded: Client, path: str, status: int
) -> None:
    error(await seeded.get(path), status)


async def test_malformed_json_is_a_400(client: Client) -> None:
    for body in (b"{", b"\x00", b'{"a": 1e999999}', b"[" * 30_000, b'{"a":' * 10_000):
        answer = await client.post(
            "/api/v1/holds", content=body, headers={"Content-Type": "application/json"}
        )
        assert answer.status_code in {400, 422}, (body[:20], answer.text)
        assert set(answer.json()) == ERROR_FIELDS


# -- values --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", f"/api/v1/admin/users/{2**70}", None),
        ("GET", f"/api/v1/admin/audit?actor_id={2**70}", None),
        ("GET", f"/api/v1/admin/audit?limit={10**30}", None),
        ("PATCH", "/api/v1/admin/locations/mitte", {"horizon_days": 10**30}),
        ("PATCH", "/api/v1/admin/locations/mitte", {"grid_minutes": -(2**63)}),
        ("POST", "/api/v1/holds", {**BOOKING, "services": ["personalausweis"] * 10**4}),
    ],
)
async def test_huge_numbers_are_a_4xx(
    seeded: Client, method: str, path: str, body: dict[str, Any] | None
) -> None:
    answer = await seeded.request(method, path, json=body)
    assert 400 <= answer.status_code < 500, answer.text
    assert set(answer.json()) == ERROR_FIELDS


@pytest.mark.parametrize(
    "start",
    [
        "9999-12-31T23:59:59-14:00",  # no UTC time exists for it
        "9999-12-31T23:59:59+00:00",
        "0001-01-01T00:00:00+14:00",
    ],
)
async def test_times_at_the_edge_of_the_calendar_are_refused_not_crashed_on(
    seeded: Client, start: str
) -> None:
    answer = await seeded.post("/api/v1/appointments", json={**BOOKING, "start": start})
    assert error(answer, 409) == "not_available"
    held = {"location": "mitte", "services": ["personalausweis"], "start": start}
    assert error(await seeded.post("/api/v1/holds", json=held), 409) == "not_available"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/availability?location=mitte&service=personalausweis&from=9999-12-30&to=9999-12-31",
        "/api/v1/availability?location=mitte&service=personalausweis&from=0001-01-01&to=0001-01-02",
        "/api/v1/admin/locations/mitte/statistics?from=9999-12-01&to=9999-12-31",
        "/api/v1/admin/audit?since=9999-12-31T23:59:59-14:00",
        "/api/v1/admin/audit?until=0001-01-01T00:00:00%2B14:00",
    ],
)
async def test_far_dates_in_queries_never_crash(seeded: Client, path: str) -> None:
    answer = await seeded.get(path)
    assert answer.status_code < 500, answer.text


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/appointments", {**BOOKING, "language": "fr"}),
        ("POST", "/api/v1/admin/locations/mitte/devices", {"kind": "toaster", "name": "T"}),
        ("POST", "/api/v1/admin/users", {"email": "a@example.org", "role": "emperor"}),
        ("GET", "/api/v1/admin/users?role=emperor", None),
        ("GET", "/api/v1/admin/audit?actor_kind=alien", None),
    ],
)
async def test_unknown_enum_values_are_a_422(
    seeded: Client, method: str, path: str, body: dict[str, Any] | None
) -> None:
    assert error(await seeded.request(method, path, json=body), 422) == "invalid_input"


# -- request ids and logs ------------------------------------------------------------------


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    sink = io.StringIO()
    handler = logging.StreamHandler(sink)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("booking")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield sink
    logger.setLevel(level)
    logger.removeHandler(handler)


async def test_a_sane_request_id_is_kept_and_echoed_and_logged(
    client: Client, log_lines: io.StringIO
) -> None:
    answer = await client.get(
        "/api/v1/appointments/ABCDEF?token=the-secret", headers={"X-Request-ID": "lb-4711.a:b"}
    )
    assert answer.headers["x-request-id"] == "lb-4711.a:b"
    records = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    access = [r for r in records if r["logger"] == "booking.access"]
    assert access == [
        {
            "time": access[0]["time"],
            "level": "INFO",
            "logger": "booking.access",
            "message": "GET /api/v1/appointments/ABCDEF 404",
            "request_id": "lb-4711.a:b",
            "method": "GET",
            "path": "/api/v1/appointments/ABCDEF",
            "status": 404,
            "duration_ms": access[0]["duration_ms"],
        }
    ]
    assert "the-secret" not in log_lines.getvalue()


@pytest.mark.parametrize("given", [None, b"", b"a b", b"x" * 129, b"<script>", "é".encode()])
async def test_a_missing_or_odd_request_id_is_replaced_by_a_fresh_one(
    client: Client, given: bytes | None
) -> None:
    headers = {} if given is None else {b"X-Request-ID": given}
    first = (await client.get("/healthz", headers=headers)).headers["x-request-id"]
    second = (await client.get("/healthz", headers=headers)).headers["x-request-id"]
    assert first != second
    assert len(first) == 32
    assert int(first, 16) >= 0


def test_values_the_database_quotes_in_errors_are_withheld_from_logs() -> None:
    traceback = (
        'asyncpg.exceptions.UniqueViolationError: duplicate key value violates unique "x"\n'
        "DETAIL:  Key (email)=(erika@example.org) already exists.\n"
        "asyncpg.exceptions.DataError: invalid input for query argument $2: 'erika@exa' (x)"
    )
    cleaned = redact(traceback)
    assert "erika" not in cleaned
    assert "violates unique" in cleaned
    assert "invalid input for query argument $2" in cleaned


# -- outages -------------------------------------------------------------------------------


async def test_an_unreachable_database_is_a_fast_503_in_the_error_format(
    settings: Settings, redis: Redis
) -> None:
    gone = msgspec.structs.replace(
        settings, database_url=f"postgresql://postgres@127.0.0.1:{free_port()}/booking"
    )
    async with AsyncTestClient(app=create_app(gone)) as client:
        answer = await client.get("/api/v1/locations")
    assert error(answer, 503) == "unavailable"
    assert answer.headers["retry-after"] == "5"


async def test_an_unreachable_redis_makes_staff_sign_in_a_503_not_a_500(
    settings: Settings, staff_user: Any
) -> None:
    await staff_user("admin", email="lea@example.org", password="a long and secret passphrase")
    gone = msgspec.structs.replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    async with AsyncTestClient(app=create_app(gone)) as client:
        answer = await client.post(
            "/api/v1/auth/login",
            json={"email": "lea@example.org", "password": "a long and secret passphrase"},
        )
    assert error(answer, 503) == "unavailable"


async def test_an_error_while_cleaning_up_after_a_lost_connection_is_the_outage() -> None:
    """asyncpg's "the underlying connection is closed" from a transaction's exit, raised
    while a query's connection was being terminated (seen in the PostgreSQL restart test)."""

    @get("/fails", sync_to_thread=False)
    def fails() -> None:
        closed = asyncpg.InterfaceError("the underlying connection is closed")
        closed.__context__ = asyncpg.ConnectionDoesNotExistError("connection was closed")
        raise closed

    app = Litestar([fails], exception_handlers=EXCEPTION_HANDLERS, logging_config=None)
    async with AsyncTestClient(app=app) as client:
        assert error(await client.get("/fails"), 503) == "unavailable"
