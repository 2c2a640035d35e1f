"""The GitHub detections, and which webhook events and actions each one reads."""

from __future__ import annotations

from lambdas.detections.base import Rule
from lambdas.detections.github import (
    github_dependabot_alert,
    github_pull_request_from_unknown_user,
)

# Each detection module with the events (and actions) it reads.
MODULES = (github_dependabot_alert, github_pull_request_from_unknown_user)
RULES: tuple[Rule, ...] = tuple(module.RULE for module in MODULES)


def rules_for(event: str, action: str) -> tuple[Rule, ...]:
    """The rules that read this event and action; empty when no detection handles it."""
    return tuple(module.RULE for module in MODULES if action in module.TRIGGERS.get(event, ()))
