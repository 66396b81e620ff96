"""The arq Redis client; built without connecting so a Redis outage never stops a start.

Jobs travel as msgpack (msgspec), never pickle: a Redis that someone else can write to must
not become a way to run code in our workers.
"""

from __future__ import annotations

from typing import Any

import msgspec
from arq.connections import ArqRedis, RedisSettings
from redis.asyncio import ConnectionPool

from booking.settings import Settings


def _encode_unknown(obj: Any) -> str:
    # Failed jobs store their exception as the result; keep its text, not the object.
    if isinstance(obj, BaseException):
        return f"{type(obj).__name__}: {obj}"
    raise NotImplementedError(f"cannot serialise {type(obj).__name__} in a job")


_encoder = msgspec.msgpack.Encoder(enc_hook=_encode_unknown)
_decoder = msgspec.msgpack.Decoder()


def serialize_job(data: dict[str, Any]) -> bytes:
    return _encoder.encode(data)


def deserialize_job(raw: bytes) -> dict[str, Any]:
    data: dict[str, Any] = _decoder.decode(raw)
    return data


def redis_settings(settings: Settings) -> RedisSettings:
    return RedisSettings.from_dsn(settings.redis_url)


def create_redis(settings: Settings) -> ArqRedis:
    pool = ConnectionPool.from_url(
        settings.redis_url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=30
    )
    client = ArqRedis(
        connection_pool=pool, job_serializer=serialize_job, job_deserializer=deserialize_job
    )
    client.auto_close_connection_pool = True  # aclose() then closes the pool it owns
    return client
