"""AWS ECR Container Upload Outside Business Hours: an image pushed when nobody should push.

Splunk fixed the hours at 08:00-19:59 UTC, Monday to Friday. Here they come from the settings: a
start (inside) and an end (first moment outside), an IANA time zone whose daylight saving rules
apply, the working weekdays and holiday dates. Splunk's defaults are kept.
"""

from __future__ import annotations

from datetime import datetime, time, tzinfo
from typing import Any

from lambdas.detections.base import NOTHING, Context, Detection, Outcome, Rule
from lambdas.detections.ecr.records import ImagePush
from lambdas.shared.risk import parse_time
from lambdas.shared.settings import BusinessHours

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # not strftime("%a"): locale-dependent

DETECTION = Detection(
    id="aws_ecr_container_upload_outside_business_hours",
    title="AWS ECR Container Upload Outside Business Hours",
    source="cloudtrail",
    default_score=49,
    mitre_attack=("T1204.003", "T1204"),
    phase="release",
    description=(
        "A container image was pushed to ECR outside business hours. Releases normally happen "
        "while the team is at work; a push at night or on a holiday deserves a second look."
    ),
)


def _zone(name: str) -> tzinfo:
    """The IANA time zone `name`."""
    # Imported here: only pushes need it, and scan events would pay its 5 ms at every cold start.
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def within(moment: datetime, hours: BusinessHours) -> bool:
    """True when a moment falls inside the business hours, in their time zone."""
    local = moment.astimezone(_zone(hours.timezone))
    workday = DAYS[local.weekday()].lower() in {day.lower()[:3] for day in hours.weekdays}
    if not workday or local.date().isoformat() in hours.holidays:
        return False

    start, end, now = time.fromisoformat(hours.start), time.fromisoformat(hours.end), local.time()
    # An end before the start is a shift across midnight (e.g. 22:00-06:00).
    return start <= now < end if start < end else now >= start or now < end


def detect(record: Any, context: Context) -> Outcome:
    """Fire on a successful push outside the configured business hours."""
    if not isinstance(record, ImagePush) or record.error:
        return NOTHING
    hours = context.settings.business_hours
    moment = parse_time(record.event_time)
    if within(moment, hours):
        return NOTHING

    repository = context.settings.repository(record.repository)
    local = moment.astimezone(_zone(hours.timezone))
    event = DETECTION.risk_event(
        context,
        risk_object=record.principal.arn,
        risk_object_type="user",
        natural_key=record.event_id or f"{repository}@{record.digest}@{record.event_time}",
        message=f"Image pushed to {repository} outside business hours by {record.principal.arn}",
        event_time=record.event_time,
        user=record.principal.arn,
        repository=repository,
        evidence={
            "local_time": local.isoformat(timespec="seconds"),
            "time_zone": hours.timezone,
            **record.evidence(),
        },
    )
    return Outcome((event,))


RULE = Rule(DETECTION, detect)
