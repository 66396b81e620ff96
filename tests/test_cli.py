"""The ``booking`` command as an operator runs it: a real process, real exit codes."""

from __future__ import annotations

import os
import subprocess
import sys

from booking.db.migrations import load_migrations
from booking.embedded import free_port


def run_booking(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "booking", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_malformed_database_url_stops_with_one_clear_line() -> None:
    result = run_booking("migrate", env={"BOOKING_DATABASE_URL": "postgres//oops"})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "booking: error: BOOKING_DATABASE_URL must start with one of postgres://, postgresql://"
    ]
    assert "Traceback" not in result.stderr


def test_a_bad_number_stops_serve_before_it_starts() -> None:
    result = run_booking(
        "serve", env={"BOOKING_DB_POOL_MAX": "lots", "BOOKING_SECRET_KEY": "k" * 40}
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "booking: error: BOOKING_DB_POOL_MAX: expected `int`, got `str`"
    ]


def test_an_unreachable_database_is_one_line_too() -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/booking"
    result = run_booking(
        "migrate", env={"BOOKING_DATABASE_URL": url, "BOOKING_DB_TIMEOUT_SECONDS": "2"}
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("booking: error: cannot reach the database")


def test_migrate_creates_the_database_then_reports_it_up_to_date(absent_database_url: str) -> None:
    env = {"BOOKING_DATABASE_URL": absent_database_url}
    first = run_booking("migrate", env=env)
    assert first.returncode == 0, first.stderr
    names = [m.name for m in load_migrations()]
    assert first.stdout.strip() == f"applied {len(names)} migration(s): {', '.join(names)}"
    assert run_booking("migrate", env=env).stdout.strip() == "database schema is up to date"
    seeded = run_booking("seed-demo", env=env)
    assert seeded.stdout.strip() == "demo data: 3 locations, 10 services (new: mitte, nord, kfz)"
    again = run_booking("seed-demo", env=env)
    assert again.stdout.strip() == "demo data: 3 locations, 10 services (nothing new)"


def test_serve_and_worker_refuse_to_start_without_a_secret_key() -> None:
    for command in ("serve", "worker"):
        result = run_booking(command, env={"BOOKING_SECRET_KEY": "short"})
        assert result.returncode == 2
        assert result.stderr.strip() == (
            "booking: error: BOOKING_SECRET_KEY must be set to at least 32 random characters"
        )
