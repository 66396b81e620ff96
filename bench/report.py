"""Scenario results and the report: bench/results/report.json and report.md."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.loadgen import Run

RESULTS = Path(__file__).parent / "results"


@dataclass
class Result:
    scenario: str
    figure: float
    unit: str
    target: str
    met: bool
    yardstick: float | None = None
    yardstick_name: str = ""
    ratio: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    client_cpu_share: float | None = None
    details: dict[str, Any] = field(default_factory=dict)


def combine(runs: list[Run]) -> tuple[float, float, float, float]:
    """Rounds of one side: (rate over all rounds, mean p50, worst p99, mean client CPU share)."""
    seconds = sum(r.seconds for r in runs)
    rate = sum(r.ok for r in runs) / seconds
    share = sum(r.client_cpu_share * r.seconds for r in runs) / seconds
    return rate, sum(r.p50_ms for r in runs) / len(runs), max(r.p99_ms for r in runs), share


def machine() -> dict[str, Any]:
    model = ""
    memory_kb = 0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory_kb = int(line.split()[1])
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, check=False,
        ).stdout.strip()  # fmt: skip
    except OSError:
        commit = ""
    return {
        "nproc": os.cpu_count(),
        "cpu": model or platform.processor(),
        "ram_gib": round(memory_kb / 2**20, 1),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "commit": commit,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _number(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def markdown(results: list[Result], info: dict[str, Any]) -> str:
    lines = [
        f"Measured {info['when']} on {info['nproc']} cores ({info['cpu']}), "
        f"{info['ram_gib']} GiB RAM, load average at start {info['load_average_at_start']}; "
        f"server and load generators on the same machine{info.get('noise', '')}. "
        f"Mode: {info['mode']}, commit {info['commit']}.",
        "",
        "| scenario | figure | yardstick (same run) | ratio | p50 / p99 ms | client CPU | target "
        "| met |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        yardstick = (
            "-" if r.yardstick is None else f"{r.yardstick:.1f} {r.unit} ({r.yardstick_name})"
        )
        share = "-" if r.client_cpu_share is None else f"{r.client_cpu_share:.0%}"
        lines.append(
            f"| {r.scenario} | {r.figure:.1f} {r.unit} | {yardstick} | {_number(r.ratio, 2)} | "
            f"{_number(r.p50_ms)} / {_number(r.p99_ms)} | {share} | {r.target} | "
            f"{'yes' if r.met else '**no**'} |"
        )
    lines += ["", "Settings and details:", ""]
    lines += [f"- {note}" for note in info.get("notes", [])]
    for r in results:
        if r.details:
            shown = ", ".join(f"{k}: {v}" for k, v in r.details.items())
            lines.append(f"- {r.scenario}: {shown}")
    return "\n".join(lines) + "\n"


def write(results: list[Result], info: dict[str, Any]) -> str:
    RESULTS.mkdir(exist_ok=True)
    document = {"machine": info, "results": [asdict(r) for r in results]}
    (RESULTS / "report.json").write_text(json.dumps(document, indent=2, default=str) + "\n")
    text = markdown(results, info)
    (RESULTS / "report.md").write_text(text)
    return text
