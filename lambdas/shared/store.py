"""Where risk events and detection state are kept: DynamoDB in AWS, memory for `replay`.

Writing a risk event is idempotent: the first write of an id inserts it; a later write of the same
id only updates its count and evidence, and only when they changed, so a redelivered webhook, a
retried batch or a replayed file never adds a second item (nor a second stream record).
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from lambdas.shared.clients import client
from lambdas.shared.exceptions import StateConflict
from lambdas.shared.risk import RiskEvent
from lambdas.shared.schema import RISK_PK, RISK_SK, STATE_PK, STATE_SK, TTL_ATTRIBUTE

PutResult = Literal["new", "updated", "unchanged"]
STATE_ITEM = "state"
VERSION = "version"

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def serialize(item: dict[str, Any]) -> dict[str, Any]:
    """Python values to DynamoDB attribute values."""
    return {key: _serializer.serialize(value) for key, value in item.items()}


def deserialize(item: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values to Python values."""
    return {key: _deserializer.deserialize(value) for key, value in item.items()}


def dynamodb_client() -> Any:
    """The process's DynamoDB client."""
    return client("dynamodb")


def expiry(now: datetime, days: int) -> int:
    """Epoch seconds `days` after `now`, for the tables' TTL attribute."""
    return int((now + timedelta(days=days)).timestamp())


class Store(Protocol):
    """What the pipeline needs from storage."""

    def put_risk_event(self, event: RiskEvent, now: datetime, retention_days: int) -> PutResult:
        """Store a risk event idempotently."""
        ...

    def load_state(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """Load the state items that exist among `keys`."""
        ...

    def save_state(self, updates: dict[str, dict[str, Any] | None], expires_at: int) -> None:
        """Write (or, for None, delete) state items."""
        ...


class DynamoStore:
    """The risk table and the state table."""

    def __init__(self, risk_table: str, state_table: str) -> None:
        self.risk_table = risk_table
        self.state_table = state_table
        # Version of each state item as last loaded (0: absent), for optimistic locking.
        self.versions: dict[str, int] = {}

    @classmethod
    def from_environment(cls) -> DynamoStore:
        """Table names from the function's environment."""
        return cls(os.environ["RISK_TABLE_NAME"], os.environ["STATE_TABLE_NAME"])

    def put_risk_event(self, event: RiskEvent, now: datetime, retention_days: int) -> PutResult:
        """Insert a new id; for a known id update count, evidence and user only if they changed."""
        client = dynamodb_client()
        errors = client.exceptions
        item = event.to_item(expiry(now, retention_days))
        try:
            client.put_item(
                TableName=self.risk_table,
                Item=serialize(item),
                ConditionExpression="attribute_not_exists(#sk)",
                ExpressionAttributeNames={"#sk": RISK_SK},
            )
            return "new"
        except errors.ConditionalCheckFailedException:
            pass

        try:
            client.update_item(TableName=self.risk_table, **_update_request(item, event))
            return "updated"
        except errors.ConditionalCheckFailedException:
            return "unchanged"

    def load_state(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """Batch-read state items, remembering each one's version for `save_state`."""
        found: dict[str, dict[str, Any]] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 100):  # BatchGetItem takes at most 100 keys
            request = {
                self.state_table: {
                    "Keys": [_state_key(key) for key in unique[start : start + 100]],
                    "ConsistentRead": True,
                }
            }
            while request:
                answer = dynamodb_client().batch_get_item(RequestItems=request)
                for raw in answer["Responses"].get(self.state_table, []):
                    item = deserialize(raw)
                    key = item.pop(STATE_PK)
                    self.versions[key] = int(item.pop(VERSION, 0))
                    found[key] = _strip_keys(item)
                request = answer.get("UnprocessedKeys") or {}

        for key in unique:
            self.versions.setdefault(key, 0)
        return found

    def save_state(self, updates: dict[str, dict[str, Any] | None], expires_at: int) -> None:
        """Write every update at once, only if no item changed since it was loaded.

        Raises StateConflict when another invocation wrote first: the caller loads the state
        again and re-evaluates. Keys that were not loaded are written without that check.
        """
        actions = [self._action(key, value, expires_at) for key, value in updates.items()]
        client = dynamodb_client()
        try:
            if len(actions) == 1:  # one item needs no transaction (which costs double)
                ((kind, request),) = actions[0].items()
                call = client.put_item if kind == "Put" else client.delete_item
                call(**request)
            else:
                for start in range(0, len(actions), 100):  # a transaction holds 100 items
                    client.transact_write_items(TransactItems=actions[start : start + 100])
        except (
            client.exceptions.ConditionalCheckFailedException,
            client.exceptions.TransactionCanceledException,
        ) as exc:
            raise StateConflict(f"state changed concurrently: {sorted(updates)}") from exc

        for key in updates:
            self.versions[key] = self.versions.get(key, 0) + 1

    def _action(self, key: str, value: dict[str, Any] | None, expires_at: int) -> dict[str, Any]:
        """One conditional Put or Delete of a state item, guarded by its loaded version."""
        item_key = {STATE_PK: key, STATE_SK: STATE_ITEM}
        version = self.versions.get(key)
        guard: dict[str, Any] = {}
        if version == 0:
            guard = {
                "ConditionExpression": "attribute_not_exists(#pk)",
                "ExpressionAttributeNames": {"#pk": STATE_PK},
            }
        elif version:
            guard = {
                "ConditionExpression": "#version = :version",
                "ExpressionAttributeNames": {"#version": VERSION},
                "ExpressionAttributeValues": serialize({":version": version}),
            }

        if value is None:
            return {"Delete": {"TableName": self.state_table, "Key": serialize(item_key), **guard}}
        item = {
            **value,
            **item_key,
            VERSION: (version or 0) + 1,
            TTL_ATTRIBUTE: value.get(TTL_ATTRIBUTE, expires_at),
        }
        return {"Put": {"TableName": self.state_table, "Item": serialize(item), **guard}}


class MemoryStore:
    """An in-process store with the same semantics, for `devsecops replay` without `--alerts`."""

    def __init__(self) -> None:
        self.risk_events: dict[str, RiskEvent] = {}
        self.state: dict[str, dict[str, Any]] = {}

    def put_risk_event(self, event: RiskEvent, now: datetime, retention_days: int) -> PutResult:
        """Insert a new id; for a known id keep the new count, evidence and user if they changed."""
        known = self.risk_events.get(event.id)
        if known is None:
            self.risk_events[event.id] = event
            return "new"
        user = event.user or known.user
        if (known.count, known.evidence, known.user) == (event.count, event.evidence, user):
            return "unchanged"
        self.risk_events[event.id] = replace(event, user=user)
        return "updated"

    def load_state(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """Return the known items among `keys`."""
        return {key: dict(self.state[key]) for key in keys if key in self.state}

    def save_state(self, updates: dict[str, dict[str, Any] | None], expires_at: int) -> None:
        """Apply the updates."""
        for key, value in updates.items():
            if value is None:
                self.state.pop(key, None)
            else:
                self.state[key] = dict(value)


def _update_request(item: dict[str, Any], event: RiskEvent) -> dict[str, Any]:
    """UpdateItem arguments that refresh count, evidence and message; attach a user once known.

    The condition makes an identical write a no-op, so no stream record (and no correlation work)
    follows a redelivery. A user learned later (the principal who pushed an image whose findings
    arrived first) is attached to the existing risk event; correlation then counts it for that user.
    """
    changes = ["#count = :count", "evidence = :evidence", "message = :message", "last_seen = :seen"]
    conditions = ["#count <> :count", "evidence <> :evidence"]
    names = {"#count": "count"}
    values: dict[str, Any] = {
        ":count": event.count,
        ":evidence": item.get("evidence", {}),
        ":message": event.message,
        ":seen": event.event_time,
    }
    if event.user:
        changes.append("#user = :user")
        conditions.append("attribute_not_exists(#user) OR #user <> :user")
        names["#user"] = "user"
        values[":user"] = event.user

    return {
        "Key": serialize({RISK_PK: item[RISK_PK], RISK_SK: item[RISK_SK]}),
        "UpdateExpression": "SET " + ", ".join(changes),
        "ConditionExpression": " OR ".join(conditions),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": serialize(values),
    }


def _state_key(key: str) -> dict[str, Any]:
    """The serialized primary key of a state item."""
    return serialize({STATE_PK: key, STATE_SK: STATE_ITEM})


def _strip_keys(item: dict[str, Any]) -> dict[str, Any]:
    """Drop the sort key from a state item, leaving what the detection wrote."""
    item.pop(STATE_SK, None)
    return item
