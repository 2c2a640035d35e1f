"""AWS clients, one per service per process, created on first use rather than at import."""

from __future__ import annotations

import functools
from typing import Any

import boto3
from botocore.config import Config

# Short timeouts and standard retries (with backoff) for every call: a hung request must fail fast
# enough for the caller to retry or park its input inside the function's own timeout.
_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"mode": "standard", "max_attempts": 3},
)


@functools.cache
def client(service: str) -> Any:
    """The process's client for an AWS service (region and credentials from the environment)."""
    return boto3.client(service, config=_CONFIG)


def reset() -> None:
    """Forget every client, so the next call picks up a changed environment (tests, local runs)."""
    client.cache_clear()
