"""Events and records for the ECR tests, built from the samples in events/ with a few changes."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from lambdas.detections.ecr import RULES, state_keys
from lambdas.detections.ecr.records import ImagePush, ImageScan
from lambdas.ecr.inputs import record_of
from lambdas.shared.pipeline import process
from lambdas.shared.risk import RiskEvent
from lambdas.shared.settings import Settings
from lambdas.shared.store import MemoryStore
from tests.conftest import load_event

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
SERVER_DIGEST = "sha256:b7798f35949cc1a2d435c9ac59ab69e857fe635a359c96e4f56a8498ce02019c"
ROLE_SESSION = {
    "type": "AssumedRole",
    "principalId": "AROAEXAMPLEROLEID:build-4711",
    "arn": "arn:aws:sts::111111111111:assumed-role/ci-pusher/build-4711",
    "accountId": "111111111111",
    "sessionContext": {
        "sessionIssuer": {
            "type": "Role",
            "principalId": "AROAEXAMPLEROLEID",
            "arn": "arn:aws:iam::111111111111:role/ci/ci-pusher",
            "accountId": "111111111111",
            "userName": "ci-pusher",
        }
    },
}


def put_image(
    when: str = "2021-08-18T23:17:30Z",
    identity: dict[str, Any] | None = None,
    repository: str = "devsecops/cat_dog_server",
    digest: str = SERVER_DIGEST,
    **changes: Any,
) -> dict[str, Any]:
    """The PutImage sample (EventBridge shape), at another time, by another caller, or failed."""
    event = copy.deepcopy(load_event("cloudtrail/put_image_outside_hours.json"))
    detail = event["detail"]
    detail.update(eventTime=when, **changes)
    detail["requestParameters"]["repositoryName"] = repository
    detail["responseElements"]["image"]["imageId"]["imageDigest"] = digest
    if identity is not None:
        detail["userIdentity"] = identity
    if "errorCode" in changes:
        detail["responseElements"] = None
    event["time"] = when
    return event


def inspector(
    finding: str = "7f3a9c2e1d4b4e6f8a0b1c2d3e4f5a6b",
    severity: str = "HIGH",
    status: str = "ACTIVE",
    cve: str = "CVE-2021-3712",
    digest: str = SERVER_DIGEST,
) -> dict[str, Any]:
    """The Inspector2 Finding sample with another finding id, severity, status or image."""
    event = copy.deepcopy(load_event("ecr/inspector2_finding_high.json"))
    detail = event["detail"]
    detail["findingArn"] = detail["findingArn"].rsplit("/", 1)[0] + "/" + finding
    detail.update(severity=severity, status=status)
    detail["packageVulnerabilityDetails"]["vulnerabilityId"] = cve
    detail["resources"][0]["details"]["awsEcrContainerImage"]["imageHash"] = digest
    return event


def basic_finding(name: str, severity: str, package: str = "openssl", cvss: str = "5.0") -> dict:
    """One finding as basic scanning lists it."""
    attributes = [{"key": "package_name", "value": package}, {"key": "CVSS2_SCORE", "value": cvss}]
    return {"name": name, "severity": severity, "attributes": attributes}


def push_record(**kwargs: Any) -> ImagePush:
    """The parsed record of a PutImage event."""
    record = record_of(put_image(**kwargs))
    assert isinstance(record, ImagePush)
    return record


def scan_record(event: dict[str, Any]) -> ImageScan:
    """The parsed record of a scan-findings event."""
    record = record_of(event)
    assert isinstance(record, ImageScan)
    return record


class Detector:
    """The ECR rules over an in-memory store, as the handler runs them, for pure tests."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.store = MemoryStore()

    def run(self, record: Any) -> list[RiskEvent]:
        """Score one record; return the risk events it produced."""
        keys = state_keys(record, self.settings)
        result = process(
            RULES, record, settings=self.settings, now=NOW, store=self.store, state_keys=keys
        )
        assert not result.failed, f"rules failed: {result.failed}"
        return result.risk_events

    def stored(self, detection: str | None = None) -> list[RiskEvent]:
        """The stored risk events, of one detection if given."""
        events = self.store.risk_events.values()
        return [event for event in events if detection in (None, event.detection)]
