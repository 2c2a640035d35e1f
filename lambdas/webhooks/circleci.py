"""The CircleCI provider: signatures, delivery ids, and the checks behind the two detections.

Deliveries are verified by the front door with `circleci-signature` (comma-separated `v1=<hex>`
HMAC-SHA256 signatures of the raw body; any valid one passes). CircleCI may deliver an event twice;
the payload `id` identifies it, and a redelivery is a no-op because risk ids derive from natural
keys and state writes carry only payload facts (no arrival time).

When a job webhook may arrive after its workflow's, judging the workflow at once would raise false
alarms. So a covered `workflow-completed` is judged by a delayed check: a message on the queue in
CI_CHECK_QUEUE_URL, delayed by settings `circleci_grace_seconds` (0-900, SQS's limit), consumed by
`on_queue_message`. The check asks CircleCI's API for the workflow's jobs when a token is configured
and falls back to the job webhooks remembered as state. Step checks need the API; they go through
the same queue undelayed, so the webhook answer never waits on CircleCI's API. Without a queue
(local runs) everything is judged inline, at once.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from lambdas.detections.circleci import RULES, state_keys
from lambdas.detections.circleci.events import (
    EVENT_TYPES,
    JOB_COMPLETED,
    CircleCIEvent,
    job_run,
    parse_event,
    patterns_for,
)
from lambdas.shared.clients import client
from lambdas.shared.exceptions import InputError
from lambdas.shared.observability import logger, metrics
from lambdas.shared.pipeline import Processed, process
from lambdas.shared.settings import Settings
from lambdas.shared.store import Store
from lambdas.webhooks.circleci_api import CircleCIClient, CircleCIError, has_step_api
from lambdas.webhooks.providers import Delivery, Headers, Provider
from lambdas.webhooks.signatures import SecretSource, verify_prefixed

NAME = "circleci"
MAX_DELAY_SECONDS = 900  # SQS's DelaySeconds ceiling
MAX_MESSAGE_BYTES = 200_000  # below SQS's 256 KiB, leaving room for the envelope
_PAYLOAD_KEYS = ("id", "type", "happened_at", "project", "workflow", "job", "pipeline")
_warned: set[str] = set()


def verify(header: str | None, body: bytes, secrets: tuple[str, ...]) -> bool:
    """Check `circleci-signature: v1=<hex>[,v1=<hex>...]`; other schemes never pass."""
    return verify_prefixed(header, body, secrets, "v1")


def event_type(headers: Headers, payload: dict[str, Any]) -> tuple[str, str]:
    """The payload's `type` (or the `circleci-event-type` header); CircleCI has no actions."""
    kind = payload.get("type")
    return (kind if isinstance(kind, str) else headers.get("circleci-event-type", "")), ""


def delivery_id(headers: Headers, payload: dict[str, Any]) -> str:
    """The payload `id`, the same when CircleCI delivers an event again."""
    value = payload.get("id")
    return value if isinstance(value, str) else ""


def handle(
    payload: dict[str, Any], delivery: Delivery, settings: Settings, now: datetime, store: Store
) -> list[Processed] | None:
    """Remember jobs, and judge (or schedule the judgement of) covered jobs and workflows."""
    if delivery.event not in EVENT_TYPES:
        return None
    api = _api_client()
    event = _parse(payload)
    if event is None:
        return []

    queue = os.environ.get("CI_CHECK_QUEUE_URL")
    if event.type == JOB_COMPLETED:
        return [_on_job(event, payload, settings, now, store, api, queue)]
    if not patterns_for(event.workflow_name, settings.mandatory_ci_jobs):
        return []
    if queue and _enqueue(queue, "workflow", payload, _grace(settings)):
        return []
    _warn_once("no_queue", "no CI_CHECK_QUEUE_URL: workflows are judged without a grace period")
    return [_judge_workflow(event, settings, now, store, api)]


def on_queue_message(body: dict[str, Any], settings: Settings, now: datetime, store: Store) -> None:
    """Run a delayed check; raise to have SQS deliver it again (a failed step lookup)."""
    event = _parse(body.get("payload"))
    if event is None:
        return
    api = _api_client()
    if body.get("check") == "workflow":
        _judge_workflow(event, settings, now, store, api)
    elif body.get("check") == "job" and api is not None:
        _judge_job(event, settings, now, store, api)


def check_message(check: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The body of a delayed check message: which check, and the fields the detections read."""
    trimmed = {key: payload[key] for key in _PAYLOAD_KEYS if key in payload}
    return {"provider": NAME, "check": check, "payload": trimmed}


def _on_job(
    event: CircleCIEvent,
    payload: dict[str, Any],
    settings: Settings,
    now: datetime,
    store: Store,
    api: CircleCIClient | None,
    queue: str | None,
) -> Processed:
    """Remember the job for its workflow; check its steps now, later, or not at all (no token)."""
    name = event.job.name if event.job else ""
    needs_steps = bool(api and patterns_for(name, settings.mandatory_ci_steps))
    if needs_steps and queue and _enqueue(queue, "job", payload, 0):
        needs_steps = False
    if needs_steps and api is not None:
        try:
            return _judge_job(event, settings, now, store, api)
        except CircleCIError:
            _count("CircleCIApiErrors")
    return process(RULES, event, settings=settings, now=now, store=store)


def _judge_job(
    event: CircleCIEvent, settings: Settings, now: datetime, store: Store, api: CircleCIClient
) -> Processed:
    """Add the job's steps and the pipeline's actor from the API, then run the rules.

    A lookup that may succeed later (429, 5xx, timeout) raises, so SQS delivers the check again;
    one that cannot (an opaque GitHub App or GitLab slug, a 404) is counted and the job is left
    unjudged.
    """
    job = event.job
    if job is None or job.number is None or not has_step_api(event.project_slug):
        _count("CircleCIStepsUnavailable")
        return process(RULES, event, settings=settings, now=now, store=store)
    try:
        steps = api.step_names(event.project_slug, job.number)
    except CircleCIError as exc:
        if exc.retryable:
            raise
        _count("CircleCIStepsUnavailable")
        return process(RULES, event, settings=settings, now=now, store=store)
    enriched = event.enriched(steps=tuple(steps), actor=_actor(event, api))
    return process(RULES, enriched, settings=settings, now=now, store=store)


def _judge_workflow(
    event: CircleCIEvent,
    settings: Settings,
    now: datetime,
    store: Store,
    api: CircleCIClient | None,
) -> Processed:
    """Judge a workflow from the API's job list, or from remembered job webhooks if it fails."""
    enriched = event.enriched(deferred=True)
    if api is not None:
        try:
            jobs = [job for item in api.workflow_jobs(event.workflow_id) if (job := job_run(item))]
            enriched = enriched.enriched(jobs=tuple(jobs), actor=_actor(event, api))
        except CircleCIError:
            # The grace period is over, so the remembered webhooks are the next best list.
            _count("CircleCIApiErrors")
    keys = state_keys(enriched, settings)
    return process(RULES, enriched, settings=settings, now=now, store=store, state_keys=keys)


def _actor(event: CircleCIEvent, api: CircleCIClient) -> str | None:
    """The pipeline's actor login; None (risk falls on the repository) if the API cannot say."""
    if not event.pipeline_id:
        return None
    try:
        return api.pipeline_actor(event.pipeline_id)
    except CircleCIError:
        _count("CircleCIApiErrors")
        return None


def _enqueue(queue: str, check: str, payload: dict[str, Any], delay: int) -> bool:
    """Send a check message; False when the payload is too large to travel (judge inline)."""
    body = json.dumps(check_message(check, payload), separators=(",", ":"))
    if len(body.encode()) > MAX_MESSAGE_BYTES:
        _count("CircleCIChecksInline")
        return False
    client("sqs").send_message(QueueUrl=queue, MessageBody=body, DelaySeconds=delay)
    _count("CircleCIChecksScheduled")
    return True


def _grace(settings: Settings) -> int:
    """The grace period for late job webhooks, within what SQS can delay."""
    return max(0, min(settings.circleci_grace_seconds, MAX_DELAY_SECONDS))


def _parse(payload: Any) -> CircleCIEvent | None:
    """Parse a payload; count and skip one that lacks what the detections need."""
    try:
        if not isinstance(payload, dict):
            raise InputError("circleci: payload is not an object")
        return parse_event(payload)
    except InputError as exc:
        logger.warning("circleci payload skipped", extra={"reason": str(exc)})
        _count("MalformedRecords.circleci")
        return None


def _api_client() -> CircleCIClient | None:
    """The API client when a token is configured; say once per process when it is not."""
    api = CircleCIClient.from_environment()
    if api is None:
        _warn_once(
            "no_token",
            "no CircleCI API token: circle_ci_disable_security_step cannot judge any job, "
            "and workflows are judged from job webhooks only",
            metric="CircleCIStepDetectionDisabled",
        )
    return api


def _warn_once(key: str, message: str, metric: str | None = None) -> None:
    """Log a configuration warning (and count it) the first time it applies in this process."""
    if key in _warned:
        return
    _warned.add(key)
    logger.warning(message)
    if metric:
        _count(metric)


def _count(name: str) -> None:
    """Add one to a count metric."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


PROVIDER = Provider(
    name=NAME,
    signature_header="circleci-signature",
    verify=verify,
    secrets=SecretSource(NAME, "CIRCLECI_WEBHOOK_SECRET_ARN", "CIRCLECI_WEBHOOK_SECRET"),
    event_type=event_type,
    delivery_id=delivery_id,
    handle=handle,
    on_queue_message=on_queue_message,
)
