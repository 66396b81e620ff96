"""``make bench``: run every scenario and write bench/results/report.{json,md}."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from bench import outbox


def main() -> None:
    results = [asyncio.run(outbox.run())]
    folder = Path(__file__).parent / "results"
    folder.mkdir(exist_ok=True)
    (folder / "report.json").write_text(json.dumps(results, indent=2))
    lines = ["| scenario | figure | yardstick | ratio |", "| --- | --- | --- | --- |"]
    lines += [
        f"| {r['scenario']} | {r['figure']:.1f} {r['unit']} | {r['yardstick']:.1f} {r['unit']} "
        f"({r['yardstick_name']}) | {r['ratio']:.2f} |"
        for r in results
    ]
    (folder / "report.md").write_text("\n".join(lines) + "\n")
    sys.stdout.write("\n".join(lines) + "\n")


main()
