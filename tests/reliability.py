"""What the fuzz and fault tests saw, for ``python -m bench.reliability_report``.

The report command points ``BOOKING_RELIABILITY_OUT`` at a file and runs the tests; each
scenario appends one JSON line of facts to it. In an ordinary test run nothing is written.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

OUT_VARIABLE = "BOOKING_RELIABILITY_OUT"


def record(scenario: str, **facts: object) -> None:
    """``facts``: counts under the report's names (``bookings_checked``, ``lost``, ...)."""
    out = os.environ.get(OUT_VARIABLE)
    if out:
        with Path(out).open("a", encoding="utf-8") as sink:
            sink.write(json.dumps({"scenario": scenario, **facts}) + "\n")
