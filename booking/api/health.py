"""Liveness and readiness for operators and orchestrators."""

from __future__ import annotations

import asyncio

import asyncpg
import msgspec
from arq.connections import ArqRedis
from litestar import Controller, get
from litestar.datastructures import State

from booking.api.dependencies import SettingsDep
from booking.errors import FieldProblem, Unavailable


class Readiness(msgspec.Struct, frozen=True):
    status: str
    database: str
    redis: str


async def _probe_database(pool: asyncpg.Pool, limit: float) -> str:
    try:
        async with asyncio.timeout(limit):
            await pool.fetchval("select 1")
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
        return "unavailable"
    return "ok"


async def _probe_redis(redis: ArqRedis, limit: float) -> str:
    from redis.exceptions import RedisError

    try:
        async with asyncio.timeout(limit):
            await redis.ping()
    except (OSError, RedisError, TimeoutError):
        return "unavailable"
    return "ok"


class HealthController(Controller):
    include_in_schema = False

    @get("/healthz", sync_to_thread=False)
    def healthz(self) -> dict[str, str]:
        return {"status": "ok"}

    @get("/readyz")
    async def readyz(self, state: State, settings: SettingsDep) -> Readiness:
        timeout = min(settings.db_timeout_seconds, 2.0)
        database, redis = await asyncio.gather(
            _probe_database(state.db_pool, timeout), _probe_redis(state.redis, timeout)
        )
        failing = [
            FieldProblem(name, result)
            for name, result in (("database", database), ("redis", redis))
            if result != "ok"
        ]
        if failing:
            names = " and ".join(problem.field for problem in failing)
            raise Unavailable(f"Not ready: {names} unavailable.", failing)
        return Readiness("ready", database, redis)
