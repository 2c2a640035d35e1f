"""The risk table write path: a risk event is stored once, updates only what changed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from devsecops.runtime import LocalAws
from lambdas.detections.base import NOTHING, Context, Detection, Outcome, Rule
from lambdas.shared.exceptions import StateConflict
from lambdas.shared.pipeline import process
from lambdas.shared.risk import RiskEvent
from lambdas.shared.settings import Settings
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


def test_a_state_write_based_on_a_stale_read_is_refused() -> None:
    with LocalAws():
        first, second = DynamoStore.from_environment(), DynamoStore.from_environment()
        first.load_state(["k"])
        second.load_state(["k"])

        first.save_state({"k": {"n": 1}}, expires_at=5)

        with pytest.raises(StateConflict):
            second.save_state({"k": {"n": 2}}, expires_at=5)
        assert DynamoStore.from_environment().load_state(["k"])["k"]["n"] == 1


def test_several_state_items_are_written_together_or_not_at_all() -> None:
    with LocalAws():
        stale = DynamoStore.from_environment()
        stale.load_state(["a", "b"])
        DynamoStore.from_environment().save_state({"b": {"n": 9}}, expires_at=5)

        with pytest.raises(StateConflict):
            stale.save_state({"a": {"n": 1}, "b": {"n": 1}}, expires_at=5)

        assert DynamoStore.from_environment().load_state(["a", "b"]) == {
            "b": {"n": 9, "expires_at": 5}
        }


COUNTER = Detection("counter", "Counter", "test", 10, (), "test", "counts records in state")


def count_records(record: str, context: Context) -> Outcome:
    """A stateful rule: adds one to a counter on every record."""
    seen = int(context.state.get("counter", {}).get("n", 0))
    return Outcome(state={"counter": {"n": seen + 1}}) if record else NOTHING


def test_the_pipeline_re_evaluates_a_record_when_its_state_changed_underneath() -> None:
    with LocalAws():
        store = DynamoStore.from_environment()
        original_load = store.load_state
        loads = []

        def racing_load(keys: list[str]) -> dict:
            """Load, then let another invocation write first (only the first time)."""
            state = original_load(keys)
            if not loads:
                DynamoStore.from_environment().save_state({"counter": {"n": 41}}, 5)
            loads.append(keys)
            return state

        store.load_state = racing_load  # type: ignore[method-assign]
        rule = Rule(COUNTER, count_records)

        process([rule], "x", settings=Settings(), now=NOW, store=store, state_keys=["counter"])

        assert len(loads) == 2
        assert DynamoStore.from_environment().load_state(["counter"])["counter"]["n"] == 42
