"""Fixtures every test shares: an offline AWS environment, a fake Lambda context, sample events."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devsecops.runtime import OFFLINE_ENVIRONMENT

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"

# Set before any boto3 client exists: fake credentials, one region, moto-friendly endpoints.
os.environ.update(OFFLINE_ENVIRONMENT)
os.environ["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "20"

# After the environment: Powertools reads it when the logger and metrics are built.
from lambdas.shared.observability import logger, metrics  # noqa: E402


@dataclass
class FakeLambdaContext:
    """The attributes of a Lambda context that Powertools reads."""

    function_name: str = "test-function"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        """Plenty of time left."""
        return 30_000


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    """A fake Lambda context for calling handlers directly."""
    return FakeLambdaContext()


def load_event(relative: str) -> Any:
    """Load a sample Lambda event from events/ (the same files the demo and the docs use)."""
    return json.loads((EVENTS / relative).read_text())


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """Everything the functions' logger writes while the test runs."""
    buffer = io.StringIO()
    previous = logger.registered_handler.setStream(buffer)
    yield buffer
    logger.registered_handler.setStream(previous)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the metrics added while the test runs."""
    names: list[str] = []
    monkeypatch.setattr(metrics, "add_metric", lambda name, **_: names.append(name))
    return names
