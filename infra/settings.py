"""The deployment's settings: validated at synth, shipped to the functions as an SSM parameter."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import aws_ssm as ssm
from constructs import Construct

from lambdas.shared.exceptions import SettingsError
from lambdas.shared.settings import Settings

CONTEXT_KEY = "devsecops"
# Standard parameters hold 4 KB; larger settings (long allow-lists) need the Advanced tier.
STANDARD_TIER_LIMIT = 4096


def read_context(scope: Construct) -> dict[str, Any]:
    """The `devsecops` context object (cdk.json, or `-c devsecops='{...}'` on the command line)."""
    raw = scope.node.try_get_context(CONTEXT_KEY)
    if raw is None:
        return {}
    return json.loads(raw) if isinstance(raw, str) else dict(raw)


class DeploymentSettings(Construct):
    """Validates the settings with the functions' own model and stores them in Parameter Store."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        raw = read_context(self)

        # The same model the functions load at run time, so a typo fails here, not in production.
        try:
            self.settings = Settings.from_dict(raw)
        except SettingsError as exc:
            raise SettingsError(f"cdk.json context '{CONTEXT_KEY}' is invalid: {exc}") from exc

        # The settings JSON the functions read through SETTINGS_PARAMETER.
        value = json.dumps(raw, sort_keys=True, separators=(",", ":"))
        large = len(value.encode()) > STANDARD_TIER_LIMIT
        self.parameter = ssm.StringParameter(
            self,
            "Parameter",
            description="DevSecOpsDetector settings (the devsecops key of cdk.json context)",
            string_value=value,
            tier=ssm.ParameterTier.ADVANCED if large else ssm.ParameterTier.STANDARD,
        )
