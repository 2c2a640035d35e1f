"""GitHub Dependabot Alert: which alert deliveries add risk to a repository, and how much."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lambdas.detections.base import Context, run_rules
from lambdas.detections.github.common import GitHubEvent
from lambdas.detections.github.github_dependabot_alert import RULE, detect
from lambdas.shared.settings import Settings
from tests.github.payloads import dependabot_alert, legacy_alert

NOW = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)


def run(event: str, payload: dict, settings: Settings | None = None) -> list:
    """The risk events the detection raises for one delivery."""
    context = Context(settings or Settings(), NOW)
    return list(detect(GitHubEvent(event, payload["action"], payload), context).risk_events)


@pytest.mark.parametrize("action", ["created", "reopened", "auto_reopened", "reintroduced"])
def test_an_alert_that_appears_or_comes_back_adds_risk_to_the_repository(action: str) -> None:
    # GIVEN / WHEN a Dependabot alert is opened or comes back
    [event] = run("dependabot_alert", dependabot_alert(action))

    # THEN the canonical repository carries the risk
    assert event.detection == "github_dependabot_alert"
    assert (event.risk_object, event.risk_object_type) == ("acme-corp/payments", "repository")
    assert event.mitre_attack == ("T1195.001", "T1195")
    assert event.phase == "code"


@pytest.mark.parametrize("action", ["dismissed", "auto_dismissed", "fixed", "withdrawn"])
def test_an_alert_that_is_closed_adds_no_risk(action: str) -> None:
    assert run("dependabot_alert", dependabot_alert(action)) == []


@pytest.mark.parametrize("action", ["dismiss", "resolve"])
def test_a_legacy_alert_that_is_closed_adds_no_risk(action: str) -> None:
    assert run("repository_vulnerability_alert", legacy_alert(action)) == []


def test_a_legacy_vulnerability_alert_adds_risk_with_its_own_fields_as_evidence() -> None:
    [event] = run("repository_vulnerability_alert", legacy_alert())

    assert event.natural_key == "acme-corp/payments#vulnerability-alert/91"
    assert event.evidence["package"] == "minimist"
    assert event.evidence["first_patched_version"] == "1.2.6"
    assert event.evidence["cve"] == "CVE-2021-44906"
    assert event.risk_score == 49  # critical
    assert event.event_time == "2022-04-01T08:00:00Z"


@pytest.mark.parametrize(
    ("severity", "score"), [("critical", 49), ("high", 35), ("medium", 27), ("low", 27)]
)
def test_the_score_follows_the_advisory_severity(severity: str, score: int) -> None:
    [event] = run("dependabot_alert", dependabot_alert(severity=severity))
    assert event.risk_score == score


def test_a_configured_severity_score_overrides_the_default() -> None:
    settings = Settings.from_dict(
        {"scores": {"github_dependabot_alert.critical": 80, "github_dependabot_alert": 10}}
    )

    [critical] = run("dependabot_alert", dependabot_alert(severity="critical"), settings)
    [medium] = run("dependabot_alert", dependabot_alert(severity="medium"), settings)

    assert (critical.risk_score, medium.risk_score) == (80, 10)


def test_the_evidence_names_the_package_advisory_and_fix() -> None:
    [event] = run("dependabot_alert", dependabot_alert())

    assert event.evidence == {
        "package": "lodash",
        "ecosystem": "npm",
        "manifest": "package-lock.json",
        "vulnerable_range": "< 4.17.21",
        "first_patched_version": "4.17.21",
        "advisory": "GHSA-35jh-r3h4-6jhm",
        "cve": "CVE-2021-23337",
        "severity": "high",
        "url": "https://github.com/Acme-Corp/Payments/security/dependabot/14",
        "action": "created",
    }
    assert "lodash" in event.message and "acme-corp/payments" in event.message


def test_reopening_an_alert_is_the_same_risk_event_as_creating_it() -> None:
    [created] = run("dependabot_alert", dependabot_alert("created"))
    [reopened] = run("dependabot_alert", dependabot_alert("reopened", who="alice"))
    [other] = run("dependabot_alert", dependabot_alert("created", number=15))

    assert created.id == reopened.id
    assert other.id != created.id
    assert reopened.event_time == "2026-03-05T16:00:00Z"  # when it came back


def test_a_person_who_reopens_an_alert_is_its_user_but_github_itself_is_not() -> None:
    [created] = run("dependabot_alert", dependabot_alert("created", who="github"))
    [reopened] = run("dependabot_alert", dependabot_alert("reopened", who="alice"))

    assert created.user is None
    assert reopened.user == "alice"


def test_an_alias_maps_the_repository_to_its_canonical_name() -> None:
    settings = Settings.from_dict({"repository_aliases": {"Acme-Corp/Payments": "acme/pay"}})
    [event] = run("dependabot_alert", dependabot_alert(), settings)
    assert event.risk_object == "acme/pay"


def test_an_alert_without_a_number_is_reported_as_a_failed_detection_not_a_crash() -> None:
    payload = dependabot_alert()
    del payload["alert"]["number"]

    result = run_rules(
        [RULE], GitHubEvent("dependabot_alert", "created", payload), Context(Settings(), NOW)
    )

    assert result.failed == ["github_dependabot_alert"]
    assert result.risk_events == []
