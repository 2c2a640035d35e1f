"""Circle CI Disable Security Step: a successful job ran without a step the settings require.

Mandatory steps come from settings `mandatory_ci_steps` (job pattern -> step patterns, fnmatch,
exact case: a renamed step counts as a missing one). Webhooks carry no steps; the handler adds the
job's step names from CircleCI's API, and without an API token this detection cannot judge (the
handler says so once per cold start). Only successful jobs are judged: a failed job's step list
stops at the failure, and a failed job already blocks whatever depends on it.
"""

from __future__ import annotations

import fnmatch

from lambdas.detections.base import NOTHING, Context, Detection, Outcome, Rule
from lambdas.detections.circleci.events import (
    JOB_COMPLETED,
    CircleCIEvent,
    JobRun,
    evidence,
    patterns_for,
    repository,
    risk_object,
)
from lambdas.shared.risk import RiskEvent

DETECTION = Detection(
    id="circle_ci_disable_security_step",
    title="Circle CI Disable Security Step",
    source="circleci",
    default_score=72,
    mitre_attack=("T1554",),
    phase="build",
    description="A CircleCI job succeeded without running one of its mandatory steps.",
)


def detect(event: CircleCIEvent, context: Context) -> Outcome:
    """Raise a risk event per mandatory step pattern that no step of the job matches."""
    job = event.job
    if event.type != JOB_COMPLETED or job is None or event.steps is None:
        return NOTHING
    if job.status != "success":
        return NOTHING

    patterns = patterns_for(job.name, context.settings.mandatory_ci_steps)
    missing = [p for p in patterns if not any(fnmatch.fnmatchcase(s, p) for s in event.steps)]
    return Outcome(risk_events=tuple(_risk_event(event, job, s, context) for s in missing))


def _risk_event(event: CircleCIEvent, job: JobRun, step: str, context: Context) -> RiskEvent:
    """The risk event for one missing step."""
    subject, kind = risk_object(event, context.settings)
    repo = repository(event, context.settings)
    return DETECTION.risk_event(
        context,
        risk_object=subject,
        risk_object_type=kind,
        natural_key=f"{job.id}#{step}",
        message=(
            f"Security step {step} did not run in job {job.name} of {repo} "
            f"triggered by {event.actor or 'an unknown user'}"
        ),
        event_time=event.event_time,
        user=event.actor,
        repository=repo,
        evidence={
            **evidence(event),
            "job_name": job.name,
            "job_number": job.number,
            "mandatory_step": step,
            "steps": list(event.steps or ())[:50],
        },
    )


RULE = Rule(DETECTION, detect)
