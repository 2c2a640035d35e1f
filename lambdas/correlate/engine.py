"""Correlation: sum each entity's risk over a sliding window of event time, alert once per window.

Each entity keeps one small item per hour of event time: a count and a score per detection, its
first and last event and its highest-scoring risk event. Correlating a risk event costs a bounded
amount of DynamoDB work whatever the entities' history:

1. one transaction adds the entities to the risk event's marker, on condition that it names none
   of them yet (so a retried or replayed record is never counted twice), and adds the score to
   each entity's hour with an atomic ADD (no read-modify-write, so concurrent shards never
   overwrite each other). One marker serves all the entities: a risk event naming a repository
   and a user costs three transactional writes, not four;
2. then, for each entity, one Query reads its hourly items inside the window (at most
   `window_hours` items of a few hundred bytes each). Reading after writing means that of two
   risk events correlated at the same moment, the later read sees both;
3. only when the window's total crosses the threshold, one conditional write claims the alert for
   this window, the alert is published, and the claim is marked sent. A crash between publishing
   and marking leaves the claim pending, so the retry publishes again: at least once, never lost.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from lambdas.correlate.hours import (
    HOUR,
    Bucket,
    Window,
    entity_pk,
    evidence,
    hour_key,
    hour_of,
    hour_update,
    window_of,
)
from lambdas.shared.risk import RiskEvent, iso_utc, severity_for
from lambdas.shared.schema import STATE_PK, STATE_SK, TTL_ATTRIBUTE
from lambdas.shared.settings import Correlation
from lambdas.shared.store import deserialize, dynamodb_client, serialize

MAX_ATTEMPTS = 5
MARKER_SK = "entities"


class ConcurrentUpdate(Exception):
    """Transactions on the same hour kept colliding; the record fails and the stream retries it."""


class Alert(NamedTuple):
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

    def correlate(
        self, event: RiskEvent, now: datetime, entities: list[str] | None = None
    ) -> list[Alert]:
        """Count `event` once for each entity it names (or those given); return its alerts."""
        named = event.entities() if entities is None else entities
        hour = hour_of(event.event_time)
        hours = self._count(named, event, hour, now)
        alerts = []
        for entity in named:
            window = window_of(hours[entity], hour, self.settings.window_hours)
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
                        STATE_PK: entity_pk(alert.entity),
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
            Key=serialize({STATE_PK: entity_pk(alert.entity), STATE_SK: "alert"}),
            UpdateExpression="SET #status = :sent",
            ConditionExpression="alert_id = :id",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=serialize({":sent": "sent", ":id": alert.id}),
        )

    def _crosses(self, window: Window) -> bool:
        """True when the window's total passes the threshold with enough distinct detections."""
        distinct = sum(1 for totals in window.detections.values() if totals["count"])
        return window.score > self.settings.threshold and distinct >= self.settings.min_detections

    def _count(
        self, entities: list[str], event: RiskEvent, hour: int, now: datetime
    ) -> dict[str, dict[int, Bucket]]:
        """Add `event` to each entity's hour once, then read every entity's hours in the window.

        Writing before reading is what makes concurrent risk events safe: of two correlations of
        one entity running at once, the later read sees both writes, so a threshold that only
        their sum crosses still raises its alert.
        """
        pending = list(entities)
        for _ in range(MAX_ATTEMPTS):
            result = self._write(pending, event, hour, now)
            if result == "conflict":
                continue  # another transaction touched one of the items at the same moment
            if result == "duplicate":
                pending = self._uncounted(pending, event)
                if pending:
                    continue  # named by a retry or replay with an entity not counted yet
            hours = {entity: self._load(entity, hour) for entity in entities}
            self._improve_top(entities, event, hours, hour)
            return hours
        raise ConcurrentUpdate(event.id)

    def _write(self, entities: list[str], event: RiskEvent, hour: int, now: datetime) -> str:
        """Mark the risk event counted for `entities` and add it to their hours, in one transaction.

        Returns "counted", "duplicate" (the marker names one of them already) or "conflict".
        """
        client = dynamodb_client()
        expires = self._expiry(now)
        updates = [
            {
                "Update": {
                    "TableName": self.table,
                    **hour_update(entity, event, hour, expires),
                }
            }
            for entity in entities
        ]
        try:
            client.transact_write_items(
                TransactItems=[{"Update": self._mark(entities, event, expires)}, *updates]
            )
            return "counted"
        except client.exceptions.TransactionCanceledException as exc:
            reasons = exc.response.get("CancellationReasons", [])
            duplicate = bool(reasons) and reasons[0].get("Code") == "ConditionalCheckFailed"
            return "duplicate" if duplicate else "conflict"

    def _mark(self, entities: list[str], event: RiskEvent, expires: int) -> dict[str, Any]:
        """UpdateItem arguments adding `entities` to the risk event's marker, if it has none."""
        names = {f":e{index}": entity for index, entity in enumerate(entities)}
        return {
            "TableName": self.table,
            "Key": serialize({STATE_PK: _marker_pk(event.id), STATE_SK: MARKER_SK}),
            "UpdateExpression": f"ADD #entities :entities SET {TTL_ATTRIBUTE} = :ttl",
            # contains() is false on a missing set, so a new marker passes.
            "ConditionExpression": " AND ".join(f"NOT contains(#entities, {key})" for key in names),
            "ExpressionAttributeNames": {"#entities": "entities"},
            "ExpressionAttributeValues": {
                **serialize(names),
                ":entities": {"SS": list(entities)},
                ":ttl": {"N": str(expires)},
            },
        }

    def _uncounted(self, entities: list[str], event: RiskEvent) -> list[str]:
        """The entities the risk event's marker does not name yet."""
        answer = dynamodb_client().get_item(
            TableName=self.table,
            Key=serialize({STATE_PK: _marker_pk(event.id), STATE_SK: MARKER_SK}),
            ConsistentRead=True,
        )
        counted = set(answer.get("Item", {}).get("entities", {}).get("SS", []))
        return [entity for entity in entities if entity not in counted]

    def _improve_top(
        self,
        entities: list[str],
        event: RiskEvent,
        hours: dict[str, dict[int, Bucket]],
        hour: int,
    ) -> None:
        """Make `event` its hour's top evidence where it outscores the one there (evidence only).

        An hour's first risk event becomes its top as it is counted; a higher-scoring one later
        in the hour replaces it here, with one conditional write, so the score is never at stake.
        """
        errors = dynamodb_client().exceptions
        for entity in entities:
            bucket = hours[entity].get(hour)
            if bucket is None or not bucket.top or bucket.top["score"] >= event.risk_score:
                continue
            try:
                dynamodb_client().update_item(
                    TableName=self.table,
                    Key=serialize({STATE_PK: entity_pk(entity), STATE_SK: hour_key(hour)}),
                    UpdateExpression="SET #top = :top",
                    ConditionExpression="#top.score < :score",
                    ExpressionAttributeNames={"#top": "top"},
                    ExpressionAttributeValues=serialize(
                        {":top": evidence(event), ":score": event.risk_score}
                    ),
                )
            except errors.ConditionalCheckFailedException:
                continue  # a higher one got there first
            hours[entity][hour] = bucket._replace(top=evidence(event))

    def _load(self, entity: str, hour: int) -> dict[int, Bucket]:
        """Read the entity's hourly items inside the window ending at `hour`."""
        first = hour - self.settings.window_hours + 1
        answer = dynamodb_client().query(
            TableName=self.table,
            KeyConditionExpression="#pk = :pk AND #sk BETWEEN :low AND :high",
            ExpressionAttributeNames={"#pk": STATE_PK, "#sk": STATE_SK},
            ExpressionAttributeValues=serialize(
                {":pk": entity_pk(entity), ":low": hour_key(first), ":high": hour_key(hour)}
            ),
            ConsistentRead=True,
        )
        buckets = [Bucket.from_item(deserialize(raw)) for raw in answer.get("Items", [])]
        return {bucket.hour: bucket for bucket in buckets}

    def _expiry(self, now: datetime) -> int:
        """TTL for correlation state: it outlives the risk events it summarises."""
        return int((now + timedelta(days=self.retention_days)).timestamp())


def _by_score(item: tuple[str, dict[str, int]]) -> tuple[int, str]:
    """Sort key: highest score first, then by name."""
    return (-item[1]["score"], item[0])


def _marker_pk(risk_event_id: str) -> str:
    """State-table partition of the marker naming the entities a risk event was counted for."""
    return f"counted#{risk_event_id}"


def _hour_iso(hour: int) -> str:
    """ISO 8601 UTC of the start of an epoch hour."""
    return iso_utc(datetime.fromtimestamp(hour * HOUR, tz=UTC))
