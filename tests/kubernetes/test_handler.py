"""The Kubernetes function against moto: samples in, risk events stored, bad input contained."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterator
from typing import Any

import pytest

from devsecops.runtime import LocalAws
from devsecops.sources.nginx import subscription_event
from tests.conftest import load_event
from tests.kubernetes.lines import access


@pytest.fixture
def aws() -> Iterator[LocalAws]:
    """The stack's tables on moto, with default settings."""
    with LocalAws() as local:
        yield local


def detections(aws: LocalAws) -> list[tuple[str, str, int]]:
    """The stored risk events as (detection, risk object, count)."""
    return [(item["detection"], item["risk_object"], item["count"]) for item in aws.risk_events()]


def test_the_lfi_sample_stores_one_risk_event_for_three_attempts(aws: LocalAws) -> None:
    answer = aws.invoke("kubernetes", load_event("kubernetes/ingress_lfi_subscription.json"))
    assert answer["access_lines"] == 4
    assert detections(aws) == [("kubernetes_nginx_ingress_lfi", "default-webapp-80", 3)]


def test_the_rfi_sample_flags_the_attacker_and_not_the_sign_in_or_the_probe(aws: LocalAws) -> None:
    aws.invoke("kubernetes", load_event("kubernetes/ingress_rfi_subscription.json"))
    assert detections(aws) == [("kubernetes_nginx_ingress_rfi", "ip-10-0-1-23.ec2.internal", 2)]


def test_the_scanner_sample_flags_two_nodes_and_the_cluster(aws: LocalAws) -> None:
    aws.invoke("kubernetes", load_event("kubernetes/scanner_pull_subscription.json"))
    assert sorted(item["risk_object"] for item in aws.risk_events()) == [
        "ip-10-0-2-51.ec2.internal",
        "ip-10-0-3-17.ec2.internal",
        "prod",
    ]


def test_a_redelivered_payload_adds_nothing(aws: LocalAws) -> None:
    event = load_event("kubernetes/ingress_lfi_subscription.json")
    aws.invoke("kubernetes", event)
    aws.invoke("kubernetes", event)
    assert len(aws.risk_events()) == 1


def test_unparseable_lines_are_counted_and_the_rest_still_detected(aws: LocalAws) -> None:
    lines = ["not a log line", '{"broken', access("/x?f=../../../etc/passwd")]
    answer = aws.invoke("kubernetes", _payload(lines))
    assert answer["unparseable"] == 2
    assert [name for name, _, _ in detections(aws)] == ["kubernetes_nginx_ingress_lfi"]


@pytest.mark.parametrize(
    "event",
    [
        {"awslogs": {"data": "not base64!"}},
        {"awslogs": {"data": base64.b64encode(b"not gzip").decode()}},
        {"awslogs": {"data": base64.b64encode(gzip.compress(b"[1, 2]")).decode()}},
        {"awslogs": {}},
        {"something": "else"},
    ],
)
def test_a_malformed_payload_is_dropped_without_raising(aws: LocalAws, event: dict) -> None:
    assert aws.invoke("kubernetes", event) == {"status": "skipped"}
    assert aws.risk_events() == []


def test_a_control_message_is_ignored(aws: LocalAws) -> None:
    body = {
        "messageType": "CONTROL_MESSAGE",
        "owner": "CloudwatchLogs",
        "logGroup": "",
        "logStream": "",
        "subscriptionFilters": [],
        "logEvents": [],
    }
    data = base64.b64encode(gzip.compress(json.dumps(body).encode())).decode()
    assert aws.invoke("kubernetes", {"awslogs": {"data": data}}) == {"status": "skipped"}


def test_a_suppressed_host_is_stored_but_marked() -> None:
    settings = {
        "suppressions": [
            {
                "detection": "kubernetes_nginx_ingress_*",
                "entity": "staging-*",
                "reason": "pentest",
                "expires": "2999-01-01",
            }
        ]
    }
    with LocalAws(settings) as aws:
        aws.invoke("kubernetes", _payload([access("/?f=/etc/passwd", upstream="staging-web-80")]))
        assert [item.get("suppressed") for item in aws.risk_events()] == ["pentest"]


def _payload(lines: list[str]) -> dict[str, Any]:
    """A subscription event holding the lines."""
    events = [
        {"id": str(n), "timestamp": 1_628_682_747_000, "message": m} for n, m in enumerate(lines)
    ]
    return subscription_event(events, "/aws/containerinsights/prod/application", "test")
