"""The one composition root of the HTTP service: ``create_app`` builds everything it serves."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from booking import __version__
from booking.api.admin import admin_router
from booking.api.appointments import AppointmentController, HoldController
from booking.api.dependencies import (
    provide_clock,
    provide_limiter,
    provide_settings,
    provide_transaction,
    provide_unit_of_work,
)
from booking.api.devmail import DevMailController
from booking.api.errors import EXCEPTION_HANDLERS
from booking.api.health import HealthController
from booking.api.offers import CatalogueController
from booking.api.transparency import TransparencyController
from booking.clock import Clock, SystemClock
from booking.db.pool import create_pool
from booking.ratelimit import RateLimiter
from booking.redis_client import create_redis
from booking.resources import frontend_dir
from booking.settings import Settings, load_settings


@asynccontextmanager
async def _lifespan(app: Litestar) -> AsyncGenerator[None, None]:
    settings: Settings = app.state.settings
    app.state.db_pool = await create_pool(settings)
    app.state.redis = create_redis(settings)
    app.state.limiter = RateLimiter(app.state.redis, settings.secret_key)
    try:
        yield
    finally:
        await app.state.redis.aclose()
        await app.state.db_pool.close()


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> Litestar:
    settings = settings or load_settings()
    prometheus = PrometheusConfig(
        app_name="booking",
        prefix="booking",
        group_path=True,
        exclude=["^/metrics", "^/healthz", "^/readyz"],
    )
    handlers: list[object] = [
        HealthController,
        CatalogueController,
        TransparencyController,
        HoldController,
        AppointmentController,
        admin_router,
        PrometheusController,
        create_static_files_router(path="/static", directories=[frontend_dir() / "static"]),
    ]
    if settings.dev_mode:
        handlers.append(DevMailController)
    return Litestar(
        route_handlers=handlers,  # type: ignore[arg-type]
        lifespan=[_lifespan],
        state=State({"settings": settings, "clock": clock or SystemClock()}),
        dependencies={
            "settings": Provide(provide_settings, sync_to_thread=False),
            "clock": Provide(provide_clock, sync_to_thread=False),
            "limiter": Provide(provide_limiter, sync_to_thread=False),
            "uow": Provide(provide_unit_of_work, sync_to_thread=False),
            "db": Provide(provide_transaction),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[prometheus.middleware],
        template_config=TemplateConfig(
            directory=frontend_dir() / "templates", engine=JinjaTemplateEngine
        ),
        openapi_config=OpenAPIConfig(
            title="booking",
            version=__version__,
            path="/schema",
            description="Appointments and queues for citizen offices.",
        ),
    )
