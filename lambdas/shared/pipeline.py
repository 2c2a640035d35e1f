"""Run one source record through its rules and keep what they produce.

This is the part every handler shares: load the state the rules asked for, run the rules, apply the
suppressions in the settings, store the risk events idempotently and write the state updates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from aws_lambda_powertools.metrics import MetricUnit

from lambdas.detections.base import Context, Rule, run_rules
from lambdas.shared.exceptions import StateConflict
from lambdas.shared.observability import metrics
from lambdas.shared.risk import RiskEvent
from lambdas.shared.settings import Settings
from lambdas.shared.store import Store, expiry

STATE_ATTEMPTS = 5


class Processed(NamedTuple):
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
    """Evaluate `record` with `rules`, store the outcome, count it in metrics, return it.

    State is written before risk events and only if nobody changed it since it was read; on a
    conflict the record is evaluated again on fresh state. A crash between the two writes is
    repaired by the retry: the rules rebuild the same risk events from the saved state.
    """
    for _ in range(STATE_ATTEMPTS - 1):
        try:
            return _process_once(rules, record, settings, now, store, state_keys)
        except StateConflict:
            metrics.add_metric(name="StateConflicts", unit=MetricUnit.Count, value=1)
    return _process_once(rules, record, settings, now, store, state_keys)


def _process_once(
    rules: Iterable[Rule],
    record: Any,
    settings: Settings,
    now: datetime,
    store: Store,
    state_keys: Sequence[str],
) -> Processed:
    """One evaluation: load state, run the rules, save state, store risk events."""
    state = store.load_state(list(state_keys)) if state_keys else {}
    result = run_rules(rules, record, Context(settings, now, state))
    if result.state:
        store.save_state(result.state, expiry(now, settings.retention_days))

    stored = [_suppress(event, settings, now) for event in result.risk_events]
    for event in stored:
        outcome = store.put_risk_event(event, now, settings.retention_days)
        if outcome == "new":
            metrics.add_metric(name=f"RiskEvents.{event.detection}", unit=MetricUnit.Count, value=1)
    for detection in result.failed:
        metrics.add_metric(name=f"DetectionErrors.{detection}", unit=MetricUnit.Count, value=1)

    return Processed(stored, result.failed)


def _suppress(event: RiskEvent, settings: Settings, now: datetime) -> RiskEvent:
    """Mark a risk event with the reason of a live suppression that matches it."""
    reason = settings.suppression_for(event.detection, event.entities(), now.date())
    return event.with_suppression(reason) if reason else event
