"""Kubernetes Nginx Ingress LFI: a request that tries to read a local file through the app."""

from __future__ import annotations

from lambdas.detections.base import Context, Detection, Outcome, Rule
from lambdas.detections.kubernetes.tally import risk_events, tally
from lambdas.detections.kubernetes.targets import lfi_indicator, suspects
from lambdas.kubernetes.records import Batch

DETECTION = Detection(
    id="kubernetes_nginx_ingress_lfi",
    title="Kubernetes Nginx Ingress LFI",
    source="ingress-nginx",
    default_score=49,
    mitre_attack=("T1212",),
    phase="operate",
    description=(
        "An ingress request target, decoded and case-folded, names a sensitive local file, "
        "chains parent-directory steps or uses a local stream wrapper."
    ),
)


def indicator(text: str) -> dict[str, str] | None:
    """The matched path or pattern of an attempt, or None for an ordinary request."""
    found = lfi_indicator(text)
    return {"indicator": found} if found else None


def detect(record: Batch, context: Context) -> Outcome:
    """One risk event per host, client and hour with attempts; any status counts as one."""
    tallies = tally(suspects(record), indicator)
    return Outcome(risk_events(DETECTION, context, tallies, "Local file inclusion attempt"))


RULE = Rule(DETECTION, detect)
