"""Correlation cost: DynamoDB requests and capacity per risk event, whatever the entity's history.

One entity gets 10, 1,000 or 10,000 earlier risk events spread over the window's hours; then one
more risk event is stored through `DynamoStore` and delivered by the local runtime to the real
correlation handler, and every DynamoDB call that handler makes is metered on the process's client.

moto answers `ReturnConsumedCapacity` with constants, so `Meter` prices each call itself from
DynamoDB's sizing rules: 1 write unit per started KB (2 in a transaction), 1 read unit per started
4 KB for a strongly consistent read (half for an eventually consistent one), computed from the
items in requests and answers. Item sizes are estimates of DynamoDB's own (names + values).

Seeding: a history of up to `REAL_PATH_LIMIT` events goes the real way (store, stream, handler).
A larger one is written into the entity's hourly items directly, with the engine's own update
expression: what thousands of correlations leave behind, minus the per-event markers, which the
measured Query never reads. The real way is quadratic under moto (its Query filters a whole
partition, its transactions copy the tables), about 4 minutes for 1,000 events on 2 cores.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import use_test_environment

HISTORIES = (10, 1_000, 10_000)
GOAL = 1.10
REAL_PATH_LIMIT = 10
ENTITY = "bench/app"
USER = "bench-user"
DETECTIONS = ("github_dependabot_alert", "aws_ecr_container_scanning_findings_high")
KB = 1024


def item_size(item: dict[str, Any]) -> int:
    """Estimated DynamoDB size in bytes of an item in attribute-value form."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict[str, Any]) -> int:
    """Size of one attribute value: UTF-8 strings, ~1 byte per 2 digits, 3 + 1 per element."""
    kind, inner = next(iter(value.items()))
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        return len(inner.strip("-").replace(".", "").lstrip("0")) // 2 + 1
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + 1 + _value_size(v) for k, v in inner.items())
    if kind == "L":
        return 3 + sum(1 + _value_size(v) for v in inner)
    return sum(len(str(member).encode()) for member in inner)  # SS, NS, BS


class Meter:
    """Counts DynamoDB calls, items and capacity units on one botocore client."""

    def __init__(self, dynamodb: Any) -> None:
        self.client = dynamodb
        self.calls: dict[str, int] = {}
        self.items_read = 0
        self.items_written = 0
        self.read_units = 0.0
        self.write_units = 0.0
        self._params: dict[str, Any] = {}
        self._counting = False
        dynamodb.meta.events.register("provide-client-params.dynamodb", self._remember)
        dynamodb.meta.events.register("after-call.dynamodb", self._count)

    @contextmanager
    def counting(self) -> Iterator[Meter]:
        """Count only the calls made inside this block."""
        self._counting = True
        try:
            yield self
        finally:
            self._counting = False

    def totals(self) -> dict[str, Any]:
        """What was counted, as plain numbers."""
        return {
            "requests": sum(self.calls.values()),
            "by_operation": dict(sorted(self.calls.items())),
            "items_read": self.items_read,
            "items_written": self.items_written,
            "read_units": self.read_units,
            "write_units": self.write_units,
        }

    def _remember(self, params: dict[str, Any], **_: Any) -> None:
        """Keep the request's parameters for the answer's hook."""
        self._params = params

    def _count(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        """Add one answered call (a failed conditional write still consumes its units)."""
        if not self._counting:
            return
        name = model.name
        self.calls[name] = self.calls.get(name, 0) + 1
        params = self._params
        if name == "Query" or name == "Scan":
            self._read(parsed.get("Items", []), params.get("ConsistentRead", False), per_item=False)
        elif name == "GetItem":
            self._read([parsed["Item"]] if "Item" in parsed else [], True, per_item=True)
        elif name == "BatchGetItem":
            found = [item for items in parsed.get("Responses", {}).values() for item in items]
            self._read(found, True, per_item=True)
        elif name in ("PutItem", "DeleteItem"):
            self._write([params.get("Item", params.get("Key", {}))], transactional=False)
        elif name == "UpdateItem":
            self._write([self._current(params)], transactional=False)
        elif name == "TransactWriteItems":
            puts = [next(iter(entry.values())) for entry in params["TransactItems"]]
            self._write([put.get("Item", put.get("Key", {})) for put in puts], transactional=True)
        elif name == "BatchWriteItem":
            writes = [w for ws in params["RequestItems"].values() for w in ws]
            items = [w.get("PutRequest", {}).get("Item", {}) for w in writes]
            self._write(items, transactional=False)

    def _read(self, items: list[dict[str, Any]], consistent: bool, per_item: bool) -> None:
        """Read units: per started 4 KB of the whole answer (Query) or of each item (Get)."""
        factor = 1.0 if consistent else 0.5
        sizes = [item_size(item) for item in items]
        if per_item:
            units = sum(max(1, math.ceil(size / (4 * KB))) for size in sizes)
        else:
            units = max(1, math.ceil(sum(sizes) / (4 * KB)))
        self.read_units += units * factor
        self.items_read += len(items)

    def _write(self, items: list[dict[str, Any]], transactional: bool) -> None:
        """Write units: per started KB of each item, doubled inside a transaction."""
        factor = 2 if transactional else 1
        self.write_units += factor * sum(max(1, math.ceil(item_size(i) / KB)) for i in items)
        self.items_written += len(items)

    def _current(self, params: dict[str, Any]) -> dict[str, Any]:
        """The updated item as stored now (read on a separate, unmetered client)."""
        import boto3

        answer = boto3.client("dynamodb").get_item(
            TableName=params["TableName"], Key=params["Key"], ConsistentRead=True
        )
        return answer.get("Item", params["Key"])


def measure(histories: tuple[int, ...] = HISTORIES) -> dict[str, Any]:
    """Cost of correlating one risk event after each history size, and the ratio last/first."""
    use_test_environment()
    rows = [_one(size) for size in histories]
    first, last = rows[0], rows[-1]
    ratio_requests = last["requests"] / first["requests"]
    ratio_units = _units(last) / _units(first)
    return {
        "rows": rows,
        "ratio_requests": round(ratio_requests, 2),
        "ratio_units": round(ratio_units, 2),
        "goal": GOAL,
        "met": max(ratio_requests, ratio_units) <= GOAL,
    }


def _units(row: dict[str, Any]) -> float:
    """A cost in one figure: read units priced at a fifth of a write unit, as on-demand."""
    return row["write_units"] + row["read_units"] / 5


def _one(history: int) -> dict[str, Any]:
    """Build `history` earlier risk events for one entity, then meter one more."""
    from devsecops.runtime import LocalAws
    from lambdas.shared.clients import client
    from lambdas.shared.settings import Settings
    from lambdas.shared.store import DynamoStore

    # A threshold no history reaches: the measured event's cost is counting, not alerting.
    settings = {"correlation": {"window_hours": 24, "threshold": 10**9}}
    now = datetime.now(UTC).replace(microsecond=0)
    with LocalAws(settings) as aws:
        store = DynamoStore.from_environment()
        retention = Settings.from_dict(settings).retention_days
        started = time.perf_counter()
        _seed(aws, store, history, now, retention)
        seeded = time.perf_counter() - started

        # Warm up: clients, the settings parameter and the handler's imports, on another entity.
        store.put_risk_event(_risk_event(-1, now, "bench/warm-up"), now, retention)
        aws.pump()

        meter = Meter(client("dynamodb"))
        store.put_risk_event(_risk_event(history, now), now, retention)
        with meter.counting(), _timing(aws) as spent:
            aws.pump()
        elapsed = sum(spent)
        aggregates = _aggregate_bytes(aws)

        # The same again for a risk event that also names a user: what a further entity adds.
        with_user = Meter(client("dynamodb"))
        store.put_risk_event(_risk_event(history + 1, now, user=USER), now, retention)
        with with_user.counting():
            aws.pump()

    return {
        "history": history,
        **meter.totals(),
        "with_user": with_user.totals(),
        "handler_ms": round(elapsed * 1000, 2),
        "aggregate_bytes": aggregates,
        "seed_seconds": round(seeded, 1),
        "seeded": "real path" if history <= REAL_PATH_LIMIT else "hourly items updated directly",
    }


@contextmanager
def _timing(aws: Any) -> Iterator[list[float]]:
    """Time the handler calls alone (reading moto's stream is the runtime's work, not Lambda's)."""
    spent: list[float] = []
    invoke = aws.invoke

    def timed(function: str, event: dict[str, Any]) -> Any:
        started = time.perf_counter()
        try:
            return invoke(function, event)
        finally:
            spent.append(time.perf_counter() - started)

    aws.invoke = timed
    try:
        yield spent
    finally:
        del aws.invoke


def _seed(aws: Any, store: Any, history: int, now: datetime, retention: int) -> None:
    """Earlier risk events: stored and correlated for real, or written into the hourly items."""
    events = [_risk_event(index, now - _offset(index, history)) for index in range(history)]
    if history <= REAL_PATH_LIMIT:
        for event in events:
            store.put_risk_event(event, now, retention)
        aws.pump()
        return
    _write_aggregates(events, now, retention)


def _offset(index: int, history: int) -> timedelta:
    """Spread a history evenly over the window's 24 hours, whatever its size."""
    hours = (index * 23) // max(1, history - 1)
    return timedelta(hours=hours, minutes=1 + index % 50, seconds=index % 60)


def _risk_event(
    index: int, moment: datetime, repository: str = ENTITY, user: str | None = None
) -> Any:
    """A realistic risk event for a repository, and for a user if one is given."""
    from lambdas.shared.risk import RiskEvent, iso_utc

    return RiskEvent(
        detection=DETECTIONS[index % len(DETECTIONS)],
        risk_object=repository,
        risk_object_type="repository",
        risk_score=27,
        message=f"Vulnerabilities found in packages used by GitHub repository {repository}",
        event_time=iso_utc(moment),
        source="bench",
        natural_key=f"alert-{index}",
        mitre_attack=("T1195.001",),
        evidence={"alert_number": index, "package": "lodash", "severity": "high"},
        user=user,
    )


def _write_aggregates(events: list[Any], now: datetime, retention: int) -> None:
    """Build the hourly items as correlation writes them, one update per hour and detection.

    The first event of each hour and detection goes through correlation's own update expression
    (counts, scores and evidence); the others are added to its counts and scores in one ADD, which
    is what that update would have added one event at a time (and 100 times faster here).
    """
    from lambdas.correlate import hours
    from lambdas.shared.clients import client
    from lambdas.shared.risk import entity_key

    entity = entity_key("repository", ENTITY)
    expires = int((now + timedelta(days=retention)).timestamp())
    table = os.environ["STATE_TABLE_NAME"]
    groups: dict[tuple[int, str], list[Any]] = {}
    for event in events:
        groups.setdefault((hours.hour_of(event.event_time), event.detection), []).append(event)

    for (hour, detection), members in groups.items():
        update = hours.hour_update(entity, members[0], hour, expires)
        client("dynamodb").update_item(TableName=table, **update)
        if len(members) > 1:
            client("dynamodb").update_item(
                TableName=table,
                Key=update["Key"],
                UpdateExpression="ADD #n :count, #s :score",
                ExpressionAttributeNames={"#n": f"n:{detection}", "#s": f"s:{detection}"},
                ExpressionAttributeValues={
                    ":count": {"N": str(len(members) - 1)},
                    ":score": {"N": str(sum(event.risk_score for event in members[1:]))},
                },
            )


def _aggregate_bytes(aws: Any) -> int:
    """Total size of the entity's hourly items after the measured event."""
    from lambdas.shared.clients import client

    answer = client("dynamodb").query(
        TableName=aws.names["STATE_TABLE_NAME"],
        KeyConditionExpression="pk = :pk AND begins_with(sk, :hour)",
        ExpressionAttributeValues={
            ":pk": {"S": f"corr#repository#{ENTITY}"},
            ":hour": {"S": "h#"},
        },
    )
    return sum(item_size(item) for item in answer["Items"])


def report(result: dict[str, Any]) -> None:
    """Print one line per history size and the ratios."""
    for row in result["rows"]:
        print(
            f"history {row['history']:>6}: {row['requests']} requests {row['by_operation']},"
            f" {row['items_read']} items read, {row['items_written']} written,"
            f" {row['read_units']} RRU, {row['write_units']} WRU,"
            f" aggregates {row['aggregate_bytes']} B, handler {row['handler_ms']} ms"
            f" (seeded by {row['seeded']} in {row['seed_seconds']} s)"
        )
    print(
        f"ratio {result['rows'][-1]['history']} vs {result['rows'][0]['history']}:"
        f" requests {result['ratio_requests']}, capacity units {result['ratio_units']}"
        f" (goal <= {result['goal']})"
    )


if __name__ == "__main__":
    report(measure())
