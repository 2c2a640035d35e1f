"""cdk-nag: the AWS Solutions checks, and every finding the stack accepts, with its reason.

Each acknowledgement names the exact finding (with its resource or action where cdk-nag has one)
and is attached to the one construct that carries it, so a new finding elsewhere still fails synth.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import aws_cdk as cdk
from aws_cdk import aws_apigatewayv2 as apigwv2
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

if TYPE_CHECKING:
    from aws_cdk import aws_lambda as lambda_

    from infra.stack import DevSecOpsDetector

Finding = tuple[str, str]

RUNTIME = (
    "AwsSolutions-L1",
    "Python 3.13 on purpose: the Powertools layer is built per runtime (python313); the runtime "
    "and POWERTOOLS_LAYER_NAME in infra/functions.py move together.",
)
XRAY_AND_STREAM_LISTING = (
    "AwsSolutions-IAM5[Resource::*]",
    "xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing), and for the stream "
    "consumer dynamodb:ListStreams, support no resource-level permission.",
)
KMS_ACTIONS = [
    (
        f"AwsSolutions-IAM5[Action::{action}]",
        f"{action} is the action family DynamoDB and SNS use with a customer-managed key; the "
        "statement names the detector's one key as its resource.",
    )
    for action in ("kms:GenerateDataKey*", "kms:ReEncrypt*")
]
RISK_INDEXES = (
    "AwsSolutions-IAM5[Resource::<{table}.Arn>/index/*]",
    "CDK grants on a table cover its indexes: here the risk table's one index, by_time, only.",
)
ECR_REPOSITORIES = (
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>"
    ":repository/*]",
    "Read-only ecr:DescribeImageScanFindings on the account's repositories in this region: any "
    "repository may report a scan, and their names are not known at deploy time.",
)
SECRET_ROTATION = (
    "AwsSolutions-SMG4",
    "A webhook secret or CircleCI token is shared with the provider; rotating it means changing "
    "GitHub's or CircleCI's settings too, which a rotation function cannot do. README: rotate "
    "by hand.",
)
IS_A_DLQ = (
    "AwsSolutions-SQS3",
    "This queue is itself a dead-letter queue (EventBridge target DLQ, Lambda on-failure "
    "destination or parking queue); cdk-nag only recognises queues named in a RedrivePolicy.",
)
NO_AUTHORIZER = (
    "AwsSolutions-APIG4",
    "Webhook providers cannot send AWS credentials or tokens; the function authenticates each "
    "delivery by the provider's HMAC-SHA256 signature over the raw body and rejects the rest.",
)
TRAIL_BUCKET_ACCESS_LOGS = (
    "AwsSolutions-S1",
    "The bucket receives only CloudTrail's deliveries and its digest files prove them intact; "
    "server access logs would need another bucket, itself unlogged. Reads can be audited with "
    "S3 data events on the trail.",
)


def add_checks(app: cdk.App) -> None:
    """Run the AWS Solutions rules on synth; an unacknowledged finding fails it."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def acknowledge(stack: DevSecOpsDetector) -> None:
    """Acknowledge each accepted finding on the narrowest construct that carries it."""
    sources = (stack.ecr, stack.webhooks, stack.kubernetes)
    for function in (*(source.function for source in sources), stack.correlation.function):
        _on(function, RUNTIME)
        _on(_policy(function), XRAY_AND_STREAM_LISTING, *KMS_ACTIONS)

    table = stack.get_logical_id(stack.store.risk_table.node.default_child)
    indexes = (RISK_INDEXES[0].format(table=table), RISK_INDEXES[1])
    for source in sources:
        _on(_policy(source.function), indexes)
    _on(_policy(stack.ecr.function), ECR_REPOSITORIES)

    for queue in (
        stack.ecr.dead_letters,
        stack.webhooks.dead_letters,
        stack.kubernetes.dead_letters,
        stack.correlation.dead_letters,
    ):
        _on(queue, IS_A_DLQ)
    for secret in stack.webhooks.secrets.values():
        _on(secret, SECRET_ROTATION)
    for route in stack.webhooks.api.node.children:
        if isinstance(route, apigwv2.HttpRoute):
            _on(route, NO_AUTHORIZER)
    if stack.trail:
        _on(stack.trail.bucket, TRAIL_BUCKET_ACCESS_LOGS)


def _policy(function: lambda_.Function) -> Construct:
    """The default policy of a function's role, where every grant lands."""
    return function.role.node.find_child("DefaultPolicy")


def _on(scope: Construct, *findings: Finding) -> None:
    """Acknowledge findings on one construct (and the L1 resources beneath it)."""
    cdk.Validations.of(scope).acknowledge(
        *(cdk.Acknowledgment(id=rule, reason=reason) for rule, reason in findings)
    )
