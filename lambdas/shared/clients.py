"""AWS clients, one per service per process, created on first use rather than at import."""

from __future__ import annotations

import functools
from typing import Any

import boto3


@functools.cache
def client(service: str) -> Any:
    """The process's client for an AWS service (region and credentials from the environment)."""
    return boto3.client(service)


def reset() -> None:
    """Forget every client, so the next call picks up a changed environment (tests, local runs)."""
    client.cache_clear()
