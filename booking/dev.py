"""``booking dev``: the whole service on one machine, with nothing installed but Python.

Embedded PostgreSQL and Redis keep their data in the data folder, so a second start finds
the bookings of the first. The API and the worker run as the same child processes as in
production; only the SMTP server is a local sink that keeps each mail as a file.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

import asyncpg

from booking.cli import CommandError, apply_migrations
from booking.clock import SystemClock
from booking.demo import DEMO_DEVICES, DEMO_LOGINS, DEMO_PASSWORD, seed_demo, seed_demo_access
from booking.demo_history import seed_demo_history
from booking.embedded import EmbeddedPostgres, EmbeddedRedis, free_port
from booking.mailsink import MailSink
from booking.settings import load_settings


class _Stop(Exception):
    """Raised from the signal handler so that the main loop unwinds through ``finally``."""


def _on_signal(signum: int, _: FrameType | None) -> None:
    raise _Stop(signum)


def _secret_key(data: Path) -> str:
    path = data / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


async def _prepare(env: dict[str, str]) -> str:
    settings = load_settings(env)
    await apply_migrations(settings)
    conn = await asyncpg.connect(settings.database_url)
    try:
        now = SystemClock().now()
        catalogue = await seed_demo(conn, now)
        access = await seed_demo_access(conn)
        return f"{catalogue}\n{access}\n{await seed_demo_history(conn, now)}"
    finally:
        await conn.close()


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """In a process group of its own: the server's worker processes can then be stopped with
    it, also when a stop comes while it is still starting and has not yet handled signals."""
    command = [sys.executable, "-m", "booking", *args]
    return subprocess.Popen(command, env=env, start_new_session=True)  # noqa: S603


def _stop_children(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 20
    for child in children:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        # Whatever of its group outlived it (a server's workers) goes with it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)


def _check_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the server will: connections of a previous run in TIME_WAIT do not count.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            raise CommandError(f"port {port} is in use; choose another with --port") from None


def _supervise(children: list[subprocess.Popen[bytes]], env: dict[str, str]) -> None:
    """Restart the worker when it exits (say, after losing Redis), as a supervisor would.

    The API is not restarted: if it stops, something is wrong that a restart would hide.
    """
    api, worker = 0, 1
    while True:
        time.sleep(0.5)
        if children[api].poll() is not None:
            raise CommandError("the API stopped unexpectedly; see its output above")
        if children[worker].poll() is not None:
            print(f"booking dev: worker exited ({children[worker].returncode}); restarting",
                  flush=True)  # fmt: skip
            time.sleep(2)
            children[worker] = _spawn(["worker"], env)


def run_dev(data: Path, port: int) -> None:
    _check_port_free(port)
    data.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, _on_signal)
    print(f"booking dev: data folder {data}", flush=True)
    postgres = EmbeddedPostgres(data / "postgres")
    redis = EmbeddedRedis(data / "redis")
    sink = MailSink(data / "mail", free_port())
    sink.start()
    children: list[subprocess.Popen[bytes]] = []
    try:
        public_url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "BOOKING_DATABASE_URL": postgres.url("booking"),
            "BOOKING_REDIS_URL": redis.url(),
            "BOOKING_SMTP_HOST": "127.0.0.1",
            "BOOKING_SMTP_PORT": str(sink.port),
            "BOOKING_SMTP_SECURITY": "none",
            "BOOKING_PUBLIC_URL": public_url,
            "BOOKING_SECRET_KEY": _secret_key(data),
            "BOOKING_DEV_MAIL_DIR": str(sink.folder),
        }
        print(asyncio.run(_prepare(env)), flush=True)
        children.append(_spawn(["serve", "--host", "127.0.0.1", "--port", str(port),
                                "--workers", "1"], env))  # fmt: skip
        children.append(_spawn(["worker"], env))
        print(_banner(public_url, env), flush=True)
        _supervise(children, env)
    except (KeyboardInterrupt, _Stop):
        print("booking dev: stopping ...", flush=True)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        _stop_children(children)
        sink.stop()
        redis.stop()
        postgres.stop()
        print("booking dev: stopped", flush=True)


def _banner(url: str, env: dict[str, str]) -> str:
    return "\n".join([
        "",
        "booking dev is running. Ctrl-C stops everything.",
        f"  Book (citizens)   {url}/",
        f"  Offices           {url}/standorte",
        f"  Staff desk        {url}/staff   (sign in below)",
        f"  Administration    {url}/admin",
        f"  API (OpenAPI)     {url}/schema",
        f"  Sent mail         {url}/dev/mail",
        f"  Health            {url}/healthz   {url}/readyz   {url}/metrics",
        f"  PostgreSQL        {env['BOOKING_DATABASE_URL']}",
        f"  Redis             {env['BOOKING_REDIS_URL']}",
        f"  SMTP sink         127.0.0.1:{env['BOOKING_SMTP_PORT']}",
        f"  Staff sign-in     {url}/staff/login, password {DEMO_PASSWORD!r} for:",
        *(f"    {login.role.value:<15} {login.email}"
          + (f" ({', '.join(login.locations)})" if login.locations else "")
          for login in DEMO_LOGINS),
        "  Kiosks and display boards (the link signs the browser in as that device):",
        *(f"    {device.location + ' ' + device.kind.value:<15} "
          f"{url}/{device.kind.value}/{device.location}/anmelden?token={device.token}"
          for device in DEMO_DEVICES),
        "",
    ])  # fmt: skip
