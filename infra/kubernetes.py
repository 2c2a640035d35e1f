"""Kubernetes sources: ingress access logs and cluster events, from CloudWatch Logs."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_logs_destinations as log_destinations
from constructs import Construct

from infra.functions import FunctionFactory
from infra.monitoring import Monitoring
from infra.risk_store import RiskStore


class KubernetesSource(Construct):
    """The `kubernetes` function and a subscription filter on each configured log group."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: FunctionFactory,
        store: RiskStore,
        monitoring: Monitoring,
        log_groups: tuple[str, ...],
        filter_pattern: str | None,
    ) -> None:
        super().__init__(scope, construct_id)

        # Log batches that failed every retry (CloudWatch Logs invokes asynchronously).
        self.dead_letters = monitoring.dead_letter_queue(self, "DeadLetters")

        # The function, with bounded async retries that end in the dead-letter queue.
        self.function = functions.function(
            self, "kubernetes", memory=512, timeout=Duration.seconds(60)
        )
        self.function.configure_async_invoke(
            retry_attempts=2,
            max_event_age=Duration.hours(6),
            on_failure=destinations.SqsDestination(self.dead_letters),
        )
        store.risk_table.grant_read_write_data(self.function)
        store.state_table.grant_read_write_data(self.function)
        monitoring.alarm_on_errors(self.function)

        # Existing log groups (EKS, Fluent Bit, ingress-nginx) subscribed by name.
        pattern = (
            logs.FilterPattern.literal(filter_pattern)
            if filter_pattern
            else logs.FilterPattern.all_events()
        )
        destination = log_destinations.LambdaDestination(self.function)
        for name in dict.fromkeys(log_groups):
            # The construct id carries the name, so reordering the list replaces nothing.
            group = logs.LogGroup.from_log_group_name(self, f"Source {name}", name)
            logs.SubscriptionFilter(
                self,
                f"Subscription {name}",
                log_group=group,
                destination=destination,
                filter_pattern=pattern,
            )
