"""Replay adapter for ingress-nginx access logs: raw lines or log-shipper JSON lines, maybe gzipped.

Lines are packed into CloudWatch Logs subscription events exactly as the service delivers them
(`{"awslogs": {"data": base64(gzip(json))}}`), up to 5,000 lines or about 1 MB per payload, and
handed to the `kubernetes` function. Files are streamed, so days of logs replay in flat memory.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from lambdas.kubernetes.records import ACCESS_LINE, nginx_time

FUNCTION = "kubernetes"
MAX_EVENTS = 5000
MAX_BYTES = 1_000_000  # CloudWatch Logs batches at most 1 MB of messages per payload
ACCOUNT = "123456789012"
DEFAULT_LOG_GROUP = "/aws/containerinsights/replay/application"


def lambda_events(
    paths: list[Path], options: argparse.Namespace
) -> Iterator[tuple[str, dict[str, Any]]]:
    """("kubernetes", subscription event) pairs for the lines of every file."""
    log_group = getattr(options, "log_group", None) or DEFAULT_LOG_GROUP
    for path in paths:
        with open_text(path) as handle:
            messages = (line.rstrip("\r\n") for line in handle)
            for event in subscription_events(stamped(messages), log_group, path.name):
                yield FUNCTION, event


def open_text(path: Path) -> IO[str]:
    """Open a text file, gunzipping it when it starts with the gzip magic bytes."""
    with path.open("rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    if gzipped:
        return io.TextIOWrapper(gzip.open(path), encoding="utf-8", errors="replace")
    return path.open(encoding="utf-8", errors="replace")


def stamped(messages: Iterable[str]) -> Iterator[tuple[str, int]]:
    """Pair each non-empty line with a timestamp in ms: its own when it has one, else the last."""
    last = 0
    for message in messages:
        if not message.strip():
            continue
        last = line_time(message) or last
        yield message, last


def line_time(message: str) -> int | None:
    """Epoch ms of an access line's `time_local`, or of a shipper's `time` field."""
    match = ACCESS_LINE.match(message)
    if match:
        seconds = nginx_time(match[3])
        return int(seconds * 1000) if seconds is not None else None
    if message.startswith("{"):
        try:
            inner = json.loads(message).get("log", "")
        except (ValueError, AttributeError):
            return None
        return line_time(inner.rstrip("\n")) if isinstance(inner, str) and inner else None
    return None


def subscription_events(
    messages: Iterable[tuple[str, int]], log_group: str, log_stream: str
) -> Iterator[dict[str, Any]]:
    """Subscription events holding the (message, timestamp ms) pairs, in order, in batches."""
    batch: list[dict[str, Any]] = []
    size = 0
    for number, (message, timestamp) in enumerate(messages):
        if batch and (len(batch) == MAX_EVENTS or size + len(message) > MAX_BYTES):
            yield subscription_event(batch, log_group, log_stream)
            batch, size = [], 0
        batch.append(
            {"id": f"{timestamp:020d}{number:036d}", "timestamp": timestamp, "message": message}
        )
        size += len(message)
    if batch:
        yield subscription_event(batch, log_group, log_stream)


def subscription_event(
    log_events: list[dict[str, Any]], log_group: str, log_stream: str
) -> dict[str, Any]:
    """One subscription event in the exact shape CloudWatch Logs gives a Lambda function."""
    payload = {
        "messageType": "DATA_MESSAGE",
        "owner": ACCOUNT,
        "logGroup": log_group,
        "logStream": log_stream,
        "subscriptionFilters": ["devsecops-kubernetes"],
        "logEvents": log_events,
    }
    # The fastest level: the payload only crosses this process, and replay speed is what counts.
    compressed = gzip.compress(json.dumps(payload).encode(), compresslevel=1, mtime=0)
    return {"awslogs": {"data": base64.b64encode(compressed).decode()}}
