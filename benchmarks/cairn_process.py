"""Timing whole `cairn` processes, shared by the benchmark scripts."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

CAIRN = str(Path(sys.executable).parent / "cairn")


def measure(url: str, words: list[str], runs: int) -> tuple[float, int, int]:
    """(median wall time s, SQL statements, output lines) of a whole cairn process."""
    # In-process, as before the cairn service (benchmarks/service.py measures it).
    env = {**os.environ, "CAIRN_DB_URL": url, "CAIRN_PLUGIN_PATH": "", "CAIRN_SERVICE": "off"}
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run([CAIRN, *words], env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode:
            raise SystemExit(f"cairn {' '.join(words)} failed: {done.stderr}")
    counted = subprocess.run(
        [CAIRN, *words], env={**env, "CAIRN_SQL_COUNT": "1"}, capture_output=True, text=True
    )
    statements = (
        int(counted.stderr.strip().rsplit(" ", 1)[-1]) if "sql-statements" in counted.stderr else 0
    )
    return statistics.median(times), statements, counted.stdout.count("\n")
