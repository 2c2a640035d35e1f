"""The contract between the front door and each webhook provider (GitHub, CircleCI, ...).

The front door owns everything providers share: routing, body size, base64, signature checking
against rotating secrets, JSON parsing, answers, retries and parking undeliverable work. A provider
only says how its deliveries are signed, named and identified, and what to do with a verified one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, NamedTuple

from lambdas.shared.pipeline import Processed
from lambdas.shared.settings import Settings
from lambdas.shared.store import Store
from lambdas.webhooks.signatures import SecretSource

Headers = Mapping[str, str]


class Delivery(NamedTuple):
    """What the front door knows about one verified delivery besides its payload."""

    provider: str
    event: str
    action: str
    delivery_id: str


# handle(payload, delivery, settings, now, store): the processed records, or None when no
# detection reads this event and action (the front door then counts it as unhandled).
HandleFunction = Callable[
    [dict[str, Any], Delivery, Settings, datetime, Store], list[Processed] | None
]


class Provider(NamedTuple):
    """One webhook provider, served at `POST /webhooks/<name>`."""

    name: str
    # Lower-case header carrying the signature(s), and how to check it against the live secrets.
    signature_header: str
    verify: Callable[[str | None, bytes, tuple[str, ...]], bool]
    secrets: SecretSource
    # (event, action) of a delivery, from its headers and payload; "" when it has no action.
    event_type: Callable[[Headers, dict[str, Any]], tuple[str, str]]
    # The provider's own id of a delivery (the same on a redelivery).
    delivery_id: Callable[[Headers, dict[str, Any]], str]
    handle: HandleFunction
    # Events answered 200 and not processed further (GitHub's `ping` on hook creation).
    ping_events: frozenset[str] = frozenset()
    # Optional consumer of this provider's SQS messages (a body naming `"provider": <name>`).
    on_queue_message: Callable[[dict[str, Any], Settings, datetime, Store], None] | None = None
