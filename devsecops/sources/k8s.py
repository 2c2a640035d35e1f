"""Replay adapter for Kubernetes Event objects and API server audit entries.

Accepts JSON lines (one Event, watch event or audit entry per line, as event exporters and EKS
audit log exports write them), a JSON array, or a list object (`kubectl get events -o json`).
JSON lines are streamed; an array or list file is read whole. Records go to the `kubernetes`
function in CloudWatch Logs subscription events, like the ingress lines.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from devsecops.sources.nginx import FUNCTION, open_text, subscription_events
from lambdas.shared.risk import parse_time

DEFAULT_LOG_GROUP = "/aws/eks/replay/cluster"
TIME_FIELDS = ("stageTimestamp", "lastTimestamp", "eventTime", "firstTimestamp", "timestamp")


def lambda_events(
    paths: list[Path], options: argparse.Namespace
) -> Iterator[tuple[str, dict[str, Any]]]:
    """("kubernetes", subscription event) pairs for the records of every file."""
    log_group = getattr(options, "log_group", None) or DEFAULT_LOG_GROUP
    for path in paths:
        with open_text(path) as handle:
            messages = _stamped(_objects(handle))
            for event in subscription_events(messages, log_group, path.name):
                yield FUNCTION, event


def _objects(handle: IO[str]) -> Iterator[Any]:
    """The JSON values of a file: one per line, or the items of one array or list document."""
    first = handle.readline()
    while first and not first.strip():
        first = handle.readline()
    if first.lstrip().startswith("{"):
        try:
            value = json.loads(first)
        except ValueError:
            value = None  # a pretty-printed document: read it whole below
        else:
            yield from _items(value)
            yield from (_line_value(line) for line in handle if line.strip())
            return
    yield from _items(json.loads(first + handle.read()) if first else [])


def _items(value: Any) -> Iterator[Any]:
    """An array's items, a list object's items, or the value itself."""
    if isinstance(value, list):
        yield from value
    elif isinstance(value, dict) and isinstance(value.get("items"), list):
        yield from value["items"]
    else:
        yield value


def _line_value(line: str) -> Any:
    """A JSON line's value; a line that is not JSON is passed on as text (and counted there)."""
    try:
        return json.loads(line)
    except ValueError:
        return line.rstrip("\r\n")


def _stamped(values: Iterator[Any]) -> Iterator[tuple[str, int]]:
    """Each value as a log message with the record's own time (ms), else the previous one's."""
    last = 0
    for value in values:
        last = _time(value) or last
        yield (value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))), last


def _time(value: Any) -> int | None:
    """Epoch ms of a record's own timestamp field, if it has one."""
    record = value.get("object", value) if isinstance(value, dict) else None
    if not isinstance(record, dict):
        return None
    for key in TIME_FIELDS:
        text = record.get(key)
        if isinstance(text, str) and text:
            try:
                return int(parse_time(text).timestamp() * 1000)
            except ValueError:
                continue
    return None
