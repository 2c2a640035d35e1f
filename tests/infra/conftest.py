"""One synthesis of the whole stack per test session, the way `app.py` does it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from infra.nag import add_checks
from infra.stack import DevSecOpsDetector

ROOT = Path(__file__).resolve().parents[2]
CDK_CONTEXT: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
# Every optional part switched on, so cdk-nag and the assertions see all of the stack.
FULL_SETTINGS: dict[str, Any] = {
    "alert_email": "security@example.com",
    "kubernetes_log_groups": ["/aws/eks/prod/cluster", "/ingress/nginx"],
    "ingress_filter_pattern": '?".." ?"%2e"',
    "create_cloudtrail": True,
    "tracing": True,
}


@dataclass(frozen=True)
class Synthesized:
    """A synthesized stack, its template as JSON, and the directory of its cloud assembly."""

    stack: DevSecOpsDetector
    template: Template
    outdir: Path

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Resources of one CloudFormation type, by logical id."""
        return self.template.find_resources(resource_type)

    def logical_id(self, construct: Any) -> str:
        """The logical id of an L2 construct's CloudFormation resource."""
        return self.stack.get_logical_id(construct.node.default_child)


def synthesize(outdir: Path, settings: dict[str, Any] | None = None) -> Synthesized:
    """Synthesize like app.py (cdk.json context, cdk-nag); raises on an unacknowledged finding."""
    context = dict(CDK_CONTEXT)
    if settings is not None:
        context["devsecops"] = settings

    app = cdk.App(context=context, outdir=str(outdir))
    add_checks(app)
    stack = DevSecOpsDetector(app, "DevSecOpsDetector")
    app.synth()
    return Synthesized(stack, Template.from_stack(stack), outdir)


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The stack with every optional part, synthesized once for the session."""
    return synthesize(tmp_path_factory.mktemp("cdk.out"), FULL_SETTINGS)
