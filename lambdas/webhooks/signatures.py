"""HMAC signatures of webhook bodies, and the secrets that sign them (rotation-aware).

A provider signs the raw body bytes with a shared secret. Two secrets may be live at once while one
is rotated, so every check tries each live secret. Secrets come from Secrets Manager in AWS (cached
for five minutes by Powertools) and from an environment variable locally.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterable
from typing import NamedTuple

from lambdas.shared.exceptions import DetectorError

SECRET_MAX_AGE_SECONDS = 300
_SHA256_HEX_LENGTH = 64


class SecretUnavailableError(DetectorError):
    """No webhook secret could be read; the message names the provider, never a value."""


class SecretSource(NamedTuple):
    """Where one provider's secrets live: a Secrets Manager ARN variable, else a plain one."""

    provider: str
    arn_variable: str
    local_variable: str

    def values(self) -> tuple[str, ...]:
        """The live secrets, newest first; raise SecretUnavailableError when none is set."""
        arn = os.environ.get(self.arn_variable)
        raw = _fetch(arn) if arn else os.environ.get(self.local_variable, "")

        secrets = parse_secret(raw)
        if not secrets:
            raise SecretUnavailableError(f"{self.provider}: no webhook secret configured")
        return secrets


def parse_secret(raw: str) -> tuple[str, ...]:
    """Read a SecretString: a plain secret, or JSON `{"secrets": ["new", "old"]}` while rotating."""
    text = raw.strip()
    try:
        data = json.loads(text)
    except ValueError:
        data = None  # not JSON: a plain secret, whatever characters it holds

    if not isinstance(data, dict):
        return (text,) if text else ()
    # Anything but a list of strings is refused: iterating a string would yield 1-char secrets.
    listed = data.get("secrets")
    if not isinstance(listed, list):
        return ()
    return tuple(item for item in listed if isinstance(item, str) and item)


def sign(secret: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of the body (what GitHub puts after `sha256=`)."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def matches(candidates: Iterable[str], body: bytes, secrets: Iterable[str]) -> bool:
    """True when any candidate hex digest is the body's HMAC under any live secret."""
    wanted = [c.strip().lower() for c in candidates if len(c.strip()) == _SHA256_HEX_LENGTH]
    if not wanted:
        return False

    found = False
    for secret in secrets:
        expected = sign(secret, body)
        for candidate in wanted:
            # Compare every pair, so the answer's timing says nothing about which one matched.
            found |= hmac.compare_digest(expected, candidate)
    return found


def verify_prefixed(header: str | None, body: bytes, secrets: Iterable[str], scheme: str) -> bool:
    """Check a header of comma-separated `<scheme>=<hex>` signatures (any valid one passes)."""
    if not header:
        return False
    prefix = f"{scheme}="
    candidates = [
        part.strip()[len(prefix) :] for part in header.split(",") if part.strip().startswith(prefix)
    ]
    return matches(candidates, body, secrets)


def _fetch(arn: str) -> str:
    """Read a SecretString from Secrets Manager, cached per process for five minutes."""
    from aws_lambda_powertools.utilities.parameters import GetParameterError, get_secret

    try:
        value = get_secret(arn, max_age=SECRET_MAX_AGE_SECONDS)
    except GetParameterError as exc:
        raise SecretUnavailableError("webhook secret could not be read") from exc
    return value if isinstance(value, str) else value.decode()
