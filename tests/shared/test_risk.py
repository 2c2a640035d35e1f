"""Risk events: stable ids, severities, entities, and a lossless round trip through DynamoDB."""

from __future__ import annotations

import pytest

from lambdas.shared.risk import RiskEvent, severity_for


def event(**changes: object) -> RiskEvent:
    """A valid repository risk event with optional changes."""
    fields = {
        "detection": "github_dependabot_alert",
        "risk_object": "acme/app",
        "risk_object_type": "repository",
        "risk_score": 27,
        "message": "m",
        "event_time": "2026-12-03T10:00:00Z",
        "source": "github",
        "natural_key": "acme/app#7",
    }
    return RiskEvent(**{**fields, **changes})  # type: ignore[arg-type]


def test_the_id_depends_on_detection_object_and_natural_key_only() -> None:
    assert event().id == event(message="other", count=5, event_time="2027-01-01T00:00:00Z").id
    assert event().id != event(natural_key="acme/app#8").id
    assert event().id != event(detection="other").id


@pytest.mark.parametrize(
    ("score", "band"),
    [(5, "informational"), (21, "low"), (49, "medium"), (70, "high"), (81, "critical")],
)
def test_severity_follows_splunk_bands(score: int, band: str) -> None:
    assert severity_for(score) == band


def test_entities_name_the_risk_object_user_and_repository_once() -> None:
    assert event(user="alice", repository="acme/app").entities() == [
        "repository#acme/app",
        "user#alice",
    ]


def test_invalid_risk_events_are_refused() -> None:
    with pytest.raises(ValueError):
        event(risk_score=101)
    with pytest.raises(ValueError):
        event(risk_object_type="cluster")
    with pytest.raises(ValueError):
        event(risk_object="")


def test_an_item_round_trips_with_floats_and_nested_evidence() -> None:
    original = event(user="alice", evidence={"cvss": 7.5, "ids": ["CVE-1"], "n": {"x": 1}})

    restored = RiskEvent.from_item(original.to_item(expires_at=1))

    assert restored == original
