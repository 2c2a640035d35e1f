"""Correlation: sum each entity's risk over a sliding window of event time, alert once per window.

Cost per risk event is bounded whatever an entity's history. For every entity a risk event names:

1. one Query reads at most two aggregate items (the window always spans at most two epochs, an
   epoch being one window length of hourly buckets);
2. one transaction writes a marker for the risk event id (so a retried or replayed record is
   never counted twice) together with the updated aggregate (optimistic locking on a version);
3. only when the window's total crosses the threshold, one conditional write claims the alert for
   this window, the alert is published, and the claim is marked sent. A crash between publishing
   and marking leaves the claim pending, so the retry publishes again: at least once, never lost.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from lambdas.shared.risk import RiskEvent, entity_key, iso_utc, parse_time, severity_for
from lambdas.shared.schema import STATE_PK, STATE_SK, TTL_ATTRIBUTE
from lambdas.shared.settings import Correlation
from lambdas.shared.store import deserialize, dynamodb_client, serialize

HOUR = 3600
TOP_EVIDENCE = 5
MESSAGE_LIMIT = 200
MAX_ATTEMPTS = 5


class ConcurrentUpdate(Exception):
    """The aggregate changed under us too many times in a row; the record will be retried."""


@dataclass
class Window:
    """An entity's risk inside one window: totals by detection and the top risk events."""

    start_hour: int
    end_hour: int
    score: int = 0
    detections: dict[str, dict[str, int]] = field(default_factory=dict)
    first: str | None = None
    last: str | None = None
    top: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Alert:
    """What the correlation publishes when an entity's risk crosses the threshold."""

    entity: str
    window: Window
    threshold: int

    @property
    def risk_object_type(self) -> str:
        """The entity's type: user, repository or host."""
        return self.entity.split("#", 1)[0]

    @property
    def risk_object(self) -> str:
        """The entity's name."""
        return self.entity.split("#", 1)[1]

    @property
    def id(self) -> str:
        """Alerts are identified by entity and window, so retries and replays never repeat one."""
        return f"{self.entity}@{self.window.start_hour * HOUR}"

    def to_dict(self) -> dict[str, Any]:
        """JSON form, as SQS subscribers and `devsecops replay --alerts` see it."""
        detections = [
            {"detection": name, "count": totals["count"], "score": totals["score"]}
            for name, totals in sorted(self.window.detections.items(), key=_by_score)
        ]
        return {
            "type": "alert",
            "id": self.id,
            "risk_object": self.risk_object,
            "risk_object_type": self.risk_object_type,
            "risk_score": self.window.score,
            "severity": severity_for(min(self.window.score, 100)),
            "threshold": self.threshold,
            "window": {
                "start": _hour_iso(self.window.start_hour),
                "end": _hour_iso(self.window.end_hour),
            },
            "detections": detections,
            "first_event": self.window.first,
            "last_event": self.window.last,
            "top_evidence": self.window.top,
        }


class Correlator:
    """Correlates risk events using the state table; publishes alerts through a callback."""

    def __init__(self, state_table: str, settings: Correlation, retention_days: int) -> None:
        self.table = state_table
        self.settings = settings
        self.retention_days = retention_days

    @classmethod
    def from_environment(cls, settings: Correlation, retention_days: int) -> Correlator:
        """Correlator over the state table named in the function's environment."""
        return cls(os.environ["STATE_TABLE_NAME"], settings, retention_days)

    def correlate(self, event: RiskEvent, now: datetime) -> list[Alert]:
        """Count `event` once for each entity it names; return the alerts it caused."""
        alerts = []
        for entity in event.entities():
            window = self._count(entity, event, now)
            if self._crosses(window):
                alerts.append(Alert(entity, window, self.settings.threshold))
        return alerts

    def claim(self, alert: Alert, now: datetime) -> bool:
        """Claim the alert's window for its entity; False if another alert already covers it."""
        errors = dynamodb_client().exceptions
        try:
            dynamodb_client().put_item(
                TableName=self.table,
                Item=serialize(
                    {
                        STATE_PK: _pk(alert.entity),
                        STATE_SK: "alert",
                        "alert_id": alert.id,
                        "status": "pending",
                        "window_start": alert.window.start_hour,
                        "window_end": alert.window.end_hour,
                        TTL_ATTRIBUTE: self._expiry(now),
                    }
                ),
                ConditionExpression=(
                    "attribute_not_exists(#pk) OR window_end <= :start OR window_start >= :end"
                    " OR (alert_id = :id AND #status = :pending)"
                ),
                ExpressionAttributeNames={"#pk": STATE_PK, "#status": "status"},
                ExpressionAttributeValues=serialize(
                    {
                        ":start": alert.window.start_hour,
                        ":end": alert.window.end_hour,
                        ":id": alert.id,
                        ":pending": "pending",
                    }
                ),
            )
            return True
        except errors.ConditionalCheckFailedException:
            return False

    def mark_sent(self, alert: Alert) -> None:
        """Record that the claimed alert was published."""
        dynamodb_client().update_item(
            TableName=self.table,
            Key=serialize({STATE_PK: _pk(alert.entity), STATE_SK: "alert"}),
            UpdateExpression="SET #status = :sent",
            ConditionExpression="alert_id = :id",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=serialize({":sent": "sent", ":id": alert.id}),
        )

    def _crosses(self, window: Window) -> bool:
        """True when the window's total passes the threshold with enough distinct detections."""
        distinct = sum(1 for totals in window.detections.values() if totals["count"])
        return window.score > self.settings.threshold and distinct >= self.settings.min_detections

    def _count(self, entity: str, event: RiskEvent, now: datetime) -> Window:
        """Add `event` to the entity's aggregate once; return the window ending at its hour."""
        hour = int(parse_time(event.event_time).timestamp()) // HOUR
        epoch = self._epoch(hour)
        for _ in range(MAX_ATTEMPTS):
            epochs = self._load_epochs(entity, hour)
            own = epochs.get(epoch, {"buckets": {}, "top": [], "version": 0})
            updated = {**copy.deepcopy(own), "version": own["version"] + 1}
            _add(updated, event, hour)

            result = self._write(entity, event, epoch, updated, now)
            if result == "conflict":
                continue
            if result == "counted":
                epochs[epoch] = updated
            return _window(epochs, hour, self.settings.window_hours)
        raise ConcurrentUpdate(entity)

    def _write(
        self, entity: str, event: RiskEvent, epoch: int, updated: dict[str, Any], now: datetime
    ) -> str:
        """Write the risk event's marker and the updated aggregate in one transaction.

        Returns "counted", "duplicate" (the marker exists: a retry or a replay) or "conflict"
        (another writer changed the aggregate first; read it again).
        """
        client = dynamodb_client()
        previous = updated["version"] - 1
        marker = {STATE_PK: _pk(entity), STATE_SK: f"counted#{event.id}"}
        aggregate = {
            STATE_PK: _pk(entity),
            STATE_SK: f"epoch#{epoch:010d}",
            "buckets": updated["buckets"],
            "top": updated["top"],
            "version": updated["version"],
        }
        fresh = "attribute_not_exists(#pk)"
        guard = {"ConditionExpression": fresh, "ExpressionAttributeNames": {"#pk": STATE_PK}}
        if previous:
            guard = {
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": serialize({":v": previous}),
            }
        try:
            client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            **self._put(marker, now),
                            "ConditionExpression": fresh,
                            "ExpressionAttributeNames": {"#pk": STATE_PK},
                        }
                    },
                    {"Put": {**self._put(aggregate, now), **guard}},
                ]
            )
            return "counted"
        except client.exceptions.TransactionCanceledException as exc:
            reasons = exc.response.get("CancellationReasons", [])
            duplicate = bool(reasons) and reasons[0].get("Code") == "ConditionalCheckFailed"
            return "duplicate" if duplicate else "conflict"

    def _put(self, item: dict[str, Any], now: datetime) -> dict[str, Any]:
        """A transaction Put of `item` into the state table, with its TTL."""
        return {
            "TableName": self.table,
            "Item": serialize({**item, TTL_ATTRIBUTE: self._expiry(now)}),
        }

    def _load_epochs(self, entity: str, hour: int) -> dict[int, dict[str, Any]]:
        """Read the aggregates of the epochs the window ending at `hour` can touch."""
        first = self._epoch(hour - self.settings.window_hours + 1)
        answer = dynamodb_client().query(
            TableName=self.table,
            KeyConditionExpression="#pk = :pk AND #sk BETWEEN :low AND :high",
            ExpressionAttributeNames={"#pk": STATE_PK, "#sk": STATE_SK},
            ExpressionAttributeValues=serialize(
                {
                    ":pk": _pk(entity),
                    ":low": f"epoch#{first:010d}",
                    ":high": f"epoch#{self._epoch(hour):010d}",
                }
            ),
            ConsistentRead=True,
        )
        epochs = {}
        for raw in answer.get("Items", []):
            item = deserialize(raw)
            epoch = int(item[STATE_SK].split("#", 1)[1])
            epochs[epoch] = {
                "buckets": _plain(item.get("buckets", {})),
                "top": _plain(item.get("top", [])),
                "version": int(item["version"]),
            }
        return epochs

    def _epoch(self, hour: int) -> int:
        """The epoch (a run of `window_hours` hourly buckets) holding an hour."""
        return hour // self.settings.window_hours

    def _expiry(self, now: datetime) -> int:
        """TTL for correlation state: it outlives the risk events it summarises."""
        return int((now + timedelta(days=self.retention_days)).timestamp())


def _add(aggregate: dict[str, Any], event: RiskEvent, hour: int) -> None:
    """Add one risk event to its hourly bucket, and to the epoch's top evidence.

    A bucket keeps only `[count, score]` per detection and its first and last event time, so an
    epoch item stays a few kilobytes (its write cost) however many risk events it sums.
    """
    bucket = aggregate["buckets"].setdefault(str(hour), {"detections": {}})
    totals = bucket["detections"].setdefault(event.detection, [0, 0])
    totals[0] += 1
    totals[1] += event.risk_score
    bucket["first"] = min(bucket.get("first") or event.event_time, event.event_time)
    bucket["last"] = max(bucket.get("last") or event.event_time, event.event_time)
    aggregate["top"] = _top(aggregate["top"] + [_evidence(event)])


def _window(epochs: dict[int, dict[str, Any]], hour: int, length: int) -> Window:
    """Sum the buckets of the `length` hours ending at `hour`."""
    window = Window(start_hour=hour - length + 1, end_hour=hour + 1)
    for aggregate in epochs.values():
        for key, bucket in aggregate["buckets"].items():
            if window.start_hour <= int(key) < window.end_hour:
                _merge(window, bucket)
        inside = [e for e in aggregate["top"] if _within(window, e["event_time"])]
        window.top = _top(window.top + inside)
    return window


def _merge(window: Window, bucket: dict[str, Any]) -> None:
    """Fold one hourly bucket into a window."""
    for name, (count, score) in bucket["detections"].items():
        merged = window.detections.setdefault(name, {"count": 0, "score": 0})
        merged["count"] += int(count)
        merged["score"] += int(score)
        window.score += int(score)
    window.first = min(filter(None, (window.first, bucket.get("first"))))
    window.last = max(filter(None, (window.last, bucket.get("last"))))


def _evidence(event: RiskEvent) -> dict[str, Any]:
    """The short form of a risk event an alert lists as top evidence."""
    return {
        "id": event.id,
        "detection": event.detection,
        "score": event.risk_score,
        "count": event.count,
        "message": event.message[:MESSAGE_LIMIT],
        "event_time": event.event_time,
    }


def _top(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The highest-scoring distinct entries, earliest first among equals."""
    unique = {entry["id"]: entry for entry in entries}.values()
    ranked = sorted(unique, key=lambda e: (-int(e["score"]), e["event_time"]))
    return [_plain(entry) for entry in ranked[:TOP_EVIDENCE]]


def _by_score(item: tuple[str, dict[str, int]]) -> tuple[int, str]:
    """Sort key: highest score first, then by name."""
    return (-item[1]["score"], item[0])


def _within(window: Window, timestamp: str) -> bool:
    """True when a timestamp falls inside a window's hours."""
    hour = int(parse_time(timestamp).timestamp()) // HOUR
    return window.start_hour <= hour < window.end_hour


def _pk(entity: str) -> str:
    """State-table partition of an entity's correlation items."""
    return f"corr#{entity}"


def _hour_iso(hour: int) -> str:
    """ISO 8601 UTC of the start of an epoch hour."""
    return iso_utc(datetime.fromtimestamp(hour * HOUR, tz=UTC))


def _plain(value: Any) -> Any:
    """Turn DynamoDB Decimals back into ints inside nested maps and lists."""
    if isinstance(value, dict):
        return {key: _plain(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_plain(inner) for inner in value]
    if hasattr(value, "to_integral_value"):
        return int(value)
    return value


__all__ = ["Alert", "ConcurrentUpdate", "Correlator", "Window", "entity_key"]
