"""Replay ECR and Inspector EventBridge events (`ECR Image Scan`, `Inspector2 Finding`).

Files hold one event, a JSON array of events, or one event per line. A replayed `ECR Image Scan`
makes the ECR function call DescribeImageScanFindings, which the local runtime (moto) answers.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from devsecops.sources.cloudtrail import json_items

SOURCES = frozenset({"aws.ecr", "aws.inspector2"})


def lambda_events(
    paths: list[Path], options: argparse.Namespace
) -> Iterator[tuple[str, dict[str, Any]]]:
    """("ecr", event) for each ECR or Inspector EventBridge event in the files."""
    for path in paths:
        for number, item in enumerate(json_items(path), start=1):
            if isinstance(item, dict) and "detail-type" in item and item.get("source") in SOURCES:
                yield "ecr", item
            else:
                print(
                    f"devsecops: {path}: item {number} is not an ECR event, skipped",
                    file=sys.stderr,
                )
