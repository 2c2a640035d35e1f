"""GitHub Pull Request from Unknown User: a pull request by someone the team does not know."""

from __future__ import annotations

from lambdas.detections.base import NOTHING, Context, Detection, Outcome, Rule
from lambdas.detections.github.common import GitHubEvent, compact, event_time, repository
from lambdas.detections.github.shapes import sightings

DETECTION = Detection(
    id="github_pull_request_from_unknown_user",
    title="GitHub Pull Request from Unknown User",
    source="github",
    default_score=27,
    mitre_attack=("T1195.001", "T1195"),
    phase="code",
    description="A pull request was opened by a login that is neither listed nor trusted.",
)

# `check_suite` is what Splunk's rule read. It carries no author association and lists no pull
# request whose head is in a fork, so `pull_request` is the better signal; both are read, and a
# pull request seen through both is one risk event (same natural key).
TRIGGERS = {
    "pull_request": frozenset({"opened", "reopened"}),
    "check_suite": frozenset({"completed", "requested", "rerequested"}),
}


def detect(record: GitHubEvent, context: Context) -> Outcome:
    """One risk event per pull request whose login is not known and not trusted."""
    if record.action not in TRIGGERS.get(record.event, ()):
        return NOTHING

    repo = repository(record, context)
    known = {login.lower() for login in context.settings.known_github_users}
    trusted = {name.upper() for name in context.settings.trusted_github_associations}

    events = tuple(
        DETECTION.risk_event(
            context,
            risk_object=repo,
            risk_object_type="repository",
            natural_key=f"{repo}#pull/{pr.number}",
            message=f"Pull request #{pr.number} to {repo} opened by unknown GitHub user {pr.login}",
            event_time=event_time(context, pr.time),
            user=pr.login,
            repository=repo,
            evidence=compact({**pr.evidence, "association": pr.association, "via": record.event}),
        )
        for pr in sightings(record)
        if pr.login.lower() not in known and pr.association.upper() not in trusted
    )
    return Outcome(events)


RULE = Rule(DETECTION, detect)
