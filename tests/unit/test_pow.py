"""Proof of work: what a solution must be to pass, and the replay guard on real Redis."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from altcha.v1 import solve_challenge
from redis.asyncio import Redis

from booking.embedded import EmbeddedRedis
from booking.pow import (
    LIFETIME,
    Challenge,
    ProofExpired,
    ProofInvalid,
    ProofOfWork,
    ProofReplayed,
    ProofRequired,
)
from booking.settings import Settings

NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
SETTINGS = Settings(secret_key="pow-test-key-" + "k" * 32, pow_difficulty=2000)


@pytest.fixture
async def guard(redis: Redis) -> ProofOfWork:
    return ProofOfWork(redis, SETTINGS)


def solved(challenge: Challenge, **changes: Any) -> str:
    solution = solve_challenge(
        challenge.challenge,
        salt=challenge.salt,
        algorithm="SHA-256",
        max_number=challenge.max_number,
    )
    assert solution is not None
    payload = {
        "algorithm": challenge.algorithm,
        "challenge": challenge.challenge,
        "number": solution.number,
        "salt": challenge.salt,
        "signature": challenge.signature,
        **changes,
    }
    return base64.b64encode(json.dumps(payload).encode()).decode()


def test_a_challenge_is_what_the_altcha_widget_reads(guard: ProofOfWork) -> None:
    body = json.loads(msgspec.json.encode(guard.challenge(NOW)))
    assert set(body) == {"algorithm", "challenge", "maxNumber", "salt", "signature"}
    assert body["algorithm"] == "SHA-256"
    assert body["maxNumber"] == SETTINGS.pow_difficulty
    # The expiry is signed inside the salt: our clock's now plus the lifetime.
    assert f"expires={int((NOW + LIFETIME).timestamp())}" in body["salt"]


async def test_a_solution_passes_once(guard: ProofOfWork) -> None:
    proof = solved(guard.challenge(NOW))
    await guard.check(proof, NOW, retry_of=None)
    with pytest.raises(ProofReplayed) as replayed:
        await guard.check(proof, NOW + timedelta(minutes=1), retry_of=None)
    assert (replayed.value.status, replayed.value.code) == (400, "pow_replayed")


async def test_an_idempotent_retry_may_present_its_solution_again(guard: ProofOfWork) -> None:
    proof = solved(guard.challenge(NOW))
    await guard.check(proof, NOW, retry_of="key-1")
    await guard.check(proof, NOW, retry_of="key-1")
    for other in ("key-2", None):
        with pytest.raises(ProofReplayed):
            await guard.check(proof, NOW, retry_of=other)


async def test_a_solution_spent_without_a_key_is_not_a_retry(guard: ProofOfWork) -> None:
    proof = solved(guard.challenge(NOW))
    await guard.check(proof, NOW, retry_of=None)
    with pytest.raises(ProofReplayed):
        await guard.check(proof, NOW, retry_of="late-key")


async def test_the_claim_lasts_as_long_as_the_challenge(guard: ProofOfWork, redis: Redis) -> None:
    challenge = guard.challenge(NOW)
    await guard.check(solved(challenge), NOW + timedelta(minutes=5), retry_of=None)
    ttl = await redis.ttl(f"pow:{challenge.signature}")
    assert (LIFETIME - timedelta(minutes=5)).total_seconds() - 2 <= ttl <= 15 * 60


async def test_without_a_solution_the_request_is_refused(guard: ProofOfWork) -> None:
    for missing in (None, ""):
        with pytest.raises(ProofRequired) as refused:
            await guard.check(missing, NOW, retry_of=None)
        assert (refused.value.status, refused.value.code) == (400, "pow_required")


@pytest.mark.parametrize(
    "garbage",
    [
        "not base64!",
        base64.b64encode(b"not json").decode(),
        base64.b64encode(b"[1, 2, 3]").decode(),
        base64.b64encode(b'{"algorithm": "SHA-256"}').decode(),
        base64.b64encode(b"{}" + b" " * 3000).decode(),
    ],
)
async def test_garbage_is_invalid_not_an_error(guard: ProofOfWork, garbage: str) -> None:
    with pytest.raises(ProofInvalid) as refused:
        await guard.check(garbage, NOW, retry_of=None)
    assert refused.value.code == "pow_invalid"


async def test_a_wrong_number_or_a_forged_part_is_invalid(guard: ProofOfWork) -> None:
    challenge = guard.challenge(NOW)
    number = json.loads(base64.b64decode(solved(challenge)))["number"]
    later = int((NOW + timedelta(days=365)).timestamp())
    forgeries = [
        {"number": number + 1},
        {"salt": challenge.salt.replace("expires=", f"expires={later}&x=")},
        {"signature": "0" * 64},
        {"algorithm": "SHA-1"},
    ]
    for forged in forgeries:
        with pytest.raises(ProofInvalid):
            await guard.check(solved(challenge, **forged), NOW, retry_of=None)


async def test_a_challenge_signed_with_another_key_is_invalid(redis: Redis) -> None:
    stranger = ProofOfWork(redis, msgspec.structs.replace(SETTINGS, secret_key="o" * 40))
    ours = ProofOfWork(redis, SETTINGS)
    with pytest.raises(ProofInvalid):
        await ours.check(solved(stranger.challenge(NOW)), NOW, retry_of=None)


async def test_an_expired_challenge_is_refused_by_our_clock(guard: ProofOfWork) -> None:
    proof = solved(guard.challenge(NOW))
    with pytest.raises(ProofExpired) as refused:
        await guard.check(proof, NOW + LIFETIME + timedelta(seconds=1), retry_of=None)
    assert refused.value.code == "pow_expired"


async def test_switched_off_it_asks_for_nothing(redis: Redis) -> None:
    off = ProofOfWork(redis, msgspec.structs.replace(SETTINGS, pow_difficulty=0))
    await off.check(None, NOW, retry_of=None)
    await off.check("anything", NOW, retry_of=None)


@pytest.fixture
async def redis_down(tmp_path: Path) -> AsyncIterator[Redis]:
    server = EmbeddedRedis(tmp_path / "redis", persist=False)
    client: Redis = Redis.from_url(server.url(), socket_connect_timeout=1)
    server.stop()
    yield client
    await client.aclose()


async def test_without_redis_it_fails_open_but_still_checks_the_proof(redis_down: Redis) -> None:
    guard = ProofOfWork(redis_down, SETTINGS)
    proof = solved(guard.challenge(NOW))
    await guard.check(proof, NOW, retry_of=None)
    await guard.check(proof, NOW, retry_of=None)  # no replay guard while Redis is away
    with pytest.raises(ProofExpired):
        await guard.check(proof, NOW + LIFETIME + timedelta(seconds=1), retry_of=None)
    with pytest.raises(ProofRequired):
        await guard.check(None, NOW, retry_of=None)
