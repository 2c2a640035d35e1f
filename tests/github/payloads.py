"""GitHub payload builders for the detection tests: the fields GitHub sends, nothing more."""

from __future__ import annotations

from typing import Any

REPO = {
    "id": 1001,
    "full_name": "Acme-Corp/Payments",
    "html_url": "https://github.com/Acme-Corp/Payments",
}


def sender(login: str, kind: str = "User") -> dict[str, Any]:
    """A webhook `sender` object."""
    return {"login": login, "id": 77, "type": kind}


def dependabot_alert(
    action: str = "created", severity: str = "high", number: int = 14, who: str = "github"
) -> dict[str, Any]:
    """A current `dependabot_alert` payload."""
    return {
        "action": action,
        "alert": {
            "number": number,
            "state": "open",
            "dependency": {
                "package": {"ecosystem": "npm", "name": "lodash"},
                "manifest_path": "package-lock.json",
            },
            "security_advisory": {
                "ghsa_id": "GHSA-35jh-r3h4-6jhm",
                "cve_id": "CVE-2021-23337",
                "severity": severity,
            },
            "security_vulnerability": {
                "severity": severity,
                "vulnerable_version_range": "< 4.17.21",
                "first_patched_version": {"identifier": "4.17.21"},
            },
            "html_url": f"https://github.com/Acme-Corp/Payments/security/dependabot/{number}",
            "created_at": "2026-03-02T09:14:05Z",
            "updated_at": "2026-03-05T16:00:00Z",
        },
        "repository": REPO,
        "sender": sender(who, "Organization" if who == "github" else "User"),
    }


def legacy_alert(action: str = "create", alert_id: int = 91) -> dict[str, Any]:
    """A legacy `repository_vulnerability_alert` payload (what Splunk's rule read)."""
    return {
        "action": action,
        "alert": {
            "id": alert_id,
            "affected_package_name": "minimist",
            "affected_range": "< 1.2.6",
            "fixed_in": "1.2.6",
            "external_identifier": "CVE-2021-44906",
            "external_reference": "https://nvd.nist.gov/vuln/detail/CVE-2021-44906",
            "ghsa_id": "GHSA-xvch-5gv4-984h",
            "severity": "critical",
            "created_at": "2022-04-01T08:00:00Z",
        },
        "repository": REPO,
        "sender": sender("octocat"),
    }


def pull_request(
    action: str = "opened",
    login: str = "stranger",
    association: str = "NONE",
    number: int = 42,
    fork: bool = True,
    title: str = "Tidy the build",
) -> dict[str, Any]:
    """A `pull_request` payload into REPO."""
    head = {"full_name": f"{login}/Payments", "fork": True} if fork else {**REPO, "fork": False}
    return {
        "action": action,
        "number": number,
        "pull_request": {
            "number": number,
            "html_url": f"https://github.com/Acme-Corp/Payments/pull/{number}",
            "title": title,
            "user": {"login": login, "type": "User"},
            "author_association": association,
            "created_at": "2026-03-02T10:05:31Z",
            "updated_at": "2026-03-04T12:00:00Z",
            "head": {"ref": "patch-1", "repo": head},
            "base": {"ref": "main", "repo": REPO},
        },
        "repository": REPO,
        "sender": sender(login),
    }


def check_suite(
    who: str = "stranger", numbers: tuple[int, ...] = (42,), author_name: str = "stranger"
) -> dict[str, Any]:
    """A `check_suite` completed payload listing pull requests of REPO by number."""
    base = {"id": REPO["id"], "url": "https://api.github.com/repos/Acme-Corp/Payments"}
    return {
        "action": "completed",
        "check_suite": {
            "id": 5,
            "head_branch": "patch-1",
            "pull_requests": [
                {"number": n, "head": {"ref": "patch-1", "repo": base}, "base": {"repo": base}}
                for n in numbers
            ],
            "head_commit": {"message": "wip", "author": {"name": author_name}},
            "created_at": "2026-03-02T10:06:00Z",
            "updated_at": "2026-03-02T10:09:00Z",
        },
        "repository": REPO,
        "sender": sender(who),
    }
