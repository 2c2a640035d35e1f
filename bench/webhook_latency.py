"""Webhook latency: a signed GitHub delivery through the webhooks handler, against HMAC + JSON.

Each delivery is the `dependabot_alert` `created` sample (events/github/) with its own alert number
and delivery id, re-signed, so every one is new work (a stored risk event), not a duplicate. The
handler runs in-process against moto; the baseline is the least any receiver must do with the same
bytes: HMAC-SHA256 the body, compare in constant time, `json.loads` it. moto answers DynamoDB calls
in-process, far from a real table's few milliseconds, so the absolute figures are not Lambda's.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench import ROOT, percentile, use_test_environment

SAMPLE = ROOT / "events" / "github" / "dependabot_alert_created.json"
# An unknown user's pull request from a fork: a risk event naming the repository and the user.
PULL_REQUEST = ROOT / "events" / "github" / "pull_request_opened_fork.json"
SECRET = "bench-webhook-secret"
WARM_UP = 20
DELIVERIES = 200


def deliveries(count: int, start: int = 0, sample: Path = SAMPLE) -> Iterator[dict[str, Any]]:
    """Signed HTTP API events, each a new alert (or pull request) on the sample's repository."""
    template = json.loads(sample.read_text())
    payload = json.loads(template["body"])
    for number in range(start, start + count):
        _renumber(payload, 100_000 + number)
        body = json.dumps(payload)
        event = copy.deepcopy(template)
        signature = hmac.new(SECRET.encode(), body.encode(), hashlib.sha256).hexdigest()
        event["headers"].pop("x-hub-signature", None)
        event["headers"].update(
            {
                "x-hub-signature-256": f"sha256={signature}",
                "x-github-delivery": str(uuid.uuid4()),
                "content-length": str(len(body.encode())),
            }
        )
        event["body"] = body
        yield event


def _renumber(payload: dict[str, Any], number: int) -> None:
    """Make the payload's alert or pull request a new one."""
    if "alert" in payload:
        payload["alert"]["number"] = number
        return
    payload["number"] = payload["pull_request"]["number"] = number
    payload["pull_request"]["id"] = 1_000_000_000 + number


def baseline(event: dict[str, Any]) -> None:
    """The floor: verify the signature and parse the body, nothing else."""
    body = event["body"].encode()
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, event["headers"]["x-hub-signature-256"][7:]):
        raise ValueError("bad signature")
    json.loads(body)


def measure(count: int = DELIVERIES) -> dict[str, Any]:
    """p50 and p99 of the handler and of the baseline over the same deliveries, and ratios."""
    handler = ROOT / "lambdas" / "webhooks" / "handler.py"
    if not handler.exists() or not SAMPLE.exists():
        return {"skipped": "lambdas/webhooks/handler.py or the GitHub sample does not exist yet"}

    from devsecops.runtime import LocalAws

    use_test_environment()
    events = list(deliveries(count, start=WARM_UP))
    with LocalAws({}, env={"GITHUB_WEBHOOK_SECRET": SECRET}) as aws:
        for event in deliveries(WARM_UP):
            aws.invoke("webhooks", event)
        handled, statuses = _time_handler(aws, events)
        stored = len(aws.risk_events()) - WARM_UP
    floor = [_seconds(baseline, event) for event in events]

    return {
        "deliveries": count,
        "body_bytes": len(events[0]["body"]),
        "handler_p50_ms": round(percentile(handled, 0.5) * 1000, 3),
        "handler_p99_ms": round(percentile(handled, 0.99) * 1000, 3),
        "baseline_p50_ms": round(percentile(floor, 0.5) * 1000, 4),
        "baseline_p99_ms": round(percentile(floor, 0.99) * 1000, 4),
        "ratio_p50": round(percentile(handled, 0.5) / percentile(floor, 0.5), 1),
        "ratio_p99": round(percentile(handled, 0.99) / percentile(floor, 0.99), 1),
        "statuses": statuses,
        "risk_events_per_delivery": round(stored / count, 3),
    }


def _time_handler(aws: Any, events: list[dict[str, Any]]) -> tuple[list[float], dict[str, int]]:
    """Seconds each delivery took through the handler, and the answers' status codes."""
    seconds, statuses = [], {}
    for event in events:
        started = time.perf_counter()
        answer = aws.invoke("webhooks", event)
        seconds.append(time.perf_counter() - started)
        status = str(answer.get("statusCode"))
        statuses[status] = statuses.get(status, 0) + 1
    return seconds, statuses


def _seconds(function: Any, event: dict[str, Any]) -> float:
    """Seconds one call takes."""
    started = time.perf_counter()
    function(event)
    return time.perf_counter() - started


def report(result: dict[str, Any]) -> None:
    """Print the percentiles and ratios."""
    if "skipped" in result:
        print(f"webhook latency: skipped ({result['skipped']})")
        return
    print(
        f"{result['deliveries']} deliveries of {result['body_bytes']} bytes, answers"
        f" {result['statuses']}, {result['risk_events_per_delivery']} risk events each"
    )
    print(
        f"handler p50 {result['handler_p50_ms']} ms, p99 {result['handler_p99_ms']} ms;"
        f" HMAC + JSON p50 {result['baseline_p50_ms']} ms, p99 {result['baseline_p99_ms']} ms;"
        f" ratio p50 {result['ratio_p50']}, p99 {result['ratio_p99']}"
    )


if __name__ == "__main__":
    report(measure())
