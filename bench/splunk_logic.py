"""A minimal port of what Splunk's Dev Sec Ops searches fire on, defects included: a yardstick.

Each function takes one corpus case (see bench/corpus/) and answers whether Splunk's search, as
shipped, would have produced a result row for it. The ports keep Splunk's known weaknesses on
purpose: allow-lists left at their placeholder, severity names ECR never writes, reads of scan
findings instead of scans, legacy GitHub payloads only, substring and multivalue matching in the
CircleCI searches, an undecoded wildcard list for LFI, any dotted quad for RFI, and `Pulling`
events only for scanner images. A search also drops a row when one of its grouping fields is
empty; where that matters (a push without a tag, an alert without a fix) the port does too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from functools import cache
from typing import Any

from lambdas.detections.kubernetes.targets import load_paths

Case = Mapping[str, Any]
# Placeholder values Splunk shipped in its allow-list macros: nobody real matches them.
ECR_USERS_PLACEHOLDER = ("user",)
GITHUB_USERS_PLACEHOLDER = ("user_names_here",)
# Splunk's lookups: workflow -> mandatory job, job -> mandatory step.
MANDATORY_JOB = {"deployment": "k8s-security"}
MANDATORY_STEP = {"k8s-security": "Run Kube Hunter"}
# The access-line head Splunk's extraction needs: the remote user must be "-".
ACCESS = re.compile(r'^(\S+) - - \[[^\]]*\] "([^"]*)" ')
DOTTED_QUAD = re.compile(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}")
SCANNERS = ("kube-hunter", "kube-bench", "kube-recon")


def _findings_read(case: Case, severities: frozenset[str]) -> bool:
    """A DescribeImageScanFindings read whose basic findings hold one of the severities."""
    detail = case["input"].get("cloudtrail") or {}
    if detail.get("eventName") != "DescribeImageScanFindings":
        return False  # completed scans and Inspector findings are never looked at
    if not (detail.get("userIdentity") or {}).get("principalId"):
        return False
    listing = (detail.get("responseElements") or {}).get("imageScanFindings") or {}
    # Only `findings` (basic scanning) is expanded; `enhancedFindings` is ignored.
    return any(
        str(item.get("severity", "")).upper() in severities
        for item in listing.get("findings") or ()
    )


def scanning_high(case: Case) -> bool:
    """Fires on a read with a HIGH finding; CRITICAL is not among the values it keeps."""
    return _findings_read(case, frozenset({"HIGH"}))


def scanning_medium(case: Case) -> bool:
    """Fires on a read with a MEDIUM finding."""
    return _findings_read(case, frozenset({"MEDIUM"}))


def scanning_low(case: Case) -> bool:
    """Fires on a read with LOW, INFORMATIONAL or UNKNOWN (ECR writes UNDEFINED, never UNKNOWN)."""
    return _findings_read(case, frozenset({"LOW", "INFORMATIONAL", "UNKNOWN"}))


def _push(case: Case) -> Mapping[str, Any] | None:
    """A PutImage record as Splunk groups it (None when a grouping field such as the tag is empty).

    The error code is never checked, so a refused push counts like a successful one.
    """
    detail = case["input"].get("cloudtrail") or {}
    if detail.get("eventSource") != "ecr.amazonaws.com" or detail.get("eventName") != "PutImage":
        return None
    if not (detail.get("requestParameters") or {}).get("imageTag"):
        return None
    return detail


def upload_outside_business_hours(case: Case) -> bool:
    """Fires on a push before 08:00 or from 20:00 UTC, or on a UTC Saturday or Sunday."""
    detail = _push(case)
    if detail is None:
        return False
    moment = datetime.fromisoformat(detail["eventTime"].replace("Z", "+00:00")).astimezone(UTC)
    return moment.hour >= 20 or moment.hour < 8 or moment.weekday() >= 5


def upload_unknown_user(case: Case) -> bool:
    """Fires on a push whose user name is not in the allow-list macro, left at its placeholder."""
    detail = _push(case)
    if detail is None:
        return False
    identity = detail.get("userIdentity") or {}
    issuer = (identity.get("sessionContext") or {}).get("sessionIssuer") or {}
    name = identity.get("userName") or issuer.get("userName") or str(identity.get("arn", ""))
    return bool(name) and name not in ECR_USERS_PLACEHOLDER


def dependabot_alert(case: Case) -> bool:
    """Fires on a legacy vulnerability alert being created, when every grouped field is present."""
    payload = case["input"]["payload"]
    alert = payload.get("alert") or {}
    if "id" not in alert or payload.get("action") != "create":
        return False  # current `dependabot_alert` payloads have a number and other actions
    fields = ("affected_package_name", "affected_range", "created_at", "external_identifier")
    fields += ("external_reference", "fixed_in", "severity")
    return all(alert.get(field) for field in fields)


def pull_request_from_unknown_user(case: Case) -> bool:
    """Fires on a check suite listing pull requests, judged by the commit author's typed name."""
    payload = case["input"]["payload"]
    suite = payload.get("check_suite") or {}
    listed = [pr for pr in suite.get("pull_requests") or () if pr.get("id")]
    author = ((suite.get("head_commit") or {}).get("author") or {}).get("name")
    return bool(listed) and bool(author) and author not in GITHUB_USERS_PLACEHOLDER


def disable_security_job(case: Case) -> bool:
    """Fires when no job name of a listed workflow contains its mandatory job's name."""
    data = case["input"]
    mandatory = MANDATORY_JOB.get(data["webhook"]["workflow"]["name"])
    names = [job["name"] for job in data.get("jobs") or ()]
    # Statuses are not read: a job that was skipped or canceled still "ran".
    return mandatory is not None and not any(mandatory in name for name in names)


def disable_security_step(case: Case) -> bool:
    """Fires when any one step name lacks the mandatory step (multivalue split: one row a step)."""
    data = case["input"]
    mandatory = MANDATORY_STEP.get(data["webhook"]["job"]["name"])
    steps = data.get("steps") or ()
    return mandatory is not None and any(mandatory not in step for step in steps)


def _requests(case: Case) -> Iterator[str]:
    """The request lines of the access lines Splunk's extraction can read."""
    for line in case["input"]["lines"]:
        found = ACCESS.match(line)
        if found:
            yield found[2]


@cache
def _lfi_patterns() -> tuple[str, ...]:
    """Splunk's LFI lookup rows as wildcard patterns (lower case: the lookup ignores case)."""
    return tuple(f"*{path}*" for path in load_paths())


def nginx_ingress_lfi(case: Case) -> bool:
    """Fires when the raw request line, undecoded, matches a `*/<path>*` row of the lookup."""
    patterns = _lfi_patterns()
    return any(
        fnmatchcase(request.lower(), pattern) for request in _requests(case) for pattern in patterns
    )


def nginx_ingress_rfi(case: Case) -> bool:
    """Fires when the URL holds anything shaped like an IPv4 address, anywhere."""
    for request in _requests(case):
        parts = request.split()
        url = parts[1] if len(parts) > 1 else ""
        if DOTTED_QUAD.search(url):
            return True
    return False


def scanner_image_pulling(case: Case) -> bool:
    """Fires on a `Pulling image` Event message naming a scanner anywhere (substring, any case)."""
    for line in case["input"]["lines"]:
        data = json.loads(line)
        data = data.get("object", data)
        if str(data.get("apiVersion", "")).startswith("audit.k8s.io/"):
            continue  # audit logs are another source; the search reads kubelet Events only
        message = str(data.get("message", "")).lower()
        host = (data.get("source") or {}).get("host")
        if host and any(fnmatchcase(message, f"pulling image *{name}*") for name in SCANNERS):
            return True
    return False


SPLUNK: dict[str, Callable[[Case], bool]] = {
    "aws_ecr_container_scanning_findings_high": scanning_high,
    "aws_ecr_container_scanning_findings_medium": scanning_medium,
    "aws_ecr_container_scanning_findings_low_informational_unknown": scanning_low,
    "aws_ecr_container_upload_outside_business_hours": upload_outside_business_hours,
    "aws_ecr_container_upload_unknown_user": upload_unknown_user,
    "github_dependabot_alert": dependabot_alert,
    "github_pull_request_from_unknown_user": pull_request_from_unknown_user,
    "circle_ci_disable_security_job": disable_security_job,
    "circle_ci_disable_security_step": disable_security_step,
    "kubernetes_nginx_ingress_lfi": nginx_ingress_lfi,
    "kubernetes_nginx_ingress_rfi": nginx_ingress_rfi,
    "kubernetes_scanner_image_pulling": scanner_image_pulling,
}
