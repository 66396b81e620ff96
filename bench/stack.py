"""The production shape on this machine: PostgreSQL, Redis, an SMTP sink, ``booking serve``
with a worker process per core, and ``booking worker``, each a process of its own.

PostgreSQL and Redis are the machine's servers when ``BOOKING_BENCH_DATABASE_URL`` /
``BOOKING_BENCH_REDIS_URL`` name them (the bench then works in a database of its own,
``booking_bench_<pid>``, dropped at the end), else embedded ones from the wheels.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from redis import Redis

from booking.db.database import drop_database, ensure_database, with_database
from booking.embedded import EmbeddedPostgres, EmbeddedRedis, free_port


def cores() -> int:
    return os.cpu_count() or 1


@dataclass
class Stack:
    """Where everything listens, and the environment the service processes run with."""

    folder: Path
    database_url: str
    redis_url: str
    smtp_port: int
    url: str = ""
    env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def log(self, name: str) -> Path:
        return self.folder / f"{name}.log"

    def start(self, name: str, command: list[str]) -> None:
        with self.log(name).open("wb") as sink:
            self.processes[name] = subprocess.Popen(
                command,
                env=self.env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a signal to its group reaches Granian's workers only
            )

    def stop(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    @contextlib.contextmanager
    def paused(self, name: str) -> Iterator[None]:
        """The process (group) stopped meanwhile: its work waits in the queue, nothing is lost."""
        pid = self.processes[name].pid
        os.killpg(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.killpg(pid, signal.SIGCONT)

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                tail = self.log(name).read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{tail}")


def _wait_ready(stack: Stack, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stack.check_alive()
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{stack.url}/readyz", timeout=2) as answer,
        ):
            if answer.status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError("booking serve did not become ready")


def _flush(redis_url: str) -> None:
    """Empty the bench's Redis database (the one in its URL, nothing else)."""
    client = Redis.from_url(redis_url)
    try:
        client.flushdb()
    finally:
        client.close()


@contextlib.contextmanager
def servers(folder: Path) -> Iterator[tuple[str, str, str | None]]:
    """(database URL, Redis URL, server URL to drop the database from, if it is the machine's)."""
    import asyncio

    server_url = os.environ.get("BOOKING_BENCH_DATABASE_URL")
    redis_url = os.environ.get("BOOKING_BENCH_REDIS_URL")
    postgres = redis = None
    name = f"booking_bench_{os.getpid()}"
    try:
        if server_url:
            database_url = with_database(server_url, name)
            asyncio.run(ensure_database(database_url))
        else:
            postgres = EmbeddedPostgres(folder / "pg", delete_on_stop=True)
            database_url = postgres.url("booking")
        if not redis_url:
            redis = EmbeddedRedis(folder / "redis", persist=False)
            redis_url = redis.url()
        # Queued jobs and kept results of an earlier run would shadow this run's job ids.
        _flush(redis_url)
        yield database_url, redis_url, server_url
    finally:
        if redis is not None:
            redis.stop()
        elif redis_url:
            _flush(redis_url)
        if server_url:
            asyncio.run(drop_database(server_url, name))
        if postgres is not None:
            postgres.stop()


@contextlib.contextmanager
def running(database_url: str, redis_url: str) -> Iterator[Stack]:
    """Sink, server and worker up; all stopped again on the way out."""
    with tempfile.TemporaryDirectory(prefix="booking-bench-") as tmp:
        folder = Path(tmp)
        port, smtp_port = free_port(), free_port()
        stack = Stack(folder, database_url, redis_url, smtp_port, url=f"http://127.0.0.1:{port}")
        metrics = folder / "metrics"
        metrics.mkdir()
        stack.env = {k: v for k, v in os.environ.items() if not k.startswith("BOOKING_")}
        stack.env.update(
            BOOKING_DATABASE_URL=database_url,
            BOOKING_REDIS_URL=redis_url,
            BOOKING_SECRET_KEY=secrets.token_urlsafe(48),
            BOOKING_PUBLIC_URL=stack.url,
            BOOKING_SMTP_PORT=str(smtp_port),
            # Many citizens behind one address: the load generator says who via
            # X-Forwarded-For, so the per-client rate limits apply per virtual citizen.
            BOOKING_TRUSTED_PROXIES="127.0.0.1",
            # Proof of work is the citizen's browser's cost, not the server's.
            BOOKING_POW_DIFFICULTY="0",
            # Boards stay connected through the fan-out scenario instead of reconnecting.
            BOOKING_EVENT_STREAM_SECONDS="600",
            PROMETHEUS_MULTIPROC_DIR=str(metrics),
        )
        python = sys.executable
        stack.start("sink", [python, "-m", "bench.sink", str(smtp_port)])
        stack.start(
            "serve",
            [python, "-m", "booking", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(cores())],
        )  # fmt: skip
        stack.start("worker", [python, "-m", "booking", "worker"])
        try:
            _wait_ready(stack)
            yield stack
        finally:
            for name in ("serve", "worker", "sink"):
                stack.stop(name)
