"""Least privilege and alarms: what each function may do, and who hears when something breaks."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.conftest import Synthesized

BASE = {
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "ssm:GetParameter",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
}
TABLE_READ_WRITE = {
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:UpdateItem",
}
KEY_USE = {
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
}
QUEUE_SEND = {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}
QUEUE_CONSUME = {"sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:DeleteMessage"}
SECRET_READ = {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
STREAM_READ = {"dynamodb:DescribeStream", "dynamodb:ListStreams"}

EXPECTED_ACTIONS = {
    "ecr": BASE | TABLE_READ_WRITE | KEY_USE | QUEUE_SEND | {"ecr:DescribeImageScanFindings"},
    "webhooks": BASE | TABLE_READ_WRITE | KEY_USE | QUEUE_SEND | QUEUE_CONSUME | SECRET_READ,
    "kubernetes": BASE | TABLE_READ_WRITE | KEY_USE | QUEUE_SEND,
    "correlation": BASE | TABLE_READ_WRITE | KEY_USE | QUEUE_SEND | STREAM_READ | {"sns:Publish"},
}


def as_list(value: Any) -> list[Any]:
    """A policy field that may be a single value or a list, as a list."""
    return value if isinstance(value, list) else [value]


def role_statements(synthesized: Synthesized, source: str) -> list[dict[str, Any]]:
    """Every statement of the policies attached to one function's role."""
    role = getattr(synthesized.stack, source).function.role
    role_ref = {"Ref": synthesized.logical_id(role)}
    return [
        statement
        for policy in synthesized.resources("AWS::IAM::Policy").values()
        if role_ref in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_no_iam_policy_statement_grants_a_whole_service(synthesized: Synthesized) -> None:
    actions = [
        action
        for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
        for policy in synthesized.resources(kind).values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        for action in as_list(statement["Action"])
    ]

    assert actions
    assert [action for action in actions if action == "*" or action.endswith(":*")] == []


def test_resource_policies_allow_no_whole_service_except_the_key_administrator(
    synthesized: Synthesized,
) -> None:
    # The key's account-root statement is how KMS lets IAM policies use a key at all.
    broad = []
    for resource in synthesized.template.to_json()["Resources"].values():
        document = resource["Properties"].get("PolicyDocument") or resource["Properties"].get(
            "KeyPolicy"
        )
        for statement in (document or {}).get("Statement", []):
            principal = statement.get("Principal", {})
            administrator = isinstance(principal, dict) and "AWS" in principal
            if statement["Effect"] == "Allow" and not administrator:
                broad += [a for a in as_list(statement["Action"]) if a == "*" or a.endswith(":*")]

    assert broad == []


def test_function_roles_carry_no_managed_policies(synthesized: Synthesized) -> None:
    roles = synthesized.resources("AWS::IAM::Role").values()

    assert len(roles) == len(EXPECTED_ACTIONS)
    for role in roles:
        assert "ManagedPolicyArns" not in role["Properties"]
        assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
            "Service": "lambda.amazonaws.com"
        }


@pytest.mark.parametrize("source", EXPECTED_ACTIONS)
def test_each_function_role_has_exactly_the_actions_it_needs(
    synthesized: Synthesized, source: str
) -> None:
    statements = role_statements(synthesized, source)
    actions = {action for statement in statements for action in as_list(statement["Action"])}

    assert {statement["Effect"] for statement in statements} == {"Allow"}
    assert actions == EXPECTED_ACTIONS[source]


@pytest.mark.parametrize("source", EXPECTED_ACTIONS)
def test_each_function_may_decrypt_with_the_detector_key_only(
    synthesized: Synthesized, source: str
) -> None:
    key = {"Fn::GetAtt": [synthesized.logical_id(synthesized.stack.store.key), "Arn"]}
    kms = [
        statement
        for statement in role_statements(synthesized, source)
        if any(action.startswith("kms:") for action in as_list(statement["Action"]))
    ]

    assert any("kms:Decrypt" in as_list(statement["Action"]) for statement in kms)
    assert {str(statement["Resource"]) for statement in kms} == {str(key)}


def test_the_stream_consumer_reads_only_the_risk_table_stream(synthesized: Synthesized) -> None:
    stream = {
        "Fn::GetAtt": [synthesized.logical_id(synthesized.stack.store.risk_table), "StreamArn"]
    }
    readers = [
        statement
        for statement in role_statements(synthesized, "correlation")
        if "dynamodb:DescribeStream" in as_list(statement["Action"])
    ]

    assert [statement["Resource"] for statement in readers] == [stream]


def test_cloudwatch_alarms_may_use_the_key_and_publish_to_the_ops_topic(
    synthesized: Synthesized,
) -> None:
    (key,) = synthesized.resources("AWS::KMS::Key").values()
    ops_id = synthesized.logical_id(synthesized.stack.monitoring.topic)
    (ops_policy,) = [
        p
        for p in synthesized.resources("AWS::SNS::TopicPolicy").values()
        if p["Properties"]["Topics"] == [{"Ref": ops_id}]
    ]
    cloudwatch = {"Service": "cloudwatch.amazonaws.com"}

    key_statements = key["Properties"]["KeyPolicy"]["Statement"]
    topic_statements = ops_policy["Properties"]["PolicyDocument"]["Statement"]
    assert any(
        s["Principal"] == cloudwatch and "kms:Decrypt" in s["Action"] for s in key_statements
    )
    assert any(
        s["Principal"] == cloudwatch and s["Action"] == "sns:Publish" and s["Effect"] == "Allow"
        for s in topic_statements
    )


def alarms_on(synthesized: Synthesized, dimension: dict[str, Any]) -> list[dict[str, Any]]:
    """Alarms whose metric has the given dimension value."""
    return [
        alarm["Properties"]
        for alarm in synthesized.resources("AWS::CloudWatch::Alarm").values()
        if dimension in [d["Value"] for d in alarm["Properties"].get("Dimensions", [])]
    ]


def test_every_dead_letter_queue_is_encrypted_tls_only_kept_14_days_and_alarmed(
    synthesized: Synthesized,
) -> None:
    stack = synthesized.stack
    ops = {"Ref": synthesized.logical_id(stack.monitoring.topic)}
    queues = [
        stack.ecr.dead_letters,
        stack.webhooks.dead_letters,
        stack.webhooks.check_dead_letters,
        stack.kubernetes.dead_letters,
        stack.correlation.dead_letters,
    ]

    for queue in queues:
        queue_id = synthesized.logical_id(queue)
        properties = synthesized.resources("AWS::SQS::Queue")[queue_id]["Properties"]
        (alarm,) = alarms_on(synthesized, {"Fn::GetAtt": [queue_id, "QueueName"]})

        assert properties["SqsManagedSseEnabled"] is True
        assert properties["MessageRetentionPeriod"] == 14 * 24 * 3600
        assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
        assert alarm["AlarmActions"] == [ops]


def test_every_queue_refuses_requests_without_tls(synthesized: Synthesized) -> None:
    queue_refs = {str({"Ref": queue_id}) for queue_id in synthesized.resources("AWS::SQS::Queue")}
    guarded = {
        str(queue)
        for policy in synthesized.resources("AWS::SQS::QueuePolicy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        for queue in policy["Properties"]["Queues"]
    }

    assert guarded == queue_refs


@pytest.mark.parametrize("source", EXPECTED_ACTIONS)
def test_each_function_has_an_errors_alarm(synthesized: Synthesized, source: str) -> None:
    function = getattr(synthesized.stack, source).function
    alarms = alarms_on(synthesized, {"Ref": synthesized.logical_id(function)})

    assert [alarm["MetricName"] for alarm in alarms] == ["Errors"]
