"""GitHub Dependabot Alert: a repository depends on a package with a known vulnerability."""

from __future__ import annotations

from dataclasses import replace

from lambdas.detections.base import NOTHING, Context, Detection, Outcome, Rule
from lambdas.detections.github.common import (
    GitHubEvent,
    compact,
    event_time,
    repository,
    required,
    text,
)

DETECTION = Detection(
    id="github_dependabot_alert",
    title="GitHub Dependabot Alert",
    source="github",
    default_score=27,
    mitre_attack=("T1195.001", "T1195"),
    phase="code",
    description="Dependabot opened (or reopened) an alert for a vulnerable dependency.",
)

# Actions meaning a vulnerable dependency is present (again). Dismissed, fixed or withdrawn alerts
# add no risk. `repository_vulnerability_alert` is the legacy event Splunk's rule read.
TRIGGERS = {
    "dependabot_alert": frozenset({"created", "reopened", "auto_reopened", "reintroduced"}),
    "repository_vulnerability_alert": frozenset({"create"}),
}
# Default scores by advisory severity, below the settings: `scores["github_dependabot_alert.high"]`
# wins, then `scores["github_dependabot_alert"]`, then these, then the detection's 27.
SEVERITY_SCORES = {"critical": 49, "high": 35}


def detect(record: GitHubEvent, context: Context) -> Outcome:
    """One risk event per alert on the repository, scored by the advisory's severity."""
    if record.action not in TRIGGERS.get(record.event, ()):
        return NOTHING

    repo = repository(record, context)
    legacy = record.event == "repository_vulnerability_alert"
    key, evidence = _legacy(record) if legacy else _current(record)
    severity = evidence.get("severity", "").lower()

    # A copy whose default is the severity's, so configured scores still take precedence.
    scored = replace(
        DETECTION, default_score=SEVERITY_SCORES.get(severity, DETECTION.default_score)
    )
    event = scored.risk_event(
        context,
        risk_object=repo,
        risk_object_type="repository",
        natural_key=f"{repo}#{key}",
        message=f"Vulnerable dependency {evidence.get('package', '?')} ({severity or 'unknown'} "
        f"severity) in GitHub repository {repo}",
        event_time=_when(record, context),
        variant=severity or None,
        user=_person(record),
        repository=repo,
        evidence=compact({**evidence, "action": record.action}),
    )
    return Outcome((event,))


def _current(record: GitHubEvent) -> tuple[str, dict[str, str]]:
    """Natural key and evidence of a `dependabot_alert` payload."""
    alert = record.payload.get("alert")
    advisory = text(alert, "security_advisory", "ghsa_id")
    return f"alert/{required(record, 'alert', 'number')}", {
        "package": text(alert, "dependency", "package", "name"),
        "ecosystem": text(alert, "dependency", "package", "ecosystem"),
        "manifest": text(alert, "dependency", "manifest_path"),
        "vulnerable_range": text(alert, "security_vulnerability", "vulnerable_version_range"),
        "first_patched_version": text(
            alert, "security_vulnerability", "first_patched_version", "identifier"
        ),
        "advisory": advisory,
        "cve": text(alert, "security_advisory", "cve_id"),
        "severity": text(alert, "security_advisory", "severity")
        or text(alert, "security_vulnerability", "severity"),
        "url": text(alert, "html_url"),
    }


def _legacy(record: GitHubEvent) -> tuple[str, dict[str, str]]:
    """Natural key and evidence of a legacy `repository_vulnerability_alert` payload."""
    alert = record.payload.get("alert")
    return f"vulnerability-alert/{required(record, 'alert', 'id')}", {
        "package": text(alert, "affected_package_name"),
        "vulnerable_range": text(alert, "affected_range"),
        "first_patched_version": text(alert, "fixed_in"),
        "advisory": text(alert, "ghsa_id"),
        "cve": text(alert, "external_identifier"),
        "severity": text(alert, "severity"),
        "url": text(alert, "external_reference"),
    }


def _person(record: GitHubEvent) -> str | None:
    """The sender's login when a person acted (reopened); GitHub or a bot only reports the alert."""
    if text(record.payload, "sender", "type") not in ("User", ""):
        return None
    return text(record.payload, "sender", "login") or None


def _when(record: GitHubEvent, context: Context) -> str:
    """When the alert (re)appeared: its creation, or its last update for a reopening."""
    created = text(record.payload, "alert", "created_at")
    updated = text(record.payload, "alert", "updated_at")
    first = created if record.action in ("created", "create") else updated
    return event_time(context, first, created)


RULE = Rule(DETECTION, detect)
