"""Image pushes: outside business hours, and by principals nobody expected."""

from __future__ import annotations

import copy

import pytest

from lambdas.detections.ecr.identity import principal_of
from lambdas.shared.settings import Settings
from tests.ecr.builders import ROLE_SESSION, Detector, push_record

HOURS = "aws_ecr_container_upload_outside_business_hours"
UNKNOWN = "aws_ecr_container_upload_unknown_user"
ROLE = "arn:aws:iam::111111111111:role/ci/ci-pusher"
USER = "arn:aws:iam::111111111111:user/test"


def fired(detection: str, settings: Settings | None = None, **push: object) -> bool:
    """True when one push raises a risk event of the detection."""
    events = Detector(settings).run(push_record(**push))
    return any(event.detection == detection for event in events)


@pytest.mark.parametrize(
    ("when", "outside"),
    [
        ("2026-11-30T07:59:59Z", True),
        ("2026-11-30T08:00:00Z", False),
        ("2026-11-30T19:59:00Z", False),
        ("2026-11-30T20:00:00Z", True),
    ],
)
def test_a_monday_push_is_outside_hours_before_8_and_from_20_oclock(
    when: str, outside: bool
) -> None:
    assert fired(HOURS, when=when) is outside


def test_a_push_on_a_saturday_afternoon_is_outside_business_hours() -> None:
    assert fired(HOURS, when="2026-11-28T14:00:00Z")


def test_a_push_on_a_configured_holiday_is_outside_business_hours() -> None:
    settings = Settings.from_dict({"business_hours": {"holidays": ["2026-12-25"]}})

    assert fired(HOURS, settings, when="2026-12-25T10:00:00Z")
    assert not fired(HOURS, settings, when="2026-12-24T10:00:00Z")


@pytest.mark.parametrize(
    ("when", "outside"),
    [
        ("2026-03-23T07:00:00Z", False),  # 08:00 in Berlin, winter time (UTC+1)
        ("2026-03-23T06:59:59Z", True),  # 07:59:59 in Berlin
        ("2026-03-30T06:00:00Z", False),  # 08:00 in Berlin, summer time (UTC+2) since Sunday
        ("2026-03-30T05:59:59Z", True),  # 07:59:59 in Berlin
        ("2026-03-30T18:30:00Z", True),  # 20:30 in Berlin, though 18:30 in UTC
    ],
)
def test_business_hours_follow_the_time_zone_across_a_daylight_saving_change(
    when: str, outside: bool
) -> None:
    settings = Settings.from_dict({"business_hours": {"timezone": "Europe/Berlin"}})

    assert fired(HOURS, settings, when=when) is outside


def test_an_outside_hours_push_names_the_pusher_and_shows_where_it_came_from() -> None:
    # GIVEN the recorded sample: IAM user "test", 23:17 UTC on a Wednesday, from "AWS Internal"
    events = Detector().run(push_record())

    event = next(event for event in events if event.detection == HOURS)
    assert (event.risk_object, event.risk_object_type, event.risk_score) == (USER, "user", 49)
    assert event.repository == "devsecops/cat_dog_server"
    assert event.evidence["source_ip"] == "AWS Internal"
    assert event.evidence["local_time"] == "2021-08-18T23:17:30+00:00"


def test_a_failed_push_adds_no_risk() -> None:
    settings = Settings.from_dict({"known_ecr_principals": ["arn:aws:iam::*:role/ci/*"]})
    push = {"when": "2026-11-28T03:00:00Z", "errorCode": "ImageTagAlreadyExistsException"}

    assert Detector(settings).run(push_record(**push)) == []


def test_an_assumed_role_is_its_role_and_the_session_name_is_evidence() -> None:
    principal = principal_of(ROLE_SESSION)

    assert (principal.arn, principal.session) == (ROLE, "build-4711")


def test_an_assumed_role_without_a_matching_issuer_is_named_from_its_session_arn() -> None:
    identity = copy.deepcopy(ROLE_SESSION)
    identity["sessionContext"]["sessionIssuer"]["arn"] = "arn:aws:iam::111111111111:role/other"

    assert principal_of(identity).arn == "arn:aws:iam::111111111111:role/ci-pusher"


def test_an_assumed_role_matching_a_wildcard_pattern_is_known() -> None:
    settings = Settings.from_dict({"known_ecr_principals": ["arn:aws:iam::*:role/ci/*"]})

    assert not fired(UNKNOWN, settings, identity=ROLE_SESSION)


def test_a_principal_matching_no_pattern_is_unknown() -> None:
    settings = Settings.from_dict({"known_ecr_principals": ["arn:aws:iam::*:role/release-*"]})

    events = Detector(settings).run(push_record(identity=ROLE_SESSION))

    event = next(event for event in events if event.detection == UNKNOWN)
    assert (event.risk_object, event.user) == (ROLE, ROLE)
    assert event.evidence["session"] == "build-4711"


class TestWithoutAListOfKnownPrincipals:
    """The detector learns who pushes where, then flags newcomers."""

    def test_pushes_during_the_learning_period_add_no_risk(self) -> None:
        detector = Detector()
        detector.run(push_record(when="2026-11-02T10:00:00Z"))

        events = detector.run(push_record(when="2026-11-08T10:00:00Z", identity=ROLE_SESSION))

        assert [event.detection for event in events if event.detection == UNKNOWN] == []

    def test_a_first_push_after_the_learning_period_is_unknown(self) -> None:
        detector = Detector()
        detector.run(push_record(when="2026-11-02T10:00:00Z"))

        events = detector.run(push_record(when="2026-11-09T10:00:01Z", identity=ROLE_SESSION))

        assert [event.risk_object for event in events if event.detection == UNKNOWN] == [ROLE]

    def test_a_principal_seen_while_learning_stays_known(self) -> None:
        detector = Detector()
        detector.run(push_record(when="2026-11-02T10:00:00Z"))

        events = detector.run(push_record(when="2026-11-20T10:00:00Z"))

        assert not [event for event in events if event.detection == UNKNOWN]

    def test_a_newcomer_is_flagged_once_per_repository(self) -> None:
        detector = Detector()
        detector.run(push_record(when="2026-11-02T10:00:00Z"))
        detector.run(push_record(when="2026-11-20T10:00:00Z", identity=ROLE_SESSION))

        again = detector.run(
            push_record(when="2026-11-21T10:00:00Z", identity=ROLE_SESSION, digest="sha256:0")
        )
        elsewhere = detector.run(
            push_record(when="2026-11-21T10:00:00Z", identity=ROLE_SESSION, repository="x/y")
        )

        assert not [event for event in again if event.detection == UNKNOWN]
        assert [event.repository for event in elsewhere if event.detection == UNKNOWN] == ["x/y"]

    def test_the_learning_period_is_configurable(self) -> None:
        detector = Detector(Settings.from_dict({"learning_days": 0}))
        detector.run(push_record(when="2026-11-02T10:00:00Z"))

        events = detector.run(push_record(when="2026-11-02T10:05:00Z", identity=ROLE_SESSION))

        assert [event.detection for event in events if event.detection == UNKNOWN] == [UNKNOWN]
