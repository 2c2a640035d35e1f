"""Every finding of an image's latest scan, read from ECR page by page, retried when throttled."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError

from lambdas.shared.clients import client
from lambdas.shared.exceptions import InputError
from lambdas.shared.observability import logger, metrics

PAGE_SIZE = 1000  # the API's maximum
MAX_PAGES = 100  # 100,000 findings: far beyond any real image, but never an endless loop
MAX_ATTEMPTS = 4  # per page, on top of botocore's own retries
BACKOFF_SECONDS = 1.0
RETRYABLE = frozenset({"ThrottlingException", "ServerException", "LimitExceededException"})
# The image or its scan is gone (deleted since the scan event): retrying cannot bring it back.
GONE = frozenset({"ImageNotFoundException", "RepositoryNotFoundException", "ScanNotFoundException"})


def all_findings(
    repository: str,
    digest: str,
    registry_id: str | None = None,
    *,
    ecr: Any = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, list[dict[str, Any]]]:
    """The `findings` and `enhancedFindings` of every page, as one `imageScanFindings` mapping."""
    ecr = ecr or client("ecr")
    request: dict[str, Any] = {
        "repositoryName": repository,
        "imageId": {"imageDigest": digest},
        "maxResults": PAGE_SIZE,
    }
    if registry_id:
        request["registryId"] = registry_id

    listing: dict[str, list[dict[str, Any]]] = {"findings": [], "enhancedFindings": []}
    for _ in range(MAX_PAGES):
        page = _page(ecr, request, sleep)
        found = page.get("imageScanFindings") or {}
        listing["findings"].extend(found.get("findings") or ())
        listing["enhancedFindings"].extend(found.get("enhancedFindings") or ())
        if not page.get("nextToken"):
            return listing
        request["nextToken"] = page["nextToken"]

    logger.warning("scan findings truncated", extra={"pages": MAX_PAGES})
    return listing


def _page(ecr: Any, request: dict[str, Any], sleep: Callable[[float], None]) -> dict[str, Any]:
    """One page; throttling and server errors are retried with jittered exponential backoff."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return ecr.describe_image_scan_findings(**request)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in GONE:
                raise InputError(f"ecr: scan findings unavailable ({code})") from exc
            if code not in RETRYABLE or attempt == MAX_ATTEMPTS:
                raise

            # Only the error code and the attempt are logged: never the request or the answer.
            metrics.add_metric(name="EcrApiRetries", unit=MetricUnit.Count, value=1)
            logger.warning("ecr call retried", extra={"error_code": code, "attempt": attempt})
            sleep(random.uniform(0, BACKOFF_SECONDS * 2**attempt))  # jitter spreads retries
    raise AssertionError("unreachable")  # the loop either returns or raises
