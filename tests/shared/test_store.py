"""The risk table write path: a risk event is stored once, updates only what changed."""

from __future__ import annotations

from datetime import UTC, datetime

from devsecops.runtime import LocalAws
from lambdas.shared.risk import RiskEvent
from lambdas.shared.store import DynamoStore, MemoryStore

NOW = datetime(2026, 12, 3, tzinfo=UTC)


def event(count: int = 1, user: str | None = None) -> RiskEvent:
    """The same risk event id with a varying count and user."""
    return RiskEvent(
        detection="d",
        risk_object="acme/app",
        risk_object_type="repository",
        risk_score=21,
        message="m",
        event_time="2026-12-03T10:00:00Z",
        source="s",
        natural_key="k",
        count=count,
        user=user,
    )


def test_dynamo_store_inserts_once_then_updates_only_on_change() -> None:
    with LocalAws() as aws:
        store = DynamoStore.from_environment()

        results = [
            store.put_risk_event(event(), NOW, 90),
            store.put_risk_event(event(), NOW, 90),
            store.put_risk_event(event(count=3), NOW, 90),
            store.put_risk_event(event(count=3, user="bob"), NOW, 90),
            store.put_risk_event(event(count=3), NOW, 90),
        ]

        assert results == ["new", "unchanged", "updated", "updated", "unchanged"]
        (item,) = aws.risk_events()
        assert (item["count"], item["user"]) == (3, "bob")


def test_memory_store_has_the_same_semantics() -> None:
    store = MemoryStore()

    results = [
        store.put_risk_event(event(), NOW, 90),
        store.put_risk_event(event(), NOW, 90),
        store.put_risk_event(event(count=3, user="bob"), NOW, 90),
        store.put_risk_event(event(count=3), NOW, 90),
    ]

    assert results == ["new", "unchanged", "updated", "unchanged"]
    assert store.risk_events[event().id].user == "bob"


def test_state_items_are_written_read_and_deleted() -> None:
    with LocalAws():
        store = DynamoStore.from_environment()

        store.save_state({"a": {"x": 1}, "b": {"y": "z"}}, expires_at=5)
        assert store.load_state(["a", "b", "c"]) == {
            "a": {"x": 1, "expires_at": 5},
            "b": {"y": "z", "expires_at": 5},
        }

        store.save_state({"a": None}, expires_at=5)
        assert set(store.load_state(["a", "b"])) == {"b"}
