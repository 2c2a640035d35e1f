"""The `devsecops` context: validated at synth, shipped to the functions through SSM."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from infra.settings import DeploymentSettings
from infra.stack import DevSecOpsDetector
from lambdas.shared.exceptions import SettingsError
from lambdas.shared.settings import Settings
from tests.infra.conftest import CDK_CONTEXT, FULL_SETTINGS, Synthesized


def settings_template(settings: object) -> Template:
    """A bare stack holding only the settings construct, for a given context value."""
    app = cdk.App(context={"devsecops": settings})
    stack = cdk.Stack(app, "Settings")
    DeploymentSettings(stack, "Settings")
    return Template.from_stack(stack)


def test_an_unknown_settings_key_fails_the_synth_naming_the_key(tmp_path: Path) -> None:
    app = cdk.App(context={**CDK_CONTEXT, "devsecops": {"alert_emial": "a@example.com"}})

    with pytest.raises(SettingsError, match=r"'devsecops' is invalid: .*unknown key.*alert_emial"):
        DevSecOpsDetector(app, "DevSecOpsDetector")


def test_a_badly_typed_setting_fails_the_synth_naming_the_key() -> None:
    with pytest.raises(SettingsError, match=r"create_cloudtrail: expected bool"):
        settings_template({"create_cloudtrail": "yes"})


def test_the_parameter_holds_the_settings_the_functions_will_load(
    synthesized: Synthesized,
) -> None:
    parameter_id = synthesized.logical_id(synthesized.stack.settings.parameter)
    properties = synthesized.resources("AWS::SSM::Parameter")[parameter_id]["Properties"]
    shipped = json.loads(properties["Value"])

    assert properties["Type"] == "String"
    assert properties["Tier"] == "Standard"
    assert Settings.from_dict(shipped) == Settings.from_dict(FULL_SETTINGS)


def test_settings_over_4_kb_go_to_the_advanced_tier() -> None:
    many = [f"arn:aws:iam::123456789012:role/ci-pusher-{n:04d}" for n in range(200)]

    template = settings_template({"known_ecr_principals": many})

    template.has_resource_properties("AWS::SSM::Parameter", {"Tier": "Advanced"})


def test_settings_given_as_a_json_string_on_the_command_line_are_read() -> None:
    template = settings_template(json.dumps({"retention_days": 30}))

    (parameter,) = template.find_resources("AWS::SSM::Parameter").values()
    assert json.loads(parameter["Properties"]["Value"]) == {"retention_days": 30}


def test_each_function_may_read_only_the_settings_parameter(synthesized: Synthesized) -> None:
    parameter_id = synthesized.logical_id(synthesized.stack.settings.parameter)
    readers = [
        statement
        for policy in synthesized.resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "ssm:GetParameter"
    ]

    assert len(readers) == 4
    assert all(
        {"Ref": parameter_id} in statement["Resource"]["Fn::Join"][1] for statement in readers
    )
