"""Circle CI Disable Security Job: must fire and must not fire, from the API and from webhooks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lambdas.detections.base import Context, Outcome
from lambdas.detections.circleci import circle_ci_disable_security_job as rule
from lambdas.detections.circleci.events import CircleCIEvent, JobRun, parse_event
from lambdas.shared.settings import Settings
from tests.circleci.conftest import WORKFLOW_ID, job_payload, workflow_payload

NOW = datetime(2024, 5, 2, 10, 30, tzinfo=UTC)
SETTINGS = Settings()


def judge_with_api(
    jobs: list[tuple[str, str]],
    status: str = "success",
    actor: str | None = None,
    settings: Settings = SETTINGS,
) -> Outcome:
    """Judge a workflow whose job list (and maybe actor) came from the API."""
    event = parse_event(workflow_payload(status=status)).enriched(
        jobs=tuple(JobRun(name, state) for name, state in jobs), actor=actor
    )
    return rule.detect(event, Context(settings, NOW))


def replay_webhooks(*payloads: dict[str, Any], settings: Settings = SETTINGS) -> list[Any]:
    """Deliver webhooks in order, keeping state like the handler; judge deferred at the end."""
    state: dict[str, Any] = {}
    workflows: list[CircleCIEvent] = []
    for payload in payloads:
        event = parse_event(payload)
        outcome = rule.detect(event, Context(settings, NOW, dict(state)))
        assert not outcome.risk_events  # nothing is judged on arrival without the API
        state.update(outcome.state)
        if event.type == "workflow-completed":
            workflows.append(event)

    found = []
    for workflow in workflows:
        deferred = workflow.enriched(deferred=True)
        keys = rule.state_keys(deferred, settings)
        loaded = {key: state[key] for key in keys if key in state}
        found.extend(rule.detect(deferred, Context(settings, NOW, loaded)).risk_events)
    return found


def test_a_workflow_that_ran_its_mandatory_job_raises_nothing() -> None:
    outcome = judge_with_api([("build", "success"), ("k8s-security", "success")])

    assert outcome.risk_events == ()


def test_a_workflow_without_its_mandatory_job_raises_risk() -> None:
    outcome = judge_with_api([("build", "success"), ("deploy", "success")])

    (event,) = outcome.risk_events
    assert event.detection == "circle_ci_disable_security_job"
    assert event.risk_score == 72
    assert event.mitre_attack == ("T1554",)
    assert event.phase == "build"
    assert event.natural_key == f"{WORKFLOW_ID}#k8s-security"
    assert event.evidence["jobs_found"] == []
    assert event.evidence["commit_author"] == "Pat Rick"


def test_a_canceled_mandatory_job_did_not_run() -> None:
    outcome = judge_with_api([("k8s-security", "canceled"), ("deploy", "success")])

    (event,) = outcome.risk_events
    assert event.evidence["jobs_found"] == ["k8s-security:canceled"]


def test_a_mandatory_job_that_ran_and_failed_did_run() -> None:
    outcome = judge_with_api([("k8s-security", "failed")], status="failed")

    assert outcome.risk_events == ()


def test_a_failed_workflow_without_its_mandatory_job_raises_risk() -> None:
    outcome = judge_with_api([("deploy", "failed")], status="failed")

    assert len(outcome.risk_events) == 1


def test_a_canceled_workflow_counts_only_when_the_job_is_absent_altogether() -> None:
    stopped = judge_with_api([("k8s-security", "canceled")], status="canceled")
    removed = judge_with_api([("deploy", "canceled")], status="canceled")

    assert stopped.risk_events == ()
    assert len(removed.risk_events) == 1


def test_a_workflow_the_settings_do_not_cover_raises_nothing() -> None:
    event = parse_event(workflow_payload(name="nightly")).enriched(jobs=())

    assert rule.detect(event, Context(SETTINGS, NOW)).risk_events == ()


def test_the_actor_from_the_api_is_the_user_at_risk() -> None:
    (event,) = judge_with_api([], actor="alice").risk_events

    assert (event.risk_object, event.risk_object_type) == ("alice", "user")
    assert event.user == "alice"
    assert event.repository == "acme/app"


def test_without_an_actor_the_repository_carries_the_risk_and_the_author_is_evidence() -> None:
    (event,) = judge_with_api([]).risk_events

    assert (event.risk_object, event.risk_object_type) == ("acme/app", "repository")
    assert event.user is None
    assert "Pat Rick" not in (event.risk_object, event.user)


def test_an_aliased_project_slug_names_the_canonical_repository() -> None:
    payload = workflow_payload()
    del payload["pipeline"]["vcs"]
    payload["project"]["slug"] = "circleci/DdaVtNus/6EkDPZoN"
    settings = Settings(repository_aliases={"circleci/DdaVtNus/6EkDPZoN": "acme/app"})
    event = parse_event(payload).enriched(jobs=())

    (risk,) = rule.detect(event, Context(settings, NOW)).risk_events

    assert risk.risk_object == "acme/app"


def test_glob_patterns_in_the_settings_select_workflows_and_jobs() -> None:
    settings = Settings(mandatory_ci_jobs={"deploy*": ("k8s-*",)})

    ok = judge_with_api([("k8s-scan", "success")], settings=settings)
    missing = judge_with_api([("unit", "success")], settings=settings)

    assert (ok.risk_events, len(missing.risk_events)) == ((), 1)


def test_from_webhooks_a_workflow_is_not_judged_before_its_grace_period() -> None:
    event = parse_event(workflow_payload())

    assert rule.detect(event, Context(SETTINGS, NOW)) == Outcome()


def test_from_webhooks_a_mandatory_job_seen_before_its_workflow_raises_nothing() -> None:
    found = replay_webhooks(job_payload(), workflow_payload())

    assert found == []


def test_from_webhooks_a_job_webhook_arriving_after_its_workflow_raises_nothing() -> None:
    found = replay_webhooks(workflow_payload(), job_payload("build"), job_payload())

    assert found == []


def test_from_webhooks_a_workflow_missing_its_mandatory_job_raises_risk() -> None:
    found = replay_webhooks(job_payload("build", job_id="b-1"), workflow_payload())

    (event,) = found
    assert event.evidence["job_list"] == "webhooks"


def test_from_webhooks_a_canceled_mandatory_job_raises_risk_even_after_another_ran() -> None:
    settings = Settings(mandatory_ci_jobs={"deployment": ("k8s-*",)})
    found = replay_webhooks(
        job_payload("k8s-security", "canceled", job_id="k-1"), workflow_payload(), settings=settings
    )

    (event,) = found
    assert event.evidence["jobs_found"] == ["k8s-security:canceled"]


def test_a_redelivered_job_webhook_writes_the_same_state() -> None:
    first = rule.detect(parse_event(job_payload()), Context(SETTINGS, NOW))
    again = rule.detect(parse_event(job_payload()), Context(SETTINGS, NOW))

    assert first.state == again.state != {}


def test_a_job_of_an_uncovered_workflow_is_not_remembered() -> None:
    outcome = rule.detect(parse_event(job_payload(workflow_name="nightly")), Context(SETTINGS, NOW))

    assert outcome.state == {}
