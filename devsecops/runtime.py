"""The local runtime: moto plays AWS, and this module plays the parts AWS would play itself.

moto stores data and produces the risk table's stream, but it never invokes a Lambda function. So
`LocalAws` creates the same tables, topic, queue and settings parameter the stack creates, calls the
real handlers with events in the shapes AWS delivers, and feeds the stream's records to the
correlation handler as the event source mapping would. The demo, `devsecops replay` and `serve`, and
the pipeline tests all run through it.
"""

from __future__ import annotations

import importlib
import json
import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any

from lambdas.shared import clients
from lambdas.shared.schema import (
    RISK_PK,
    RISK_SK,
    RISK_TIME_INDEX,
    RISK_TIME_KEY,
    STATE_PK,
    STATE_SK,
)
from lambdas.shared.store import DynamoStore, MemoryStore, deserialize

FUNCTIONS = {
    "ecr": "lambdas.ecr.handler",
    "webhooks": "lambdas.webhooks.handler",
    "kubernetes": "lambdas.kubernetes.handler",
    "correlate": "lambdas.correlate.handler",
}
STREAM_BATCH = 100
STREAM_ATTEMPTS = 3

# Offline AWS: fake credentials, one region, endpoints moto serves, metrics not flushed to stdout.
# The tests and the benchmarks use the same values.
OFFLINE_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "DevSecOpsDetector",
}
_ENVIRONMENT = {
    **OFFLINE_ENVIRONMENT,
    "POWERTOOLS_SERVICE_NAME": "devsecops-local",
    # The account the sample events name, so ECR calls for their registry find their repositories.
    "MOTO_ACCOUNT_ID": "111111111111",
}
# moto's in-process control endpoint for the findings its DescribeImageScanFindings returns.
_MOTO_SCAN_RESULTS = "http://motoapi.amazonaws.com/moto-api/static/ecr/scan-finding-results"


@dataclass
class LambdaContext:
    """The attributes of a Lambda context that Powertools reads."""

    function_name: str
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:local"
    aws_request_id: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        """Local calls never time out."""
        return 60_000


class LocalAws:
    """A moto-backed copy of the deployed stack, usable as a context manager."""

    def __init__(
        self,
        settings: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
        memory: bool = False,
    ):
        """`memory=True` keeps risk events and state in process memory instead of moto's DynamoDB:
        the same store semantics, hundreds of times faster, but no stream, so no correlation."""
        self.settings = settings or {}
        self.extra_env = env or {}
        self.memory = MemoryStore() if memory else None
        self._saved_factory: Any = None
        self.dead_letters: list[dict[str, Any]] = []
        self._saved_env: dict[str, str | None] = {}
        self._iterators: dict[str, str] = {}
        self._mock: Any = None

    def __enter__(self) -> LocalAws:
        from moto import mock_aws  # imported here: the deployed functions never need moto

        suffix = uuid.uuid4().hex[:8]
        self.names = {
            "RISK_TABLE_NAME": f"risk-{suffix}",
            "STATE_TABLE_NAME": f"state-{suffix}",
            # A fresh parameter name per run: Powertools caches parameters by name.
            "SETTINGS_PARAMETER": f"/devsecops/{suffix}/settings",
        }
        self._set_env({**_ENVIRONMENT, **self.names, **self.extra_env})
        self._mock = mock_aws()
        self._mock.start()
        clients.reset()
        self._create()
        if self.memory is not None:
            # The handlers ask DynamoStore for their store; hand them the in-memory one instead.
            self._saved_factory = DynamoStore.__dict__["from_environment"]
            DynamoStore.from_environment = classmethod(lambda cls: self.memory)  # type: ignore
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._saved_factory is not None:
            DynamoStore.from_environment = self._saved_factory  # type: ignore[method-assign]
        self._mock.stop()
        clients.reset()
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        """Call a function's real handler with an event, as Lambda would."""
        from lambdas.shared.observability import metrics

        module = importlib.import_module(FUNCTIONS[function])
        try:
            return module.lambda_handler(event, LambdaContext(function_name=function))
        finally:
            # Metrics are disabled locally, so nothing flushes them: drop them after each call,
            # or Powertools prints a batch on stdout once 100 accumulate.
            metrics.clear_metrics()

    def pump(self) -> int:
        """Deliver new stream records to the correlation handler until none are left."""
        delivered = 0
        while True:
            records = self._read_stream()
            if not records:
                return delivered
            for start in range(0, len(records), STREAM_BATCH):
                self._deliver(records[start : start + STREAM_BATCH])
            delivered += len(records)

    def risk_events(self) -> list[dict[str, Any]]:
        """Every stored risk event, oldest first."""
        if self.memory is not None:
            items = [event.to_item(expires_at=0) for event in self.memory.risk_events.values()]
        else:
            items = self._scan(os.environ["RISK_TABLE_NAME"])
        return sorted(items, key=lambda item: (item["event_time"], item["detection"], item["id"]))

    def alerts(self) -> list[dict[str, Any]]:
        """Drain the queue subscribed to the alert topic; return the alerts in arrival order."""
        sqs = clients.client("sqs")
        found = []
        while True:
            answer = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            messages = answer.get("Messages", [])
            if not messages:
                return found
            for message in messages:
                found.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def seed_image_scan(self, repository: str, digest: str, answer: dict[str, Any]) -> None:
        """Create an image in moto's ECR whose scan returns `answer` (a DescribeImageScanFindings
        response), so an `ECR Image Scan` event makes the real handler fetch real findings."""
        import requests  # a moto dependency; its mock answers this address in-process

        ecr = clients.client("ecr")
        if repository not in {
            r["repositoryName"] for r in ecr.describe_repositories()["repositories"]
        }:
            ecr.create_repository(repositoryName=repository)
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {},
                "layers": [],
            }
        )
        ecr.put_image(repositoryName=repository, imageManifest=manifest, imageDigest=digest)
        ecr.start_image_scan(repositoryName=repository, imageId={"imageDigest": digest})

        result = {**answer, "repositoryName": repository, "imageId": {"imageDigest": digest}}
        region = os.environ["AWS_DEFAULT_REGION"]
        body = {"results": [result], "region": region, "account_id": os.environ["MOTO_ACCOUNT_ID"]}
        requests.post(_MOTO_SCAN_RESULTS, json=body, timeout=5)

    def _set_env(self, values: dict[str, str]) -> None:
        """Set environment variables, remembering what to restore."""
        for key, value in values.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def _create(self) -> None:
        """Create what the stack creates: tables, topic, subscribed queue, settings parameter."""
        _create_risk_table(os.environ["RISK_TABLE_NAME"])
        _create_state_table(os.environ["STATE_TABLE_NAME"])
        clients.client("ssm").put_parameter(
            Name=os.environ["SETTINGS_PARAMETER"], Value=json.dumps(self.settings), Type="String"
        )

        topic = clients.client("sns").create_topic(Name="devsecops-alerts")["TopicArn"]
        self.queue_url = clients.client("sqs").create_queue(QueueName="devsecops-alerts")[
            "QueueUrl"
        ]
        queue_arn = f"arn:aws:sqs:us-east-1:123456789012:{self.queue_url.rsplit('/', 1)[1]}"
        clients.client("sns").subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={"RawMessageDelivery": "true"},
        )
        dead_letters = clients.client("sqs").create_queue(QueueName="webhook-dead-letters")
        self._set_env({"ALERT_TOPIC_ARN": topic, "WEBHOOK_DLQ_URL": dead_letters["QueueUrl"]})

        description = clients.client("dynamodb").describe_table(
            TableName=os.environ["RISK_TABLE_NAME"]
        )
        self.stream_arn = description["Table"]["LatestStreamArn"]

    def _read_stream(self) -> list[dict[str, Any]]:
        """New records of every shard since the last read, in the shape Lambda delivers them."""
        streams = clients.client("dynamodbstreams")
        shards = streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        records = []
        for shard in shards:
            shard_id = shard["ShardId"]
            iterator = (
                self._iterators.get(shard_id)
                or streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            )
            answer = streams.get_records(ShardIterator=iterator)
            self._iterators[shard_id] = answer["NextShardIterator"]
            records.extend(as_lambda_record(raw, self.stream_arn) for raw in answer["Records"])
        return records

    def _deliver(self, records: list[dict[str, Any]]) -> None:
        """Hand a batch to the correlation handler; retry failed records, then dead-letter them."""
        pending = records
        for _ in range(STREAM_ATTEMPTS):
            try:
                answer = self.invoke("correlate", {"Records": pending})
            except Exception:  # noqa: BLE001 - a failed invocation retries the whole batch
                continue
            failed = {item["itemIdentifier"] for item in answer.get("batchItemFailures", [])}
            pending = [r for r in pending if r["dynamodb"]["SequenceNumber"] in failed]
            if not pending:
                return
        self.dead_letters.extend(pending)

    def _scan(self, table: str) -> list[dict[str, Any]]:
        """Every item of a table, deserialized."""
        paginator = clients.client("dynamodb").get_paginator("scan")
        return [
            deserialize(raw)
            for page in paginator.paginate(TableName=table)
            for raw in page["Items"]
        ]


def as_lambda_record(raw: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A DynamoDB Streams API record reshaped as the Lambda event source mapping delivers it."""
    body = dict(raw["dynamodb"])
    created = body.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        body["ApproximateCreationDateTime"] = int(created.timestamp())
    return {
        "eventID": raw["eventID"],
        "eventName": raw["eventName"],
        "eventVersion": raw.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": raw.get("awsRegion", "us-east-1"),
        "dynamodb": body,
        "eventSourceARN": stream_arn,
    }


def _create_risk_table(name: str) -> None:
    """The risk table, keyed and indexed as in the stack, with its stream of old and new images."""
    attribute = _string_attributes(RISK_PK, RISK_SK, RISK_TIME_KEY)
    clients.client("dynamodb").create_table(
        TableName=name,
        AttributeDefinitions=attribute,
        KeySchema=_key(RISK_PK, RISK_SK),
        LocalSecondaryIndexes=[
            {"IndexName": RISK_TIME_INDEX, "KeySchema": _key(RISK_PK, RISK_TIME_KEY), **_ALL}
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )


def _create_state_table(name: str) -> None:
    """The state table: no stream, so detection memory never reaches correlation."""
    clients.client("dynamodb").create_table(
        TableName=name,
        AttributeDefinitions=_string_attributes(STATE_PK, STATE_SK),
        KeySchema=_key(STATE_PK, STATE_SK),
        BillingMode="PAY_PER_REQUEST",
    )


_ALL = {"Projection": {"ProjectionType": "ALL"}}


def _string_attributes(*names: str) -> list[dict[str, str]]:
    """Attribute definitions for string key attributes."""
    return [{"AttributeName": name, "AttributeType": "S"} for name in names]


def _key(partition: str, sort: str) -> list[dict[str, str]]:
    """A partition + sort key schema."""
    return [
        {"AttributeName": partition, "KeyType": "HASH"},
        {"AttributeName": sort, "KeyType": "RANGE"},
    ]
