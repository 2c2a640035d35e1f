"""Reading every finding of a scan from ECR: all pages, retried when throttled, bounded."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from lambdas.ecr.findings_api import MAX_ATTEMPTS, all_findings
from lambdas.shared.exceptions import InputError
from tests.ecr.builders import SERVER_DIGEST, basic_finding

REPOSITORY = "devsecops/cat_dog_server"
REQUEST = {
    "repositoryName": REPOSITORY,
    "imageId": {"imageDigest": SERVER_DIGEST},
    "maxResults": 1000,
    "registryId": "111111111111",
}


def page(findings: list[dict[str, Any]], token: str | None = None, **extra: Any) -> dict:
    """One answer of DescribeImageScanFindings."""
    answer: dict[str, Any] = {
        "imageScanStatus": {"status": "COMPLETE"},
        "imageScanFindings": {"findings": findings, **extra},
    }
    if token:
        answer["nextToken"] = token
    return answer


def fail(stubber: Stubber, code: str) -> None:
    """Script one error answer."""
    stubber.add_client_error("describe_image_scan_findings", code, http_status_code=400)


@pytest.fixture
def ecr() -> Iterator[tuple[Any, Stubber]]:
    """An ECR client whose answers the test scripts."""
    client = boto3.client("ecr", region_name="eu-central-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def fetch(client: Any, sleeps: list[float] | None = None) -> dict:
    """All findings of the image, recording the backoff instead of sleeping."""
    record = sleeps if sleeps is not None else []
    return all_findings(REPOSITORY, SERVER_DIGEST, "111111111111", ecr=client, sleep=record.append)


def test_every_page_is_read_by_following_next_token(ecr) -> None:
    client, stubber = ecr
    enhanced = {"findingArn": "arn:aws:inspector2:eu-central-1:1:finding/x", "severity": "LOW"}
    stubber.add_response(
        "describe_image_scan_findings", page([basic_finding("CVE-1", "HIGH")], "t1"), REQUEST
    )
    stubber.add_response(
        "describe_image_scan_findings",
        page([basic_finding("CVE-2", "LOW")], enhancedFindings=[enhanced]),
        {**REQUEST, "nextToken": "t1"},
    )

    listing = fetch(client)

    assert [finding["name"] for finding in listing["findings"]] == ["CVE-1", "CVE-2"]
    assert [finding["findingArn"] for finding in listing["enhancedFindings"]] == [
        enhanced["findingArn"]
    ]


def test_a_throttled_page_is_retried_after_a_backoff(ecr) -> None:
    client, stubber = ecr
    fail(stubber, "ThrottlingException")
    stubber.add_response(
        "describe_image_scan_findings", page([basic_finding("CVE-1", "HIGH")]), REQUEST
    )
    sleeps: list[float] = []

    listing = fetch(client, sleeps)

    assert [finding["name"] for finding in listing["findings"]] == ["CVE-1"]
    assert len(sleeps) == 1


def test_throttling_that_does_not_end_fails_the_event_so_eventbridge_retries_it(ecr) -> None:
    client, stubber = ecr
    for _ in range(MAX_ATTEMPTS):
        fail(stubber, "ThrottlingException")
    sleeps: list[float] = []

    with pytest.raises(ClientError):
        fetch(client, sleeps)
    assert len(sleeps) == MAX_ATTEMPTS - 1


def test_access_denied_is_not_retried(ecr) -> None:
    client, stubber = ecr
    fail(stubber, "AccessDeniedException")

    with pytest.raises(ClientError):
        fetch(client)


def test_an_image_deleted_since_its_scan_is_bad_input_not_a_retry(ecr) -> None:
    client, stubber = ecr
    fail(stubber, "ImageNotFoundException")

    with pytest.raises(InputError):
        fetch(client)
