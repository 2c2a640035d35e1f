"""ECR sources: basic scan results, Inspector findings and image pushes, through EventBridge."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_destinations as destinations
from constructs import Construct

from infra.functions import FunctionFactory
from infra.monitoring import Monitoring
from infra.risk_store import RiskStore

# The three kinds of events the `ecr` function understands.
SCAN_PATTERN = events.EventPattern(
    source=["aws.ecr"], detail_type=["ECR Image Scan"], detail={"scan-status": ["COMPLETE"]}
)
INSPECTOR_PATTERN = events.EventPattern(
    source=["aws.inspector2"],
    detail_type=["Inspector2 Finding"],
    detail={"resources": {"type": ["AWS_ECR_CONTAINER_IMAGE"]}},
)
PUSH_PATTERN = events.EventPattern(
    source=["aws.ecr"],
    detail_type=["AWS API Call via CloudTrail"],
    detail={"eventSource": ["ecr.amazonaws.com"], "eventName": ["PutImage"]},
)
# EventBridge retries a failed delivery for this long, then parks the event in the DLQ.
DELIVERY_RETRIES = 8
DELIVERY_MAX_AGE = Duration.hours(6)


class EcrSource(Construct):
    """The `ecr` function and the EventBridge rules that feed it."""

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

        # Events EventBridge could not deliver, and invocations that failed every retry.
        self.dead_letters = monitoring.dead_letter_queue(self, "DeadLetters")

        # The function; Lambda retries a failing async invocation twice, then parks it too.
        self.function = functions.function(self, "ecr", memory=256, timeout=Duration.seconds(60))
        self.function.configure_async_invoke(
            retry_attempts=2, on_failure=destinations.SqsDestination(self.dead_letters)
        )
        store.risk_table.grant_read_write_data(self.function)
        store.state_table.grant_read_write_data(self.function)
        monitoring.alarm_on_errors(self.function)

        # Basic scanning reports only counts; the function fetches the findings of the image.
        repositories = Stack.of(self).format_arn(
            service="ecr", resource="repository", resource_name="*"
        )
        self.function.add_to_role_policy(
            iam.PolicyStatement(actions=["ecr:DescribeImageScanFindings"], resources=[repositories])
        )

        # One rule per kind of event, each with retries and the dead-letter queue.
        self.rules = {
            "ScanComplete": self._rule("ScanComplete", SCAN_PATTERN),
            "InspectorFinding": self._rule("InspectorFinding", INSPECTOR_PATTERN),
            "ImagePushed": self._rule("ImagePushed", PUSH_PATTERN),
        }

    def _rule(self, construct_id: str, pattern: events.EventPattern) -> events.Rule:
        """A rule on the default bus that delivers matching events to the function."""
        target = targets.LambdaFunction(
            self.function,
            dead_letter_queue=self.dead_letters,
            retry_attempts=DELIVERY_RETRIES,
            max_event_age=DELIVERY_MAX_AGE,
        )
        return events.Rule(self, construct_id, event_pattern=pattern, targets=[target])
