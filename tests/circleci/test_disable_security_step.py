"""Circle CI Disable Security Step: must fire and must not fire on a job's step names."""

from __future__ import annotations

from datetime import UTC, datetime

from lambdas.detections.base import Context, Outcome
from lambdas.detections.circleci import circle_ci_disable_security_step as rule
from lambdas.detections.circleci.events import parse_event
from lambdas.shared.settings import Settings
from tests.circleci.conftest import job_payload

NOW = datetime(2024, 5, 2, 10, 30, tzinfo=UTC)
STEPS = ("Spin up environment", "Checkout code", "Run Kube Hunter")


def judge(
    steps: tuple[str, ...] | None,
    name: str = "k8s-security",
    status: str = "success",
    settings: Settings | None = None,
) -> Outcome:
    """Judge a finished job whose step names the API gave."""
    event = parse_event(job_payload(name, status)).enriched(steps=steps, actor="alice")
    return rule.detect(event, Context(settings or Settings(), NOW))


def test_a_job_that_ran_its_mandatory_step_raises_nothing() -> None:
    assert judge(STEPS).risk_events == ()


def test_a_job_without_its_mandatory_step_raises_risk_on_the_actor() -> None:
    (event,) = judge(STEPS[:2]).risk_events

    assert event.detection == "circle_ci_disable_security_step"
    assert (event.risk_object, event.risk_object_type, event.risk_score) == ("alice", "user", 72)
    assert event.natural_key == "aa1e394f-42c8-4809-93fc-7ba9f8fc51d2#Run Kube Hunter"
    assert event.repository == "acme/app"
    assert event.evidence["steps"] == list(STEPS[:2])


def test_a_renamed_mandatory_step_counts_as_missing() -> None:
    (event,) = judge(("Checkout code", "Run kube-hunter (quick)")).risk_events

    assert event.evidence["mandatory_step"] == "Run Kube Hunter"


def test_a_pattern_in_the_settings_can_allow_a_renamed_step() -> None:
    settings = Settings(mandatory_ci_steps={"k8s-security": ("Run [Kk]ube*[Hh]unter*",)})

    assert judge(("Run kube-hunter (quick)",), settings=settings).risk_events == ()


def test_a_job_the_settings_do_not_cover_raises_nothing() -> None:
    assert judge(("Checkout code",), name="unit-tests").risk_events == ()


def test_a_failed_job_is_not_judged() -> None:
    assert judge(("Checkout code",), status="failed").risk_events == ()


def test_without_step_names_from_the_api_nothing_is_judged() -> None:
    assert judge(None) == Outcome()


def test_a_workflow_event_is_not_a_job_to_judge() -> None:
    payload = job_payload()
    payload["type"] = "workflow-completed"
    payload["workflow"]["status"] = "success"
    del payload["job"]
    event = parse_event(payload).enriched(steps=())

    assert rule.detect(event, Context(Settings(), NOW)) == Outcome()
