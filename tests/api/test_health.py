from __future__ import annotations

import msgspec
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from booking.api.app import create_app
from booking.embedded import free_port
from booking.settings import Settings

Client = AsyncTestClient[Litestar]


async def test_liveness_and_readiness_with_real_database_and_redis(client: Client) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": "ok", "redis": "ok"}


async def test_readiness_names_redis_when_it_is_down(settings: Settings) -> None:
    broken = msgspec.structs.replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    async with AsyncTestClient(app=create_app(broken)) as client:
        ready = await client.get("/readyz")
        live = await client.get("/healthz")
    assert ready.status_code == 503
    assert ready.json() == {
        "status": 503,
        "code": "unavailable",
        "message": "Not ready: redis unavailable.",
        "details": [{"field": "redis", "message": "unavailable"}],
    }
    assert live.status_code == 200


async def test_readiness_names_the_database_when_it_is_down(
    settings: Settings, redis: Redis
) -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/booking"
    broken = msgspec.structs.replace(settings, database_url=url, db_timeout_seconds=1.0)
    async with AsyncTestClient(app=create_app(broken)) as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["details"] == [{"field": "database", "message": "unavailable"}]


async def test_unknown_paths_and_methods_use_the_common_error_format(client: Client) -> None:
    missing = await client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json() == {
        "status": 404, "code": "not_found", "message": "Not Found", "details": []
    }  # fmt: skip
    wrong = await client.delete("/healthz")
    assert wrong.status_code == 405
    assert wrong.json()["code"] == "method_not_allowed"


async def test_openapi_schema_is_served(client: Client) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    assert schema["info"]["title"] == "booking"
    assert schema["openapi"].startswith("3.")


async def test_metrics_count_requests_by_route(client: Client) -> None:
    await client.get("/api/v1/nothing-here")
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert "booking_requests_total" in metrics.text
