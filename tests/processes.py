"""The service's own processes for tests that need them whole: ``booking serve`` and
``booking worker`` started as the operator starts them, each in a session of its own, so a
test can SIGTERM or SIGKILL one (Granian's worker processes included) and nothing else;
and a real SMTP server for them to deliver to.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from booking.embedded import free_port


def service_env(database_url: str, redis_url: str, **settings: str) -> dict[str, str]:
    """The environment of a service process: this test's servers and nothing inherited.

    ``settings`` are further variables without the prefix: ``smtp_port="2525"``.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOOKING_")}
    env.update(
        BOOKING_DATABASE_URL=database_url,
        BOOKING_REDIS_URL=redis_url,
        # A fresh key gives fresh rate-limit buckets: earlier runs on this Redis don't count.
        BOOKING_SECRET_KEY=secrets.token_urlsafe(48),
        # Tests speak for many citizens through X-Forwarded-For.
        BOOKING_TRUSTED_PROXIES="127.0.0.1",
        # Proof of work has tests of its own (tests/unit/test_pow.py); pass pow_difficulty on.
        BOOKING_POW_DIFFICULTY="0",
        # Tests book and search again at once; tests/api/test_search_cache.py has the cache.
        BOOKING_AVAILABILITY_CACHE_SECONDS="0",
        # Tests issue tickets at any hour; a worker closing an office's queue after hours
        # (tests/api/test_queue.py has that) must not cancel them between issue and call.
        BOOKING_QUEUE_CLOSE_GRACE_MINUTES="720",
    )
    env.update({f"BOOKING_{name.upper()}": value for name, value in settings.items()})
    return env


@dataclass
class Service:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    url: str = ""

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def log_records(self) -> list[dict[str, Any]]:
        """The JSON log lines (anything else the process printed is left out)."""
        records = []
        for line in self.log_text().splitlines():
            if line.startswith("{"):
                try:
                    records.append(json.loads(line))
                except ValueError:
                    continue
        return records

    def logged(self, message: str) -> int:
        """How often the process logged exactly this message."""
        return sum(record.get("message") == message for record in self.log_records())

    def errors(self) -> list[str]:
        """Log records at ERROR or worse (a server that answered 500 logged one), and
        tracebacks printed outside the log (a crash before logging was set up)."""
        return [
            line
            for line in self.log_text().splitlines()
            if ('"level":"ERROR"' in line or '"level":"CRITICAL"' in line)
            or (not line.startswith("{") and "Traceback" in line)
        ]

    def terminate(self, timeout: float = 30) -> int:
        """SIGTERM, as an orchestrator stops it; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"{self.name} did not stop within {timeout} s") from None

    def kill(self) -> None:
        """SIGKILL to the process and its children (its own session only)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)


def _start(name: str, args: list[str], env: dict[str, str], folder: Path) -> Service:
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / f"{name}.log"
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "booking", *args],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Service(name, process, log)


def start_serve(
    env: dict[str, str], folder: Path, *, workers: int = 1, ready: str = "/readyz"
) -> Service:
    """``booking serve`` on a free port, once ``ready`` answers 200."""
    port = free_port()
    service = _start("serve", ["serve", "--host", "127.0.0.1", "--port", str(port),
                               "--workers", str(workers)], env, folder)  # fmt: skip
    service.url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise AssertionError(f"booking serve exited early:\n{service.log_text()}")
        try:
            with urllib.request.urlopen(service.url + ready, timeout=2) as answer:
                if answer.status == 200:
                    return service
        except OSError:
            pass
        time.sleep(0.1)
    service.kill()
    raise AssertionError(f"booking serve not ready within 60 s:\n{service.log_text()}")


def start_worker(env: dict[str, str], folder: Path) -> Service:
    return _start("worker", ["worker"], env, folder)


async def wait_for(condition: Callable[[], Awaitable[bool]], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {seconds} s")
        await asyncio.sleep(0.1)


def reached(count: Callable[[], int], n: int) -> Callable[[], Awaitable[bool]]:
    """A condition for ``wait_for``: ``count()`` is at least ``n``."""

    async def condition() -> bool:
        return count() >= n

    return condition


class Inbox:
    """A real SMTP server on a free loopback port, keeping each Message-ID it accepts."""

    def __init__(self, delay: float = 0.0) -> None:
        self.port = free_port()
        self.delay = delay
        self.started = 0
        self.received: list[str] = []
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        self.started += 1
        await asyncio.sleep(self.delay)
        parsed = message_from_bytes(envelope.original_content or b"", policy=policy.default)
        self.received.append(str(parsed["Message-ID"]))
        return "250 accepted"

    async def in_conversation(self) -> bool:
        """Whether a mail is being received right now (or was)."""
        return self.started > 0

    def __enter__(self) -> Inbox:
        self._controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._controller.stop()
