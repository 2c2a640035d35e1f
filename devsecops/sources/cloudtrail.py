"""Replay CloudTrail files: each ECR push or scan-findings read, as EventBridge delivers it.

Accepts CloudTrail log files (`{"Records": [...]}`, gzipped or not, as CloudTrail writes them to
S3), JSON arrays, JSON lines and single records. Records of other services and other ECR calls are
skipped; so are lines that are not JSON (each is reported on stderr by file and line number).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# The ECR calls the ECR function reads; everything else in a trail is left out.
ECR_CALLS = frozenset({"PutImage", "DescribeImageScanFindings"})
_NAMESPACE = uuid.UUID("5f0c54f4-3a0e-4f5e-9a57-6d1c2b7e8a90")  # stable ids across replays


def lambda_events(
    paths: list[Path], options: argparse.Namespace
) -> Iterator[tuple[str, dict[str, Any]]]:
    """("ecr", EventBridge event) for every ECR push or findings read in the files."""
    for path in paths:
        for item in json_items(path):
            if isinstance(item, dict) and "detail-type" in item:
                yield "ecr", item  # already in the shape EventBridge delivers
            elif _is_ecr_call(item):
                yield "ecr", as_eventbridge(item)


def as_eventbridge(record: dict[str, Any]) -> dict[str, Any]:
    """Wrap a CloudTrail record in the "AWS API Call via CloudTrail" envelope."""
    key = str(record.get("eventID") or json.dumps(record, sort_keys=True))
    return {
        "version": "0",
        "id": str(uuid.uuid5(_NAMESPACE, key)),
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ecr",
        "account": str(record.get("recipientAccountId") or ""),
        "time": str(record.get("eventTime") or ""),
        "region": str(record.get("awsRegion") or ""),
        "resources": [],
        "detail": record,
    }


def json_items(path: Path) -> Iterator[Any]:
    """The records of a file: a trail's Records, an array's items, each line, or the one object."""
    text = _read_text(path)
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        yield from _lines(path, text)
        return

    if isinstance(document, dict) and isinstance(document.get("Records"), list):
        yield from document["Records"]
    elif isinstance(document, list):
        yield from document
    else:
        yield document


def _read_text(path: Path) -> str:
    """A file's text, gunzipped when it starts with the gzip magic bytes."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.decode("utf-8")


def _lines(path: Path, text: str) -> Iterator[Any]:
    """JSON lines; a line that does not parse is reported (file and number only) and skipped."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError:
            print(f"devsecops: {path}:{number}: not JSON, skipped", file=sys.stderr)


def _is_ecr_call(item: Any) -> bool:
    """True for a CloudTrail record of an ECR call the detections read."""
    return (
        isinstance(item, dict)
        and item.get("eventSource") == "ecr.amazonaws.com"
        and item.get("eventName") in ECR_CALLS
    )
