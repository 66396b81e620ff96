"""What every scenario gets: the running stack, the loaded data, how long to measure."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from litestar.testing import AsyncTestClient

from bench.data import Loaded
from bench.loadgen import Run, pgbench
from bench.recording import Recording, RecordingPool
from bench.stack import Stack
from booking.settings import Settings, load_settings


@dataclass(frozen=True)
class Bench:
    stack: Stack
    loaded: Loaded
    seconds: float  # one measured run
    rounds: int  # scenario and yardstick alternate this many times
    quick: bool
    scratch: Path

    def against_pgbench(
        self, scenario: Callable[[int], Run], script: str, clients: int
    ) -> tuple[list[Run], list[Run]]:
        """Each round the scenario, then pgbench with ``script``: load from other work on
        the machine hits both sides alike."""
        ours, theirs = [], []
        for round_ in range(self.rounds):
            ours.append(scenario(round_))
            theirs.append(
                pgbench(
                    self.stack.database_url,
                    script,
                    seconds=self.seconds,
                    clients=clients,
                    folder=self.scratch,
                )
            )
        return ours, theirs

    @property
    def settings(self) -> Settings:
        """The service processes' settings, for in-process work on the same database."""
        return load_settings(self.stack.env)


@asynccontextmanager
async def recording_app(bench: Bench) -> AsyncIterator[tuple[AsyncTestClient, Recording]]:
    """The app in this process with its pool recorded, for one request's SQL (bench.recording)."""
    from booking.api.app import create_app

    app = create_app(bench.settings)
    async with AsyncTestClient(app=app) as client:
        recording = Recording()
        app.state.db_pool = RecordingPool(app.state.db_pool, recording)
        yield client, recording
