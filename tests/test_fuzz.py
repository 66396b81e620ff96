"""Invariant 8 by fuzzing: no request a client can make gets a 500.

Schemathesis reads the live OpenAPI document of a real ``booking serve`` and generates
requests for every operation in it, valid ones (positive) and ones that break the schema
(negative), with an admin's API token so that the staff operations run their handlers too.
Path and query parameters named like a catalogue key get a real slug half of the time, so
requests get past "no such location" into the code behind it. Every answer must be below
500, carry the security headers, and every /api error must be in the one error format.

The budget is a fixed number of examples per operation and mode (``EXAMPLES``); the run is
derandomised, so CI tries the same inputs every time and a failure reproduces locally.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from redis.asyncio import Redis
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from booking.auth.tokens import issue_api_token, register_device
from booking.db import staff as staff_queries
from booking.db.audit import SYSTEM
from booking.demo import seed_demo
from tests.faults.support import citizen_headers
from tests.processes import Service, service_env, start_serve
from tests.reliability import record

EXAMPLES = 30  # per operation and generation mode
ERROR_FIELDS = {"status", "code", "message", "details"}
REQUIRED_HEADERS = ("content-security-policy", "x-content-type-options", "x-request-id")
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


@pytest.fixture
async def seeded(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url)
    await seed_demo(conn, datetime.now(UTC))
    yield conn
    await conn.close()


@pytest.fixture
async def fuzz_credentials(seeded: asyncpg.Connection) -> dict[str, dict[str, str]]:
    """Who the fuzzer is, by the tag of the operation: an admin's API token, and a kiosk's
    and a display board's device token at mitte (public operations ignore them).

    Their ids are far above anything the fuzzer tries, so that it does not deactivate its own
    account or revoke its own tokens early in the run.
    """
    for table in ("staff_user", "api_token", "device"):
        await seeded.execute(f"alter table {table} alter column id restart with 900000000")
    user_id = await staff_queries.insert_account(
        seeded,
        staff_queries.NewAccount(
            email="fuzz@example.org", display_name="fuzz", role="admin", password_hash=None
        ),
    )
    _, admin = await issue_api_token(seeded, SYSTEM, user_id, "fuzz")
    mitte = await seeded.fetchval("select id from location where slug = 'mitte'")
    devices = {
        kind: (await register_device(seeded, SYSTEM, mitte, kind, f"fuzz {kind}"))[1]
        for kind in ("kiosk", "display")
    }
    return {
        role: {"Authorization": f"Bearer {token}"}
        for role, token in {"staff": admin, **devices}.items()
    }


def credentials_for(operation: Any, credentials: dict[str, dict[str, str]]) -> dict[str, str]:
    """The device token for device operations, the admin's for everything else.

    The display board's live stream gets the kiosk's token: with its own it would stream
    until the request timed out, for every example.
    """
    tags = operation.definition.raw.get("tags") or []
    if "kiosk" in tags or ("display" in tags and operation.path.endswith("/stream")):
        return credentials["kiosk"]
    if "display" in tags:
        return credentials["display"]
    return credentials["staff"]


@pytest.fixture
def live_server(
    seeded: asyncpg.Connection, database_url: str, redis_url: str, redis: Redis, tmp_path: Path
) -> Iterator[Service]:
    server = start_serve(service_env(database_url, redis_url), tmp_path)
    try:
        yield server
    finally:
        server.terminate()


@pytest.fixture
async def known_values(seeded: asyncpg.Connection) -> dict[str, list[str]]:
    """Real keys for parameters of these names, so that requests reach the code behind."""
    locations = [r["slug"] for r in await seeded.fetch("select slug from location")]
    services = [r["slug"] for r in await seeded.fetch("select slug from service")]
    return {
        "slug": locations,
        "location": locations,
        "service_slug": services,
        "service": services,
    }


@dataclass
class Findings:
    examples: Counter[str] = field(default_factory=Counter)
    failures: dict[str, str] = field(default_factory=dict)


def problems(response: schemathesis.Response, path: str) -> list[str]:
    found = []
    if response.status_code >= 500:
        found.append(f"server error {response.status_code}")
    found += [f"no {name} header" for name in REQUIRED_HEADERS if name not in response.headers]
    if response.status_code >= 400 and path.startswith("/api/"):
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or set(body) != ERROR_FIELDS:
            found.append("error not in the common format")
        elif body["status"] != response.status_code:
            found.append("error body's status differs from the response's")
    return found


def _substitute(values: dict[str, Any] | None, known: dict[str, list[str]], data: Any) -> None:
    for name in list(values or {}):
        if values is not None and name in known and data.draw(st.booleans()):
            chosen = data.draw(st.sampled_from(known[name]))
            values[name] = [chosen] if isinstance(values[name], list) else chosen


@dataclass
class Fuzzer:
    server: Service
    credentials: dict[str, dict[str, str]]
    known: dict[str, list[str]]
    findings: Findings = field(default_factory=Findings)

    def run(self, operation: Any, mode: GenerationMode) -> None:
        session = requests.Session()
        addresses = itertools.count(1)
        headers = credentials_for(operation, self.credentials)

        @hypothesis.given(case=operation.as_strategy(generation_mode=mode), data=st.data())
        @hypothesis.settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
        )
        def run(case: Any, data: Any) -> None:
            _substitute(case.path_parameters, self.known, data)
            _substitute(case.query, self.known, data)
            # One made-up client per request: the rate limits must not hide what lies behind.
            sent = {**headers, **citizen_headers(next(addresses))}
            url = self.server.url
            response = case.call(base_url=url, session=session, headers=sent, timeout=30)
            self.findings.examples[operation.label] += 1
            found = problems(response, operation.path)
            assert not found, (
                f"{'; '.join(found)}\n{case.as_curl_command(headers=sent, base_url=url)}"
                f"\n-> {response.status_code} {response.text[:500]}"
            )

        run()


def test_no_generated_request_gets_a_server_error(
    live_server: Service,
    fuzz_credentials: dict[str, dict[str, str]],
    known_values: dict[str, list[str]],
) -> None:
    schema = schemathesis.openapi.from_url(f"{live_server.url}/schema/openapi.json")
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # the document itself is valid
        operations.append(result.ok())
    assert len(operations) >= 50, "the document lost operations"
    fuzzer = Fuzzer(live_server, fuzz_credentials, known_values)
    findings = fuzzer.findings
    for operation in operations:
        for mode in MODES:
            try:
                fuzzer.run(operation, mode)
            except hypothesis.errors.Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE, operation.label  # nothing to break
            except AssertionError as failure:
                findings.failures[f"{operation.label} ({mode.value})"] = str(failure)
    record(
        "fuzz",
        operations=len(operations),
        examples=sum(findings.examples.values()),
        failures=len(findings.failures),
        server_errors_logged=len(live_server.errors()),
    )
    assert not findings.failures, "\n\n".join(f"{k}: {v}" for k, v in findings.failures.items())
    assert not live_server.errors(), "\n".join(live_server.errors()[:20])
