"""The five ECR detections and the state each record needs."""

from __future__ import annotations

from typing import Any

from lambdas.detections.base import Rule
from lambdas.detections.ecr import scan_findings, upload_outside_business_hours, upload_unknown_user
from lambdas.shared.settings import Settings

RULES: tuple[Rule, ...] = (
    *scan_findings.RULES,
    upload_outside_business_hours.RULE,
    upload_unknown_user.RULE,
)


def state_keys(record: Any, settings: Settings) -> list[str]:
    """Every state item the rules will read for this record."""
    return scan_findings.state_keys(record, settings) + upload_unknown_user.state_keys(
        record, settings
    )
