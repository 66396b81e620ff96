"""A real site for the browser tests, started once: ``booking serve`` and ``booking worker`` on
a database with the demo catalogue, a real SMTP server on loopback (the dev sink), and the
system's Chromium driven by Playwright. Without Chromium the browser tests skip, saying so.

Each test gets a fresh browser context with a client address of its own (through the
trusted ``X-Forwarded-For``), so the rate limits count per test as they would per citizen.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from booking.db.database import database_name, drop_database
from booking.demo import seed_demo, seed_demo_access
from booking.embedded import EmbeddedRedis, free_port
from booking.mailsink import MailSink
from tests.browser.support import CHROMIUM_ARGS, Site, chromium_path
from tests.conftest import create_database
from tests.processes import service_env, start_serve, start_worker

# Links in mails name the public URL; the tests follow them to the server's real address.
PUBLIC_URL = "http://booking.test"
_clients = itertools.count(1)


@pytest.fixture(scope="session")
async def site(
    server_url: str, template_name: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Site]:
    """The site lives for the whole session, so it gets a Redis of its own: its worker must
    never take jobs that other tests queue on the shared test Redis."""
    url = await create_database(server_url, template_name)
    conn = await asyncpg.connect(url)
    try:
        await seed_demo(conn, datetime.now(UTC))
        await seed_demo_access(conn)  # the demo logins and device tokens
    finally:
        await conn.close()
    folder = tmp_path_factory.mktemp("site")
    redis = EmbeddedRedis(folder / "redis", persist=False)
    sink = MailSink(folder / "mail", free_port())
    sink.start()
    env = service_env(url, redis.url(), smtp_port=str(sink.port), public_url=PUBLIC_URL)
    serve = start_serve(env, folder)
    worker = start_worker(env, folder)
    try:
        yield Site(url=serve.url, public_url=PUBLIC_URL, mail=sink.folder, database=url)
        assert not serve.errors(), "\n".join(serve.errors())
    finally:
        worker.terminate()
        serve.terminate()
        sink.stop()
        redis.stop()
        await drop_database(server_url, database_name(url))


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    executable = chromium_path()
    if executable is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


def _new_client() -> dict[str, str]:
    return {"X-Forwarded-For": f"198.51.100.{next(_clients)}"}


@pytest.fixture
async def context(browser: Browser, site: Site) -> AsyncIterator[BrowserContext]:
    made = await browser.new_context(base_url=site.url, extra_http_headers=_new_client())
    yield made
    await made.close()


@pytest.fixture
async def page(context: BrowserContext) -> Page:
    return await context.new_page()


@pytest.fixture
async def page_without_js(browser: Browser, site: Site) -> AsyncIterator[Page]:
    made = await browser.new_context(
        base_url=site.url, extra_http_headers=_new_client(), java_script_enabled=False
    )
    yield await made.new_page()
    await made.close()


@pytest.fixture
def email() -> str:
    """An address of this test's own (the per-address limit counts open appointments)."""
    return f"citizen-{next(_clients)}@example.org"
