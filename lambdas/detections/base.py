"""What a detection is: metadata, the context it runs in, and the outcome it returns.

A detection is a pure function. It receives one parsed source record, a `Context` holding the
settings, the current time and any state it asked for, and returns an `Outcome`: the risk events it
raises and the state updates the handler should write. It makes no AWS call and reads no clock or
environment variable, so the same function runs in Lambda, in `devsecops replay` and in the tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, NamedTuple

from lambdas.shared.observability import logger
from lambdas.shared.risk import RiskEvent, RiskObjectType
from lambdas.shared.settings import Settings


class Context(NamedTuple):
    """What a detection may know besides its record."""

    settings: Settings
    now: datetime
    # State items the handler loaded for this record, by state key (see `Outcome.state`).
    state: Mapping[str, dict[str, Any]] = MappingProxyType({})


class Outcome(NamedTuple):
    """Risk events raised, and state to remember (key -> item attributes, None deletes)."""

    risk_events: tuple[RiskEvent, ...] = ()
    state: Mapping[str, dict[str, Any] | None] = MappingProxyType({})


NOTHING = Outcome()


class Detection(NamedTuple):
    """A detection's identity and the Splunk metadata it keeps."""

    id: str
    title: str
    source: str
    default_score: int
    mitre_attack: tuple[str, ...]
    phase: str
    description: str

    def risk_event(
        self,
        context: Context,
        *,
        risk_object: str,
        risk_object_type: RiskObjectType,
        natural_key: str,
        message: str,
        event_time: str,
        variant: str | None = None,
        **details: Any,
    ) -> RiskEvent:
        """Build a risk event of this detection, scored from the settings."""
        return RiskEvent(
            detection=self.id,
            risk_object=risk_object,
            risk_object_type=risk_object_type,
            risk_score=context.settings.score(self.id, self.default_score, variant),
            message=message,
            event_time=event_time,
            source=self.source,
            natural_key=natural_key,
            mitre_attack=self.mitre_attack,
            phase=self.phase,
            **details,
        )


DetectFunction = Callable[[Any, Context], Outcome]


class Rule(NamedTuple):
    """A detection bound to the function that evaluates it."""

    detection: Detection
    detect: DetectFunction


class RunResult(NamedTuple):
    """What running every rule of a source over one record produced."""

    risk_events: list[RiskEvent]
    state: dict[str, dict[str, Any] | None]
    failed: list[str]


def run_rules(rules: Iterable[Rule], record: Any, context: Context) -> RunResult:
    """Run each rule on a record; a rule that raises is reported and the others still run."""
    risk_events: list[RiskEvent] = []
    state: dict[str, dict[str, Any] | None] = {}
    failed: list[str] = []

    for rule in rules:
        try:
            outcome = rule.detect(record, context)
        except Exception:  # noqa: BLE001 - one broken rule must not sink the batch
            # The traceback names the code path; the record itself is never logged.
            logger.exception("detection failed", extra={"detection": rule.detection.id})
            failed.append(rule.detection.id)
            continue
        risk_events.extend(outcome.risk_events)
        state.update(outcome.state)

    return RunResult(risk_events, state, failed)
