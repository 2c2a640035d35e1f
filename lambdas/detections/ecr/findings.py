"""Scan findings of one image and one severity band, kept as state and reported as one risk event.

Each band of each image (repository + digest) has one state item: the findings known now (all of
them, by key, so Inspector's one-finding events add up and a redelivered finding counts once), the
time and channel of the last change, and the principal who pushed the image once CloudTrail says so.
The band's risk event is rebuilt from that item whenever it changes, with the same natural key
(digest + band), so the stored risk event is updated in place rather than repeated.

Inspector sends one event per finding, many at once after a scan, so two invocations may fold
findings of the same image and band at the same moment. The pipeline writes state only if it is
unchanged since it was read, and evaluates the record again otherwise, so no finding is dropped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from lambdas.detections.base import Context, Detection, Outcome
from lambdas.detections.ecr.records import Finding, ImagePush, ImageScan, band_of
from lambdas.shared.risk import RiskEvent
from lambdas.shared.schema import TTL_ATTRIBUTE

EVIDENCE_LIMIT = 20  # findings listed in a risk event's evidence, highest CVSS first
# NOTE: bounds a state item (~60 bytes a finding) well under DynamoDB's 400 KB. Past it, the
# highest-scored findings are kept and the count stops growing: a known, stated undercount.
TRACKED_LIMIT = 2000
WORDS = {"high": "high or critical", "medium": "medium", "low": "low, informational or undefined"}

Summary = list[str]  # [id, severity, package, cvss or ""]: strings only, DynamoDB-friendly


def state_key(repository: str, digest: str, band: str) -> str:
    """The state item of one band of one image (repository in its canonical form)."""
    return f"ecr#image#{repository}#{digest}#{band}"


def on_scan(detection: Detection, band: str, scan: ImageScan, context: Context) -> Outcome:
    """Fold a scan into the band's state; report the band while it holds findings."""
    repository = context.settings.repository(scan.repository)
    key = state_key(repository, scan.digest, band)
    before = _fresh(context.state.get(key))
    known = before.get("findings", {})
    findings = _merge(known, scan, band)
    changed = findings != known
    if not changed and not _has_band(scan, band):
        return Outcome()

    after = {**before, "findings": findings, "ecr_repository": scan.repository}
    if changed:
        # Time, channel and reader describe the last change, so a mere re-read changes nothing.
        after.update(event_time=scan.event_time, observed_via=scan.observed_via)
        after.update(tags=list(scan.tags), reader=dict(scan.reader or {}))
    if not findings:
        return Outcome(state={key: after})  # nothing left in this band: no risk to report

    event = risk_event(detection, band, context, repository, scan.digest, after)
    return Outcome((event,), {key: after} if changed else {})


def on_push(detection: Detection, band: str, push: ImagePush, context: Context) -> Outcome:
    """Remember the image's first pusher; re-report known findings so they name that user."""
    if push.error or not push.digest:
        return Outcome()

    repository = context.settings.repository(push.repository)
    key = state_key(repository, push.digest, band)
    before = _fresh(context.state.get(key))
    if before.get("user"):
        return Outcome()  # a later re-tag of the same content does not change who introduced it

    after = {**before, "user": push.principal.arn, "pushed_at": push.event_time}
    if not before.get("findings"):
        return Outcome(state={key: after})  # the scan, when it comes, will name the user

    event = risk_event(detection, band, context, repository, push.digest, after)
    return Outcome((event,), {key: after})


def risk_event(
    detection: Detection,
    band: str,
    context: Context,
    repository: str,
    digest: str,
    state: Mapping[str, Any],
) -> RiskEvent:
    """The band's one risk event, built from its state alone (so equal state, equal event)."""
    findings: dict[str, Summary] = state["findings"]
    count = len(findings)
    listed = _ranked(findings.values())[:EVIDENCE_LIMIT]
    noun = "vulnerability" if count == 1 else "vulnerabilities"
    return detection.risk_event(
        context,
        risk_object=repository,
        risk_object_type="repository",
        natural_key=f"{digest}#{band}",
        message=f"{count} {WORDS[band]} {noun} in image {digest[:19]} of {repository}",
        event_time=state["event_time"],
        count=count,
        user=state.get("user"),
        repository=repository,
        evidence=_evidence(state, digest, listed, count),
    )


def _evidence(
    state: Mapping[str, Any], digest: str, listed: list[Summary], count: int
) -> dict[str, Any]:
    """What a reader needs: the image, the severities, the worst findings, and who was involved."""
    severities = Counter(summary[1] for summary in state["findings"].values())
    scores = [float(summary[3]) for summary in listed if summary[3]]
    evidence: dict[str, Any] = {
        "image_digest": digest,
        "ecr_repository": state.get("ecr_repository"),
        "image_tags": state.get("tags") or None,
        "severity_counts": dict(sorted(severities.items())),
        "highest_cvss": max(scores, default=None),
        "findings": [_shown(summary) for summary in listed],
        "findings_not_listed": max(count - len(listed), 0) or None,
        "observed_via": state.get("observed_via"),
        "read_by": state.get("reader") or None,
        "pushed_at": state.get("pushed_at"),
    }
    return {key: value for key, value in evidence.items() if value is not None}


def _merge(known: Mapping[str, Summary], scan: ImageScan, band: str) -> dict[str, Summary]:
    """The band's findings after a scan: a whole listing replaces them, a part adds to them."""
    mine = {f.key: _summary(f) for f in scan.findings if band_of(f.severity) == band}
    if scan.complete:
        return _bounded(mine)

    # A finding that moved to another band, or was closed or suppressed, leaves this one.
    gone = set(scan.resolved) | {f.key for f in scan.findings}
    kept = {key: value for key, value in known.items() if key not in gone}
    return _bounded({**kept, **mine})


def _has_band(scan: ImageScan, band: str) -> bool:
    """True when the scan carries at least one finding of the band."""
    return any(band_of(finding.severity) == band for finding in scan.findings)


def _summary(finding: Finding) -> Summary:
    """A finding as stored in state."""
    cvss = "" if finding.cvss is None else f"{finding.cvss:g}"
    return [finding.id, finding.severity, finding.package, cvss]


def _shown(summary: Summary) -> dict[str, Any]:
    """A finding as shown in evidence."""
    shown: dict[str, Any] = {"id": summary[0], "severity": summary[1]}
    if summary[2]:
        shown["package"] = summary[2]
    if summary[3]:
        shown["cvss"] = float(summary[3])
    return shown


def _ranked(summaries: Iterable[Summary]) -> list[Summary]:
    """Findings, highest CVSS first, then by id, so the listed ones are stable."""
    return sorted(summaries, key=_rank)


def _rank(summary: Summary) -> tuple[float, str, str]:
    """Sort key of a finding: unscored findings after every scored one."""
    return (-float(summary[3]) if summary[3] else 1.0, summary[0], summary[2])


def _bounded(findings: dict[str, Summary]) -> dict[str, Summary]:
    """At most TRACKED_LIMIT findings, keeping the highest scored."""
    if len(findings) <= TRACKED_LIMIT:
        return findings
    return dict(sorted(findings.items(), key=lambda item: _rank(item[1]))[:TRACKED_LIMIT])


def _fresh(item: Mapping[str, Any] | None) -> dict[str, Any]:
    """A state item without its stored expiry, so writing it back renews the expiry."""
    return {key: value for key, value in (item or {}).items() if key != TTL_ATTRIBUTE}
