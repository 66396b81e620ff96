"""``python -m bench.reliability_report``: run the fuzz and fault tests, write docs/RELIABILITY.md.

The scenarios are the tests CI runs; each appends what it saw to the file named by
``BOOKING_RELIABILITY_OUT`` (tests/reliability.py). This command runs them with that file
set, adds the tests' durations from pytest's JUnit report, and writes one page. It exits
non-zero when a test fails or when anything was lost, and then writes no page.

The tests find PostgreSQL and Redis as ``make test`` does (``BOOKING_TEST_*`` or embedded).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "RELIABILITY.md"


class Scenario(NamedTuple):
    test: str
    fault: str


SCENARIOS: dict[str, Scenario] = {
    "fuzz": Scenario(
        "tests/test_fuzz.py",
        "none: generated valid and invalid requests against every operation",
    ),
    "postgres_restart": Scenario(
        "tests/faults/test_postgres_restart.py::"
        "test_a_postgres_restart_under_load_gives_fast_503s_and_loses_nothing",
        "PostgreSQL shut down fast under booking load, away 2 s, started again",
    ),
    "worker_postgres_restart": Scenario(
        "tests/faults/test_postgres_restart.py::"
        "test_the_worker_listens_again_after_a_postgres_restart_and_sends_what_follows",
        "PostgreSQL shut down fast under a running worker, away 2 s, started again",
    ),
    "redis_restart": Scenario(
        "tests/faults/test_redis_restart.py",
        "Redis stopped under a running API and worker, started again",
    ),
    "api_sigkill": Scenario(
        "tests/faults/test_api_killed.py",
        "API process group SIGKILLed during a storm of 300 bookings",
    ),
    "api_sigterm": Scenario(
        "tests/faults/test_graceful_shutdown.py::"
        "test_sigterm_lets_a_slow_booking_finish_before_the_api_exits",
        "API SIGTERMed with a booking in flight (held by a row lock)",
    ),
    "worker_sigterm": Scenario(
        "tests/faults/test_graceful_shutdown.py::"
        "test_sigterm_lets_the_worker_finish_the_mail_it_is_sending",
        "worker SIGTERMed in the middle of an SMTP conversation",
    ),
    "worker_sigkill": Scenario(
        "tests/workers/test_worker_faults.py::"
        "test_a_killed_worker_loses_nothing_and_repeats_nothing_recorded",
        "worker SIGKILLed in the middle of a batch of 40 mails",
    ),
    "smtp_down": Scenario(
        "tests/workers/test_notifications.py::test_smtp_down_then_up_sends_once_after_retrying",
        "SMTP server not listening, then back",
    ),
    "smtp_refusing": Scenario(
        "tests/workers/test_notifications.py::"
        "test_smtp_refusing_for_a_while_is_retried_until_it_accepts",
        "SMTP server answering 451 (greylisting) twice",
    ),
}


def _run(out: Path, junit: Path) -> int:
    env = {**os.environ, "BOOKING_RELIABILITY_OUT": str(out)}
    tests = sorted({scenario.test for scenario in SCENARIOS.values()})
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               f"--junitxml={junit}", *tests]  # fmt: skip
    return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode


def _durations(junit: Path) -> dict[str, float]:
    """Seconds per test file or file::test, as SCENARIOS name them."""
    seconds: dict[str, float] = defaultdict(float)
    for case in ET.parse(junit).getroot().iter("testcase"):
        path = case.get("classname", "").replace(".", "/") + ".py"
        spent = float(case.get("time", 0))
        seconds[path] += spent
        seconds[f"{path}::{case.get('name')}"] += spent
    return seconds


def _cell(facts: dict[str, Any], name: str) -> str:
    return str(facts.get(name, "-"))


def render(facts: dict[str, dict[str, Any]], seconds: dict[str, float], when: datetime) -> str:
    fuzz = facts["fuzz"]
    lost = sum(int(f.get("lost", 0)) for f in facts.values())
    lines = [
        "# Reliability report",
        "",
        f"Written by `python -m bench.reliability_report` on {when:%Y-%m-%d %H:%M} UTC "
        f"(Python {platform.python_version()}, {os.cpu_count()} cores). The scenarios are "
        "tests that CI runs on every change (`make test`); this page is their last run.",
        "",
        "## Fuzzing",
        "",
        f"Schemathesis read the live OpenAPI document of a real `booking serve` and sent "
        f"**{fuzz['examples']} generated requests** (positive and negative) to all "
        f"**{fuzz['operations']} operations**, staff and device operations with valid "
        f"credentials. Failures (a 5xx, an error outside the common format, a missing "
        f"security header): **{fuzz['failures']}**; errors in the server log: "
        f"**{fuzz['server_errors_logged']}**. "
        f"({seconds.get(SCENARIOS['fuzz'].test, 0):.0f} s)",
        "",
        "## Faults",
        "",
        "Each against real processes: `booking serve` (Granian), `booking worker` (arq), "
        "PostgreSQL, Redis and an SMTP server of the test's own. Afterwards the database "
        "is the judge: every booking request either committed its appointment with its "
        "message or left nothing, and every message reached the SMTP server (exactly once "
        "where it says so).",
        "",
        "| scenario | fault injected | requests | bookings checked | messages checked | "
        "lost | seconds |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, scenario in SCENARIOS.items():
        if name == "fuzz":
            continue
        found = facts[name]
        lines.append(
            f"| {name} | {scenario.fault} | {_cell(found, 'requests')} | "
            f"{_cell(found, 'bookings_checked')} | {_cell(found, 'messages_checked')} | "
            f"{_cell(found, 'lost')} | {seconds.get(scenario.test, 0):.1f} |"
        )
    lines += ["", f"**Lost in all scenarios: {lost}.**", "", "Further facts per scenario:", ""]
    for name in SCENARIOS:
        extra = {
            k: v
            for k, v in facts[name].items()
            if k not in {"scenario", "requests", "bookings_checked", "messages_checked", "lost"}
        }
        lines.append(f"- {name}: " + ", ".join(f"{k} {v}" for k, v in extra.items()))
    return "\n".join(lines) + "\n"


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        out, junit = Path(folder) / "facts.jsonl", Path(folder) / "junit.xml"
        status = _run(out, junit)
        if status != 0:
            sys.stderr.write("a scenario failed; no report written\n")
            return status
        facts = {}
        for line in out.read_text().splitlines():
            entry = json.loads(line)
            facts[entry["scenario"]] = entry
        seconds = _durations(junit)
    missing = set(SCENARIOS) - set(facts)
    if missing:
        sys.stderr.write(f"scenarios that reported nothing: {', '.join(sorted(missing))}\n")
        return 1
    if any(int(f.get("lost", 0)) for f in facts.values()) or facts["fuzz"]["failures"]:
        sys.stderr.write("something was lost or a fuzz failure slipped through\n")
        return 1
    REPORT.write_text(render(facts, seconds, datetime.now(UTC)))
    sys.stdout.write(f"wrote {REPORT.relative_to(ROOT)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
