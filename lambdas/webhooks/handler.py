"""Webhooks function: verify a provider's delivery, run its detections, never lose an accepted one.

`POST /webhooks/<provider>` from the HTTP API (payload format 2.0). The checks run cheapest and
least trusting first: route, size, signature over the raw bytes, then JSON. A verified delivery is
processed synchronously with bounded retries; if storing still fails it is parked on the dead-letter
queue and still accepted, because GitHub does not retry a failed delivery by itself. Only when even
parking fails does the caller see a 500 (and can redeliver by hand).

The same function consumes SQS messages that name a provider (CircleCI's delayed workflow checks).
"""

from __future__ import annotations

import base64
import binascii
import importlib
import json
import os
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools.metrics import MetricUnit

from lambdas.shared.clients import client
from lambdas.shared.observability import logger, metrics
from lambdas.shared.pipeline import Processed
from lambdas.shared.settings import load_settings
from lambdas.shared.store import DynamoStore
from lambdas.webhooks.providers import Delivery, Provider
from lambdas.webhooks.signatures import SecretUnavailableError

# To add a provider, name the module holding its PROVIDER here: the route is /webhooks/<name>.
# A delivery is for one provider, so each module is imported on the first delivery it serves
# (about 7 ms) instead of every cold start importing all of them.
PROVIDER_MODULES = {
    "github": "lambdas.webhooks.github",
    "circleci": "lambdas.webhooks.circleci",
}
# The providers imported so far, by name.
PROVIDERS: dict[str, Provider] = {}

# GitHub caps payloads at 25 MB and API Gateway at 10 MB, but the events the detections read are
# tens of KB (a pull request body is at most 65,536 characters). 1 MiB keeps large unwanted
# payloads (pushes with huge commit lists) from costing memory, HMAC and JSON time.
MAX_BODY_BYTES = 1024 * 1024
# Pauses between attempts at a verified delivery; the store is idempotent, so a retry is safe.
RETRY_DELAYS_SECONDS = (0.2, 0.8)
# Stop retrying and park the delivery when less than this is left of the invocation.
RESERVE_MILLIS = 3_000
_ROUTE = re.compile(r"^/webhooks/([a-z0-9-]+)/?$")
_METRIC_PART = re.compile(r"[^A-Za-z0-9_-]")


class Rejected(Exception):
    """A request the front door answers without processing; the reason is a fixed word."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer an HTTP API request, or process a batch of SQS messages."""
    if _is_queue_batch(event):
        return consume(event, context)

    remaining: Callable[[], int] = context.get_remaining_time_in_millis
    return receive(event, remaining)


def receive(event: Mapping[str, Any], remaining: Callable[[], int]) -> dict[str, Any]:
    """Check, verify and process one HTTP API request; always answer with a small JSON body."""
    provider_name = "unknown"
    try:
        provider = _route(event)
        provider_name = provider.name
        headers = _headers(event)
        body = _body(event)
        _verify(provider, headers, body)
        payload = _payload(body, headers)
    except Rejected as rejected:
        _count(f"Webhooks.{provider_name}.Rejected.{rejected.reason}")
        logger.warning(
            "webhook rejected", extra={"provider": provider_name, "reason": rejected.reason}
        )
        return answer(rejected.status, rejected.reason)

    event_name, action = provider.event_type(headers, payload)
    delivery = Delivery(provider.name, event_name, action, provider.delivery_id(headers, payload))
    if event_name in provider.ping_events:
        _count(f"Webhooks.{provider.name}.Ping")
        logger.info("webhook ping", extra=_describe(delivery))
        return answer(200, "pong")
    return _accept(provider, delivery, payload, remaining)


def redeliver(message: Mapping[str, Any]) -> list[Processed] | None:
    """Process a parked delivery again (see `devsecops redrive`); raise if it still fails."""
    provider = provider_named(str(message["provider"]))
    delivery = Delivery(
        provider.name, str(message["event"]), str(message["action"]), str(message["delivery"])
    )
    return _process(provider, delivery, dict(message["payload"]))


def consume(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Hand each SQS message to the provider it names; report only failed ones for retry."""
    # Imported here: only the check queue's invocations need it, and its import (asyncio and
    # every data class) would add about 25 ms to the cold start of each webhook delivery.
    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    return process_partial_response(
        event=dict(event),
        record_handler=_consume_one,
        # A batch whose every message failed is reported like any other: each returns to the queue.
        processor=BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False),
        context=context,
    )


def answer(status: int, word: str) -> dict[str, Any]:
    """An HTTP API response with a one-word JSON body that never echoes the request."""
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"status": word}),
    }


def _route(event: Mapping[str, Any]) -> Provider:
    """The provider a `POST /webhooks/<name>` request is for."""
    context = event.get("requestContext")
    method = context.get("http", {}).get("method") if isinstance(context, Mapping) else None
    found = _ROUTE.match(str(event.get("rawPath", "")))
    if not found or found.group(1) not in PROVIDERS.keys() | PROVIDER_MODULES.keys():
        raise Rejected(404, "not-found")
    if method != "POST":
        raise Rejected(405, "method-not-allowed")
    return provider_named(found.group(1))


def provider_named(name: str) -> Provider:
    """The provider served at /webhooks/<name>, imported on first use; KeyError if none is."""
    if name not in PROVIDERS:
        PROVIDERS[name] = importlib.import_module(PROVIDER_MODULES[name]).PROVIDER
    return PROVIDERS[name]


def _headers(event: Mapping[str, Any]) -> dict[str, str]:
    """Request headers with lower-case names (the HTTP API already lower-cases them)."""
    raw = event.get("headers")
    if not isinstance(raw, Mapping):
        return {}
    return {str(name).lower(): str(value) for name, value in raw.items()}


def _body(event: Mapping[str, Any]) -> bytes:
    """The raw body bytes, refusing oversized bodies before decoding them."""
    body = event.get("body") or ""
    if not isinstance(body, str):
        raise Rejected(400, "bad-body")
    if len(body) > MAX_BODY_BYTES * 4 // 3 + 4:
        raise Rejected(413, "too-large")

    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise Rejected(400, "bad-body") from exc
    else:
        raw = body.encode("utf-8", errors="surrogatepass")

    if len(raw) > MAX_BODY_BYTES:
        raise Rejected(413, "too-large")
    return raw


def _verify(provider: Provider, headers: Mapping[str, str], body: bytes) -> None:
    """Check the signature over the raw bytes against every live secret."""
    try:
        secrets = provider.secrets.values()
    except SecretUnavailableError as exc:
        logger.error("webhook secret unavailable", extra={"provider": provider.name})
        raise Rejected(500, "unavailable") from exc

    if not provider.verify(headers.get(provider.signature_header), body, secrets):
        raise Rejected(401, "signature")


def _payload(body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
    """The JSON object sent as the body, or as the `payload` field of a form-encoded body."""
    try:
        text = body.decode("utf-8")
        if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            text = parse_qs(text, max_num_fields=10).get("payload", [""])[0]
        payload = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise Rejected(400, "bad-json") from exc

    if not isinstance(payload, dict):
        raise Rejected(400, "bad-json")
    return payload


def _accept(
    provider: Provider, delivery: Delivery, payload: dict[str, Any], remaining: Callable[[], int]
) -> dict[str, Any]:
    """Process a verified delivery; park it if that keeps failing; answer 202 unless both fail."""
    try:
        results = _process(provider, delivery, payload, remaining)
    except Exception:  # noqa: BLE001 - any failure here must end in parking, not in a lost delivery
        logger.exception("webhook processing failed", extra=_describe(delivery))
        return _park(delivery, payload)

    if results is None:
        _count(f"Unhandled.{provider.name}.{_part(delivery.event)}.{_part(delivery.action)}")
        logger.info("webhook ignored", extra=_describe(delivery))
        return answer(202, "accepted")

    stored = sum(len(result.risk_events) for result in results)
    _count(f"Webhooks.{provider.name}.Accepted")
    logger.info("webhook accepted", extra={**_describe(delivery), "risk_events": stored})
    return answer(202, "accepted")


def _process(
    provider: Provider,
    delivery: Delivery,
    payload: dict[str, Any],
    remaining: Callable[[], int] = lambda: 60_000,
) -> list[Processed] | None:
    """Run the provider's handler, retrying a bounded number of times while time allows."""
    for pause in (*RETRY_DELAYS_SECONDS, None):
        try:
            return provider.handle(
                payload,
                delivery,
                load_settings(),
                datetime.now(UTC),
                DynamoStore.from_environment(),
            )
        except Exception:
            if pause is None or remaining() < RESERVE_MILLIS + pause * 1000:
                raise
            logger.warning("webhook processing retried", extra=_describe(delivery))
            time.sleep(pause)
    raise AssertionError("unreachable: the last attempt returns or raises")


def _park(delivery: Delivery, payload: dict[str, Any]) -> dict[str, Any]:
    """Send the verified delivery (never its signature) to the dead-letter queue."""
    message = {
        "provider": delivery.provider,
        "event": delivery.event,
        "action": delivery.action,
        "delivery": delivery.delivery_id,
        "payload": payload,
    }
    try:
        client("sqs").send_message(
            QueueUrl=os.environ["WEBHOOK_DLQ_URL"], MessageBody=json.dumps(message)
        )
    except Exception:  # noqa: BLE001 - the caller must learn that this delivery was not kept
        logger.exception("webhook parking failed", extra=_describe(delivery))
        _count(f"Webhooks.{delivery.provider}.Lost")
        return answer(500, "error")

    _count(f"Webhooks.{delivery.provider}.Parked")
    logger.warning("webhook parked", extra=_describe(delivery))
    return answer(202, "accepted")


def _consume_one(record: Mapping[str, Any]) -> None:
    """Give one SQS message to its provider; a message that cannot be read is counted, dropped."""
    try:
        message = json.loads(record["body"])
        provider = provider_named(message["provider"])
        consumer = provider.on_queue_message
        if consumer is None:
            raise LookupError(provider.name)
    except (KeyError, LookupError, TypeError, ValueError):
        _count("Webhooks.MalformedQueueMessages")
        logger.error("queue message dropped", extra={"message_id": record.get("messageId")})
        return

    consumer(message, load_settings(), datetime.now(UTC), DynamoStore.from_environment())


def _is_queue_batch(event: Mapping[str, Any]) -> bool:
    """True for an SQS event source batch rather than an HTTP request."""
    records = event.get("Records")
    return isinstance(records, list) and any(
        isinstance(r, Mapping) and r.get("eventSource") == "aws:sqs" for r in records
    )


def _describe(delivery: Delivery) -> dict[str, str]:
    """The few log keys that identify a delivery (never its payload)."""
    return {
        "provider": delivery.provider,
        "event": delivery.event[:64],
        "action": delivery.action[:64],
        "delivery": delivery.delivery_id[:64],
    }


def _part(value: str) -> str:
    """A metric-name-safe, bounded rendering of an event or action name."""
    return _METRIC_PART.sub("_", value)[:48] or "none"


def _count(name: str) -> None:
    """Add one to a count metric."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
