"""``booking``: one entry point for the service's processes; each subcommand is one process."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

import asyncpg

from booking.clock import SystemClock
from booking.db.database import ensure_database
from booking.db.migrations import MigrationError, load_migrations, migrate
from booking.errors import BookingError
from booking.log_config import logging_config, setup_logging
from booking.settings import (
    Settings,
    SettingsError,
    admin_password,
    load_settings,
    require_secret_key,
)

log = logging.getLogger("booking")

# What `serve` gives requests in flight after SIGTERM (compose's stop_grace_period is longer).
SHUTDOWN_GRACE_SECONDS = 25
MAX_PENDING_CONNECTIONS = 4096  # Linux's default somaxconn since 5.4
MAX_REQUESTS_PER_WORKER = 4096


class CommandError(Exception):
    """A failure the operator can act on; printed as one line without a traceback."""


async def apply_migrations(settings: Settings) -> list[str]:
    try:
        await ensure_database(settings.database_url)
        conn = await asyncpg.connect(settings.database_url, timeout=settings.db_timeout_seconds)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise CommandError(f"cannot reach the database: {exc}") from None
    try:
        return await migrate(conn, load_migrations())
    except MigrationError as exc:
        raise CommandError(f"migration refused: {exc}") from None
    finally:
        await conn.close()


def _run(coroutine_fn: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(coroutine_fn())


async def _connect(settings: Settings) -> asyncpg.Connection:
    try:
        return await asyncpg.connect(settings.database_url, timeout=settings.db_timeout_seconds)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise CommandError(f"cannot reach the database: {exc}") from None


def cmd_migrate(settings: Settings, _: argparse.Namespace) -> None:
    applied = asyncio.run(apply_migrations(settings))
    print(
        f"applied {len(applied)} migration(s): {', '.join(applied)}"
        if applied
        else "database schema is up to date"
    )


def cmd_seed_demo(settings: Settings, _: argparse.Namespace) -> None:
    from booking.demo import seed_demo

    async def run() -> None:
        conn = await _connect(settings)
        try:
            summary = await seed_demo(conn, SystemClock().now())
        finally:
            await conn.close()
        print(summary)

    _run(run)


def _new_admin_password() -> str:
    """From BOOKING_ADMIN_PASSWORD for scripts, else asked twice; never shown."""
    password = admin_password()
    if password is not None:
        return password
    if not sys.stdin.isatty():
        raise CommandError("no terminal to ask for the password; set BOOKING_ADMIN_PASSWORD")
    password = getpass.getpass("Password for the new admin: ")
    if getpass.getpass("The same password again: ") != password:
        raise CommandError("the two passwords differ")
    return password


def cmd_create_admin(settings: Settings, args: argparse.Namespace) -> None:
    from booking.auth.accounts import create_admin, normalise_email

    password = _new_admin_password()

    async def run() -> None:
        conn = await _connect(settings)
        try:
            async with conn.transaction():
                account = await create_admin(conn, normalise_email(args.email), args.name, password)
        except BookingError as exc:
            raise CommandError(exc.message) from None
        except asyncpg.UniqueViolationError:
            raise CommandError("a staff user with this email exists already") from None
        finally:
            await conn.close()
        print(f"created admin {account.email} (id {account.id}); sign in at /api/v1/auth/login")

    _run(run)


def cmd_serve(settings: Settings, args: argparse.Namespace) -> None:
    require_secret_key(settings)
    from granian import Granian
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels

    if args.workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        # Each worker process counts its own requests; the collector adds them up from here.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="booking-metrics-")
    Granian(
        "booking.api.app:create_app",
        factory=True,
        interface=Interfaces.ASGI,
        address=args.host,
        port=args.port,
        workers=args.workers,
        log_level=LogLevels(settings.log_level.lower()),
        log_dictconfig=logging_config(settings.log_level),
        # A client gets 10 s to send its request head (slow-loris), bodies are capped by the app.
        http1_settings=HTTP1Settings(header_read_timeout=10_000),
        # Display boards and desk pages keep a stream open for minutes, each one of a worker's
        # requests in progress; at Granian's default (1024 / workers) a thousand boards left
        # a desk's call waiting in line until some stream ended. The pool still bounds the
        # database; the kernel's queue takes a burst of boards switched on together.
        backlog=MAX_PENDING_CONNECTIONS,
        backpressure=MAX_REQUESTS_PER_WORKER,
        respawn_failed_workers=True,
        # SIGTERM: workers stop accepting and finish the requests in flight, for this long.
        workers_kill_timeout=SHUTDOWN_GRACE_SECONDS,
    ).serve()


def cmd_worker(settings: Settings, _: argparse.Namespace) -> None:
    require_secret_key(settings)
    from arq.worker import create_worker
    from redis.exceptions import RedisError

    from booking.workers.settings import shutdown, worker_settings

    worker = create_worker(worker_settings(settings))
    try:
        worker.run()
    except (RedisError, OSError) as exc:
        # arq's own close stops at Redis and skips our shutdown: the mails in flight are
        # finished (and recorded) here, or their rows would wait for their leases to run out.
        worker.loop.run_until_complete(shutdown(worker.ctx))
        # arq does not reconnect; exiting lets the supervisor (compose, systemd, booking dev)
        # start a fresh worker; its outbox relay looks at start, so no mail is missed.
        raise CommandError(f"lost the queue (Redis): {exc}; exiting for a restart") from None


def cmd_dev(_: Settings, args: argparse.Namespace) -> None:
    from booking.dev import run_dev

    run_dev(Path(args.data).resolve(), args.port)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="booking", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    dev = sub.add_parser("dev", help="the whole service on this machine, embedded PostgreSQL/Redis")
    dev.add_argument("--data", default=".booking-dev", help="data folder (default .booking-dev)")
    dev.add_argument("--port", type=int, default=8000, help="HTTP port (default 8000)")
    dev.set_defaults(handler=cmd_dev)
    serve = sub.add_parser("serve", help="the HTTP API (production ASGI server)")
    serve.add_argument("--host", default="0.0.0.0")  # noqa: S104 - a server listens on all
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    serve.set_defaults(handler=cmd_serve)
    sub.add_parser("worker", help="the background worker (arq)").set_defaults(handler=cmd_worker)
    sub.add_parser("migrate", help="apply pending SQL migrations").set_defaults(handler=cmd_migrate)
    sub.add_parser("seed-demo", help="insert demo data").set_defaults(handler=cmd_seed_demo)
    admin = sub.add_parser(
        "create-admin",
        help="create an admin login (password from BOOKING_ADMIN_PASSWORD or a prompt)",
    )
    admin.add_argument("--email", required=True, help="the admin's email, used to sign in")
    admin.add_argument("--name", default="", help="display name")
    admin.set_defaults(handler=cmd_create_admin)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings() if args.command != "dev" else Settings()
        setup_logging(settings.log_level)
        args.handler(settings, args)
    except (SettingsError, CommandError) as exc:
        print(f"booking: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
