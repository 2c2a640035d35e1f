"""GitHub inputs for `devsecops replay`, and `redrive` of deliveries parked on the webhook DLQ.

Replay reads JSON lines `{"event": NAME, "delivery": GUID, "payload": {...}}` (the shape of a
parked delivery too), or one raw payload file with `--event NAME`, and signs each body the way
GitHub does, with the local secret (env GITHUB_WEBHOOK_SECRET, else the samples' documented test
secret), so it goes through the real front door, signature check included.
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

# The secret the samples in events/github/ are signed with (events/github/README.md).
SAMPLE_SECRET = "devsecops-sample-secret"
ROUTE = "/webhooks/github"


def local_secret() -> str:
    """The secret local runs sign with: the environment's, else the samples' test secret."""
    return os.environ.get("GITHUB_WEBHOOK_SECRET") or SAMPLE_SECRET


def signed_event(
    event: str,
    payload: Mapping[str, Any] | bytes,
    delivery: str | None = None,
    secret: str | None = None,
) -> dict[str, Any]:
    """The HTTP API event of a GitHub delivery, signed as GitHub signs it."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload, indent=2).encode()
    key = (secret or local_secret()).encode()
    headers = {
        "content-type": "application/json",
        "user-agent": "GitHub-Hookshot/devsecops",
        "x-github-event": event,
        "x-github-delivery": delivery or str(uuid.uuid5(uuid.NAMESPACE_URL, body.hex())),
        "x-hub-signature": "sha1=" + hmac.new(key, body, hashlib.sha1).hexdigest(),
        "x-hub-signature-256": "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest(),
    }
    return http_api_event("POST", ROUTE, headers, body)


def lambda_events(paths: list[Path], options: argparse.Namespace) -> Iterator[tuple[str, dict]]:
    """("webhooks", signed event) for every delivery in the files; unreadable lines are skipped."""
    for path in paths:
        for number, delivery in _deliveries(path, getattr(options, "event", None)):
            if delivery is None:
                print(f"github: {path}:{number}: not a delivery, skipped", file=sys.stderr)
                continue
            event, delivery_id, payload = delivery
            yield "webhooks", signed_event(event, payload, delivery_id)


def _deliveries(
    path: Path, event: str | None
) -> Iterator[tuple[int, tuple[str, str | None, dict[str, Any]] | None]]:
    """(line number, (event, delivery id, payload) or None) for each delivery of a file."""
    text = path.read_text()
    try:
        whole = json.loads(text)
    except ValueError:
        whole = None

    if isinstance(whole, dict) and event and "payload" not in whole:
        yield 1, (event, None, whole)
        return
    if isinstance(whole, dict):
        yield 1, _line(whole, event)
        return

    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                yield number, _line(json.loads(line), event)
            except ValueError:
                yield number, None


def _line(data: Any, event: str | None) -> tuple[str, str | None, dict[str, Any]] | None:
    """One JSON-lines record as (event, delivery id, payload), or None when it is not one."""
    if not isinstance(data, dict) or not isinstance(data.get("payload"), dict):
        return None
    name = data.get("event") or event
    if not isinstance(name, str) or not name:
        return None
    delivery = data.get("delivery")
    return name, delivery if isinstance(delivery, str) else None, data["payload"]


def redrive(queue_url: str, limit: int = 1000) -> tuple[int, int]:
    """Process parked deliveries again against the deployed tables; return (done, failed).

    Run it with the stack's table names and settings parameter in the environment (see the
    README). A message is deleted only after its delivery was processed; a failing one stays
    parked (it becomes visible again after the queue's visibility timeout).
    """
    from lambdas.shared.clients import client
    from lambdas.webhooks.handler import redeliver

    sqs = client("sqs")
    done = failed = 0
    while done + failed < limit:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        messages = batch.get("Messages", [])
        if not messages:
            break
        for message in messages:
            try:
                redeliver(json.loads(message["Body"]))
            except Exception as exc:  # noqa: BLE001 - report and keep the message parked
                print(f"redrive: {message['MessageId']}: {type(exc).__name__}", file=sys.stderr)
                failed += 1
                continue
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            done += 1
    return done, failed


def add_redrive_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `devsecops redrive`."""
    parser.add_argument("--queue-url", default=os.environ.get("WEBHOOK_DLQ_URL"), required=False)
    parser.add_argument("--limit", type=int, default=1000, help="stop after this many messages")


def run_redrive(args: argparse.Namespace) -> int:
    """Entry point for the CLI: redrive, print a summary, fail if anything stayed parked."""
    if not args.queue_url:
        print("redrive: --queue-url (or WEBHOOK_DLQ_URL) is required", file=sys.stderr)
        return 2
    done, failed = redrive(args.queue_url, args.limit)
    print(json.dumps({"type": "redrive", "processed": done, "failed": failed}))
    return 1 if failed else 0
