"""Correlation: risk adds up per entity inside a window, alerts once, and never counts twice."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from devsecops.runtime import LocalAws
from lambdas.correlate.engine import Alert, Correlator
from lambdas.shared import clients
from lambdas.shared.risk import RiskEvent
from lambdas.shared.settings import Settings
from lambdas.shared.store import DynamoStore

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def risk(detection: str, score: int, hour: int, key: str, **extra: object) -> RiskEvent:
    """A repository risk event at an hour of 2026-12-03 (hour may exceed 23: the next days)."""
    day, hour = divmod(hour, 24)
    return RiskEvent(
        detection=detection,
        risk_object=extra.pop("repository_name", "acme/app"),  # type: ignore[arg-type]
        risk_object_type="repository",
        risk_score=score,
        message=f"{detection} on acme/app",
        event_time=f"2026-12-{3 + day:02d}T{hour:02d}:00:00Z",
        source="test",
        natural_key=key,
        **extra,  # type: ignore[arg-type]
    )


def store_all(*events: RiskEvent) -> None:
    """Store risk events as a detection handler would."""
    store = DynamoStore.from_environment()
    for event in events:
        store.put_risk_event(event, NOW, 90)


@pytest.fixture
def aws():
    """The local stack with default settings."""
    with LocalAws() as local:
        yield local


def test_scores_over_the_threshold_in_one_window_raise_one_alert(aws: LocalAws) -> None:
    # GIVEN a high (70) and a medium (21) finding on one repository, an hour apart
    store_all(risk("high", 70, 10, "a"), risk("medium", 21, 11, "b"))

    # WHEN correlation reads the stream
    aws.pump()

    # THEN one alert names the repository, the total and both detections
    alerts = aws.alerts()
    assert len(alerts) == 1
    alert = alerts[0]
    assert (alert["risk_object_type"], alert["risk_object"]) == ("repository", "acme/app")
    assert alert["risk_score"] == 91
    assert {d["detection"]: d["count"] for d in alert["detections"]} == {"high": 1, "medium": 1}
    assert alert["first_event"] == "2026-12-03T10:00:00Z"
    assert alert["last_event"] == "2026-12-03T11:00:00Z"


def test_score_at_the_threshold_does_not_alert(aws: LocalAws) -> None:
    store_all(risk("a", 40, 1, "a"), risk("b", 40, 2, "b"))

    aws.pump()

    assert aws.alerts() == []


def test_scores_further_apart_than_the_window_do_not_add_up(aws: LocalAws) -> None:
    # 70 at 00:00 and 21 at 24:00 the next day: 24 hours apart, outside a 24 h window
    store_all(risk("high", 70, 0, "a"), risk("medium", 21, 24, "b"))

    aws.pump()

    assert aws.alerts() == []


def test_a_redelivered_risk_event_is_counted_once(aws: LocalAws) -> None:
    # GIVEN the same 50-point risk event stored twice (a redelivery), then a replayed stream
    store_all(risk("x", 50, 1, "same"), risk("x", 50, 1, "same"))
    aws.pump()
    aws._iterators.clear()  # read the whole stream again, as a replay or a retried batch would
    aws.pump()

    # THEN 50 is below the threshold: nothing was counted twice, and nothing failed
    assert aws.alerts() == []
    assert aws.dead_letters == []


def test_a_window_alerts_only_once_however_much_more_risk_arrives(aws: LocalAws) -> None:
    store_all(*(risk("high", 70, hour, f"k{hour}") for hour in range(5)))

    aws.pump()

    alerts = aws.alerts()
    assert len(alerts) == 1
    assert [entry["score"] for entry in alerts[0]["top_evidence"]] == [70, 70]


def test_a_new_window_after_the_last_alert_can_alert_again(aws: LocalAws) -> None:
    store_all(risk("high", 90, 1, "a"))
    aws.pump()
    store_all(risk("high", 90, 30, "b"))
    aws.pump()

    assert len(aws.alerts()) == 2


def test_user_named_by_a_repository_risk_event_accumulates_risk_too(aws: LocalAws) -> None:
    store_all(
        risk("high", 70, 1, "a", user="alice"),
        risk("push", 49, 2, "b", user="alice", repository_name="acme/other"),
    )
    aws.pump()

    alerted = {(a["risk_object_type"], a["risk_object"]) for a in aws.alerts()}
    assert alerted == {("user", "alice")}


def test_a_user_attached_later_is_counted_once_for_that_user(aws: LocalAws) -> None:
    # GIVEN findings stored before anyone knew who pushed the image
    store_all(risk("high", 70, 1, "a"))
    aws.pump()

    # WHEN the push arrives and the same risk event is written again with its pusher
    store_all(
        risk("high", 70, 1, "a", user="bob"),
        risk("push", 49, 1, "p", user="bob", repository_name="acme/other"),
    )
    aws.pump()

    # THEN bob is alerted on (70 + 49), and the repository was not counted again (70 only)
    alerted = {(a["risk_object_type"], a["risk_object"]): a["risk_score"] for a in aws.alerts()}
    assert alerted == {("user", "bob"): 119}


def test_suppressed_risk_events_are_stored_but_not_counted(aws: LocalAws) -> None:
    settings = Settings.from_dict(
        {
            "suppressions": [
                {
                    "detection": "high",
                    "entity": "acme/*",
                    "reason": "pentest",
                    "expires": "2099-01-01",
                }
            ]
        }
    )
    reason = settings.suppression_for("high", ["repository#acme/app"], NOW.date())
    store_all(risk("high", 90, 1, "a").with_suppression(reason))

    aws.pump()

    assert aws.alerts() == []
    assert aws.risk_events()[0]["suppressed"] == "pentest"


def test_min_detections_requires_distinct_detections() -> None:
    with LocalAws({"correlation": {"min_detections": 2}}) as aws:
        store_all(risk("high", 70, 1, "a"), risk("high", 70, 2, "b"))
        aws.pump()
        assert aws.alerts() == []

        store_all(risk("medium", 21, 3, "c"))
        aws.pump()
        assert len(aws.alerts()) == 1


def test_an_update_that_names_no_new_entity_costs_correlation_nothing(aws: LocalAws) -> None:
    # GIVEN a risk event already correlated
    store_all(risk("medium", 21, 1, "a", user="alice"))
    aws.pump()
    calls: list[str] = []
    dynamodb = clients.client("dynamodb")
    dynamodb.meta.events.register(
        "before-call.dynamodb", lambda model, **_: calls.append(model.name)
    )

    # WHEN only its count changes (a re-scan finding one more vulnerability)
    store_all(risk("medium", 21, 1, "a", user="alice", count=2))
    calls.clear()
    aws.pump()

    # THEN correlation read and wrote nothing, and the entity's total did not grow
    assert [name for name in calls if name in ("Query", "TransactWriteItems")] == []
    store_all(risk("other", 60, 1, "b"))
    aws.pump()
    assert [alert["risk_score"] for alert in aws.alerts()] == [21 + 60]


def test_an_event_replayed_with_one_more_entity_counts_only_for_that_entity(aws: LocalAws) -> None:
    # GIVEN a risk event already counted for its repository (60, under the threshold of 80)
    correlator = Correlator.from_environment(Settings().correlation, 90)
    first = risk("high", 60, 1, "a")
    assert correlator.correlate(first, NOW) == []

    # WHEN the same risk event arrives again naming the repository and a user
    again = risk("high", 60, 1, "a", user="carol")
    alerts = correlator.correlate(again, NOW)
    once_more = risk("medium", 21, 2, "b")

    # THEN the user got it, and the repository reaches 81 only with the next event, not before
    assert alerts == []
    assert [alert.risk_object for alert in correlator.correlate(once_more, NOW)] == ["acme/app"]
    assert correlator.correlate(risk("high", 30, 3, "c", user="carol"), NOW)[-1].window.score == 90


def test_two_risk_events_correlated_at_the_same_moment_still_cross_together(
    aws: LocalAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN two risk events for one repository that cross the threshold (80) only together
    first, second = risk("high", 50, 1, "a"), risk("medium", 40, 1, "b")
    correlator = Correlator.from_environment(Settings().correlation, 90)
    alerts: list[list[Alert]] = []
    pending = [second]

    # WHEN the second is correlated in full while the first is being correlated (another shard)
    write = Correlator._write

    def interleaved(self: Correlator, *args: object) -> str:
        if pending:
            alerts.append(correlator.correlate(pending.pop(), NOW))
        return write(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Correlator, "_write", interleaved)
    alerts.append(correlator.correlate(first, NOW))

    # THEN one of them saw both scores and raised the alert
    assert [alert.window.score for found in alerts for alert in found] == [90]
