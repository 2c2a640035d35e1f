"""The two CircleCI detections and the state they need."""

from __future__ import annotations

from lambdas.detections.circleci import (
    circle_ci_disable_security_job,
    circle_ci_disable_security_step,
)

RULES = (circle_ci_disable_security_job.RULE, circle_ci_disable_security_step.RULE)
state_keys = circle_ci_disable_security_job.state_keys
