"""Correlation: the function on the risk table's stream that publishes alerts."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.functions import FunctionFactory
from infra.monitoring import Monitoring
from infra.risk_store import RiskStore

STREAM_BATCH_SIZE = 100
STREAM_RETRIES = 5  # bisecting halves a failing batch on each retry, isolating a bad record
STREAM_MAX_AGE = Duration.hours(24)  # DynamoDB keeps stream records for 24 hours


class Correlation(Construct):
    """The `correlate` function, reading new risk events and publishing to the alert topic."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: FunctionFactory,
        store: RiskStore,
        monitoring: Monitoring,
        topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)

        # Stream batches that failed every retry: their risk events are stored, not correlated.
        self.dead_letters = monitoring.dead_letter_queue(self, "DeadLetters")

        # The function: state table (aggregates, alert locks) and the topic; no risk-table access.
        self.function = functions.function(
            self,
            "correlate",
            memory=256,
            timeout=Duration.seconds(30),
            environment={"ALERT_TOPIC_ARN": topic.topic_arn},
        )
        store.state_table.grant_read_write_data(self.function)
        topic.grant_publish(self.function)
        monitoring.alarm_on_errors(self.function)

        # The stream mapping: new and updated risk events only; bisect, bounded retries, partial
        # batch failures, then the DLQ.
        self.function.add_event_source(
            sources.DynamoEventSource(
                store.risk_table,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=STREAM_BATCH_SIZE,
                bisect_batch_on_error=True,
                retry_attempts=STREAM_RETRIES,
                max_record_age=STREAM_MAX_AGE,
                report_batch_item_failures=True,
                on_failure=sources.SqsDlq(self.dead_letters),
                # TTL expiry removes every risk event once: filtered out, it costs no invocation.
                filters=[
                    lambda_.FilterCriteria.filter(
                        {"eventName": lambda_.FilterRule.or_("INSERT", "MODIFY")}
                    )
                ],
            )
        )
