"""cdk-nag's AWS Solutions rules run on every synth; only reasoned acknowledgements pass."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sqs as sqs

from infra.nag import add_checks
from infra.stack import DevSecOpsDetector
from tests.infra.conftest import CDK_CONTEXT, Synthesized, synthesize


def test_the_full_stack_synthesizes_with_no_unacknowledged_finding(
    synthesized: Synthesized,
) -> None:
    # cdk-nag writes the report only when it ran; it lists plugins with violations only.
    report = json.loads((synthesized.outdir / "validation-report.json").read_text())

    assert report["pluginReports"] == []


def test_the_shipped_cdk_json_synthesizes_without_the_optional_parts(tmp_path: Path) -> None:
    synthesized = synthesize(tmp_path)

    assert synthesized.stack.trail is None
    assert synthesized.resources("AWS::Logs::SubscriptionFilter") == {}
    assert synthesized.resources("AWS::SNS::Subscription") == {}
    functions = synthesized.resources("AWS::Lambda::Function").values()
    assert all("TracingConfig" not in f["Properties"] for f in functions), "tracing is opt-in"


def test_a_new_finding_fails_the_synth(tmp_path: Path) -> None:
    app = cdk.App(context=CDK_CONTEXT, outdir=str(tmp_path))
    add_checks(app)
    stack = DevSecOpsDetector(app, "DevSecOpsDetector")
    sqs.Queue(stack, "Careless", enforce_ssl=False)

    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = (tmp_path / "validation-report.json").read_text()
    assert "DevSecOpsDetector/Careless" in report


def test_every_acknowledgement_sits_on_one_construct_with_a_reason(
    synthesized: Synthesized,
) -> None:
    metadata = json.loads((synthesized.outdir / "DevSecOpsDetector.metadata.json").read_text())
    acknowledged = [
        (path, rule, reason)
        for path, entries in metadata.items()
        for entry in entries
        if entry["type"] == "aws:cdk:acknowledged-rules"
        for rule, reason in entry["data"].items()
    ]

    assert acknowledged
    for path, rule, reason in acknowledged:
        assert path.count("/") >= 3, f"{rule} acknowledged too broadly, on {path}"
        assert rule.startswith("Annotation::AwsSolutions-")
        assert len(reason) > 60, rule
