"""Kubernetes Nginx Ingress RFI: a query parameter that makes the app fetch a remote resource.

Splunk's rule fired on any IPv4 address anywhere in the URL, so version strings, IPs in paths and
`host:port` parameters raised it, while `?page=http://evil.example/x` did not. This one fires on a
decoded parameter value that is a URL with a fetching or inline scheme (or `//host`), pointing at
a host outside `trusted_hosts`; redirect and search parameters may name web pages on named hosts.
"""

from __future__ import annotations

from lambdas.detections.base import Context, Detection, Outcome, Rule
from lambdas.detections.kubernetes.tally import risk_events, tally
from lambdas.detections.kubernetes.targets import rfi_indicator, suspects
from lambdas.kubernetes.records import Batch

DETECTION = Detection(
    id="kubernetes_nginx_ingress_rfi",
    title="Kubernetes Nginx Ingress RFI",
    source="ingress-nginx",
    default_score=49,
    mitre_attack=("T1212",),
    phase="operate",
    description=(
        "An ingress request passes a parameter whose decoded value is a remote URL (or an inline "
        "data, expect or php stream) on a host that is not trusted."
    ),
)


def detect(record: Batch, context: Context) -> Outcome:
    """One risk event per host, client and hour with attempts; any status counts as one."""
    trusted = context.settings.trusted_hosts

    def indicator(text: str) -> dict[str, str] | None:
        found = rfi_indicator(text, trusted)
        if found is None:
            return None
        return {"parameter": found.parameter, "remote": found.value, "remote_host": found.host}

    tallies = tally(suspects(record), indicator)
    return Outcome(risk_events(DETECTION, context, tallies, "Remote file inclusion attempt"))


RULE = Rule(DETECTION, detect)
