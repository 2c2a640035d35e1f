"""The correlation handler on stream batches: partial failures, unreadable items, lost publishes."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from devsecops.runtime import LocalAws
from lambdas.correlate import handler
from lambdas.shared.store import DynamoStore, serialize
from tests.correlate.builders import high

NOW = datetime(2026, 12, 3, tzinfo=UTC)


def stream_record(sequence: str, image: dict) -> dict:
    """A stream record as Lambda delivers it."""
    return {
        "eventID": sequence,
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": {"SequenceNumber": sequence, "NewImage": serialize(image), "Keys": {}},
    }


def test_an_unreadable_item_is_skipped_and_the_rest_of_the_batch_alerts(lambda_context) -> None:
    with LocalAws() as aws:
        good = high("a").to_item(expires_at=1)
        batch = {"Records": [stream_record("1", {"entity": "x"}), stream_record("2", good)]}

        answer = handler.lambda_handler(batch, lambda_context)

        assert answer == {"batchItemFailures": []}
        assert len(aws.alerts()) == 1


def test_a_failed_publish_is_retried_and_the_alert_arrives_once(lambda_context) -> None:
    with LocalAws() as aws:
        topic = os.environ["ALERT_TOPIC_ARN"]
        batch = {"Records": [stream_record("7", high("a").to_item(expires_at=1))]}

        # WHEN SNS rejects the first publish (the topic is briefly wrong)
        os.environ["ALERT_TOPIC_ARN"] = topic + "-missing"
        with pytest.raises(BatchProcessingError):  # the whole batch failed: Lambda retries it
            handler.lambda_handler(batch, lambda_context)
        os.environ["ALERT_TOPIC_ARN"] = topic
        retried = handler.lambda_handler(batch, lambda_context)

        # THEN the retry published exactly one alert
        assert retried == {"batchItemFailures": []}
        assert len(aws.alerts()) == 1


def test_a_replayed_batch_publishes_nothing_new(lambda_context) -> None:
    with LocalAws() as aws:
        DynamoStore.from_environment().put_risk_event(high("a"), NOW, 90)
        aws.pump()
        aws._iterators.clear()

        aws.pump()

        assert len(aws.alerts()) == 1
