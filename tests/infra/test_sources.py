"""The front doors: EventBridge rules, the webhook HTTP API and the log subscriptions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.events.models import EventPattern

from lambdas.webhooks.circleci_api import NO_TOKEN
from tests.infra.conftest import FULL_SETTINGS, Synthesized

SCAN_COMPLETE = {
    "source": "aws.ecr",
    "detail-type": "ECR Image Scan",
    "detail": {"scan-status": "COMPLETE", "repository-name": "devsecops/cat_dog_client"},
}
PUT_IMAGE = {
    "source": "aws.ecr",
    "detail-type": "AWS API Call via CloudTrail",
    "detail": {"eventSource": "ecr.amazonaws.com", "eventName": "PutImage"},
}


def rule_of(synthesized: Synthesized, construct_id: str) -> dict[str, Any]:
    """The properties of one of the ECR source's rules."""
    rule = synthesized.stack.ecr.rules[construct_id]
    return synthesized.resources("AWS::Events::Rule")[synthesized.logical_id(rule)]["Properties"]


def matches(synthesized: Synthesized, construct_id: str, event: dict[str, Any]) -> bool:
    """Whether a rule's pattern matches an event, by moto's EventBridge matcher."""
    pattern = rule_of(synthesized, construct_id)["EventPattern"]
    return EventPattern.load(json.dumps(pattern)).matches_event(event)


def test_the_scan_rule_takes_completed_basic_scans_only(synthesized: Synthesized) -> None:
    failed = {**SCAN_COMPLETE, "detail": {"scan-status": "FAILED"}}

    assert matches(synthesized, "ScanComplete", SCAN_COMPLETE)
    assert not matches(synthesized, "ScanComplete", failed)
    assert not matches(synthesized, "ScanComplete", PUT_IMAGE)


def test_the_push_rule_takes_put_image_calls_only(synthesized: Synthesized) -> None:
    describe = {**PUT_IMAGE, "detail": {**PUT_IMAGE["detail"], "eventName": "DescribeImages"}}

    assert matches(synthesized, "ImagePushed", PUT_IMAGE)
    assert not matches(synthesized, "ImagePushed", describe)
    assert not matches(synthesized, "ImagePushed", SCAN_COMPLETE)


def test_the_inspector_rule_takes_container_image_findings(synthesized: Synthesized) -> None:
    # moto does not flatten arrays of objects as EventBridge does, so the pattern is compared.
    pattern = rule_of(synthesized, "InspectorFinding")["EventPattern"]

    assert pattern == {
        "source": ["aws.inspector2"],
        "detail-type": ["Inspector2 Finding"],
        "detail": {"resources": {"type": ["AWS_ECR_CONTAINER_IMAGE"]}},
    }


@pytest.mark.parametrize("construct_id", ["ScanComplete", "InspectorFinding", "ImagePushed"])
def test_each_rule_retries_then_parks_undelivered_events(
    synthesized: Synthesized, construct_id: str
) -> None:
    (target,) = rule_of(synthesized, construct_id)["Targets"]
    ecr = synthesized.stack.ecr

    assert target["Arn"] == {"Fn::GetAtt": [synthesized.logical_id(ecr.function), "Arn"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
    assert 0 < target["RetryPolicy"]["MaximumEventAgeInSeconds"] <= 24 * 3600
    assert target["DeadLetterConfig"] == {
        "Arn": {"Fn::GetAtt": [synthesized.logical_id(ecr.dead_letters), "Arn"]}
    }


def test_the_webhook_api_is_an_http_api_with_exactly_the_two_post_routes(
    synthesized: Synthesized,
) -> None:
    routes = synthesized.resources("AWS::ApiGatewayV2::Route").values()
    (api,) = synthesized.resources("AWS::ApiGatewayV2::Api").values()

    assert api["Properties"]["ProtocolType"] == "HTTP"
    assert sorted(route["Properties"]["RouteKey"] for route in routes) == [
        "POST /webhooks/circleci",
        "POST /webhooks/github",
    ]
    assert {route["Properties"]["AuthorizationType"] for route in routes} == {"NONE"}


def test_the_webhook_routes_call_the_function_with_payload_format_2(
    synthesized: Synthesized,
) -> None:
    (integration,) = synthesized.resources("AWS::ApiGatewayV2::Integration").values()
    function_id = synthesized.logical_id(synthesized.stack.webhooks.function)

    assert integration["Properties"]["PayloadFormatVersion"] == "2.0"
    assert integration["Properties"]["IntegrationUri"] == {"Fn::GetAtt": [function_id, "Arn"]}


def test_the_webhook_stage_is_throttled_and_logs_json_without_headers(
    synthesized: Synthesized,
) -> None:
    (stage,) = synthesized.resources("AWS::ApiGatewayV2::Stage").values()
    settings = stage["Properties"]
    log_format = json.loads(settings["AccessLogSettings"]["Format"])

    assert settings["StageName"] == "$default"
    assert settings["AutoDeploy"] is True
    assert settings["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0
    assert settings["DefaultRouteSettings"]["ThrottlingBurstLimit"] > 0
    assert log_format["status"] == "$context.status"
    assert not [value for value in log_format.values() if "header" in value.lower()]


def test_the_webhook_urls_are_stack_outputs(synthesized: Synthesized) -> None:
    outputs = synthesized.template.to_json()["Outputs"]
    api_id = synthesized.logical_id(synthesized.stack.webhooks.api)

    for name, path in [
        ("GitHubWebhookUrl", "/webhooks/github"),
        ("CircleCiWebhookUrl", "/webhooks/circleci"),
    ]:
        assert outputs[name]["Value"] == {
            "Fn::Join": ["", [{"Fn::GetAtt": [api_id, "ApiEndpoint"]}, path]]
        }


def test_the_ci_check_queue_feeds_the_webhooks_function_reporting_partial_failures(
    synthesized: Synthesized,
) -> None:
    webhooks = synthesized.stack.webhooks
    queue_id = synthesized.logical_id(webhooks.checks)
    mappings = [
        mapping["Properties"]
        for mapping in synthesized.resources("AWS::Lambda::EventSourceMapping").values()
        if mapping["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    ]
    queue = synthesized.resources("AWS::SQS::Queue")[queue_id]["Properties"]

    assert [mapping["FunctionResponseTypes"] for mapping in mappings] == [
        ["ReportBatchItemFailures"]
    ]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": [synthesized.logical_id(webhooks.check_dead_letters), "Arn"]
    }
    assert queue["VisibilityTimeout"] >= 6 * 10


def test_each_configured_log_group_gets_a_subscription_with_the_filter_pattern(
    synthesized: Synthesized,
) -> None:
    filters = synthesized.resources("AWS::Logs::SubscriptionFilter").values()
    function_id = synthesized.logical_id(synthesized.stack.kubernetes.function)

    assert sorted(f["Properties"]["LogGroupName"] for f in filters) == sorted(
        FULL_SETTINGS["kubernetes_log_groups"]
    )
    for subscription in filters:
        assert (
            subscription["Properties"]["FilterPattern"] == FULL_SETTINGS["ingress_filter_pattern"]
        )
        assert subscription["Properties"]["DestinationArn"] == {"Fn::GetAtt": [function_id, "Arn"]}


@pytest.mark.parametrize("source", ["ecr", "kubernetes"])
def test_async_invocations_retry_then_land_in_the_dead_letter_queue(
    synthesized: Synthesized, source: str
) -> None:
    construct = getattr(synthesized.stack, source)
    function_ref = {"Ref": synthesized.logical_id(construct.function)}
    (config,) = [
        config["Properties"]
        for config in synthesized.resources("AWS::Lambda::EventInvokeConfig").values()
        if config["Properties"]["FunctionName"] == function_ref
    ]

    assert 0 < config["MaximumRetryAttempts"] <= 2
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": [synthesized.logical_id(construct.dead_letters), "Arn"]
    }


def test_webhook_secrets_start_random_and_the_api_token_starts_as_no_token(
    synthesized: Synthesized,
) -> None:
    secrets = synthesized.stack.webhooks.secrets
    resources = synthesized.resources("AWS::SecretsManager::Secret")

    def properties(key: str) -> dict[str, Any]:
        return resources[synthesized.logical_id(secrets[key])]["Properties"]

    token = properties("CIRCLECI_API_TOKEN_SECRET_ARN")
    assert token["SecretString"].lower() in NO_TOKEN
    for key in ("GITHUB_WEBHOOK_SECRET_ARN", "CIRCLECI_WEBHOOK_SECRET_ARN"):
        assert properties(key)["GenerateSecretString"]["PasswordLength"] >= 32
        assert "SecretString" not in properties(key)
