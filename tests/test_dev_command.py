"""``booking dev`` as a newcomer runs it: embedded servers, demo data, a clean stop, a reuse."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from booking.embedded import free_port


def _wait_ready(port: int, process: subprocess.Popen[str]) -> bytes:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "booking dev exited early"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
                body: bytes = answer.read()
                return body
        except OSError:
            time.sleep(0.3)
    raise AssertionError("booking dev was not ready within 60 s")


def _start(data: Path, port: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOOKING_")}
    return subprocess.Popen(
        [sys.executable, "-m", "booking", "dev", "--data", str(data), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_dev_starts_everything_stops_cleanly_and_reuses_its_data(tmp_path: Path) -> None:
    data = tmp_path / "dev"
    outputs = []
    for _ in range(2):
        port = free_port()
        process = _start(data, port)
        try:
            assert b'"status":"ready"' in _wait_ready(port, process)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/dev/mail", timeout=5) as page:
                assert "Gesendete E-Mails" in page.read().decode()
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=60)
        assert process.returncode == 0, output
        outputs.append(output)
    assert "(new: mitte, nord, kfz)" in outputs[0]
    assert f"Sent mail         http://127.0.0.1:{port}/dev/mail" in outputs[1]
    assert "(nothing new)" in outputs[1]
    assert "booking dev: stopped" in outputs[1]
    assert (data / "postgres" / "PG_VERSION").exists()
