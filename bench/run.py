"""`make bench`: run every benchmark, print one table, write bench/results/latest.json.

Each figure is a ratio to a baseline measured in the same run, because these machines are shared
and noisy. Run from the repository root: `.venv/bin/python bench/run.py`.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
INGRESS_SIZES = ("100000",)
INGRESS_GOAL = 0.4


def main() -> int:
    """Run the benchmarks in turn, then print the table and save the results."""
    sys.path.insert(0, str(ROOT))
    bench = importlib.import_module("bench")
    bench.use_test_environment()
    # Powertools warns when a handler flushes no metric; metrics are disabled here anyway.
    warnings.filterwarnings("ignore", message="No application metrics to publish")

    results: dict[str, Any] = {"machine": bench.machine(), "seconds": {}}
    # Ingress first: it is CPU- and allocation-bound, and the moto-heavy benchmarks leave a large
    # heap behind that slows the garbage collector of any pass that runs after them.
    names = ("fidelity", "ingress_throughput", "cold_start", "correlation_cost", "webhook_latency")
    for name in names:
        started = time.perf_counter()
        results[name] = _run(name, results)
        results["seconds"][name] = round(time.perf_counter() - started, 1)
        print(f"  {name}: {results['seconds'][name]} s", file=sys.stderr)
    started = time.perf_counter()
    cost = importlib.import_module("bench.cost")
    with contextlib.redirect_stdout(io.StringIO()):
        results["cost"] = cost.measure(results["correlation_cost"], results["ingress_throughput"])
    results["seconds"]["cost"] = round(time.perf_counter() - started, 1)

    _table(results)
    cost.report(results["cost"])
    bench.RESULTS.mkdir(parents=True, exist_ok=True)
    (bench.RESULTS / "latest.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nresults: {(bench.RESULTS / 'latest.json').relative_to(ROOT)}")
    return 0


def _run(name: str, results: dict[str, Any]) -> dict[str, Any]:
    """One benchmark's result; a benchmark that fails is reported, not fatal."""
    try:
        # Handlers print their metrics (EMF) to stdout; the table is this command's output.
        with contextlib.redirect_stdout(io.StringIO()):
            if name == "ingress_throughput":
                return _ingress()
            return importlib.import_module(f"bench.{name}").measure()
    except Exception as exc:  # noqa: BLE001 - one broken benchmark must not hide the others
        return {"skipped": f"{type(exc).__name__}: {exc}"[:200]}


def _ingress() -> dict[str, Any]:
    """Ingress throughput: its `measure()` if it has one, else its printed table."""
    module = importlib.import_module("bench.ingress_throughput")
    if hasattr(module, "measure"):
        return dict(module.measure())

    script = ROOT / "bench" / "ingress_throughput.py"
    answer = subprocess.run(
        [sys.executable, str(script), "--sizes", *INGRESS_SIZES],
        capture_output=True,
        text=True,
        check=True,
    )
    # Rows: lines, floor l/s, detect l/s, ratio, risk events, peak MiB.
    rows = [line.split() for line in answer.stdout.splitlines() if re.match(r"\s*\d", line)]
    lines, floor, detect, ratio = (float(cell.replace(",", "")) for cell in rows[-1][:4])
    return {
        "lines": int(lines),
        "floor_lines_per_second": floor,
        "lines_per_second": detect,
        "ratio": ratio,
        "peak_mib": float(rows[-1][5]),
    }


def _table(results: dict[str, Any]) -> None:
    """The one table: figure, measured value, baseline, ratio, goal, verdict."""
    rows = list(_fidelity_rows(results["fidelity"]))
    rows += _cold_rows(results["cold_start"])
    rows += _correlation_rows(results["correlation_cost"])
    rows += _webhook_rows(results["webhook_latency"])
    rows += _ingress_rows(results["ingress_throughput"])
    rows += _cost_rows(results["cost"])

    machine = results["machine"]
    print(
        f"\nBenchmarks on {machine['nproc']} cores, {machine['cpu']}, Python {machine['python']},"
        f" commit {machine['commit']}\n"
    )
    widths = (44, 22, 22, 9, 9, 8)
    header = ("figure", "measured", "baseline", "ratio", "goal", "status")
    print("  ".join(text.ljust(width) for text, width in zip(header, widths, strict=True)))
    for row in rows:
        print("  ".join(str(text).ljust(width) for text, width in zip(row, widths, strict=True)))
    print()


def _verdict(value: float | None, goal: float, most: bool = True) -> str:
    """'met' or 'MISSED' against an upper (most) or lower bound."""
    if value is None:
        return "n/a"
    return "met" if (value <= goal if most else value >= goal) else "MISSED"


def _cold_rows(result: dict[str, Any]) -> list[tuple[Any, ...]]:
    """One row per handler."""
    if "skipped" in result:
        return [("cold start", "skipped", result["skipped"], "", "", "")]
    base = f"boto3 {result['baseline']['median_ms']} ms"
    rows = []
    for row in result["handlers"]:
        name = f"cold start {row['module'].split('.')[1]}"
        if "skipped" in row:
            rows.append((name, "skipped", row["skipped"][:22], "", "", ""))
            continue
        verdict = _verdict(row["ratio"], result["goal"])
        measured = f"{row['median_ms']} ms (source {row['source_ratio']})"
        rows.append((name, measured, base, row["ratio"], f"<= {result['goal']}", verdict))
    return rows


def _correlation_rows(result: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Requests and capacity units at the largest history against the smallest."""
    if "skipped" in result:
        return [("correlation cost", "skipped", result["skipped"][:22], "", "", "")]
    first, last = result["rows"][0], result["rows"][-1]
    goal = result["goal"]
    return [
        (
            f"correlation requests, {last['history']:,} vs {first['history']}",
            f"{last['requests']} requests",
            f"{first['requests']} requests",
            result["ratio_requests"],
            f"<= {goal}",
            _verdict(result["ratio_requests"], goal),
        ),
        (
            f"correlation capacity, {last['history']:,} vs {first['history']}",
            f"{last['write_units']} WRU {last['read_units']} RRU",
            f"{first['write_units']} WRU {first['read_units']} RRU",
            result["ratio_units"],
            f"<= {goal}",
            _verdict(result["ratio_units"], goal),
        ),
    ]


def _webhook_rows(result: dict[str, Any]) -> list[tuple[Any, ...]]:
    """p50 and p99 against HMAC + JSON."""
    if "skipped" in result:
        return [("webhook latency", "skipped", result["skipped"][:22], "", "", "")]
    return [
        (
            f"webhook latency {level}",
            f"{result[f'handler_{level}_ms']} ms",
            f"HMAC+JSON {result[f'baseline_{level}_ms']} ms",
            result[f"ratio_{level}"],
            "report",
            "",
        )
        for level in ("p50", "p99")
    ]


def _fidelity_rows(result: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Attacks found and benign cases flagged over the labelled corpus, ours against Splunk's."""
    if "skipped" in result:
        return [("fidelity", "skipped", result["skipped"][:22], "", "", "")]
    totals = {"attacks": 0, "benign": 0, "ours": [0, 0], "splunk": [0, 0]}
    for counts in result.values():
        totals["attacks"] += counts["attacks"]
        totals["benign"] += counts["benign"]
        for side in ("ours", "splunk"):
            totals[side][0] += counts[side]["found"]
            totals[side][1] += counts[side]["flagged"]

    attacks, benign = totals["attacks"], totals["benign"]
    found, flagged = totals["ours"]
    ours = f"{found}/{attacks} found, {flagged}/{benign} FP"
    splunk = f"Splunk {totals['splunk'][0]}/{attacks}, {totals['splunk'][1]}/{benign} FP"
    verdict = "met" if (found, flagged) == (attacks, 0) else "MISSED"
    return [(f"fidelity ({len(result)} detections)", ours, splunk, "", "all, none", verdict)]


def _ingress_rows(result: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Detection throughput against the regex floor."""
    if "skipped" in result:
        return [("ingress throughput", "skipped", result["skipped"][:22], "", "", "")]
    return [
        (
            f"ingress throughput ({result['lines']:,} lines)",
            f"{result['lines_per_second']:,.0f} lines/s",
            f"floor {result['floor_lines_per_second']:,.0f}/s",
            result["ratio"],
            f">= {INGRESS_GOAL}",
            _verdict(result["ratio"], INGRESS_GOAL, most=False),
        )
    ]


def _cost_rows(result: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The two cost goals."""
    return [
        (
            "$ per million webhooks (blended)",
            f"${result['webhook_blended']}",
            f"all risk ${result['webhook_all_risk']}",
            "",
            f"<= {result['goal_webhook']}",
            _verdict(result["webhook_blended"], result["goal_webhook"]),
        ),
        (
            "$ per million ingress lines (Lambda)",
            f"${result['worst_ingress']}",
            "worst batch size",
            "",
            f"<= {result['goal_ingress']}",
            _verdict(result["worst_ingress"], result["goal_ingress"]),
        ),
    ]


if __name__ == "__main__":
    sys.exit(main())
