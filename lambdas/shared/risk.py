"""The risk event: what every detection emits and the risk table stores."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from lambdas.shared.schema import RISK_PK, RISK_SK

RiskObjectType = Literal["user", "repository", "host"]
RISK_OBJECT_TYPES: tuple[str, ...] = ("user", "repository", "host")

# Splunk's severity bands for a 0-100 risk score, kept so scores read the same in both tools.
_SEVERITY_BANDS: tuple[tuple[int, str], ...] = (
    (20, "informational"),
    (40, "low"),
    (60, "medium"),
    (80, "high"),
    (100, "critical"),
)


def severity_for(score: int) -> str:
    """Return the severity band name of a risk score."""
    for upper, name in _SEVERITY_BANDS:
        if score <= upper:
            return name
    return "critical"


def iso_utc(moment: datetime) -> str:
    """Format a datetime as ISO 8601 UTC with a trailing Z and whole seconds."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str) -> datetime:
    """Parse an ISO 8601 timestamp (Z or offset) into an aware UTC datetime."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def entity_key(kind: str, value: str) -> str:
    """Return the key an entity is stored and correlated under, e.g. ``repository#acme/app``."""
    return f"{kind}#{value}"


@dataclass(frozen=True)
class RiskEvent:
    """One risk object, one score, and the evidence that produced them."""

    detection: str
    risk_object: str
    risk_object_type: RiskObjectType
    risk_score: int
    message: str
    event_time: str
    source: str
    natural_key: str
    mitre_attack: tuple[str, ...] = ()
    phase: str = ""
    count: int = 1
    user: str | None = None
    repository: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    suppressed: str | None = None

    def __post_init__(self) -> None:
        if self.risk_object_type not in RISK_OBJECT_TYPES:
            raise ValueError(f"unknown risk_object_type {self.risk_object_type!r}")
        if not 0 <= self.risk_score <= 100:
            raise ValueError(f"risk_score {self.risk_score} is outside 0-100")
        if not self.risk_object:
            raise ValueError(f"{self.detection}: empty risk_object")

    @property
    def id(self) -> str:
        """Stable id from the detection, the risk object and the natural key."""
        parts = (self.detection, self.risk_object_type, self.risk_object, self.natural_key)
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]

    @property
    def severity(self) -> str:
        """Severity band of the score."""
        return severity_for(self.risk_score)

    @property
    def entity(self) -> str:
        """Entity key of the risk object."""
        return entity_key(self.risk_object_type, self.risk_object)

    def entities(self) -> list[str]:
        """Every entity this risk event names: its risk object, its user and its repository."""
        keys = [self.entity]
        if self.user:
            keys.append(entity_key("user", self.user))
        if self.repository:
            keys.append(entity_key("repository", self.repository))
        return list(dict.fromkeys(keys))

    def with_suppression(self, reason: str | None) -> RiskEvent:
        """Return a copy marked as suppressed for the given reason."""
        return replace(self, suppressed=reason)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form, as `devsecops replay` prints it."""
        body: dict[str, Any] = {
            "type": "risk",
            "id": self.id,
            "detection": self.detection,
            "risk_object": self.risk_object,
            "risk_object_type": self.risk_object_type,
            "risk_score": self.risk_score,
            "severity": self.severity,
            "mitre_attack": list(self.mitre_attack),
            "phase": self.phase,
            "message": self.message,
            "event_time": self.event_time,
            "source": self.source,
            "count": self.count,
            "user": self.user,
            "repository": self.repository,
            "evidence": self.evidence,
        }
        if self.suppressed:
            body["suppressed"] = self.suppressed
        return body

    def to_item(self, expires_at: int) -> dict[str, Any]:
        """DynamoDB item: readable attributes, no empty values, numbers as Decimal."""
        body = self.to_dict()
        body.pop("type")
        body["natural_key"] = self.natural_key
        body["severity"] = self.severity
        body[RISK_PK] = self.entity
        body[RISK_SK] = self.id
        body["expires_at"] = expires_at
        body["evidence"] = _to_dynamo(self.evidence)
        # Evidence is always stored, even empty, so the change test compares like with like.
        return {
            key: value
            for key, value in body.items()
            if key == "evidence" or value not in (None, "", [], {})
        }

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> RiskEvent:
        """Rebuild a risk event from a stored item (the inverse of `to_item`)."""
        return cls(
            detection=str(item["detection"]),
            risk_object=str(item["risk_object"]),
            risk_object_type=item["risk_object_type"],
            risk_score=int(item["risk_score"]),
            message=str(item.get("message", "")),
            event_time=str(item["event_time"]),
            source=str(item.get("source", "")),
            natural_key=str(item.get("natural_key", "")),
            mitre_attack=tuple(item.get("mitre_attack", ())),
            phase=str(item.get("phase", "")),
            count=int(item.get("count", 1)),
            user=item.get("user"),
            repository=item.get("repository"),
            evidence=from_dynamo(item.get("evidence", {})),
            suppressed=item.get("suppressed"),
        )


def _to_dynamo(value: Any) -> Any:
    """Convert floats to Decimal (DynamoDB rejects floats) and drop empty strings in maps."""
    return json.loads(json.dumps(value, default=str), parse_float=Decimal)


def from_dynamo(value: Any) -> Any:
    """Convert DynamoDB Decimals back to int or float, inside maps and lists too."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: from_dynamo(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [from_dynamo(inner) for inner in value]
    return value
