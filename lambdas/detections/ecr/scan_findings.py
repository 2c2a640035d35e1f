"""AWS ECR Container Scanning Findings High / Medium / Low Informational Unknown.

One rule per severity band. Unlike Splunk's searches, these fire when an image is scanned (or when
Inspector reports a finding), not when somebody reads the findings; they count CRITICAL as high and
UNDEFINED and UNTRIAGED as low; and they raise one risk event per image and band whose `count` is
the number of findings, instead of one per CVE per read. Its `user` is the principal who pushed the
image, once known, whichever of the push and the scan arrives first.
"""

from __future__ import annotations

from typing import Any

from lambdas.detections.base import NOTHING, Context, Detection, Outcome, Rule
from lambdas.detections.ecr.findings import on_push, on_scan, state_key
from lambdas.detections.ecr.records import ImagePush, ImageScan
from lambdas.shared.settings import Settings

MITRE = ("T1204.003", "T1204")
_WHY = (
    "Vulnerabilities of {} severity were found in a container image in ECR. An image built "
    "from a vulnerable or tampered base can carry an attacker's code into production."
)

HIGH = Detection(
    id="aws_ecr_container_scanning_findings_high",
    title="AWS ECR Container Scanning Findings High",
    source="ecr",
    default_score=70,
    mitre_attack=MITRE,
    phase="release",
    description=_WHY.format("high or critical"),
)
MEDIUM = Detection(
    id="aws_ecr_container_scanning_findings_medium",
    title="AWS ECR Container Scanning Findings Medium",
    source="ecr",
    default_score=21,
    mitre_attack=MITRE,
    phase="release",
    description=_WHY.format("medium"),
)
LOW = Detection(
    id="aws_ecr_container_scanning_findings_low_informational_unknown",
    title="AWS ECR Container Scanning Findings Low Informational Unknown",
    source="ecr",
    default_score=5,
    mitre_attack=MITRE,
    phase="release",
    description=_WHY.format("low, informational or undefined"),
)
BY_BAND = {"high": HIGH, "medium": MEDIUM, "low": LOW}


def band_rule(band: str) -> Rule:
    """The rule of one band: scans update the band's findings, pushes name the image's user."""
    detection = BY_BAND[band]

    def detect(record: Any, context: Context) -> Outcome:
        if isinstance(record, ImageScan):
            return on_scan(detection, band, record, context)
        if isinstance(record, ImagePush):
            return on_push(detection, band, record, context)
        return NOTHING

    return Rule(detection, detect)


def state_keys(record: Any, settings: Settings) -> list[str]:
    """The band items an image record needs (none for a push without a digest)."""
    digest = getattr(record, "digest", None)
    if not isinstance(record, ImageScan | ImagePush) or not digest:
        return []
    repository = settings.repository(record.repository)
    return [state_key(repository, digest, band) for band in BY_BAND]


RULES = tuple(band_rule(band) for band in BY_BAND)
