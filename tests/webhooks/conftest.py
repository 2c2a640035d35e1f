"""Webhooks test fixtures: a local stack with a GitHub secret and the webhook dead-letter queue."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities import parameters

from devsecops.runtime import LocalAws
from devsecops.sources.github import signed_event
from lambdas.shared.clients import client
from lambdas.webhooks import handler

SECRET = "test-webhook-secret"


@pytest.fixture
def aws() -> Iterator[LocalAws]:
    """A fresh local stack whose GitHub webhook secret is SECRET, with the webhook DLQ."""
    parameters.clear_caches()
    with LocalAws({}, env={"GITHUB_WEBHOOK_SECRET": SECRET}) as local:
        url = client("sqs").create_queue(QueueName="webhook-dead-letters")["QueueUrl"]
        os.environ["WEBHOOK_DLQ_URL"] = url
        yield local
    os.environ.pop("WEBHOOK_DLQ_URL", None)


@pytest.fixture(autouse=True)
def no_retry_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the retries, drop the pauses between them."""
    monkeypatch.setattr(handler, "RETRY_DELAYS_SECONDS", (0.0, 0.0))


def deliver(aws: LocalAws, event: str, payload: Any, **options: Any) -> dict[str, Any]:
    """Sign a payload as GitHub would and hand it to the webhooks function."""
    return aws.invoke("webhooks", signed_event(event, payload, secret=SECRET, **options))


def status(answer: dict[str, Any]) -> tuple[int, str]:
    """The status code and the one-word status of an answer."""
    return answer["statusCode"], json.loads(answer["body"])["status"]


def parked() -> list[dict[str, Any]]:
    """The messages waiting on the webhook dead-letter queue."""
    answer = client("sqs").receive_message(
        QueueUrl=os.environ["WEBHOOK_DLQ_URL"], MaxNumberOfMessages=10
    )
    return [json.loads(message["Body"]) for message in answer.get("Messages", [])]
