"""Operational alarms: dead-letter queues that fill and functions that fail, sent to an ops topic.

Alarms go to their own topic rather than the alert topic: alert subscribers filter on message
attributes and parse the alert's JSON, which CloudWatch alarm notifications do not carry, and a
broken pipeline is an operator's problem rather than a security finding.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.alerts import encrypted_topic

DLQ_RETENTION = Duration.days(14)  # SQS's maximum: two weeks to notice, fix and redrive
ALARM_PERIOD = Duration.minutes(5)


class Monitoring(Construct):
    """The ops topic and the factory for dead-letter queues and their alarms."""

    def __init__(
        self, scope: Construct, construct_id: str, *, key: kms.IKey, email: str | None
    ) -> None:
        super().__init__(scope, construct_id)

        # Operational notifications (alarms), apart from security alerts.
        self.topic = encrypted_topic(self, "OpsTopic", "DevSecOps detector operations", key)
        self._action = actions.SnsAction(self.topic)
        self._allow_alarms()

        # The same optional recipient as the alerts: small teams run and watch the detector.
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))

    def _allow_alarms(self) -> None:
        """Let this account's alarms publish: the TLS-only policy replaces SNS's default one."""
        stack = Stack.of(self)
        alarms = stack.format_arn(
            service="cloudwatch",
            resource="alarm",
            resource_name="*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "ArnLike": {"aws:SourceArn": alarms},
                    "StringEquals": {"aws:SourceAccount": stack.account},
                },
            )
        )

    def dead_letter_queue(self, scope: Construct, construct_id: str) -> sqs.Queue:
        """An encrypted, TLS-only queue kept 14 days, with an alarm as soon as it holds anything."""
        # Dead letters: what the pipeline could not process, kept for a redrive.
        queue = sqs.Queue(
            scope,
            construct_id,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DLQ_RETENTION,
        )

        # Any message here is lost detection coverage until someone redrives it.
        metric = queue.metric_approximate_number_of_messages_visible(
            period=ALARM_PERIOD, statistic=cloudwatch.Stats.MAXIMUM
        )
        self._alarm(scope, f"{construct_id}Alarm", metric, f"{construct_id} holds messages")
        return queue

    def alarm_on_errors(self, function: lambda_.Function) -> None:
        """Alarm when a function reports errors (exceptions, timeouts, out of memory)."""
        # Function errors: a failing handler or a batch stuck in retries.
        metric = function.metric_errors(period=ALARM_PERIOD, statistic=cloudwatch.Stats.SUM)
        self._alarm(function, "ErrorsAlarm", metric, "function errors")

    def _alarm(
        self, scope: Construct, construct_id: str, metric: cloudwatch.Metric, what: str
    ) -> None:
        """An alarm on metric > 0 that notifies the ops topic; missing data is not a breach."""
        alarm = metric.create_alarm(
            scope,
            construct_id,
            alarm_description=f"DevSecOpsDetector: {what}",
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
