"""The GitHub provider: how GitHub signs and names deliveries, and which detections read them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lambdas.detections.github import rules_for
from lambdas.detections.github.common import GitHubEvent
from lambdas.shared.pipeline import Processed, process
from lambdas.shared.settings import Settings
from lambdas.shared.store import Store
from lambdas.webhooks.providers import Delivery, Headers, Provider
from lambdas.webhooks.signatures import SecretSource, verify_prefixed


def verify(header: str | None, body: bytes, secrets: tuple[str, ...]) -> bool:
    """Check `X-Hub-Signature-256: sha256=<hex>`; the legacy `sha1=` header is never accepted."""
    return verify_prefixed(header, body, secrets, "sha256")


def event_type(headers: Headers, payload: dict[str, Any]) -> tuple[str, str]:
    """The `X-GitHub-Event` name and the payload's action (empty for events without one)."""
    action = payload.get("action")
    return headers.get("x-github-event", ""), action if isinstance(action, str) else ""


def delivery_id(headers: Headers, payload: dict[str, Any]) -> str:
    """GitHub's `X-GitHub-Delivery` GUID, the same when a delivery is redelivered."""
    return headers.get("x-github-delivery", "")


def handle(
    payload: dict[str, Any], delivery: Delivery, settings: Settings, now: datetime, store: Store
) -> list[Processed] | None:
    """Run the detections that read this event and action; None when none does."""
    rules = rules_for(delivery.event, delivery.action)
    if not rules:
        return None

    record = GitHubEvent(delivery.event, delivery.action, payload)
    return [process(rules, record, settings=settings, now=now, store=store)]


PROVIDER = Provider(
    name="github",
    signature_header="x-hub-signature-256",
    verify=verify,
    secrets=SecretSource("github", "GITHUB_WEBHOOK_SECRET_ARN", "GITHUB_WEBHOOK_SECRET"),
    event_type=event_type,
    delivery_id=delivery_id,
    handle=handle,
    ping_events=frozenset({"ping"}),
)
