"""The pusher of an image is the user of its findings, whether the push or the scan comes first."""

from __future__ import annotations

import pytest

from devsecops.runtime import LocalAws
from tests.conftest import load_event
from tests.ecr.builders import (
    ROLE_SESSION,
    Detector,
    inspector,
    push_record,
    put_image,
    scan_record,
)

USER = "arn:aws:iam::111111111111:user/test"
ROLE = "arn:aws:iam::111111111111:role/ci/ci-pusher"
HIGH = "aws_ecr_container_scanning_findings_high"


def test_findings_of_an_image_pushed_earlier_name_its_pusher() -> None:
    detector = Detector()
    detector.run(push_record())

    events = detector.run(scan_record(inspector()))

    assert [(event.detection, event.user) for event in events] == [(HIGH, USER)]


def test_a_push_after_the_scan_names_the_pusher_on_the_stored_findings() -> None:
    # GIVEN findings stored before CloudTrail delivered the push
    detector = Detector()
    (scan,) = detector.run(scan_record(inspector()))
    assert scan.user is None

    # WHEN the push arrives
    detector.run(push_record())

    # THEN the same risk event (same id) now names the pusher
    (stored,) = detector.stored(HIGH)
    assert (stored.id, stored.user, stored.count) == (scan.id, USER, 1)


def test_the_first_pusher_stays_the_user_when_someone_pushes_the_same_image_again() -> None:
    detector = Detector()
    detector.run(push_record())
    detector.run(push_record(when="2021-08-19T09:00:00Z", identity=ROLE_SESSION))

    events = detector.run(scan_record(inspector()))

    assert events[0].user == USER


def test_a_failed_push_links_nobody() -> None:
    detector = Detector()
    detector.run(push_record(errorCode="AccessDenied"))

    events = detector.run(scan_record(inspector()))

    assert events[0].user is None


def test_a_push_of_another_image_links_nobody_to_these_findings() -> None:
    detector = Detector()
    detector.run(push_record(digest="sha256:0000"))

    events = detector.run(scan_record(inspector()))

    assert events[0].user is None


@pytest.fixture
def aws():
    """The local stack, alerting above 60 points."""
    with LocalAws({"correlation": {"threshold": 60}}) as local:
        yield local


def test_correlation_charges_the_pusher_with_findings_that_arrived_before_the_push(aws) -> None:
    # GIVEN a high finding for an image, stored before its push is known
    aws.invoke("ecr", inspector())
    aws.pump()
    assert [alert["risk_object"] for alert in aws.alerts()] == ["devsecops/cat_dog_server"]

    # WHEN the push arrives during business hours (no outside-hours risk of its own)
    aws.invoke("ecr", put_image(when="2021-08-19T10:00:00Z"))
    aws.pump()

    # THEN the pusher's entity now carries the finding's 70 points and alerts
    alerts = aws.alerts()
    assert [(alert["risk_object"], alert["risk_score"]) for alert in alerts] == [(USER, 70)]
    assert [d["detection"] for d in alerts[0]["detections"]] == [HIGH]


def test_the_samples_show_the_link_in_the_demo_order() -> None:
    # The demo delivers events/cloudtrail before events/ecr: the push, then the Inspector finding.
    detector = Detector()
    detector.run(push_record())

    events = detector.run(scan_record(load_event("ecr/inspector2_finding_high.json")))

    assert events[0].user == USER
