"""CircleCI inputs for `devsecops replay`: webhook payloads in, signed HTTP API events out.

Input: JSON lines, one `workflow-completed` or `job-completed` body per line (or one body per
`.json` file). Each body is signed as CircleCI signs it (`circleci-signature: v1=<HMAC-SHA256>`)
with env CIRCLECI_WEBHOOK_SECRET, else the samples' public test secret, so it goes through the real
front door, signature check included.

Replay cannot wait out the grace period for late job webhooks, so it evaluates in event order
after the whole input is read: every job webhook is delivered first, then the workflows, oldest
`happened_at` first. A workflow's jobs may therefore come before or after it in the file. When the
runtime has a check queue (CI_CHECK_QUEUE_URL), the delayed checks the handler scheduled are
delivered last, as the SQS messages Lambda would receive once their delay is over.

CircleCI's API is asked only when both CIRCLECI_API_TOKEN and CIRCLECI_API_URL are set: a token
alone would send replayed ids to circleci.com.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import sys
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from devsecops.serve import http_api_event
from lambdas.webhooks.circleci import check_message

# The secret the samples in events/circleci/ are signed with (events/circleci/README.md).
SAMPLE_SECRET = "devsecops-sample-secret"
ROUTE = "/webhooks/circleci"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:devsecops-ci-checks"


def local_secret() -> str:
    """The secret local runs sign with: the environment's, else the samples' test secret."""
    return os.environ.get("CIRCLECI_WEBHOOK_SECRET") or SAMPLE_SECRET


def signed_event(payload: Mapping[str, Any] | bytes, secret: str | None = None) -> dict[str, Any]:
    """The HTTP API event of a CircleCI delivery, signed as CircleCI signs it."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload, indent=2).encode()
    kind = json.loads(body).get("type", "") if body.strip().startswith(b"{") else ""
    signature = hmac.new((secret or local_secret()).encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "content-type": "application/json",
        "user-agent": "CircleCI-Webhook/1.0",
        "circleci-event-type": kind,
        "circleci-signature": f"v1={signature}",
    }
    return http_api_event("POST", ROUTE, headers, body)


def check_event(check: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The SQS event Lambda delivers for one delayed check message."""
    body = json.dumps(check_message(check, dict(payload)), separators=(",", ":"))
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid5(uuid.NAMESPACE_URL, body)),
                "receiptHandle": "local",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(body.encode()).hexdigest(),  # noqa: S324 - SQS's field
                "eventSource": "aws:sqs",
                "eventSourceARN": QUEUE_ARN,
                "awsRegion": "us-east-1",
            }
        ]
    }


def lambda_events(paths: list[Path], options: argparse.Namespace) -> Iterator[tuple[str, dict]]:
    """("webhooks", event) for every payload: jobs, then workflows, then the delayed checks."""
    _api_only_with_url()
    payloads = [payload for path in paths for payload in _payloads(path)]
    jobs = [p for p in payloads if p.get("type") == "job-completed"]
    workflows = sorted(
        (p for p in payloads if p.get("type") == "workflow-completed"),
        key=lambda p: str(p.get("happened_at", "")),
    )

    for payload in (*jobs, *workflows):
        yield "webhooks", signed_event(payload)

    if os.environ.get("CI_CHECK_QUEUE_URL"):
        # Checks the handler may have scheduled; one it did not schedule is a harmless no-op.
        for payload in workflows:
            yield "webhooks", check_event("workflow", payload)
        if os.environ.get("CIRCLECI_API_TOKEN"):
            for payload in jobs:
                yield "webhooks", check_event("job", payload)


def _payloads(path: Path) -> Iterator[dict[str, Any]]:
    """The webhook bodies of a file: one JSON object, or JSON lines; others are reported."""
    text = path.read_text()
    try:
        whole = json.loads(text)
    except ValueError:
        whole = None
    if isinstance(whole, dict):
        yield whole
        return

    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError:
            data = None
        if isinstance(data, dict) and data.get("type") in ("workflow-completed", "job-completed"):
            yield data
        else:
            print(f"circleci: {path}:{number}: not a webhook body, skipped", file=sys.stderr)


def _api_only_with_url() -> None:
    """Drop a token that has no explicit API URL beside it, so replay never calls circleci.com."""
    if os.environ.get("CIRCLECI_API_TOKEN") and not os.environ.get("CIRCLECI_API_URL"):
        os.environ.pop("CIRCLECI_API_TOKEN")
        print("circleci: CIRCLECI_API_TOKEN ignored: set CIRCLECI_API_URL too", file=sys.stderr)
