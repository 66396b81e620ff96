"""The one composition root of the HTTP service: ``create_app`` builds everything it serves."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from booking import __version__
from booking.api.admin import admin_router
from booking.api.appointments import AppointmentController, HoldController
from booking.api.auth import AuthController
from booking.api.challenge import ChallengeController
from booking.api.dependencies import (
    provide_clock,
    provide_limiter,
    provide_proof_of_work,
    provide_settings,
    provide_transaction,
    provide_unit_of_work,
)
from booking.api.devmail import DevMailController
from booking.api.display import DisplayController
from booking.api.errors import EXCEPTION_HANDLERS
from booking.api.health import HealthController
from booking.api.kiosk import KioskController
from booking.api.offers import CatalogueController
from booking.api.privacy import PrivacyPageController
from booking.api.request_context import RequestContextMiddleware, echo_and_log
from booking.api.security import StrictJsonRequest, security_headers
from booking.api.staff import staff_router
from booking.api.tickets import TicketController
from booking.api.transparency import TransparencyController
from booking.api.waitlist import WaitlistController
from booking.auth.guards import provide_device, provide_staff
from booking.auth.oidc import OidcClient
from booking.auth.sessions import COOKIE, SessionStore
from booking.clock import Clock, SystemClock
from booking.db.pool import create_pool
from booking.events import CallBroker
from booking.i18n import install_translations
from booking.pages import pages_router
from booking.pages.admin import admin_pages_router
from booking.pages.devices import devices_router
from booking.pages.staff import staff_pages_router
from booking.pages.ticket import ticket_pages_router
from booking.pow import ProofOfWork
from booking.ratelimit import RateLimiter
from booking.redis_client import create_redis
from booking.resources import frontend_dir
from booking.search_cache import Searches
from booking.settings import Settings, load_settings


@asynccontextmanager
async def _lifespan(app: Litestar) -> AsyncGenerator[None, None]:
    settings: Settings = app.state.settings
    app.state.db_pool = await create_pool(settings)
    app.state.redis = create_redis(settings)
    app.state.searches = Searches(app.state.db_pool, settings.availability_cache_seconds)
    app.state.limiter = RateLimiter(app.state.redis, settings.secret_key)
    app.state.pow = ProofOfWork(app.state.redis, settings)
    app.state.sessions = SessionStore(app.state.redis, settings)
    app.state.oidc = OidcClient(settings, app.state.redis) if settings.oidc_enabled else None
    app.state.calls = CallBroker(settings.database_url, settings.db_timeout_seconds)
    try:
        yield
    finally:
        await app.state.calls.close()
        if app.state.oidc is not None:
            await app.state.oidc.aclose()
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
        PrivacyPageController,
        CatalogueController,
        TransparencyController,
        HoldController,
        AppointmentController,
        ChallengeController,
        WaitlistController,
        AuthController,
        KioskController,
        TicketController,
        DisplayController,
        staff_router,
        admin_router,
        PrometheusController,
        create_static_files_router(path="/static", directories=[frontend_dir() / "static"]),
        pages_router(settings),
        staff_pages_router(settings),
        ticket_pages_router(settings),
        devices_router(settings),
        admin_pages_router(settings),
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
            "pow": Provide(provide_proof_of_work, sync_to_thread=False),
            "uow": Provide(provide_unit_of_work, sync_to_thread=False),
            "db": Provide(provide_transaction),
            "staff": Provide(provide_staff),
            "device": Provide(provide_device),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[RequestContextMiddleware(), prometheus.middleware],
        before_send=[echo_and_log, security_headers(settings)],
        request_class=StrictJsonRequest,
        # Logging is set up once per process (booking.log_config), not by the framework.
        logging_config=None,
        # The largest honest body (a service with its texts) is a few kilobytes.
        request_max_body_size=64 * 1024,
        template_config=TemplateConfig(
            directory=frontend_dir() / "templates",
            engine=JinjaTemplateEngine,
            engine_callback=install_translations,
        ),
        openapi_config=OpenAPIConfig(
            title="booking",
            version=__version__,
            path="/schema",
            description="Appointments and queues for citizen offices.",
            # The document only: the interactive viewers load scripts from a CDN and inline,
            # which the Content-Security-Policy forbids on this origin (booking.api.security).
            render_plugins=[JsonRenderPlugin()],
            components=Components(
                security_schemes={
                    "session": SecurityScheme(
                        type="apiKey",
                        name=COOKIE,
                        security_scheme_in="cookie",
                        description="Staff session from POST /api/v1/auth/login; changes "
                        "also need the X-CSRF-Token header.",
                    ),
                    "bearer": SecurityScheme(
                        type="http",
                        scheme="bearer",
                        description="A personal API token of a staff member, or a device token.",
                    ),
                }
            ),
        ),
    )
