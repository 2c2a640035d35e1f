"""Kubernetes objects in log lines: Events and API server audit entries, read from JSON.

Event exporters, event routers and EKS audit logs write one JSON object per line. Reading one is
pure and bounded: it becomes a record, `IGNORED` (an object no detection reads), or None.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NamedTuple

from lambdas.shared.risk import iso_utc, parse_time

AUDIT_API = "audit.k8s.io/"
IGNORED = object()  # a well-formed line no detection reads


class Origin(NamedTuple):
    """Where a wrapped line came from, as Fluent Bit or Container Insights describe it."""

    host: str | None
    pod: str | None
    namespace: str | None


class KubeEvent(NamedTuple):
    """A core/v1 or events.k8s.io/v1 Event, reduced to what detections read."""

    reason: str
    message: str
    kind: str
    namespace: str
    name: str
    uid: str
    host: str
    count: int
    time: str


class AuditEntry(NamedTuple):
    """An API server audit entry, with the container images of a pod it carries."""

    audit_id: str
    verb: str
    resource: str
    subresource: str
    namespace: str
    name: str
    username: str
    principal_arn: str
    images: tuple[str, ...]
    node: str
    code: int
    time: str


def parse_object(data: dict[str, Any], timestamp: int) -> KubeEvent | AuditEntry | object | None:
    """A decoded JSON object as an Event or audit record (apiVersion tells them apart)."""
    for wrapper in ("object", "event"):  # watch events, and event routers' `{"verb", "event"}`
        if isinstance(data.get(wrapper), dict) and "kind" not in data:
            data = data[wrapper]
    if data.get("kind") != "Event":
        return IGNORED if "kind" in data else None
    if str(data.get("apiVersion", "")).startswith(AUDIT_API):
        return _audit(data, timestamp)
    return _event(data, timestamp)


def _event(data: dict[str, Any], timestamp: int) -> KubeEvent:
    """A core/v1 Event (`involvedObject`, `source`) or an events.k8s.io/v1 one (`regarding`)."""
    target = _dict(data.get("involvedObject") or data.get("regarding"))
    source = _dict(data.get("source") or data.get("deprecatedSource"))
    count = data.get("count") or _dict(data.get("series")).get("count") or 1
    return KubeEvent(
        reason=_text(data.get("reason")),
        message=_text(data.get("message") or data.get("note")),
        kind=_text(target.get("kind")),
        namespace=_text(target.get("namespace")),
        name=_text(target.get("name")),
        uid=_text(target.get("uid")),
        host=_text(source.get("host") or data.get("reportingInstance")),
        count=count if type(count) is int and count > 0 else 1,
        time=_first_time(data, ("lastTimestamp", "eventTime", "firstTimestamp"), timestamp),
    )


def _audit(data: dict[str, Any], timestamp: int) -> AuditEntry:
    """An audit entry; images are read from a pod spec in the request body, when logged."""
    ref = _dict(data.get("objectRef"))
    body = _dict(data.get("requestObject"))
    spec = _dict(body.get("spec"))
    user = _dict(data.get("user"))
    arns = _dict(user.get("extra")).get("canonicalArn") or [""]
    images = tuple(
        _text(container.get("image"))
        for key in ("initContainers", "containers", "ephemeralContainers")
        for container in _list(spec.get(key))
        if isinstance(container, dict) and container.get("image")
    )
    return AuditEntry(
        audit_id=_text(data.get("auditID")),
        verb=_text(data.get("verb")),
        resource=_text(ref.get("resource")),
        subresource=_text(ref.get("subresource")),
        namespace=_text(ref.get("namespace")),
        name=_text(ref.get("name") or _dict(body.get("metadata")).get("name")),
        username=_text(user.get("username")),
        principal_arn=_text(arns[0] if isinstance(arns, list) and arns else ""),
        images=images,
        node=_text(spec.get("nodeName")),
        code=_code(_dict(data.get("responseStatus")).get("code")),
        time=_first_time(data, ("stageTimestamp", "requestReceivedTimestamp"), timestamp),
    )


def _first_time(data: dict[str, Any], keys: tuple[str, ...], timestamp: int) -> str:
    """The first of `keys` holding a timestamp string, else the log event's time, as ISO 8601."""
    for key in keys:
        value = data.get(key)
        if isinstance(value, str) and value:
            try:
                return iso_utc(parse_time(value))
            except (ValueError, OverflowError):
                continue
    try:
        return iso_utc(datetime.fromtimestamp(timestamp / 1000, UTC))
    except (ValueError, OverflowError, OSError, TypeError):
        return "1970-01-01T00:00:00Z"


def origin_of(metadata: Any) -> Origin:
    """The node, pod and namespace a log shipper attached to a line."""
    data = _dict(metadata)
    return Origin(
        _text(data.get("host")) or None,
        _text(data.get("pod_name")) or None,
        _text(data.get("namespace_name")) or None,
    )


def _dict(value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    """`value` if it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    """A string field, or "" when absent or not a string."""
    return value if isinstance(value, str) else ""


def _code(value: Any) -> int:
    """An HTTP status code, or 0 when absent."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
