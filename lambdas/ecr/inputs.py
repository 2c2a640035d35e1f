"""From the EventBridge event the ECR function receives to the record its detections read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdas.detections.ecr.records import (
    ImagePush,
    ImageScan,
    push_from_cloudtrail,
    scan_from_cloudtrail,
    scan_from_inspector,
    scan_from_listing,
)
from lambdas.ecr.findings_api import all_findings
from lambdas.shared.exceptions import InputError

Record = ImageScan | ImagePush


def record_of(event: Mapping[str, Any]) -> Record | None:
    """The record an event carries; None for events that carry nothing to score.

    Raises InputError for an event this function cannot read (its message names the field).
    """
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        raise InputError("eventbridge: detail is missing")

    kind = event.get("detail-type")
    try:
        if kind == "ECR Image Scan":
            return _image_scan(event, detail)
        if kind == "Inspector2 Finding":
            return scan_from_inspector(detail, _time(event))
        if kind == "AWS API Call via CloudTrail":
            return _cloudtrail(detail)
    except (AttributeError, TypeError, ValueError) as exc:
        # A field of the wrong type somewhere inside: the type names it, the value stays out.
        raise InputError(f"{kind}: malformed detail ({type(exc).__name__})") from exc
    raise InputError("eventbridge: unsupported detail-type")


def _image_scan(event: Mapping[str, Any], detail: Mapping[str, Any]) -> ImageScan | None:
    """A completed basic scan: ask ECR for every finding (the event only has counts)."""
    if detail.get("scan-status") != "COMPLETE":
        return None
    repository, digest = detail.get("repository-name"), detail.get("image-digest")
    if not repository or not digest:
        raise InputError("ECR Image Scan: repository-name or image-digest is missing")

    listing = all_findings(str(repository), str(digest), event.get("account"))
    return scan_from_listing(
        str(repository),
        str(digest),
        listing,
        event_time=_time(event),
        observed_via="ecr_scan",
        complete=True,
        tags=tuple(detail.get("image-tags") or ()),
    )


def _cloudtrail(detail: Mapping[str, Any]) -> Record | None:
    """A CloudTrail ECR call: a push, or somebody's read of scan findings."""
    name = detail.get("eventName")
    if detail.get("eventSource") != "ecr.amazonaws.com":
        raise InputError("cloudtrail: eventSource is not ECR")
    if name == "PutImage":
        return push_from_cloudtrail(detail)
    if name == "DescribeImageScanFindings":
        return scan_from_cloudtrail(detail)
    return None


def _time(event: Mapping[str, Any]) -> str:
    """The event's time (when AWS observed the scan or finding)."""
    if not event.get("time"):
        raise InputError("eventbridge: time is missing")
    return str(event["time"])
