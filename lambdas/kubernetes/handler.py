"""Kubernetes function: CloudWatch Logs subscription payloads of ingress, Event and audit logs.

One invocation is one payload. A payload that cannot be decoded is counted and dropped, since a
retry would fail the same way; lines that do not parse are counted and skipped. Only a failure
to store (throttling, an outage) raises, so Lambda's asynchronous retries can deliver it again;
the store is idempotent, so a retried payload adds nothing twice.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from lambdas.detections.kubernetes import RULES
from lambdas.detections.kubernetes.targets import worth_keeping
from lambdas.kubernetes.records import Batch, cluster_name
from lambdas.shared.observability import logger, metrics
from lambdas.shared.pipeline import process
from lambdas.shared.settings import load_settings
from lambdas.shared.store import DynamoStore

DECODE_ERRORS = (
    binascii.Error,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Parse a subscription payload, run the Kubernetes detections, store their risk events."""
    batch = read_payload(event)
    if batch is None:
        return {"status": "skipped"}

    _count("LogLines.Unparseable", batch.unparseable)
    _count("LogLines.Ignored", batch.ignored)
    processed = process(
        RULES,
        batch,
        settings=load_settings(),
        now=datetime.now(UTC),
        store=DynamoStore.from_environment(),
    )
    return {
        "status": "processed",
        "access_lines": batch.access_seen,
        "events": len(batch.events),
        "audit_entries": len(batch.audits),
        "ignored": batch.ignored,
        "unparseable": batch.unparseable,
        "risk_events": len(processed.risk_events),
    }


def read_payload(event: dict[str, Any]) -> Batch | None:
    """The payload's lines as a batch; None for control messages and undecodable payloads."""
    try:
        data = decode_payload(event)
        if data.get("messageType") == "CONTROL_MESSAGE":
            return None
        batch = Batch(cluster=cluster_name(str(data.get("logGroup", ""))), keep=worth_keeping)
        batch.add_all(_messages(data["logEvents"]))
    except DECODE_ERRORS as exc:
        # The payload is never logged: it may hold tokens from request targets.
        logger.warning("undecodable subscription payload", extra={"error": type(exc).__name__})
        _count("Payloads.Malformed", 1)
        return None
    return batch


def decode_payload(event: dict[str, Any]) -> dict[str, Any]:
    """The subscription payload: base64, then gzip, then JSON.

    Three standard-library calls; Powertools' CloudWatchLogsEvent does the same but its import
    brings every data class, about 20 ms of each cold start.
    """
    data = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"], validate=True)))
    if not isinstance(data, dict):
        raise ValueError("subscription payload is not an object")
    return data


def _messages(log_events: Any) -> Iterator[tuple[Any, int]]:
    """(message, timestamp ms) of each log event; a malformed one yields None, counted later."""
    for log_event in log_events:
        if isinstance(log_event, dict):
            timestamp = log_event.get("timestamp")
            yield log_event.get("message"), timestamp if type(timestamp) is int else 0
        else:
            yield None, 0


def _count(name: str, value: int) -> None:
    """Add a count metric when there is something to count."""
    if value:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
