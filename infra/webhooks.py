"""Webhook sources: GitHub and CircleCI deliveries through an HTTP API, checked by HMAC."""

from __future__ import annotations

import json
from typing import Any

import jsii
from aws_cdk import Duration, RemovalPolicy, SecretValue
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.functions import LOG_RETENTION, FunctionFactory
from infra.monitoring import Monitoring
from infra.risk_store import RiskStore

ROUTES = {"github": "/webhooks/github", "circleci": "/webhooks/circleci"}
# Far above GitHub's and CircleCI's delivery rates; bounds the bill of a flood of forged calls.
THROTTLE = apigwv2.ThrottleSettings(rate_limit=50, burst_limit=100)
# Who called what and how it went; never headers or bodies, which carry signatures and payloads.
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "ip": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "integrationStatus": "$context.integrationStatus",
    "integrationLatency": "$context.integrationLatency",
    "integrationError": "$context.integration.error",
}
# GitHub gives up on a delivery after 10 s (CircleCI after 5 s): the function must answer first.
FUNCTION_TIMEOUT = Duration.seconds(10)


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogs:
    """JSON access logs of the HTTP API stage, written to a log group."""

    def __init__(self, group: logs.ILogGroup) -> None:
        self._group = group

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        """The log group."""
        return apigwv2.LogGroupLogDestination(self._group)

    @property
    def format(self) -> apigateway.AccessLogFormat:
        """One JSON object per request."""
        return apigateway.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS))


class WebhookSource(Construct):
    """The `webhooks` function, its HTTP API, its secrets and its queues."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: FunctionFactory,
        store: RiskStore,
        monitoring: Monitoring,
    ) -> None:
        super().__init__(scope, construct_id)

        # Webhook secrets start random (usable as they are); the token starts as "unset", which
        # the function reads as "no token" until the user stores a real one.
        self.secrets = {
            "GITHUB_WEBHOOK_SECRET_ARN": self._secret("GitHubWebhookSecret", "GitHub webhook"),
            "CIRCLECI_WEBHOOK_SECRET_ARN": self._secret(
                "CircleCiWebhookSecret", "CircleCI webhook"
            ),
            "CIRCLECI_API_TOKEN_SECRET_ARN": self._secret(
                "CircleCiApiToken", "CircleCI API token (optional)", placeholder="unset"
            ),
        }

        # Verified deliveries the function could not store, parked so none is lost.
        self.dead_letters = monitoring.dead_letter_queue(self, "WebhookDeadLetters")
        # Delayed CircleCI workflow checks, and the checks that failed every receive.
        self.check_dead_letters = monitoring.dead_letter_queue(self, "CiCheckDeadLetters")
        self.checks = self._check_queue()

        # The function: it sends to both queues and consumes the check queue.
        self.function = functions.function(
            self,
            "webhooks",
            memory=256,
            timeout=FUNCTION_TIMEOUT,
            environment={
                **{key: secret.secret_arn for key, secret in self.secrets.items()},
                "WEBHOOK_DLQ_URL": self.dead_letters.queue_url,
                "CI_CHECK_QUEUE_URL": self.checks.queue_url,
            },
        )
        self._grant(store, monitoring)

        # The front door.
        self.api = self._http_api()
        self.urls = {name: f"{self.api.api_endpoint}{path}" for name, path in ROUTES.items()}

    def _secret(
        self, construct_id: str, what: str, placeholder: str | None = None
    ) -> secretsmanager.Secret:
        """A secret the user may replace after deploy (README: put-secret-value)."""
        # Secret: shared with the provider, so rotation is done by hand on both sides.
        initial: dict[str, Any] = (
            {"secret_string_value": SecretValue.unsafe_plain_text(placeholder)}
            if placeholder
            else {
                "generate_secret_string": secretsmanager.SecretStringGenerator(
                    exclude_punctuation=True, password_length=40
                )
            }
        )
        return secretsmanager.Secret(
            self, construct_id, description=f"DevSecOpsDetector {what}", **initial
        )

    def _check_queue(self) -> sqs.Queue:
        """The delay queue for CircleCI workflow checks, with its own dead-letter queue."""
        # Visibility six times the function timeout, as Lambda's SQS poller recommends.
        return sqs.Queue(
            self,
            "CiChecks",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(FUNCTION_TIMEOUT.to_seconds() * 6),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.check_dead_letters, max_receive_count=3
            ),
        )

    def _grant(self, store: RiskStore, monitoring: Monitoring) -> None:
        """Tables, secrets, queues, the check queue's event source and an error alarm."""
        store.risk_table.grant_read_write_data(self.function)
        store.state_table.grant_read_write_data(self.function)
        for secret in self.secrets.values():
            secret.grant_read(self.function)
        self.dead_letters.grant_send_messages(self.function)
        self.checks.grant_send_messages(self.function)

        # Checks come back after their delay; a failed one is retried alone.
        self.function.add_event_source(
            # One check per invocation: a check may call CircleCI's API several times, and all of
            # it must fit the function's timeout.
            sources.SqsEventSource(self.checks, batch_size=1, report_batch_item_failures=True)
        )
        monitoring.alarm_on_errors(self.function)

    def _http_api(self) -> apigwv2.HttpApi:
        """An HTTP API (about $1.00 per million requests, against $3.50 for a REST API).

        The webhooks need no REST API feature: no API keys, usage plans, request validation or
        WAF. Authentication is the providers' HMAC signature, checked in the function on the
        raw body, so the API has no authorizer.
        """
        # Access logs of the API stage.
        access_logs = logs.LogGroup(
            self, "AccessLogs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY
        )

        # The API and its auto-deployed default stage, throttled and logged.
        api = apigwv2.HttpApi(
            self,
            "Api",
            description="DevSecOpsDetector webhooks (GitHub, CircleCI)",
            create_default_stage=False,
        )
        api.add_stage(
            "DefaultStage",
            stage_name="$default",
            auto_deploy=True,
            throttle=THROTTLE,
            access_log_settings=_AccessLogs(access_logs),
        )

        # One route per provider, both to the function with payload format 2.0.
        integration = integrations.HttpLambdaIntegration(
            "Function",
            self.function,
            payload_format_version=apigwv2.PayloadFormatVersion.VERSION_2_0,
        )
        for path in ROUTES.values():
            api.add_routes(path=path, methods=[apigwv2.HttpMethod.POST], integration=integration)
        return api
