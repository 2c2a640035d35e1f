"""The front door's answers: what is accepted, refused, counted, and never lost."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from devsecops.runtime import LocalAws
from devsecops.sources.github import signed_event
from lambdas.webhooks import handler
from tests.github.payloads import check_suite, dependabot_alert, pull_request
from tests.webhooks.conftest import SECRET, deliver, status

ROOT = Path(__file__).resolve().parents[2]


def test_a_ping_is_answered_200_and_stores_nothing(aws: LocalAws) -> None:
    assert status(deliver(aws, "ping", {"zen": "Design for failure.", "hook_id": 1})) == (
        200,
        "pong",
    )
    assert aws.risk_events() == []


def test_a_delivery_that_raises_risk_is_accepted_with_202_and_stored(aws: LocalAws) -> None:
    answer = deliver(aws, "dependabot_alert", dependabot_alert())

    assert status(answer) == (202, "accepted")
    [item] = aws.risk_events()
    assert item["detection"] == "github_dependabot_alert"
    assert item["entity"] == "repository#acme-corp/payments"


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"text"', b"\xff\xfe", b""])
def test_a_signed_body_that_is_not_a_json_object_is_answered_400(
    aws: LocalAws, body: bytes
) -> None:
    answer = aws.invoke("webhooks", signed_event("pull_request", body, secret=SECRET))
    assert status(answer) == (400, "bad-json")


def test_a_body_over_the_limit_is_answered_413_before_its_signature_is_checked(
    aws: LocalAws,
) -> None:
    huge = json.dumps({"padding": "x" * handler.MAX_BODY_BYTES}).encode()

    answer = aws.invoke("webhooks", signed_event("push", huge, secret=SECRET))

    assert status(answer) == (413, "too-large")


def test_a_base64_encoded_body_is_verified_on_its_decoded_bytes(aws: LocalAws) -> None:
    event = signed_event("pull_request", pull_request(), secret=SECRET)
    event["body"] = base64.b64encode(event["body"].encode()).decode()
    event["isBase64Encoded"] = True

    assert status(aws.invoke("webhooks", event)) == (202, "accepted")
    assert len(aws.risk_events()) == 1


def test_invalid_base64_is_answered_400(aws: LocalAws) -> None:
    event = signed_event("pull_request", pull_request(), secret=SECRET)
    event.update(body="%%%not base64%%%", isBase64Encoded=True)

    assert status(aws.invoke("webhooks", event)) == (400, "bad-body")


def test_a_form_encoded_delivery_is_read_from_its_payload_field(aws: LocalAws) -> None:
    # GitHub's default content type sends `payload=<url-encoded JSON>`, signed as sent.
    body = ("payload=" + quote(json.dumps(pull_request()))).encode()
    event = signed_event("pull_request", body, secret=SECRET)
    event["headers"]["content-type"] = "application/x-www-form-urlencoded"

    assert status(aws.invoke("webhooks", event)) == (202, "accepted")
    assert len(aws.risk_events()) == 1


def test_unknown_routes_and_methods_are_refused(aws: LocalAws) -> None:
    elsewhere = signed_event("pull_request", pull_request(), secret=SECRET)
    elsewhere["rawPath"] = "/webhooks/gitlab"
    read = signed_event("pull_request", pull_request(), secret=SECRET)
    read["requestContext"]["http"]["method"] = "GET"

    assert status(aws.invoke("webhooks", elsewhere))[0] == 404
    assert status(aws.invoke("webhooks", read))[0] == 405
    assert aws.risk_events() == []


def test_an_answer_never_echoes_the_request(aws: LocalAws) -> None:
    marker = "ECHO-MARKER-7f3a"
    payloads = [pull_request(title=marker), {"zen": marker}, f"{marker} not json"]

    for payload in payloads:
        event = "ping" if isinstance(payload, dict) and "zen" in payload else "pull_request"
        body = payload.encode() if isinstance(payload, str) else payload
        answer = aws.invoke("webhooks", signed_event(event, body, secret=SECRET))
        assert marker not in json.dumps(answer)


@pytest.mark.parametrize(
    ("event", "payload", "metric"),
    [
        ("push", {"ref": "refs/heads/main"}, "Unhandled.github.push.none"),
        ("pull_request", pull_request("closed"), "Unhandled.github.pull_request.closed"),
        ("dependabot_alert", dependabot_alert("fixed"), "Unhandled.github.dependabot_alert.fixed"),
    ],
)
def test_an_event_no_detection_reads_is_accepted_counted_and_dropped(
    aws: LocalAws, counted: list[str], event: str, payload: dict, metric: str
) -> None:
    assert status(deliver(aws, event, payload)) == (202, "accepted")
    assert metric in counted
    assert aws.risk_events() == []


def test_a_redelivery_stores_nothing_new(aws: LocalAws) -> None:
    # GIVEN a delivery that was accepted and correlated
    deliver(aws, "pull_request", pull_request(), delivery="guid-1")
    before = aws.risk_events()
    aws.pump()

    # WHEN GitHub redelivers it (same X-GitHub-Delivery, same body)
    answer = deliver(aws, "pull_request", pull_request(), delivery="guid-1")

    # THEN it is accepted, the table is unchanged and no stream record follows
    assert status(answer) == (202, "accepted")
    assert aws.risk_events() == before
    assert aws.pump() == 0


def test_a_pull_request_seen_again_through_its_check_suite_adds_no_second_risk_event(
    aws: LocalAws,
) -> None:
    deliver(aws, "pull_request", pull_request())
    deliver(aws, "check_suite", check_suite())

    assert [item["natural_key"] for item in aws.risk_events()] == ["acme-corp/payments#pull/42"]


def test_a_failing_detection_still_gets_a_202_and_is_counted_not_retried(
    aws: LocalAws, counted: list[str]
) -> None:
    payload = pull_request()
    del payload["pull_request"]["user"]

    assert status(deliver(aws, "pull_request", payload)) == (202, "accepted")
    assert "DetectionErrors.github_pull_request_from_unknown_user" in counted
    assert aws.risk_events() == []


def test_a_cold_start_imports_only_the_provider_its_first_delivery_is_for() -> None:
    # A fresh interpreter, as on Lambda: the other provider's code stays unloaded.
    script = (
        "import sys; from lambdas.webhooks import handler;"
        "before = {m for m in sys.modules if m.startswith('lambdas.webhooks.')};"
        "handler.provider_named('github');"
        "after = {m for m in sys.modules if m.startswith('lambdas.webhooks.')};"
        "print(sorted(before), sorted(after - before))"
    )
    answer = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )

    before, loaded = answer.stdout.strip().split("] [")
    assert "github" not in before and "circleci" not in before
    assert "lambdas.webhooks.github" in loaded and "circleci" not in loaded
