"""The demo: every sample event in events/ through the whole pipeline, locally, on moto."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from devsecops.runtime import LocalAws
from lambdas.correlate.notify import render_text, subject

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
DEMO_SETTINGS = EVENTS / "demo-settings.json"
# The order a day of activity could arrive in: pushes, scans, code events, CI, the cluster.
FOLDERS = ("cloudtrail", "ecr", "github", "circleci", "kubernetes")
# The secrets the samples are signed with (events/github/README.md, events/circleci/README.md).
# Only for local runs: the deployed function reads its secrets from Secrets Manager.
# Only errors reach the terminal: the demo's output is each sample's answer, the risk table and
# the alerts (the handlers' warnings, such as a rejected signature, show there as answers).
QUIET = {"POWERTOOLS_LOG_LEVEL": "ERROR"}
LOCAL_SECRETS = {
    "GITHUB_WEBHOOK_SECRET": os.environ.get("GITHUB_WEBHOOK_SECRET", "devsecops-sample-secret"),
    "CIRCLECI_WEBHOOK_SECRET": os.environ.get("CIRCLECI_WEBHOOK_SECRET", "devsecops-sample-secret"),
}
COLUMNS = (("event_time", 20), ("entity", 44), ("detection", 61), ("risk_score", 5), ("count", 5))


def run(args: argparse.Namespace) -> int:
    """Deliver the samples, correlate, print the risk table and the alerts."""
    settings_path = args.settings or DEMO_SETTINGS
    settings = json.loads(settings_path.read_text())
    with LocalAws(settings, env={**LOCAL_SECRETS, **QUIET}) as aws:
        _seed_scanned_image(aws)
        _say(f"Delivering the samples in {EVENTS.relative_to(ROOT)}/ to the handlers:")
        for path in samples():
            answer = aws.invoke(_function_for(path), json.loads(path.read_text()))
            _say(f"  {path.relative_to(EVENTS)}  ->  {_summary(answer)}")

        aws.pump()
        print_risk_table(aws.risk_events())
        print_alerts(aws.alerts())
    return 0


def samples() -> list[Path]:
    """The Lambda-shaped sample events, folder by folder."""
    found = []
    for folder in FOLDERS:
        found.extend(sorted((EVENTS / folder).glob("*.json")))
    return found


def print_risk_table(items: list[dict[str, Any]]) -> None:
    """The risk table as a person would read it in the console."""
    # On a terminal, cut lines at its width; in a file or a pipe, keep them whole.
    width = shutil.get_terminal_size().columns if sys.stdout.isatty() else 0
    print(f"\nRisk table: {len(items)} risk events\n")
    labels = {"risk_score": "score"}
    print("  ".join(labels.get(name, name).ljust(size) for name, size in COLUMNS) + "  message")
    for item in items:
        cells = [str(item.get(name, "")).ljust(size)[:size] for name, size in COLUMNS]
        line = "  ".join(cells) + "  " + str(item.get("message", ""))
        print(line[:width] if width >= 80 else line)


def print_alerts(alerts: list[dict[str, Any]]) -> None:
    """Each alert as its e-mail would read."""
    print(f"\nAlerts published to the SNS topic: {len(alerts)}")
    for alert in alerts:
        print("\n" + "=" * 78)
        print(f"Subject: {subject(alert)}\n")
        print(render_text(alert))


def _seed_scanned_image(aws: LocalAws) -> None:
    """Give moto's ECR the image of the scan sample, with the findings of the real attack record."""
    scan = json.loads((EVENTS / "ecr" / "image_scan_complete.json").read_text())["detail"]
    record = json.loads((EVENTS / "cloudtrail" / "describe_image_scan_findings.json").read_text())
    answer = record["detail"]["responseElements"]
    aws.seed_image_scan(scan["repository-name"], scan["image-digest"], answer)


def _function_for(path: Path) -> str:
    """The function a sample folder's events go to."""
    folder = path.parent.name
    return {"cloudtrail": "ecr", "ecr": "ecr", "kubernetes": "kubernetes"}.get(folder, "webhooks")


def _summary(answer: Any) -> str:
    """A short description of a handler's answer."""
    if isinstance(answer, dict) and "statusCode" in answer:
        return f"HTTP {answer['statusCode']}"
    return "ok"


def _say(text: str) -> None:
    """Progress goes to stderr, results to stdout."""
    print(text, file=sys.stderr)
