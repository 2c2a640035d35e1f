"""The ECR function on the local stack: scans read from ECR, bad input dropped, AWS errors raise."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from devsecops.runtime import LocalAws
from lambdas.shared import clients
from lambdas.shared.observability import metrics
from tests.conftest import load_event
from tests.ecr.builders import inspector

MANIFEST = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    "config": {
        "mediaType": "application/vnd.docker.container.image.v1+json",
        "size": 1,
        "digest": "sha256:" + "1" * 64,
    },
    "layers": [],
}


@pytest.fixture
def aws() -> Iterator[LocalAws]:
    """The local stack with default settings."""
    with LocalAws() as local:
        yield local


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, float]:
    """The metrics the function adds, by name."""
    totals: dict[str, float] = {}

    def add_metric(name: str, unit: Any, value: float) -> None:
        totals[name] = totals.get(name, 0) + value

    monkeypatch.setattr(metrics, "add_metric", add_metric)
    return totals


def scanned_image(repository: str = "devsecops/cat_dog_client") -> dict[str, Any]:
    """An image pushed to (moto's) ECR and scanned; the ECR Image Scan event announcing it."""
    ecr = clients.client("ecr")
    ecr.create_repository(repositoryName=repository)
    image = ecr.put_image(
        repositoryName=repository, imageManifest=json.dumps(MANIFEST), imageTag="latest"
    )["image"]
    ecr.start_image_scan(repositoryName=repository, imageId=image["imageId"])

    event = copy.deepcopy(load_event("ecr/image_scan_complete.json"))
    event.update(account=image["registryId"], region="us-east-1")
    event["detail"]["image-digest"] = image["imageId"]["imageDigest"]
    return event


def test_a_completed_scan_is_scored_from_the_findings_ecr_returns(aws: LocalAws) -> None:
    # GIVEN a scanned image (moto reports one HIGH finding, CVE-9999-9999)
    event = scanned_image()

    # WHEN ECR announces the completed scan
    answer = aws.invoke("ecr", event)

    # THEN one high risk event for the repository is stored
    assert answer["status"] == "scored"
    (item,) = aws.risk_events()
    assert (item["detection"], item["risk_object"], item["count"]) == (
        "aws_ecr_container_scanning_findings_high",
        "devsecops/cat_dog_client",
        1,
    )
    assert item["evidence"]["findings"][0]["id"] == "CVE-9999-9999"


def test_the_recorded_read_stores_three_risk_events_once_however_often_replayed(aws) -> None:
    event = load_event("cloudtrail/describe_image_scan_findings.json")

    aws.invoke("ecr", event)
    aws.invoke("ecr", event)

    counts = sorted(int(item["count"]) for item in aws.risk_events())
    assert counts == [2, 14, 88]
    assert all("user" not in item for item in aws.risk_events())


@pytest.mark.parametrize(
    "broken",
    [
        {"detail-type": "Inspector2 Finding", "source": "aws.inspector2"},
        {**inspector(severity="APOCALYPTIC")},
        {"detail-type": "Something Else", "source": "aws.ecr", "detail": {}},
        {**load_event("ecr/image_scan_complete.json"), "detail": {"scan-status": "COMPLETE"}},
    ],
    ids=["no detail", "unknown severity", "unknown detail-type", "no repository"],
)
def test_bad_input_is_counted_and_dropped_without_a_retry(aws, counted, broken) -> None:
    answer = aws.invoke("ecr", broken)

    assert answer["status"] == "skipped"
    assert counted["InputErrors"] == 1
    assert aws.risk_events() == []


def test_an_image_deleted_before_its_findings_are_read_is_dropped(aws, counted) -> None:
    # The sample's repository does not exist in this account.
    answer = aws.invoke("ecr", load_event("ecr/image_scan_complete.json"))

    assert answer["status"] == "skipped"
    assert counted["InputErrors"] == 1


def test_a_failing_ecr_call_raises_so_eventbridge_retries_then_dead_letters(aws, monkeypatch):
    def denied(*args: Any, **kwargs: Any) -> None:
        raise ClientError({"Error": {"Code": "AccessDeniedException"}}, "Describe")

    monkeypatch.setattr("lambdas.ecr.inputs.all_findings", denied)

    with pytest.raises(ClientError):
        aws.invoke("ecr", scanned_image())


def test_a_scan_that_did_not_complete_is_ignored(aws) -> None:
    event = copy.deepcopy(load_event("ecr/image_scan_complete.json"))
    event["detail"]["scan-status"] = "FAILED"

    assert aws.invoke("ecr", event)["status"] == "ignored"


def test_two_inspector_findings_folded_at_the_same_moment_are_both_counted(aws) -> None:
    # GIVEN an invocation whose state read is overtaken by another invocation's write
    from lambdas.shared.store import DynamoStore

    original = DynamoStore.load_state
    raced: list[bool] = []

    def racing_load(store: DynamoStore, keys: list[str]) -> dict:
        """Read, then let a concurrent invocation fold another finding first (once)."""
        state = original(store, keys)
        if not raced:
            raced.append(True)
            aws.invoke("ecr", inspector(finding="second", cve="CVE-2022-0001"))
        return state

    DynamoStore.load_state = racing_load  # type: ignore[method-assign]
    try:
        # WHEN the first invocation writes its view of the band
        aws.invoke("ecr", inspector(finding="first", cve="CVE-2021-3712"))
    finally:
        DynamoStore.load_state = original  # type: ignore[method-assign]

    # THEN the band's one risk event counts both findings
    (high,) = [r for r in aws.risk_events() if r["detection"].endswith("_high")]
    assert high["count"] == 2
