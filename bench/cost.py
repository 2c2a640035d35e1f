"""Cost per million inputs at AWS list prices, from durations and DynamoDB units measured here.

List prices as of 2026-12-03, us-east-1, on-demand, free tiers ignored (the figures the lead gave,
checked against stored copies of the AWS pricing pages for Lambda, API Gateway, DynamoDB, SNS,
SQS, EventBridge and X-Ray; no live check was possible from this machine: re-check before quoting).

Each front door's inputs go through the real handler in-process against moto, one at a time, with
the DynamoDB client metered (bench.correlation_cost.Meter). Assumptions, stated where they are used:
- Lambda bills each invocation's duration rounded up to 1 ms, at the configured memory; durations
  under moto stand in for DynamoDB round trips (moto is slower on large items, faster on small).
- A risk table write also writes its index item (keys + projected attributes + 100 B);
  a failed conditional write (a duplicate) still costs its units.
- Each new risk event is correlated once, at the cost the correlation benchmark measured with
  10,000 earlier events: for its first entity, as measured, and for each further entity (a user
  besides the repository), the extra writes measured for one more plus the first entity's reads
  (as if the user were as busy as the repository). Each gets a `correlate` invocation of its own
  (low traffic: stream batches of one record, the most expensive case).
- Alerts are rare: SNS publishes and SQS messages per million inputs are taken as zero.
- X-Ray active tracing records the first invocation each second and 5 % after that, so at these
  rates nearly every invocation is a trace ($5.00 per million); shown apart from the goals.
- Not counted: CloudWatch Logs ingestion of the functions' own logs, KMS (DynamoDB caches the
  table key), Secrets Manager and SSM (cached five minutes per instance), free tiers.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench import ROOT, use_test_environment
from bench.correlation_cost import Meter, item_size
from bench.webhook_latency import PULL_REQUEST, SECRET, deliveries

PRICES_AS_OF = "2026-12-03"
PRICES = {
    "lambda_gb_second_arm64": 0.0000133334,
    "lambda_request": 0.20 / 1e6,
    "http_api_request": 1.00 / 1e6,  # first 300 million a month
    "rest_api_request": 3.50 / 1e6,  # for comparison: the stack uses an HTTP API
    "dynamodb_write_unit": 0.625 / 1e6,
    "dynamodb_read_unit": 0.125 / 1e6,
    "sns_publish": 0.50 / 1e6,
    "sqs_request": 0.40 / 1e6,
    "eventbridge_custom_event": 1.00 / 1e6,  # AWS service events on the default bus are free
    "xray_trace": 5.00 / 1e6,
}
MEMORY_MB = {"ecr": 256, "webhooks": 256, "kubernetes": 512, "correlate": 256}
# Lambda gives a full vCPU at 1,769 MB and a proportional share below it.
FULL_CPU_MB = 1769
INGRESS_BATCHES = (1_000, 5_000, 10_000)
GITHUB_DELIVERIES = 30
# Assumed share of GitHub deliveries that produce a risk event (most are pushes, checks, PRs),
# and how those risk events split between the two GitHub detections: a Dependabot alert names the
# repository alone; an unknown user's pull request names the repository and the user.
RISK_FRACTION = 0.05
RISK_MIX = {"GitHub, Dependabot alert": 0.5, "GitHub, unknown user's PR": 0.5}
GOAL_INGRESS = 0.01
GOAL_WEBHOOK = 1.50
# Mirrors infra/risk_store.py INDEX_ATTRIBUTES (not imported: that would load aws_cdk).
INDEX_ATTRIBUTES = (
    "risk_score",
    "message",
    "count",
    "user",
    "repository",
    "suppressed",
    "risk_object",
    "risk_object_type",
    "severity",
)
INDEX_OVERHEAD = 100
WARM_UP = 10


def measure(correlation: dict[str, Any], ingress: dict[str, Any] | None) -> dict[str, Any]:
    """Cost per million inputs of each front door, and where the goals stand."""
    use_test_environment()
    busiest = correlation["rows"][-1]
    doors = _measure_doors()
    rows = [_price_door(door, busiest) for door in doors]
    rows += _price_ingress(ingress)

    rows.append(_blend(rows, RISK_FRACTION, RISK_MIX))
    webhooks = [row for row in rows if row["door"].startswith("GitHub, ") and "total" in row]
    lines = [row for row in rows if row["door"].startswith("ingress") and "lambda" in row]
    return {
        "prices_as_of": PRICES_AS_OF,
        "prices": PRICES,
        "rows": rows,
        "goal_webhook": GOAL_WEBHOOK,
        "webhook_blended": next((r["total"] for r in webhooks if "%" in r["door"]), None),
        "webhook_all_risk": max((row["total"] for row in webhooks), default=None),
        "goal_ingress": GOAL_INGRESS,
        "worst_ingress": max((row["lambda"] for row in lines), default=None),
    }


def _measure_doors() -> list[dict[str, Any]]:
    """Deliver each front door's inputs to its handler, timing and metering each one."""
    from devsecops.runtime import LocalAws
    from lambdas.shared.clients import client

    secrets = {"GITHUB_WEBHOOK_SECRET": SECRET, "CIRCLECI_WEBHOOK_SECRET": _circleci_secret()}
    with LocalAws({}, env=secrets) as aws:
        for event in deliveries(WARM_UP, start=10**6):
            aws.invoke("webhooks", event)
        for service in ("dynamodb", "ecr", "inspector2", "sqs", "ssm", "secretsmanager"):
            client(service)  # a warm instance has its clients already
        meter = Meter(client("dynamodb"))
        found = []
        for door, function, events in _inputs():
            known = {item["id"] for item in aws.risk_events()}
            found.append(_run_door(aws, meter, door, function, list(events)))
            new = [item for item in aws.risk_events() if item["id"] not in known]
            found[-1].update(_risk_items(new))
            meter = Meter(client("dynamodb"))
    return found


def _inputs() -> Iterator[tuple[str, str, Iterator[dict[str, Any]]]]:
    """Each front door's inputs: the shipped samples, and unique signed GitHub deliveries."""
    events = ROOT / "events"
    yield "ECR scan", "ecr", _samples(events / "ecr")
    yield "ECR push", "ecr", _samples(events / "cloudtrail")
    yield "GitHub, Dependabot alert", "webhooks", deliveries(GITHUB_DELIVERIES, start=2 * 10**6)
    yield (
        "GitHub, unknown user's PR",
        "webhooks",
        deliveries(GITHUB_DELIVERIES, start=4 * 10**6, sample=PULL_REQUEST),
    )
    yield (
        "GitHub, read by none",
        "webhooks",
        _unread(deliveries(GITHUB_DELIVERIES, start=3 * 10**6)),
    )
    yield "CircleCI", "webhooks", _samples(events / "circleci")


def _unread(events: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The same signed bodies named as an event no detection reads (most of GitHub's traffic)."""
    for event in events:
        event["headers"]["x-github-event"] = "push"
        yield event


def _samples(folder: Path) -> Iterator[dict[str, Any]]:
    """The Lambda-shaped sample events of a folder."""
    for path in sorted(folder.glob("*.json")):
        yield json.loads(path.read_text())


def _circleci_secret() -> str:
    """The secret the CircleCI samples are signed with (events/circleci/README.md)."""
    from devsecops.demo import LOCAL_SECRETS

    return LOCAL_SECRETS["CIRCLECI_WEBHOOK_SECRET"]


def _run_door(
    aws: Any, meter: Meter, door: str, function: str, events: list[dict[str, Any]]
) -> dict[str, Any]:
    """Invoke the handler once per input; billed ms, statuses and DynamoDB units per input."""
    billed, statuses = [], {}
    with meter.counting():
        for event in events:
            started = time.perf_counter()
            answer = aws.invoke(function, event)
            billed.append(math.ceil((time.perf_counter() - started) * 1000))
            status = str(answer.get("statusCode", "ok")) if isinstance(answer, dict) else "ok"
            statuses[status] = statuses.get(status, 0) + 1
    totals = meter.totals()
    count = max(1, len(events))
    return {
        "door": door,
        "function": function,
        "inputs": len(events),
        "billed_ms": sum(billed) / count,
        "statuses": statuses,
        "read_units": totals["read_units"] / count,
        "write_units": totals["write_units"] / count,
    }


def _risk_items(items: list[dict[str, Any]]) -> dict[str, Any]:
    """New risk events: how many, their index write units, the entities each names."""
    from lambdas.shared.risk import RiskEvent
    from lambdas.shared.store import serialize

    index_units = entities = 0
    for item in items:
        # The one index, by time, projects these attributes and the detection.
        keys = ("entity", "id", "event_time", "detection", *INDEX_ATTRIBUTES)
        projected = serialize({key: item[key] for key in keys if key in item})
        index_units += math.ceil((item_size(projected) + INDEX_OVERHEAD) / 1024)
        entities += len(RiskEvent.from_item(item).entities())
    return {"new_risk_events": len(items), "index_units": index_units, "entities": entities}


def _price_door(door: dict[str, Any], busiest: dict[str, Any]) -> dict[str, Any]:
    """Dollars per million inputs of one front door, by part."""
    million, inputs = 1e6, max(1, door["inputs"])
    risk_per_input = door["new_risk_events"] / inputs
    gb = MEMORY_MB[door["function"]] / 1024
    webhook = door["function"] == "webhooks"
    parts = {
        "front_door": PRICES["http_api_request"] if webhook else 0.0,
        "lambda": PRICES["lambda_request"]
        + gb * door["billed_ms"] / 1000 * PRICES["lambda_gb_second_arm64"],
        "dynamodb": door["write_units"] * PRICES["dynamodb_write_unit"]
        + door["read_units"] * PRICES["dynamodb_read_unit"]
        + door["index_units"] / inputs * PRICES["dynamodb_write_unit"],
        "correlation": _correlation(door["entities"] / inputs, risk_per_input, busiest),
    }
    priced = {name: round(value * million, 4) for name, value in parts.items()}
    traces = (1 + risk_per_input) * PRICES["xray_trace"] * million
    return {
        **door,
        **priced,
        "total": round(sum(priced.values()), 4),
        "xray": round(traces, 4),
        "risk_events_per_input": round(risk_per_input, 3),
    }


def _blend(rows: list[dict[str, Any]], fraction: float, mix: dict[str, float]) -> dict[str, Any]:
    """GitHub traffic where `fraction` of the deliveries produce a risk event, split by `mix`."""
    by_door = {row["door"]: row for row in rows}
    weights = {door: fraction * share for door, share in mix.items()}
    weights["GitHub, read by none"] = 1 - fraction
    mixed: dict[str, Any] = {"door": f"GitHub, {fraction:.0%} produce a risk event"}
    for key in (
        "billed_ms",
        "risk_events_per_input",
        "front_door",
        "lambda",
        "dynamodb",
        "correlation",
        "total",
        "xray",
    ):
        mixed[key] = round(sum(w * by_door[door][key] for door, w in weights.items()), 4)
    return mixed


def _correlation(entities: float, risk_events: float, busiest: dict[str, Any]) -> float:
    """Dollars per input for correlating its risk events: DynamoDB units and the invocation."""
    further_writes = busiest["with_user"]["write_units"] - busiest["write_units"]
    first = (
        busiest["write_units"] * PRICES["dynamodb_write_unit"]
        + busiest["read_units"] * PRICES["dynamodb_read_unit"]
    )
    further = (
        further_writes * PRICES["dynamodb_write_unit"]
        + busiest["read_units"] * PRICES["dynamodb_read_unit"]
    )
    units = risk_events * first + max(0.0, entities - risk_events) * further
    billed = math.ceil(busiest["handler_ms"]) / 1000
    invocation = (
        PRICES["lambda_request"]
        + MEMORY_MB["correlate"] / 1024 * billed * PRICES["lambda_gb_second_arm64"]
    )
    return units + risk_events * invocation


def _price_ingress(ingress: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Lambda dollars per million ingress lines at the subscription's batch sizes."""
    if not ingress or not ingress.get("lines_per_second"):
        return [{"door": "ingress lines", "skipped": "no ingress throughput figure"}]
    per_line = 1 / ingress["lines_per_second"]
    share = FULL_CPU_MB / MEMORY_MB["kubernetes"]  # CPU-bound work slows by this at 512 MB
    gb = MEMORY_MB["kubernetes"] / 1024
    rows = []
    for batch in INGRESS_BATCHES:
        invocations = 1e6 / batch
        billed = math.ceil(batch * per_line * share * 1000) / 1000
        cost = invocations * (
            PRICES["lambda_request"] + gb * billed * PRICES["lambda_gb_second_arm64"]
        )
        rows.append(
            {
                "door": f"ingress lines ({batch:,}/invocation)",
                "function": "kubernetes",
                "billed_ms": round(billed * 1000),
                "lambda": round(cost, 5),
                "xray": round(invocations * PRICES["xray_trace"], 5),
            }
        )
    return rows


def report(result: dict[str, Any]) -> None:
    """Print the cost table and where each goal stands."""
    print(f"Dollars per million inputs, us-east-1 list prices as of {result['prices_as_of']}")
    print(
        f"{'front door':<38}{'ms':>6}{'risk/in':>8}{'door':>8}{'lambda':>9}{'ddb':>8}"
        f"{'corr':>8}{'total':>8}{'+xray':>8}"
    )
    for row in result["rows"]:
        if "skipped" in row:
            print(f"{row['door']:<38}skipped ({row['skipped']})")
        elif "total" in row:
            print(
                f"{row['door']:<38}{row['billed_ms']:>6.0f}{row['risk_events_per_input']:>8}"
                f"{row['front_door']:>8.2f}{row['lambda']:>9.4f}{row['dynamodb']:>8.3f}"
                f"{row['correlation']:>8.3f}{row['total']:>8.3f}{row['xray']:>8.2f}"
            )
        else:
            print(
                f"{row['door']:<38}{row['billed_ms']:>6}{'':>8}{0:>8.2f}{row['lambda']:>9.5f}"
                f"{'':>8}{'':>8}{row['lambda']:>8.4f}{row['xray']:>8.3f}"
            )
    print(
        f"goal webhooks <= ${result['goal_webhook']}: ${result['webhook_blended']} at"
        f" {RISK_FRACTION:.0%} risk events, ${result['webhook_all_risk']} at 100 %;"
        f" goal ingress lines <= ${result['goal_ingress']} (Lambda): worst"
        f" ${result['worst_ingress']}"
    )


if __name__ == "__main__":
    from bench import correlation_cost

    report(measure(correlation_cost.measure(), None))
