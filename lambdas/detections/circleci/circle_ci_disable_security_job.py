"""Circle CI Disable Security Job: a finished workflow did not run a job the settings require.

Mandatory jobs come from settings `mandatory_ci_jobs` (workflow pattern -> job patterns). The jobs
of a workflow come from CircleCI's API when the handler has a token, or else from the
`job-completed` webhooks remembered as state. A job webhook may arrive after its workflow's, so
from webhooks alone a workflow is judged only once the grace period is over (`deferred`).
A failed job did run. A canceled or unauthorized workflow stops its own jobs, so it is judged
only when the API's complete job list shows a mandatory job absent from it altogether.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any

from lambdas.detections.base import NOTHING, Context, Detection, Outcome, Rule
from lambdas.detections.circleci.events import (
    JOB_COMPLETED,
    JUDGED_WORKFLOWS,
    STOPPED_WORKFLOWS,
    WORKFLOW_COMPLETED,
    CircleCIEvent,
    JobRun,
    evidence,
    patterns_for,
    repository,
    risk_object,
)
from lambdas.shared.risk import RiskEvent
from lambdas.shared.settings import Settings

DETECTION = Detection(
    id="circle_ci_disable_security_job",
    title="Circle CI Disable Security Job",
    source="circleci",
    default_score=72,
    mitre_attack=("T1554",),
    phase="build",
    description="A CircleCI workflow finished without running one of its mandatory jobs.",
)


def state_key(workflow_id: str, pattern: str, ran: bool) -> str:
    """Where a job matching `pattern` is remembered; ran and not-ran jobs never overwrite."""
    return f"circleci#workflow#{workflow_id}#{pattern}#{'ran' if ran else 'not_run'}"


def state_keys(event: CircleCIEvent, settings: Settings) -> list[str]:
    """The state a deferred, webhook-only judgement of a workflow needs."""
    if event.type != WORKFLOW_COMPLETED or event.jobs is not None or not event.deferred:
        return []
    patterns = patterns_for(event.workflow_name, settings.mandatory_ci_jobs)
    return [state_key(event.workflow_id, p, ran) for p in patterns for ran in (True, False)]


def detect(event: CircleCIEvent, context: Context) -> Outcome:
    """Remember mandatory jobs as they finish; judge a workflow once its job list is known."""
    patterns = patterns_for(event.workflow_name, context.settings.mandatory_ci_jobs)
    if not patterns:
        return NOTHING
    if event.type == JOB_COMPLETED and event.job is not None:
        return Outcome(state=_remember(event, event.job, patterns))
    if event.jobs is None and not event.deferred:
        return NOTHING  # too early: a job webhook may still be on its way

    events = []
    for pattern in patterns:
        jobs = _matching(event, pattern, context.state)
        if _disabled(event, jobs):
            events.append(_risk_event(event, pattern, jobs, context))
    return Outcome(risk_events=tuple(events))


def _remember(event: CircleCIEvent, job: JobRun, patterns: tuple[str, ...]) -> dict[str, Any]:
    """State updates for a finished job matching mandatory patterns (same content on redelivery)."""
    item = {"job": job.name, "job_id": job.id, "status": job.status}
    return {
        state_key(event.workflow_id, pattern, job.ran): item
        for pattern in patterns
        if fnmatch.fnmatchcase(job.name, pattern)
    }


def _matching(event: CircleCIEvent, pattern: str, state: Mapping[str, Any]) -> list[JobRun]:
    """The workflow's jobs matching a pattern, from the API list or else from the state."""
    if event.jobs is not None:
        return [job for job in event.jobs if fnmatch.fnmatchcase(job.name, pattern)]
    found = (state.get(state_key(event.workflow_id, pattern, ran)) for ran in (True, False))
    return [JobRun(item["job"], item["status"], item.get("job_id", "")) for item in found if item]


def _disabled(event: CircleCIEvent, jobs: list[JobRun]) -> bool:
    """True when the workflow should have run a matching job and did not."""
    if event.workflow_status in JUDGED_WORKFLOWS:
        return not any(job.ran for job in jobs)
    if event.workflow_status in STOPPED_WORKFLOWS:
        return event.jobs is not None and not jobs
    return False


def _risk_event(
    event: CircleCIEvent, pattern: str, jobs: list[JobRun], context: Context
) -> RiskEvent:
    """The risk event for one mandatory job that did not run."""
    subject, kind = risk_object(event, context.settings)
    repo = repository(event, context.settings)
    how = ", ".join(f"{job.name} {job.status}" for job in jobs) or "absent"
    return DETECTION.risk_event(
        context,
        risk_object=subject,
        risk_object_type=kind,
        natural_key=f"{event.workflow_id}#{pattern}",
        message=(
            f"Security job {pattern} did not run in workflow {event.workflow_name} "
            f"of {repo} ({how}) triggered by {event.actor or 'an unknown user'}"
        ),
        event_time=event.event_time,
        user=event.actor,
        repository=repo,
        evidence={
            **evidence(event),
            "mandatory_job": pattern,
            "jobs_found": [f"{job.name}:{job.status}" for job in jobs],
            "job_list": "api" if event.jobs is not None else "webhooks",
        },
    )


RULE = Rule(DETECTION, detect)
