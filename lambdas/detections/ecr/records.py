"""The ECR records the detections read, parsed from what AWS delivers.

Three shapes carry scan findings: the listing DescribeImageScanFindings returns (called by the
handler when ECR reports a completed scan, or read from a CloudTrail record of someone else's call),
and Inspector's one-finding events. All become an `ImageScan`. A CloudTrail `PutImage` becomes an
`ImagePush`. Parsing is pure; a record that cannot be used raises `InputError` naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from lambdas.detections.ecr.identity import Principal, principal_of
from lambdas.shared.exceptions import InputError

# Severity labels of ECR basic scanning and of Inspector, by the band each detection covers.
# Splunk's "low" rule looked for UNKNOWN, which ECR never writes: its value is UNDEFINED.
BANDS: dict[str, frozenset[str]] = {
    "high": frozenset({"CRITICAL", "HIGH"}),
    "medium": frozenset({"MEDIUM"}),
    "low": frozenset({"LOW", "INFORMATIONAL", "UNDEFINED", "UNKNOWN", "UNTRIAGED"}),
}
INACTIVE = frozenset({"CLOSED", "SUPPRESSED"})


def band_of(severity: str) -> str | None:
    """The band (high, medium, low) of a severity label, or None for a label nobody defined."""
    label = severity.upper()
    return next((band for band, labels in BANDS.items() if label in labels), None)


class Finding(NamedTuple):
    """One vulnerability in one image, reduced to what the evidence shows."""

    key: str  # stable within the image: Inspector's finding id, else the CVE and its package
    id: str
    severity: str
    package: str = ""
    cvss: float | None = None


class ImageScan(NamedTuple):
    """Findings of one image: a whole listing (`complete`) or a part of it."""

    repository: str  # the ECR repository name, as AWS writes it
    digest: str
    event_time: str
    observed_via: str  # ecr_scan, cloudtrail or inspector2
    findings: tuple[Finding, ...] = ()
    complete: bool = False
    resolved: tuple[str, ...] = ()  # keys of findings no longer active (closed, suppressed)
    tags: tuple[str, ...] = ()
    reader: Mapping[str, str] | None = None  # who read the findings: evidence, never the user
    skipped: int = 0  # findings dropped for a missing name or an unknown severity


class ImagePush(NamedTuple):
    """A CloudTrail `PutImage` call: who pushed which image where."""

    repository: str
    digest: str | None
    tags: tuple[str, ...]
    event_time: str
    event_id: str
    principal: Principal
    source_ip: str
    user_agent: str
    error: str | None = None  # CloudTrail errorCode of a failed push

    def evidence(self) -> dict[str, Any]:
        """What a reader checks about a push: the image, the role session, where it came from."""
        evidence = {
            "ecr_repository": self.repository,
            "image_digest": self.digest,
            "image_tags": list(self.tags) or None,
            "session": self.principal.session,
            "principal_type": self.principal.kind,
            "source_ip": self.source_ip or None,  # may be "AWS Internal": shown as given
            "user_agent": self.user_agent or None,
        }
        return {key: value for key, value in evidence.items() if value is not None}


def scan_from_listing(
    repository: str, digest: str, listing: Mapping[str, Any], **fields: Any
) -> ImageScan:
    """An ImageScan from `imageScanFindings` (basic `findings` and/or `enhancedFindings`)."""
    basic = [_basic(item) for item in listing.get("findings") or ()]
    enhanced = [_enhanced(item) for item in listing.get("enhancedFindings") or ()]
    parsed = [item for item in basic + enhanced if item is not None]
    active = tuple(finding for finding, status in parsed if status not in INACTIVE)
    resolved = tuple(finding.key for finding, status in parsed if status in INACTIVE)

    skipped = len(basic) + len(enhanced) - len(parsed)
    return ImageScan(
        repository, digest, findings=active, resolved=resolved, skipped=skipped, **fields
    )


def scan_from_inspector(detail: Mapping[str, Any], event_time: str) -> ImageScan | None:
    """An ImageScan holding the one finding of an `Inspector2 Finding` event (None: not ECR)."""
    image = _ecr_image(detail)
    if image is None:
        return None
    parsed = _enhanced(detail)
    if parsed is None:
        raise InputError("inspector2: finding has no usable severity or id")

    finding, status = parsed
    inactive = status in INACTIVE
    return ImageScan(
        repository=_text(image, "repositoryName", "inspector2"),
        digest=_text(image, "imageHash", "inspector2"),
        event_time=event_time,
        observed_via="inspector2",
        findings=() if inactive else (finding,),
        resolved=(finding.key,) if inactive else (),
        tags=tuple(image.get("imageTags") or ()),
    )


def scan_from_cloudtrail(detail: Mapping[str, Any]) -> ImageScan | None:
    """An ImageScan from a CloudTrail DescribeImageScanFindings record (None: failed or pending)."""
    response = detail.get("responseElements") or {}
    status = (response.get("imageScanStatus") or {}).get("status")
    if detail.get("errorCode") or status != "COMPLETE":
        return None

    request = detail.get("requestParameters") or {}
    image = response.get("imageId") or request.get("imageId") or {}
    reader = principal_of(detail.get("userIdentity"))
    # One page of a longer listing adds to what is known; only a single-page answer is the list.
    whole = not request.get("nextToken") and not response.get("nextToken")
    return scan_from_listing(
        _text({**request, **response}, "repositoryName", "cloudtrail"),
        _text(image, "imageDigest", "cloudtrail"),
        response.get("imageScanFindings") or {},
        event_time=_text(detail, "eventTime", "cloudtrail"),
        observed_via="cloudtrail",
        complete=whole,
        tags=tuple(filter(None, [image.get("imageTag")])),
        reader={"principal": reader.arn, "source_ip": str(detail.get("sourceIPAddress", ""))},
    )


def push_from_cloudtrail(detail: Mapping[str, Any]) -> ImagePush:
    """An ImagePush from a CloudTrail PutImage record."""
    request = detail.get("requestParameters") or {}
    image = ((detail.get("responseElements") or {}).get("image") or {}).get("imageId") or {}
    tag = image.get("imageTag") or request.get("imageTag")
    return ImagePush(
        repository=_text(request, "repositoryName", "cloudtrail"),
        digest=image.get("imageDigest") or request.get("imageDigest"),
        tags=(tag,) if tag else (),
        event_time=_text(detail, "eventTime", "cloudtrail"),
        event_id=str(detail.get("eventID") or detail.get("requestID") or ""),
        principal=principal_of(detail.get("userIdentity")),
        source_ip=str(detail.get("sourceIPAddress", "")),
        user_agent=str(detail.get("userAgent", "")),
        error=detail.get("errorCode"),
    )


def _basic(item: Mapping[str, Any]) -> tuple[Finding, str] | None:
    """A basic-scanning finding (name, severity, attribute list), or None when unusable."""
    name, severity = item.get("name"), str(item.get("severity") or "")
    if not name or band_of(severity) is None:
        return None
    attributes = {a.get("key"): a.get("value") for a in item.get("attributes") or ()}
    package = str(attributes.get("package_name") or "")
    score = attributes.get("CVSS3_SCORE") or attributes.get("CVSS2_SCORE")
    return Finding(f"{name}|{package}", str(name), severity.upper(), package, _number(score)), ""


def _enhanced(item: Mapping[str, Any]) -> tuple[Finding, str] | None:
    """An Inspector finding (API `enhancedFindings` or event detail), or None when unusable."""
    details = item.get("packageVulnerabilityDetails") or {}
    name = details.get("vulnerabilityId") or item.get("title")
    arn, severity = str(item.get("findingArn") or ""), str(item.get("severity") or "")
    if not name or not arn or band_of(severity) is None:
        return None

    packages = details.get("vulnerablePackages") or [{}]
    scores = [_number(cvss.get("baseScore")) for cvss in details.get("cvss") or ()]
    score = _number(item.get("score") or item.get("inspectorScore")) or max(
        (s for s in scores if s is not None), default=None
    )
    key = arn.rsplit("/", 1)[-1]
    finding = Finding(key, str(name), severity.upper(), str(packages[0].get("name", "")), score)
    return finding, str(item.get("status") or "ACTIVE").upper()


def _ecr_image(detail: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ECR image an Inspector finding is about; None for EC2 or Lambda findings."""
    for resource in detail.get("resources") or ():
        if resource.get("type") == "AWS_ECR_CONTAINER_IMAGE":
            return (resource.get("details") or {}).get("awsEcrContainerImage") or {}
    return None


def _text(data: Mapping[str, Any], key: str, source: str = "") -> str:
    """A required string field; InputError names the field (never its value) when it is empty."""
    value = data.get(key)
    if not value and source:
        raise InputError(f"{source}: {key} is missing")
    return str(value or "")


def _number(value: Any) -> float | None:
    """A CVSS score as a float, None when absent or not a number."""
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
