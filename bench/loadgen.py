"""Load generators and what they cost: wrk with Lua, pgbench, and a lean asyncio HTTP client.

Every run reports the client's own CPU time, so a figure limited by its load generator
shows as such (``client_cpu_share``: the client's CPU seconds over all cores' seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.stack import cores

LUA = Path(__file__).parent / "lua"
_MARK = "BENCH-JSON "


@dataclass(frozen=True)
class Run:
    """One load run: completed operations, how long, latency percentiles in milliseconds."""

    ok: int
    failed: int
    seconds: float
    p50_ms: float
    p99_ms: float
    client_cpu_seconds: float

    @property
    def rate(self) -> float:
        return self.ok / self.seconds

    @property
    def client_cpu_share(self) -> float:
        return self.client_cpu_seconds / (self.seconds * cores())


def _child(command: list[str], *, cwd: str | None = None) -> tuple[str, str, float]:
    """Run to the end; stdout, stderr and the child's CPU seconds."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=cwd)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({process.returncode}): {stderr or stdout}")
    return stdout, stderr, usage.ru_utime + usage.ru_stime


def wrk(
    url: str, script: str, *, seconds: float, connections: int, args: list[str] | None = None
) -> Run:
    """``wrk`` with one of bench/lua's scripts; they all end with summary.lua's ``done``."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as full:
        full.write((LUA / script).read_text() + (LUA / "summary.lua").read_text())
        full.flush()
        command = [
            "wrk", f"-t{cores()}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
            "--timeout", "10s", "-s", full.name, url,
        ]  # fmt: skip
        if args:
            command += ["--", *args]
        stdout, _, cpu = _child(command)
    line = next(line for line in stdout.splitlines() if line.startswith(_MARK))
    found = json.loads(line[len(_MARK) :])
    failed = found["status_errors"] + found["socket_errors"]
    return Run(
        ok=found["requests"] - found["status_errors"],
        failed=failed,
        seconds=found["duration_us"] / 1e6,
        p50_ms=found["p50_us"] / 1000,
        p99_ms=found["p99_us"] / 1000,
        client_cpu_seconds=cpu,
    )


def pgbench(database_url: str, script: str, *, seconds: float, clients: int, folder: Path) -> Run:
    """``pgbench -M prepared`` (asyncpg prepares its statements too), per-transaction log."""
    path = folder / "script.sql"
    path.write_text(script)
    for old in folder.glob("pgbench_log*"):
        old.unlink()
    command = [
        "pgbench", "-n", "-M", "prepared", "-f", str(path), "-c", str(clients),
        "-j", str(cores()), "-T", str(max(1, round(seconds))), "-l", "--log-prefix",
        str(folder / "pgbench_log"), database_url,
    ]  # fmt: skip
    stdout, stderr, cpu = _child(command, cwd=str(folder))
    latencies: list[int] = []
    for log in folder.glob("pgbench_log*"):
        for line in log.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[2].isdigit():
                latencies.append(int(parts[2]))
    failed = int(m.group(1)) if (m := re.search(r"failed transactions: (\d+)", stdout)) else 0
    if "aborted" in stderr or not latencies:
        raise RuntimeError(f"pgbench clients aborted:\n{stderr[-2000:]}\n{stdout[-1000:]}")
    measured = float(re.search(r"duration: (\d+) s", stdout).group(1))  # type: ignore[union-attr]
    latencies.sort()
    return Run(
        ok=len(latencies),
        failed=failed,
        seconds=measured,
        p50_ms=_percentile(latencies, 50) / 1000,
        p99_ms=_percentile(latencies, 99) / 1000,
        client_cpu_seconds=cpu,
    )


def _percentile(sorted_values: list[int] | list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, round(p / 100 * (len(sorted_values) - 1)))
    return float(sorted_values[index])


def percentile(values: list[float], p: float) -> float:
    return _percentile(sorted(values), p)


# -- a lean HTTP/1.1 client for the scenarios wrk cannot express -----------------------------


class Http:
    """One keep-alive connection; just enough HTTP/1.1 for JSON requests and answers."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, url: str) -> Http:
        host, _, port = url.removeprefix("http://").partition(":")
        reader, writer = await asyncio.open_connection(host, int(port), limit=2**20)
        return cls(reader, writer)

    def send(self, method: str, path: str, headers: dict[str, str], body: Any = None) -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        head = [f"{method} {path} HTTP/1.1", "Host: bench", f"Content-Length: {len(payload)}"]
        if body is not None:
            head.append("Content-Type: application/json")
        head += [f"{name}: {value}" for name, value in headers.items()]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)

    async def answer(self) -> tuple[int, Any]:
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        raw = await self.reader.readexactly(length) if length else b""
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: Any = None
    ) -> tuple[int, Any]:
        self.send(method, path, headers, body)
        await self.writer.drain()
        return await self.answer()

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


def cpu_now() -> float:
    """This process's CPU seconds so far, for the clients that run in it."""
    return time.process_time()
