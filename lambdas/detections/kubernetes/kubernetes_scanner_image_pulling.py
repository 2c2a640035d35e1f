"""Kubernetes Scanner Image Pulling: a cluster-attack scanner is pulled or put in a pod."""

from __future__ import annotations

import re

from lambdas.detections.base import Context, Detection, Outcome, Rule
from lambdas.detections.kubernetes.images import scanner_pattern
from lambdas.kubernetes.records import AuditEntry, Batch, KubeEvent
from lambdas.shared.risk import RiskEvent

DETECTION = Detection(
    id="kubernetes_scanner_image_pulling",
    title="Kubernetes Scanner Image Pulling",
    source="kubernetes",
    default_score=81,
    mitre_attack=("T1526",),
    phase="operate",
    description=(
        "A node pulls (or starts from its cache) an image named in `scanner_images`, or the API "
        "server accepts a pod that runs one."
    ),
)

# kubelet's messages: `Pulling image "x"`, and for a cached image (no pull, so no Pulling event)
# `Container image "x" already present on machine`.
PULLING = re.compile(r'pulling image "([^"]+)"', re.IGNORECASE)
CACHED = re.compile(r'container image "([^"]+)" already present on machine', re.IGNORECASE)


def detect(record: Batch, context: Context) -> Outcome:
    """One risk event per pod and scanner image pulled, and per audited pod creation."""
    patterns = context.settings.scanner_images
    pulled = (_pulled(event, record.cluster, patterns, context) for event in record.events)
    created = (_created(entry, record.cluster, patterns, context) for entry in record.audits)
    return Outcome(tuple(event for event in (*pulled, *created) if event is not None))


def _pulled(
    event: KubeEvent, cluster: str, patterns: tuple[str, ...], context: Context
) -> RiskEvent | None:
    """A kubelet Event about a scanner image, with the node as the risk object."""
    pattern = PULLING if event.reason == "Pulling" else CACHED if event.reason == "Pulled" else None
    found = pattern.search(event.message) if pattern else None
    if found is None or scanner_pattern(found[1], patterns) is None:
        return None

    host = event.host or cluster
    pod = f"{event.namespace}/{event.name}"
    return DETECTION.risk_event(
        context,
        risk_object=host,
        risk_object_type="host",
        natural_key=f"{event.uid or pod}#{found[1]}",
        message=f"Kubernetes scanner image {found[1]} pulled on host {host}",
        event_time=event.time,
        count=event.count,
        evidence={
            "image": found[1],
            "pod": event.name,
            "namespace": event.namespace,
            "kind": event.kind,
            "reason": event.reason,
            "via": "event",
        },
    )


def _created(
    entry: AuditEntry, cluster: str, patterns: tuple[str, ...], context: Context
) -> RiskEvent | None:
    """An audited pod creation with a scanner image; unscheduled, the cluster is at risk."""
    creates = entry.verb == "create" and not entry.subresource
    debugs = entry.verb == "update" and entry.subresource == "ephemeralcontainers"
    if entry.resource != "pods" or not (creates or debugs):
        return None
    images = [image for image in entry.images if scanner_pattern(image, patterns)]
    if not images:
        return None

    host = entry.node or cluster
    where = f"on node {host}" if entry.node else f"in cluster {host}"
    return DETECTION.risk_event(
        context,
        risk_object=host,
        risk_object_type="host",
        natural_key=f"audit#{entry.audit_id or entry.time}#{entry.namespace}/{entry.name}",
        message=f"Pod {entry.namespace}/{entry.name} running {images[0]} created {where}",
        event_time=entry.time,
        user=entry.principal_arn or None,
        evidence={
            "images": images,
            "pod": entry.name,
            "namespace": entry.namespace,
            "requested_by": entry.username,
            "response_code": entry.code,
            "verb": entry.verb,
            "via": "audit",
        },
    )


RULE = Rule(DETECTION, detect)
