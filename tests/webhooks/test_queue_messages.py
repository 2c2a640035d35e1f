"""SQS messages reach the provider they name; unreadable ones are dropped, failing ones retried."""

from __future__ import annotations

import json
from typing import Any

import pytest

from devsecops.runtime import LocalAws
from lambdas.webhooks import github, handler


def sqs_event(*bodies: str) -> dict[str, Any]:
    """An SQS event source batch with these message bodies."""
    return {
        "Records": [
            {"messageId": f"m-{n}", "body": body, "eventSource": "aws:sqs"}
            for n, body in enumerate(bodies)
        ]
    }


def test_each_message_goes_to_its_provider_and_only_failures_are_retried(
    aws: LocalAws, monkeypatch: pytest.MonkeyPatch, counted: list[str]
) -> None:
    # GIVEN a provider that fails on one message
    seen: list[str] = []

    def consume(message: dict[str, Any], *_: Any) -> None:
        if message["check"] == "boom":
            raise RuntimeError("not yet")
        seen.append(message["check"])

    provider = github.PROVIDER._replace(on_queue_message=consume)
    monkeypatch.setitem(handler.PROVIDERS, "github", provider)

    # WHEN a batch arrives with a good, a failing and two unreadable messages
    answer = aws.invoke(
        "webhooks",
        sqs_event(
            json.dumps({"provider": "github", "check": "ok"}),
            json.dumps({"provider": "github", "check": "boom"}),
            "not json",
            json.dumps({"provider": "nobody"}),
        ),
    )

    # THEN only the failing one is reported for retry; the unreadable ones are counted
    assert seen == ["ok"]
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert counted.count("Webhooks.MalformedQueueMessages") == 2
