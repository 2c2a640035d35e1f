"""GitHub Pull Request from Unknown User: a pull request by someone the team does not know."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lambdas.detections.base import NOTHING, Context, Detection, Outcome, Rule
from lambdas.detections.github.common import (
    GitHubEvent,
    compact,
    dig,
    event_time,
    repository,
    required,
    text,
    truncate,
)

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
# request whose head is in a fork, so `pull_request` is the better signal; both are read.
TRIGGERS = {
    "pull_request": frozenset({"opened", "reopened"}),
    "check_suite": frozenset({"completed", "requested", "rerequested"}),
}


@dataclass(frozen=True)
class Sighting:
    """One pull request seen in a delivery, and who is behind it."""

    number: str
    login: str
    association: str
    evidence: dict[str, Any]
    time: str


def detect(record: GitHubEvent, context: Context) -> Outcome:
    """One risk event per pull request (keyed by number) whose author is unknown."""
    if record.action not in TRIGGERS.get(record.event, ()):
        return NOTHING

    repo = repository(record, context)
    seen = (
        _from_pull_request(record) if record.event == "pull_request" else _from_check_suite(record)
    )
    known = {login.lower() for login in context.settings.known_github_users}
    trusted = {association.upper() for association in context.settings.trusted_github_associations}

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
        for pr in seen
        if pr.login.lower() not in known and pr.association.upper() not in trusted
    )
    return Outcome(events)


def _from_pull_request(record: GitHubEvent) -> list[Sighting]:
    """The pull request of a `pull_request` delivery, judged by its author's login."""
    pr = record.payload.get("pull_request")
    time_field = "created_at" if record.action == "opened" else "updated_at"
    return [
        Sighting(
            number=required(record, "pull_request", "number"),
            login=required(record, "pull_request", "user", "login"),
            association=text(pr, "author_association"),
            evidence={
                "pull_request": text(pr, "number"),
                "url": text(pr, "html_url"),
                "head_repository": text(pr, "head", "repo", "full_name"),
                "fork": dig(pr, "head", "repo", "fork") is True,
                "title": truncate(text(pr, "title")),
            },
            time=text(pr, time_field),
        )
    ]


def _from_check_suite(record: GitHubEvent) -> list[Sighting]:
    """Pull requests of a `check_suite` delivery into this repository, judged by the sender."""
    sender = required(record, "sender", "login")
    suite = record.payload.get("check_suite")
    base_id = dig(record.payload, "repository", "id")
    listed = dig(suite, "pull_requests")
    html = text(record.payload, "repository", "html_url")

    return [
        Sighting(
            number=text(pr, "number"),
            login=sender,
            association="",
            evidence={
                "pull_request": text(pr, "number"),
                "url": f"{html}/pull/{text(pr, 'number')}" if html else "",
                "head_branch": text(pr, "head", "ref"),
            },
            time=text(suite, "updated_at") or text(suite, "created_at"),
        )
        for pr in (listed if isinstance(listed, list) else [])
        # A suite may list pull requests of other repositories; their numbers are not ours.
        if text(pr, "number") and dig(pr, "base", "repo", "id") in (base_id, None)
    ]


RULE = Rule(DETECTION, detect)
