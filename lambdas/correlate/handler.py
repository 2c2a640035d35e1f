"""Correlation function: reads the risk table's stream and publishes alerts to SNS."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)

from lambdas.correlate.engine import Correlator
from lambdas.correlate.notify import publish
from lambdas.shared.observability import logger, metrics
from lambdas.shared.risk import RiskEvent
from lambdas.shared.settings import load_settings

if TYPE_CHECKING:  # only a type: importing it costs every cold start about 1 ms
    from aws_lambda_powertools.utilities.typing import LambdaContext

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def record_handler(record: DynamoDBRecord) -> None:
    """Count a stored risk event once per entity it names; publish the alerts it causes."""
    if record.event_name == DynamoDBRecordEventName.REMOVE or record.dynamodb is None:
        return  # TTL expiry: the stream mapping filters these out; replays may still hold them

    try:
        event = RiskEvent.from_item(record.dynamodb.new_image)
    except (KeyError, TypeError, ValueError):
        # Retrying cannot repair an item; count it and move on instead of blocking the shard.
        logger.warning("unreadable risk event", extra={"sequence": record.dynamodb.sequence_number})
        metrics.add_metric(name="UnreadableRiskEvents", unit=MetricUnit.Count, value=1)
        return

    if event.suppressed:
        metrics.add_metric(name="SuppressedRiskEvents", unit=MetricUnit.Count, value=1)
        return

    entities = event.entities()
    if record.event_name == DynamoDBRecordEventName.MODIFY:
        # An update of a known id counts only for entities it names for the first time (a user
        # attached later); a new count, evidence or message alone adds no risk and costs nothing.
        entities = _new_entities(entities, record.dynamodb.old_image)
        if not entities:
            return

    settings = load_settings()
    correlator = Correlator.from_environment(settings.correlation, settings.retention_days)
    now = datetime.now(UTC)
    for alert in correlator.correlate(event, now, entities):
        if not correlator.claim(alert, now):
            continue
        publish(os.environ["ALERT_TOPIC_ARN"], alert)
        correlator.mark_sent(alert)
        metrics.add_metric(name="Alerts", unit=MetricUnit.Count, value=1)
        logger.info("alert published", extra={"alert_id": alert.id, "score": alert.window.score})


def _new_entities(entities: list[str], old_image: dict[str, Any] | None) -> list[str]:
    """The entities not named by the item before the update (all of them if it cannot be read).

    Counting an entity twice is impossible either way: the correlator's markers make a repeat a
    no-op. Skipping the known ones only saves their work.
    """
    try:
        known = set(RiskEvent.from_item(old_image or {}).entities())
    except (KeyError, TypeError, ValueError):
        return entities
    return [entity for entity in entities if entity not in known]


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Process a stream batch, reporting only the failed records for retry."""
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
