"""An accepted delivery is never lost: retried, else parked on the dead-letter queue, else a 500."""

from __future__ import annotations

import os

import pytest

from devsecops.runtime import LocalAws
from devsecops.sources.github import redrive
from lambdas.shared.store import DynamoStore
from tests.github.payloads import pull_request
from tests.webhooks.conftest import deliver, parked, status


class FlakyStore:
    """Makes the first `failures` risk-event writes fail, like a throttled table."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.original = DynamoStore.put_risk_event

    def put_risk_event(self, store: DynamoStore, *args: object) -> object:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("table unavailable")
        return self.original(store, *args)


def break_store(monkeypatch: pytest.MonkeyPatch, failures: int) -> FlakyStore:
    """Make the next `failures` writes to the risk table fail."""
    flaky = FlakyStore(failures)
    monkeypatch.setattr(
        DynamoStore, "put_risk_event", lambda store, *args: flaky.put_risk_event(store, *args)
    )
    return flaky


def test_a_write_that_fails_once_is_retried_and_stored(
    aws: LocalAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    break_store(monkeypatch, failures=1)

    assert status(deliver(aws, "pull_request", pull_request())) == (202, "accepted")
    assert len(aws.risk_events()) == 1
    assert parked() == []


def test_a_delivery_that_cannot_be_stored_is_parked_without_its_signature_and_accepted(
    aws: LocalAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    break_store(monkeypatch, failures=99)

    answer = deliver(aws, "pull_request", pull_request(), delivery="guid-parked")

    assert status(answer) == (202, "accepted")
    [message] = parked()
    assert message["event"] == "pull_request"
    assert message["delivery"] == "guid-parked"
    assert message["payload"] == pull_request()
    assert "sha256=" not in str(message)


def test_when_parking_fails_too_the_caller_sees_a_500(
    aws: LocalAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    break_store(monkeypatch, failures=99)
    monkeypatch.setenv("WEBHOOK_DLQ_URL", os.environ["WEBHOOK_DLQ_URL"] + "-missing")

    assert status(deliver(aws, "pull_request", pull_request())) == (500, "error")


def test_a_parked_delivery_is_stored_by_redrive_and_leaves_the_queue(
    aws: LocalAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a delivery parked while the table was unavailable
    table = break_store(monkeypatch, failures=99)
    deliver(aws, "pull_request", pull_request())
    table.failures = 0

    # WHEN the queue is redriven with the table back
    done, failed = redrive(os.environ["WEBHOOK_DLQ_URL"])

    # THEN the risk event is stored and the queue is empty
    assert (done, failed) == (1, 0)
    assert [item["natural_key"] for item in aws.risk_events()] == ["acme-corp/payments#pull/42"]
    assert parked() == []
