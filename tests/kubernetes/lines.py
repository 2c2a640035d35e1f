"""Building blocks for the Kubernetes tests: access lines, Event objects, batches, rule runs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

from lambdas.detections.base import Context
from lambdas.detections.kubernetes.targets import worth_keeping
from lambdas.kubernetes.records import Batch
from lambdas.shared.risk import RiskEvent
from lambdas.shared.settings import Settings

NOW = datetime(2021, 8, 11, 14, 0, tzinfo=UTC)
TIMESTAMP_MS = 1_628_682_747_000


def access(
    target: str,
    *,
    client: str = "203.0.113.7",
    status: str = "200",
    when: str = "11/Aug/2021:11:52:27 +0000",
    upstream: str = "default-webapp-80",
    user: str = "-",
    method: str = "GET",
) -> str:
    """An ingress-nginx access line in the default (upstreaminfo) format."""
    return (
        f'{client} - {user} [{when}] "{method} {target} HTTP/1.1" {status} 612 "-" '
        f'"curl/7.68.0" 431 0.004 [{upstream}] [] 10.0.1.23:80 612 0.004 {status} '
        "8f14e45fceea167a5a36dedd4bea2543"
    )


def wrapped(line: str, host: str = "ip-10-0-1-23.ec2.internal") -> str:
    """The line as Fluent Bit / Container Insights ship it: JSON with Kubernetes metadata."""
    metadata = {"pod_name": "ingress-nginx-controller-abc12", "namespace_name": "ingress-nginx"}
    return json.dumps(
        {"log": line + "\n", "stream": "stdout", "kubernetes": {**metadata, "host": host}}
    )


def kube_event(reason: str, message: str, host: str = "node-1", **extra: Any) -> dict[str, Any]:
    """A core/v1 Event about a pod, as kubelet reports it."""
    return {
        "kind": "Event",
        "apiVersion": "v1",
        "involvedObject": {"kind": "Pod", "namespace": "default", "name": "scan-1", "uid": "u-1"},
        "reason": reason,
        "message": message,
        "source": {"component": "kubelet", "host": host},
        "lastTimestamp": "2021-08-11T13:05:11Z",
        "count": 1,
        **extra,
    }


def pod_creation(*images: str, audit_id: str = "a-1", **extra: Any) -> dict[str, Any]:
    """An audit entry of a pod creation with its request body."""
    containers = [{"name": f"c{index}", "image": image} for index, image in enumerate(images)]
    return {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "auditID": audit_id,
        "stage": "ResponseComplete",
        "verb": "create",
        "user": {"username": "kubernetes-admin"},
        "objectRef": {"resource": "pods", "namespace": "default", "name": "recon"},
        "responseStatus": {"code": 201},
        "requestObject": {"kind": "Pod", "spec": {"containers": containers}},
        "stageTimestamp": "2021-08-11T13:07:02.140925Z",
        **extra,
    }


def batch(*messages: str | dict[str, Any], cluster: str = "prod", screened: bool = True) -> Batch:
    """A batch of messages (objects are serialised), screened as the handler screens them."""
    built = Batch(cluster=cluster, keep=worth_keeping if screened else None)
    for message in messages:
        text = message if isinstance(message, str) else json.dumps(message)
        built.add(text, TIMESTAMP_MS)
    return built


def run(
    detection: ModuleType, *messages: str | dict[str, Any], settings: Settings | None = None
) -> tuple[RiskEvent, ...]:
    """The risk events one detection raises on a batch of the messages."""
    context = Context(settings or Settings(), NOW)
    return detection.detect(batch(*messages), context).risk_events
