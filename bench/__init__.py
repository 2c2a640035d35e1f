"""Benchmarks: scripts that report ratios to baselines measured in the same run, not tests."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
from pathlib import Path
from typing import Any

from devsecops.runtime import OFFLINE_ENVIRONMENT

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"

# The environment the tests use: offline credentials, moto-friendly endpoints.
TEST_ENVIRONMENT = OFFLINE_ENVIRONMENT


def use_test_environment() -> None:
    """Set the tests' environment in this process (before any boto3 client exists)."""
    os.environ.update(TEST_ENVIRONMENT)
    # Handlers log one line per delivery at INFO; the table is the output here.
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of `values` (fraction 0.5 is the median, 0.99 the p99)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    """The median of `values`."""
    return statistics.median(values)


def machine() -> dict[str, Any]:
    """Where the figures come from: cores, CPU model, Python, OS, git commit."""
    model = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": commit or "unknown",
    }
