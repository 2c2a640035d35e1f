"""Many requests, one risk event: ingress attempts counted per host, client and hour.

A client that sends the same attack thousands of times would otherwise make thousands of risk
events. Within one batch the attempts are tallied by (host, client address, hour bucket); the
bucket is part of the natural key, so the risk event id is stable across retries and replays.

Known limitation: the store keeps the latest count written for an id, so when one bucket's
attempts arrive in two subscription payloads, the stored count is the later payload's, not the sum.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lambdas.detections.base import Context, Detection
from lambdas.kubernetes.records import AccessEntry, AccessLine, access_entry
from lambdas.shared.observability import logger
from lambdas.shared.risk import RiskEvent, iso_utc

BUCKET_SECONDS = 3600
MAX_TEXT = 512  # attacker-chosen strings are cut before they reach the risk table

# What a detection finds in a decoded target: the details to keep as evidence, or None.
Indicator = Callable[[str], dict[str, str] | None]


@dataclass
class Tally:
    """The attempts of one client against one host in one bucket."""

    first: AccessEntry
    first_seen: float
    details: dict[str, str]
    last_seen: float = 0.0
    count: int = 0
    statuses: dict[str, int] = field(default_factory=dict)

    def add(self, entry: AccessEntry, moment: float) -> None:
        """Count one more attempt."""
        self.count += 1
        self.first_seen = min(self.first_seen, moment)
        self.last_seen = max(self.last_seen, moment)
        self.statuses[entry.status] = self.statuses.get(entry.status, 0) + 1


def tally(lines: Iterable[AccessLine], indicator: Indicator) -> dict[tuple, Tally]:
    """Group the lines whose decoded target the indicator flags by host, client and bucket."""
    tallies: dict[tuple, Tally] = {}
    for line in lines:
        try:
            details = indicator(line[0])
            if details is None:
                continue
            entry = access_entry(line)
            moment = entry.epoch()
            key = (entry.host, entry.remote_addr, int(moment // BUCKET_SECONDS))
            found = tallies.get(key)
            if found is None:
                found = tallies[key] = Tally(entry, moment, details)
            found.add(entry, moment)
        except Exception:  # noqa: BLE001 - one odd line must not hide the rest of the batch
            logger.exception("ingress line skipped by a detection")
    return tallies


def risk_events(
    detection: Detection, context: Context, tallies: dict[tuple, Tally], what: str
) -> tuple[RiskEvent, ...]:
    """One risk event per tally: the host at risk, the client and first request as evidence."""
    events = []
    for (host, client, bucket), found in tallies.items():
        start = iso_utc(datetime.fromtimestamp(bucket * BUCKET_SECONDS, UTC))
        events.append(
            detection.risk_event(
                context,
                risk_object=host,
                risk_object_type="host",
                natural_key=f"{client}#{start}",
                message=f"{what} from {client} against {host}",
                event_time=iso_utc(datetime.fromtimestamp(found.first_seen, UTC)),
                count=found.count,
                evidence=_evidence(found, client, start),
            )
        )
    return tuple(events)


def _evidence(found: Tally, client: str, bucket: str) -> dict[str, Any]:
    """The few fields that explain a tally; the request is the first one seen."""
    first = found.first
    evidence: dict[str, Any] = {
        "src_ip": client,
        "bucket": bucket,
        "method": first.method,
        "request": (first.target or "")[:MAX_TEXT],
        "status": first.status,
        "upstream_status": first.upstream_status,
        "statuses": dict(sorted(found.statuses.items())),
        "upstream": first.upstream,
        "user_agent": first.user_agent[:MAX_TEXT],
        "last_seen": iso_utc(datetime.fromtimestamp(found.last_seen, UTC)),
        **{key: value[:MAX_TEXT] for key, value in found.details.items()},
    }
    if first.origin:
        evidence.update(pod=first.origin.pod, namespace=first.origin.namespace)
    return {key: value for key, value in evidence.items() if value not in (None, "")}
