"""AWS ECR Container Upload Unknown User: an image pushed by a principal nobody expected.

With `known_ecr_principals` configured, any principal matching none of its ARN patterns is
unknown. Without it (Splunk shipped a placeholder list that made everyone unknown), the detector
learns: for `learning_days` after the first push it sees, it remembers who pushes to which
repository without raising risk; after that, a principal's first push to a repository is unknown.
Remembered pushers expire with the state table's retention unless they keep pushing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from lambdas.detections.base import NOTHING, Context, Detection, Outcome, Rule
from lambdas.detections.ecr.identity import matches_any
from lambdas.detections.ecr.records import ImagePush
from lambdas.shared.risk import RiskEvent, parse_time
from lambdas.shared.settings import Settings

LEARNING_KEY = "ecr#pushers#learning"

DETECTION = Detection(
    id="aws_ecr_container_upload_unknown_user",
    title="AWS ECR Container Upload Unknown User",
    source="cloudtrail",
    default_score=49,
    mitre_attack=("T1204.003", "T1204"),
    phase="release",
    description=(
        "A container image was pushed to ECR by a principal that is not on the list of expected "
        "pushers (or, without a list, that never pushed to this repository before). Stolen "
        "credentials are a common way to plant a malicious image."
    ),
)


def pusher_key(repository: str, principal: str) -> str:
    """The state item remembering that a principal pushes to a repository."""
    return f"ecr#pusher#{repository}#{principal}"


def detect(record: Any, context: Context) -> Outcome:
    """Fire on a successful push by a principal outside the list, or new after learning."""
    if not isinstance(record, ImagePush) or record.error:
        return NOTHING
    if context.settings.known_ecr_principals:
        known = matches_any(record.principal.arn, context.settings.known_ecr_principals)
        return NOTHING if known else Outcome((_risk(record, context, "not a known principal"),))

    # Learning mode. Both items are rewritten on every push to renew their expiry.
    repository = context.settings.repository(record.repository)
    key = pusher_key(repository, record.principal.arn)
    started = context.state.get(LEARNING_KEY, {}).get("started", record.event_time)
    until = parse_time(str(started)) + timedelta(days=context.settings.learning_days)
    state = {
        LEARNING_KEY: {"started": started},
        key: {"principal": record.principal.arn, "last_push": record.event_time},
    }
    if key in context.state or parse_time(record.event_time) < until:
        return Outcome(state=state)
    return Outcome((_risk(record, context, "first push to this repository"),), state)


def _risk(push: ImagePush, context: Context, reason: str) -> RiskEvent:
    """The risk event of an unknown pusher; one per image, so re-pushing it adds nothing."""
    repository = context.settings.repository(push.repository)
    return DETECTION.risk_event(
        context,
        risk_object=push.principal.arn,
        risk_object_type="user",
        natural_key=f"{repository}@{push.digest or push.event_id}",
        message=f"Image pushed to {repository} by unknown principal {push.principal.arn}",
        event_time=push.event_time,
        user=push.principal.arn,
        repository=repository,
        evidence={"reason": reason, **push.evidence()},
    )


def state_keys(record: Any, settings: Settings) -> list[str]:
    """The learning items a push needs; none when a list of known principals is configured."""
    if not isinstance(record, ImagePush) or settings.known_ecr_principals:
        return []
    repository = settings.repository(record.repository)
    return [LEARNING_KEY, pusher_key(repository, record.principal.arn)]


RULE = Rule(DETECTION, detect)
