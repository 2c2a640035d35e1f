"""ECR function: image scans, Inspector findings and CloudTrail ECR calls in, risk events out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from lambdas.detections.ecr import RULES, state_keys
from lambdas.detections.ecr.records import ImageScan
from lambdas.ecr.inputs import record_of
from lambdas.shared.exceptions import InputError
from lambdas.shared.observability import logger, metrics
from lambdas.shared.pipeline import process
from lambdas.shared.settings import load_settings
from lambdas.shared.store import DynamoStore

if TYPE_CHECKING:  # only a type: importing it costs every cold start about 1 ms
    from aws_lambda_powertools.utilities.typing import LambdaContext


# NOTE: the event is read as the plain dict EventBridge sends. Powertools' EventBridgeEvent data
# class would add no validation but about 20 ms of imports (every data class) to each cold start.
@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Score one event. Bad input is counted and dropped; a failing AWS call raises (retry)."""
    kind = event.get("detail-type")
    try:
        record = record_of(event)
    except InputError as exc:
        # EventBridge would retry the same bytes in vain: count, explain by field, drop.
        metrics.add_metric(name="InputErrors", unit=MetricUnit.Count, value=1)
        logger.warning("input skipped", extra={"detail_type": kind, "reason": str(exc)})
        return {"status": "skipped"}
    if record is None:
        return {"status": "ignored"}

    if isinstance(record, ImageScan) and record.skipped:
        metrics.add_metric(name="InputErrors", unit=MetricUnit.Count, value=record.skipped)
        logger.warning("findings skipped", extra={"count": record.skipped})

    settings = load_settings()
    result = process(
        RULES,
        record,
        settings=settings,
        now=datetime.now(UTC),
        store=DynamoStore.from_environment(),
        state_keys=state_keys(record, settings),
    )
    logger.info("event scored", extra={"detail_type": kind, "risk_events": len(result.risk_events)})
    return {"status": "scored", "risk_events": len(result.risk_events), "failed": result.failed}
