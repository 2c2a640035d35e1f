"""How the GitHub payloads the detections read are shaped: alerts and pull requests, normalised.

Kept apart from the detections so each rule reads as its decision, and so the two alert schemas
(current `dependabot_alert`, legacy `repository_vulnerability_alert`) and the two ways of seeing a
pull request (`pull_request`, `check_suite`) each have one reader.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from lambdas.detections.github.common import GitHubEvent, dig, required, text, truncate


class Alert(NamedTuple):
    """A vulnerable-dependency alert: its key within the repository and its evidence."""

    key: str
    evidence: dict[str, str]
    times: tuple[str, ...]


class Sighting(NamedTuple):
    """One pull request seen in a delivery, and the login behind it."""

    number: str
    login: str
    association: str
    evidence: dict[str, Any]
    time: str


def alert(record: GitHubEvent) -> Alert:
    """The alert of a current or legacy payload; times are the best first for this action."""
    if record.event == "repository_vulnerability_alert":
        return _legacy_alert(record)
    return _current_alert(record)


def sightings(record: GitHubEvent) -> list[Sighting]:
    """The pull requests a `pull_request` or `check_suite` delivery shows."""
    if record.event == "pull_request":
        return [_from_pull_request(record)]
    return _from_check_suite(record)


def _current_alert(record: GitHubEvent) -> Alert:
    """A `dependabot_alert` payload."""
    found = record.payload.get("alert")
    created, updated = text(found, "created_at"), text(found, "updated_at")
    evidence = {
        "package": text(found, "dependency", "package", "name"),
        "ecosystem": text(found, "dependency", "package", "ecosystem"),
        "manifest": text(found, "dependency", "manifest_path"),
        "vulnerable_range": text(found, "security_vulnerability", "vulnerable_version_range"),
        "first_patched_version": text(
            found, "security_vulnerability", "first_patched_version", "identifier"
        ),
        "advisory": text(found, "security_advisory", "ghsa_id"),
        "cve": text(found, "security_advisory", "cve_id"),
        "severity": text(found, "security_advisory", "severity")
        or text(found, "security_vulnerability", "severity"),
        "url": text(found, "html_url"),
    }
    # A reopened or reintroduced alert counts from when it came back, not from its creation.
    times = (created, updated) if record.action == "created" else (updated, created)
    return Alert(f"alert/{required(record, 'alert', 'number')}", evidence, times)


def _legacy_alert(record: GitHubEvent) -> Alert:
    """A legacy `repository_vulnerability_alert` payload (what Splunk's rule read)."""
    found = record.payload.get("alert")
    evidence = {
        "package": text(found, "affected_package_name"),
        "vulnerable_range": text(found, "affected_range"),
        "first_patched_version": text(found, "fixed_in"),
        "advisory": text(found, "ghsa_id"),
        "cve": text(found, "external_identifier"),
        "severity": text(found, "severity"),
        "url": text(found, "external_reference"),
    }
    key = f"vulnerability-alert/{required(record, 'alert', 'id')}"
    return Alert(key, evidence, (text(found, "created_at"),))


def _from_pull_request(record: GitHubEvent) -> Sighting:
    """The pull request of a `pull_request` delivery, with its author's login and association."""
    pr = record.payload.get("pull_request")
    return Sighting(
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
        time=text(pr, "created_at" if record.action == "opened" else "updated_at"),
    )


def _from_check_suite(record: GitHubEvent) -> list[Sighting]:
    """Pull requests into this repository listed by a `check_suite`, with the SENDER's login.

    The sender is the authenticated account that pushed; the commit author name is free text
    anyone can set, so it is never used. A suite carries no author association.
    """
    sender = required(record, "sender", "login")
    suite = record.payload.get("check_suite")
    listed = dig(suite, "pull_requests")
    base_id = dig(record.payload, "repository", "id")
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
