"""Run one source record through its rules and keep what they produce.

This is the part every handler shares: load the state the rules asked for, run the rules, apply the
suppressions in the settings, store the risk events idempotently and write the state updates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from lambdas.detections.base import Context, Rule, run_rules
from lambdas.shared.observability import metrics
from lambdas.shared.risk import RiskEvent
from lambdas.shared.settings import Settings
from lambdas.shared.store import Store, expiry

StateKeys = Callable[[Any], Sequence[str]]


@dataclass(frozen=True)
class Processed:
    """The risk events one record produced (as stored) and the rules that failed on it."""

    risk_events: list[RiskEvent]
    failed: list[str]


def process(
    rules: Iterable[Rule],
    record: Any,
    *,
    settings: Settings,
    now: datetime,
    store: Store,
    state_keys: Sequence[str] = (),
) -> Processed:
    """Evaluate `record` with `rules`, store the outcome, count it in metrics, return it."""
    state = store.load_state(list(state_keys)) if state_keys else {}
    result = run_rules(rules, record, Context(settings, now, state))

    stored = [_suppress(event, settings, now) for event in result.risk_events]
    for event in stored:
        outcome = store.put_risk_event(event, now, settings.retention_days)
        if outcome == "new":
            metrics.add_metric(name=f"RiskEvents.{event.detection}", unit=MetricUnit.Count, value=1)

    if result.state:
        store.save_state(result.state, expiry(now, settings.retention_days))
    for detection in result.failed:
        metrics.add_metric(name=f"DetectionErrors.{detection}", unit=MetricUnit.Count, value=1)

    return Processed(stored, result.failed)


def _suppress(event: RiskEvent, settings: Settings, now: datetime) -> RiskEvent:
    """Mark a risk event with the reason of a live suppression that matches it."""
    reason = settings.suppression_for(event.detection, event.entities(), now.date())
    return event.with_suppression(reason) if reason else event
