"""Fidelity: every labelled corpus case through our detections and through Splunk's logic.

Run from the repository root: `.venv/bin/python bench/fidelity.py`. For each detection it prints
attacks found and benign cases flagged, ours against Splunk's (ported in bench/splunk_logic.py).
Our side runs each detection's pure function on the record its handler would build, with the
case's settings and a fixed clock: no AWS call. ECR basic scans are given as the finding list
the API would return; CircleCI cases carry the job or step list the API would return.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.splunk_logic import SPLUNK  # noqa: E402 - needs the root on the path when run
from lambdas.detections import circleci, ecr, github, kubernetes  # noqa: E402
from lambdas.detections.base import Context, Rule  # noqa: E402
from lambdas.detections.circleci.events import job_run, parse_event  # noqa: E402
from lambdas.detections.ecr.records import scan_from_listing  # noqa: E402
from lambdas.detections.github.common import GitHubEvent  # noqa: E402
from lambdas.detections.kubernetes.targets import worth_keeping  # noqa: E402
from lambdas.ecr.inputs import record_of  # noqa: E402
from lambdas.kubernetes.records import Batch  # noqa: E402
from lambdas.shared.risk import iso_utc  # noqa: E402
from lambdas.shared.settings import Settings  # noqa: E402

CORPUS = Path(__file__).with_name("corpus")
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
TIMESTAMP_MS = int(NOW.timestamp() * 1000)
RULES: dict[str, Rule] = {
    rule.detection.id: rule
    for rule in (*ecr.RULES, *github.RULES, *circleci.RULES, *kubernetes.RULES)
}
Case = Mapping[str, Any]


def corpus() -> dict[str, list[Case]]:
    """Every detection's cases, by detection id, from bench/corpus/<detection>.json."""
    found = {}
    for path in sorted(CORPUS.glob("*.json")):
        data = json.loads(path.read_text())
        found[data["detection"]] = data["cases"]
    return found


def record(detection: str, case: Case) -> Any:
    """The record the detection's handler would build from the case's input."""
    data = case["input"]
    source = RULES[detection].detection.source
    if "cloudtrail" in data:
        detail = data["cloudtrail"]
        event = {"detail-type": "AWS API Call via CloudTrail", "time": detail["eventTime"]}
        return record_of({**event, "detail": detail})
    if "inspector" in data:
        return record_of(
            {"detail-type": "Inspector2 Finding", "time": data["time"], "detail": data["inspector"]}
        )
    if "scan" in data:
        scan = data["scan"]
        listing = {"findings": scan["findings"]}
        return scan_from_listing(
            scan["repository"],
            scan["digest"],
            listing,
            event_time=iso_utc(NOW),
            observed_via="ecr_scan",
            complete=True,
        )
    if source == "github":
        return GitHubEvent(data["event"], data["payload"].get("action", ""), data["payload"])
    if source == "circleci":
        return _circleci(data)
    return _batch(data["lines"])


def _circleci(data: Case) -> Any:
    """A webhook with what the handler learns from CircleCI's API (actor, jobs, steps)."""
    jobs = data.get("jobs")
    steps = data.get("steps")
    return parse_event(data["webhook"]).enriched(
        actor=data.get("actor"),
        jobs=None if jobs is None else tuple(filter(None, map(job_run, jobs))),
        steps=None if steps is None else tuple(steps),
    )


def _batch(lines: list[str]) -> Batch:
    """One subscription payload's worth of lines, screened as the handler screens them."""
    batch = Batch(cluster="prod", keep=worth_keeping)
    for line in lines:
        batch.add(line, TIMESTAMP_MS)
    return batch


def ours(detection: str, case: Case) -> bool:
    """True when our detection raises at least one risk event of its own id on the case."""
    settings = Settings.from_dict(dict(case.get("settings") or {}))
    parsed = record(detection, case)
    if parsed is None:
        return False
    outcome = RULES[detection].detect(parsed, Context(settings, NOW))
    return any(event.detection == detection for event in outcome.risk_events)


def splunk(detection: str, case: Case) -> bool:
    """True when Splunk's search, as ported, returns a row for the case."""
    return SPLUNK[detection](case)


def measure() -> dict[str, Any]:
    """Per detection: attacks, benign cases, and what each side found, flagged and got wrong."""
    results: dict[str, Any] = {}
    for detection, cases in corpus().items():
        row: dict[str, Any] = {
            "attacks": sum(case["label"] == "attack" for case in cases),
            "benign": sum(case["label"] == "benign" for case in cases),
        }
        for side, judge in (("ours", ours), ("splunk", splunk)):
            fired = {case["name"]: judge(detection, case) for case in cases}
            wrong = [c["name"] for c in cases if fired[c["name"]] != (c["label"] == "attack")]
            row[side] = {
                "found": sum(fired[c["name"]] for c in cases if c["label"] == "attack"),
                "flagged": sum(fired[c["name"]] for c in cases if c["label"] == "benign"),
                "wrong": wrong,
            }
        results[detection] = row
    return results


def table(results: Mapping[str, Any]) -> str:
    """The results as a fixed-width table, one row per detection."""
    head = ("detection", "ours found", "flagged", "splunk found", "flagged")
    lines = ["{:<62} {:>10} {:>8} {:>12} {:>8}".format(*head)]
    for detection, row in results.items():
        cells = [detection]
        for side in ("ours", "splunk"):
            cells.append(f"{row[side]['found']}/{row['attacks']}")
            cells.append(f"{row[side]['flagged']}/{row['benign']}")
        lines.append("{:<62} {:>10} {:>8} {:>12} {:>8}".format(*cells))
    return "\n".join(lines)


def main() -> int:
    """Print the table and each case a side gets wrong; exit 1 if ours gets any wrong."""
    results = measure()
    print(table(results))
    for detection, row in results.items():
        for side in ("ours", "splunk"):
            for name in row[side]["wrong"]:
                print(f"  {side:<6} wrong: {detection}: {name}")
    return 1 if any(row["ours"]["wrong"] for row in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
