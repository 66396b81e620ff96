"""Proof of work in tests: switch it on cheaply, and solve a challenge as the widget does."""

from __future__ import annotations

import base64
import json

import msgspec
from altcha.v1 import solve_challenge
from litestar import Litestar
from litestar.testing import AsyncTestClient

from booking.settings import Settings


def with_pow(settings: Settings, difficulty: int = 500) -> Settings:
    """Proof of work on, cheap enough for a test to solve in milliseconds."""
    return msgspec.structs.replace(settings, pow_difficulty=difficulty)


async def solved_challenge(client: AsyncTestClient[Litestar]) -> dict[str, str]:
    """Headers carrying a fresh solution of ``GET /api/v1/challenge``, as the widget sends it."""
    challenge = (await client.get("/api/v1/challenge")).json()
    solution = solve_challenge(
        challenge["challenge"],
        salt=challenge["salt"],
        algorithm=challenge["algorithm"],
        max_number=challenge["maxNumber"],
    )
    assert solution is not None
    payload = {
        "algorithm": challenge["algorithm"],
        "challenge": challenge["challenge"],
        "number": solution.number,
        "salt": challenge["salt"],
        "signature": challenge["signature"],
    }
    return {"Altcha": base64.b64encode(json.dumps(payload).encode()).decode()}
