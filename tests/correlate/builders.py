"""Risk events the correlation tests store."""

from __future__ import annotations

from lambdas.shared.risk import RiskEvent


def high(key: str) -> RiskEvent:
    """A 90-point risk event on acme/app: alone it crosses the default threshold."""
    return RiskEvent(
        detection="aws_ecr_container_scanning_findings_high",
        risk_object="acme/app",
        risk_object_type="repository",
        risk_score=90,
        message="High findings in acme/app",
        event_time="2026-12-03T10:00:00Z",
        source="ecr",
        natural_key=key,
    )
