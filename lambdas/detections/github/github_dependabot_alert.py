"""GitHub Dependabot Alert: a repository depends on a package with a known vulnerability."""

from __future__ import annotations

from lambdas.detections.base import NOTHING, Context, Detection, Outcome, Rule
from lambdas.detections.github.common import GitHubEvent, compact, event_time, repository, text
from lambdas.detections.github.shapes import alert

DETECTION = Detection(
    id="github_dependabot_alert",
    title="GitHub Dependabot Alert",
    source="github",
    default_score=27,
    mitre_attack=("T1195.001", "T1195"),
    phase="code",
    description="Dependabot opened (or reopened) an alert for a vulnerable dependency.",
)

# Actions meaning a vulnerable dependency is present (again); dismissed, fixed or withdrawn alerts
# add no risk. Unlike Splunk's rule, an alert with no patched version yet still counts.
TRIGGERS = {
    "dependabot_alert": frozenset({"created", "reopened", "auto_reopened", "reintroduced"}),
    "repository_vulnerability_alert": frozenset({"create"}),
}
# Default scores by advisory severity. Precedence: `scores["github_dependabot_alert.high"]`, then
# `scores["github_dependabot_alert"]`, then these, then the detection's 27.
SEVERITY_SCORES = {"critical": 49, "high": 35}


def detect(record: GitHubEvent, context: Context) -> Outcome:
    """One risk event per alert on the repository, scored by the advisory's severity."""
    if record.action not in TRIGGERS.get(record.event, ()):
        return NOTHING

    repo = repository(record, context)
    found = alert(record)
    severity = found.evidence["severity"].lower()
    package = found.evidence["package"] or "?"

    scored = DETECTION._replace(
        default_score=SEVERITY_SCORES.get(severity, DETECTION.default_score)
    )
    event = scored.risk_event(
        context,
        risk_object=repo,
        risk_object_type="repository",
        natural_key=f"{repo}#{found.key}",
        message=f"Vulnerable dependency {package} ({severity or 'unknown'} severity) "
        f"in GitHub repository {repo}",
        event_time=event_time(context, *found.times),
        variant=severity or None,
        user=_person(record),
        repository=repo,
        evidence=compact({**found.evidence, "action": record.action}),
    )
    return Outcome((event,))


def _person(record: GitHubEvent) -> str | None:
    """The sender when a person acted (reopened); GitHub itself only reports the alert."""
    if text(record.payload, "sender", "type") not in ("User", ""):
        return None
    return text(record.payload, "sender", "login") or None


RULE = Rule(DETECTION, detect)
