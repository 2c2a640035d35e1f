"""An entity's hourly items in the state table, how one risk event is added, and their window.

Each item holds one hour of event time for one entity: a count and a score per detection (as
`n:<detection>` and `s:<detection>`, so DynamoDB's ADD can update them atomically), the first and
last event time, and the top risk event as evidence.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from lambdas.shared.risk import RiskEvent, from_dynamo, parse_time
from lambdas.shared.schema import STATE_PK, STATE_SK, TTL_ATTRIBUTE
from lambdas.shared.store import serialize

HOUR = 3600
TOP_EVIDENCE = 5
MESSAGE_LIMIT = 160


class Window(NamedTuple):
    """An entity's risk inside one window: totals by detection and the top risk events."""

    start_hour: int
    end_hour: int
    score: int
    detections: dict[str, dict[str, int]]
    first: str | None
    last: str | None
    top: list[dict[str, Any]]


class Bucket(NamedTuple):
    """One entity's risk in one hour of event time."""

    hour: int
    detections: dict[str, list[int]]  # detection -> [count, score]
    first: str | None
    last: str | None
    top: dict[str, Any] | None

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Bucket:
        """Read an hourly item of the state table."""
        detections: dict[str, list[int]] = {}
        for name, value in item.items():
            kind, _, detection = name.partition(":")
            if detection and kind in ("n", "s"):
                totals = detections.setdefault(detection, [0, 0])
                totals[0 if kind == "n" else 1] = int(value)
        top = from_dynamo(item["top"]) if "top" in item else None
        hour = int(str(item[STATE_SK]).split("#", 1)[1])
        return cls(hour, detections, item.get("first"), item.get("last"), top)


def hour_update(entity: str, event: RiskEvent, hour: int, expires: int) -> dict[str, Any]:
    """UpdateItem arguments adding one risk event to its hourly item, without reading it first.

    Counts and scores use ADD, which is atomic. The evidence needs no read either: the hour's
    first risk event sets `first` and the top evidence, and each one sets `last`, so both follow
    arrival order within the hour (an event arriving late can leave `last` a little early).
    """
    names = {
        "#n": f"n:{event.detection}",
        "#s": f"s:{event.detection}",
        "#first": "first",
        "#last": "last",
        "#top": "top",
    }
    values = {
        ":one": 1,
        ":score": event.risk_score,
        ":time": event.event_time,
        ":top": evidence(event),
        ":ttl": expires,
    }
    sets = (
        "#first = if_not_exists(#first, :time), #last = :time,"
        f" #top = if_not_exists(#top, :top), {TTL_ATTRIBUTE} = :ttl"
    )
    return {
        "Key": serialize({STATE_PK: entity_pk(entity), STATE_SK: hour_key(hour)}),
        "UpdateExpression": f"ADD #n :one, #s :score SET {sets}",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": serialize(values),
    }


def window_of(hours: dict[int, Bucket], hour: int, length: int) -> Window:
    """Sum the hourly buckets of the `length` hours ending at `hour`."""
    start, end = hour - length + 1, hour + 1
    inside = [bucket for bucket in hours.values() if start <= bucket.hour < end]

    detections: dict[str, dict[str, int]] = {}
    for bucket in inside:
        for name, (count, score) in bucket.detections.items():
            merged = detections.setdefault(name, {"count": 0, "score": 0})
            merged["count"] += count
            merged["score"] += score

    tops = [bucket.top for bucket in inside if bucket.top]
    tops.sort(key=lambda entry: (-entry["score"], entry["event_time"]))
    return Window(
        start_hour=start,
        end_hour=end,
        score=sum(totals["score"] for totals in detections.values()),
        detections=detections,
        first=min((bucket.first for bucket in inside if bucket.first), default=None),
        last=max((bucket.last for bucket in inside if bucket.last), default=None),
        top=tops[:TOP_EVIDENCE],
    )


def evidence(event: RiskEvent) -> dict[str, Any]:
    """The short form of a risk event an alert lists as top evidence."""
    return {
        "id": event.id,
        "detection": event.detection,
        "score": event.risk_score,
        "count": event.count,
        "message": event.message[:MESSAGE_LIMIT],
        "event_time": event.event_time,
    }


def hour_of(timestamp: str) -> int:
    """The epoch hour (hours since 1970) of an ISO 8601 timestamp."""
    return int(parse_time(timestamp).timestamp()) // HOUR


def hour_key(hour: int) -> str:
    """Sort key of an entity's hourly item; zero-padded so keys sort by time."""
    return f"h#{hour:010d}"


def entity_pk(entity: str) -> str:
    """State-table partition of an entity's correlation items."""
    return f"corr#{entity}"
