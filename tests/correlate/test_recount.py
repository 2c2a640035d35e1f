"""`devsecops recount`: parked stream ranges are correlated again, once, then unparked."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from devsecops.recount import recount
from devsecops.runtime import LocalAws
from lambdas.shared import clients
from lambdas.shared.store import DynamoStore
from tests.correlate.builders import high

NOW = datetime(2026, 12, 3, tzinfo=UTC)


def park_whole_shard(aws: LocalAws, queue_url: str) -> None:
    """Park the shard's records as the stream mapping's on-failure destination would."""
    streams = clients.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=aws.stream_arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=aws.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    numbers = [
        r["dynamodb"]["SequenceNumber"]
        for r in streams.get_records(ShardIterator=iterator)["Records"]
    ]
    info = {
        "shardId": shard["ShardId"],
        "startSequenceNumber": numbers[0],
        "endSequenceNumber": numbers[-1],
        "batchSize": len(numbers),
        "streamArn": aws.stream_arn,
    }
    body = {"version": "1.0", "requestContext": {"condition": "RetryAttemptsExhausted"}}
    clients.client("sqs").send_message(
        QueueUrl=queue_url, MessageBody=json.dumps({**body, "DDBStreamBatchInfo": info})
    )


def test_a_parked_range_is_correlated_once_and_leaves_the_queue() -> None:
    with LocalAws() as aws:
        # GIVEN a risk event whose stream record the correlation function gave up on
        queue_url = clients.client("sqs").create_queue(QueueName="correlation-dlq")["QueueUrl"]
        DynamoStore.from_environment().put_risk_event(high("a"), NOW, 90)
        park_whole_shard(aws, queue_url)

        # WHEN it is recounted, twice (a person running the command again)
        first = recount(queue_url)
        park_whole_shard(aws, queue_url)
        second = recount(queue_url)

        # THEN the alert went out once, and the queue is empty
        assert (first, second) == ((1, 0), (1, 0))
        assert len(aws.alerts()) == 1
        leftover = clients.client("sqs").receive_message(QueueUrl=queue_url)
        assert "Messages" not in leftover


def test_a_message_without_a_readable_range_stays_parked() -> None:
    with LocalAws():
        queue_url = clients.client("sqs").create_queue(QueueName="correlation-dlq")["QueueUrl"]
        clients.client("sqs").send_message(QueueUrl=queue_url, MessageBody=json.dumps({}))

        assert recount(queue_url, limit=1) == (0, 1)
