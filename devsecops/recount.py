"""`devsecops recount`: correlate the stream records the correlation function gave up on.

When the stream mapping exhausts its retries it parks a message on its dead-letter queue that names
the stream, the shard and the range of sequence numbers, not the records. While the stream still
holds them (24 hours), this command reads that range and runs the same correlation handler over
it, in this process, against the deployed state table and topic. The correlator's markers make a
record counted before a no-op, so a recount never adds risk twice. A message is deleted only once
its whole range was correlated.

Run it with the stack's environment: STATE_TABLE_NAME, SETTINGS_PARAMETER and ALERT_TOPIC_ARN.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from devsecops.runtime import LambdaContext, as_lambda_record
from lambdas.shared import clients

PAGE = 100  # records per correlation batch, as the stream mapping sends them


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `devsecops recount`."""
    parser.add_argument("--queue-url", default=os.environ.get("CORRELATION_DLQ_URL"))
    parser.add_argument("--limit", type=int, default=100, help="stop after this many messages")


def run(args: argparse.Namespace) -> int:
    """Recount every parked range; print a summary; fail if anything stays parked."""
    if not args.queue_url:
        print("recount: --queue-url (or CORRELATION_DLQ_URL) is required", file=sys.stderr)
        return 2
    done, failed = recount(args.queue_url, args.limit)
    print(json.dumps({"type": "recount", "ranges": done, "failed": failed}))
    return 1 if failed else 0


def recount(queue_url: str, limit: int = 100) -> tuple[int, int]:
    """Correlate the ranges named by up to `limit` parked messages; return (done, failed)."""
    from lambdas.correlate import handler  # the deployed handler, imported only when needed

    sqs = clients.client("sqs")
    done = failed = 0
    while done + failed < limit:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages")
        if not messages:
            break
        for message in messages:
            if _recount_one(handler, json.loads(message["Body"])):
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                done += 1
            else:
                failed += 1  # stays parked: visible again after the queue's visibility timeout
    return done, failed


def _recount_one(handler: Any, parked: dict[str, Any]) -> bool:
    """Correlate one parked range; True when every record of it was correlated."""
    info = parked.get("DDBStreamBatchInfo") or {}
    try:
        first, last = info["startSequenceNumber"], info["endSequenceNumber"]
        records = list(stream_range(info["streamArn"], info["shardId"], first, last))
    except (KeyError, ClientError) as exc:
        # Past the stream's 24 hours the records are gone; the risk events stay in the table.
        print(f"recount: cannot read the parked range ({type(exc).__name__})", file=sys.stderr)
        return False

    context = LambdaContext(function_name="correlate-recount")
    for start in range(0, len(records), PAGE):
        batch = {"Records": records[start : start + PAGE]}
        try:
            answer = handler.lambda_handler(batch, context)
        except Exception:  # noqa: BLE001 - a batch that failed whole stays parked
            return False
        if answer.get("batchItemFailures"):
            return False
    return True


def stream_range(stream_arn: str, shard_id: str, first: str, last: str) -> Iterator[dict]:
    """The shard's records from sequence number `first` to `last`, as Lambda delivers them."""
    streams = clients.client("dynamodbstreams")
    iterator = streams.get_shard_iterator(
        StreamArn=stream_arn,
        ShardId=shard_id,
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=first,
    )["ShardIterator"]
    while iterator:
        answer = streams.get_records(ShardIterator=iterator)
        for raw in answer["Records"]:
            if int(raw["dynamodb"]["SequenceNumber"]) > int(last):
                return
            yield as_lambda_record(raw, stream_arn)
        if not answer["Records"]:
            return  # caught up with the shard: the range ended before `last` was written
        iterator = answer.get("NextShardIterator")
