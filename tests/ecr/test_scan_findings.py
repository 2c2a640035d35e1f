"""Scan findings: one risk event per image and severity band, on scans rather than on reads."""

from __future__ import annotations

import copy

import pytest

from lambdas.detections.ecr.findings import EVIDENCE_LIMIT
from lambdas.detections.ecr.records import scan_from_listing
from lambdas.ecr.inputs import record_of
from lambdas.shared.settings import Settings
from tests.conftest import load_event
from tests.ecr.builders import SERVER_DIGEST, Detector, basic_finding, inspector, scan_record

HIGH = "aws_ecr_container_scanning_findings_high"
MEDIUM = "aws_ecr_container_scanning_findings_medium"
LOW = "aws_ecr_container_scanning_findings_low_informational_unknown"
CLIENT = "devsecops/cat_dog_client"


def listing_scan(*findings: dict, complete: bool = True, digest: str = SERVER_DIGEST):
    """A scan of the cat_dog_server image holding the given basic findings."""
    return scan_from_listing(
        "devsecops/cat_dog_server",
        digest,
        {"findings": list(findings)},
        event_time="2026-12-03T10:00:00Z",
        observed_via="ecr_scan",
        complete=complete,
    )


def test_the_real_record_gives_three_risk_events_counting_2_14_and_88_findings() -> None:
    # GIVEN Splunk's recorded read: 2 HIGH, 14 MEDIUM, 22 LOW, 63 INFORMATIONAL, 3 UNDEFINED
    detector = Detector()

    # WHEN it is replayed
    events = detector.run(scan_record(load_event("cloudtrail/describe_image_scan_findings.json")))

    # THEN one risk event per band names the repository, counting every finding of the band
    counts = {event.detection: event.count for event in events}
    assert counts == {HIGH: 2, MEDIUM: 14, LOW: 88}
    assert {(e.risk_object, e.risk_object_type) for e in events} == {(CLIENT, "repository")}
    assert {e.risk_score for e in events} == {70, 21, 5}


def test_the_principal_who_read_the_findings_is_evidence_and_never_the_user() -> None:
    # GIVEN the real record, read by an assumed-role console session
    events = Detector().run(scan_record(load_event("cloudtrail/describe_image_scan_findings.json")))

    # THEN nobody is blamed for reading, but the reader is shown
    assert all(event.user is None for event in events)
    reader = events[0].evidence["read_by"]
    assert reader["principal"].startswith("arn:aws:iam::111111111111:role/")
    assert reader["source_ip"] == "154.16.165.133"


def test_undefined_findings_which_splunk_dropped_count_as_low() -> None:
    events = Detector().run(scan_record(load_event("cloudtrail/describe_image_scan_findings.json")))

    low = next(event for event in events if event.detection == LOW)
    assert low.evidence["severity_counts"] == {"INFORMATIONAL": 63, "LOW": 22, "UNDEFINED": 3}


def test_critical_findings_count_as_high() -> None:
    events = Detector().run(listing_scan(basic_finding("CVE-2021-3711", "CRITICAL", cvss="9.8")))

    assert [(event.detection, event.count) for event in events] == [(HIGH, 1)]
    assert events[0].evidence["highest_cvss"] == 9.8


def test_inspector_untriaged_findings_count_as_low() -> None:
    events = Detector().run(scan_record(inspector(severity="UNTRIAGED")))

    assert [event.detection for event in events] == [LOW]


def test_a_finding_with_an_unknown_severity_is_skipped_and_the_rest_still_count() -> None:
    scan = listing_scan(
        basic_finding("CVE-2021-1", "HIGH"), basic_finding("CVE-2021-2", "APOCALYPTIC")
    )

    events = Detector().run(scan)

    assert scan.skipped == 1
    assert [(event.detection, event.count) for event in events] == [(HIGH, 1)]


@pytest.mark.parametrize("status", ["CLOSED", "SUPPRESSED"])
def test_closed_or_suppressed_inspector_findings_add_no_risk(status: str) -> None:
    assert Detector().run(scan_record(inspector(status=status))) == []


def test_an_updated_inspector_finding_is_the_same_finding() -> None:
    # GIVEN a finding already reported
    detector = Detector()
    first = detector.run(scan_record(inspector()))

    # WHEN Inspector sends the same finding again, updated
    again = detector.run(scan_record(inspector()))

    # THEN it is the same risk event, still counting one finding
    assert [event.id for event in again] == [event.id for event in first]
    assert len(detector.stored()) == 1
    assert detector.stored()[0].count == 1


def test_inspector_findings_of_one_image_and_band_add_up_in_one_risk_event() -> None:
    detector = Detector()

    for number in range(3):
        detector.run(scan_record(inspector(finding=f"f{number}", cve=f"CVE-2021-000{number}")))

    stored = detector.stored(HIGH)
    assert len(stored) == 1
    assert stored[0].count == 3


def test_a_closed_finding_no_longer_counts_when_its_band_is_reported_again() -> None:
    # GIVEN two active high findings, then one of them closed
    detector = Detector()
    detector.run(scan_record(inspector(finding="a", cve="CVE-2021-0001")))
    detector.run(scan_record(inspector(finding="b", cve="CVE-2021-0002")))
    detector.run(scan_record(inspector(finding="a", status="CLOSED")))

    # WHEN a third finding arrives
    events = detector.run(scan_record(inspector(finding="c", cve="CVE-2021-0003")))

    # THEN the band counts the two active ones
    assert events[0].count == 2
    assert {f["id"] for f in events[0].evidence["findings"]} == {"CVE-2021-0002", "CVE-2021-0003"}


def test_a_finding_rescored_to_another_band_leaves_its_old_band() -> None:
    detector = Detector()
    detector.run(scan_record(inspector(finding="a", severity="MEDIUM", cve="CVE-2021-0001")))
    detector.run(scan_record(inspector(finding="b", severity="MEDIUM", cve="CVE-2021-0002")))

    events = detector.run(scan_record(inspector(finding="a", severity="HIGH", cve="CVE-2021-0001")))

    assert {(event.detection, event.count) for event in events} == {(HIGH, 1), (MEDIUM, 1)}


def test_a_rescan_with_new_findings_updates_the_count_of_the_same_risk_event() -> None:
    detector = Detector()
    first = detector.run(listing_scan(basic_finding("CVE-2021-1", "HIGH")))

    second = detector.run(
        listing_scan(basic_finding("CVE-2021-1", "HIGH"), basic_finding("CVE-2021-2", "HIGH"))
    )

    assert second[0].id == first[0].id
    assert [event.count for event in detector.stored(HIGH)] == [2]


def test_the_same_findings_seen_again_change_nothing_stored() -> None:
    detector = Detector()
    event = load_event("cloudtrail/describe_image_scan_findings.json")
    detector.run(scan_record(event))
    before = {item.id: item for item in detector.stored()}

    # a second reader looks at the same findings later
    reread = copy.deepcopy(event)
    reread["detail"]["eventTime"] = "2021-08-12T09:00:00Z"
    reread["detail"]["sourceIPAddress"] = "198.51.100.7"
    detector.run(scan_record(reread))

    assert {item.id: item for item in detector.stored()} == before


def test_a_page_of_a_longer_listing_adds_to_the_findings_already_known() -> None:
    detector = Detector()
    detector.run(listing_scan(basic_finding("CVE-2021-1", "HIGH"), complete=False))

    events = detector.run(listing_scan(basic_finding("CVE-2021-2", "HIGH"), complete=False))

    assert events[0].count == 2


def test_evidence_lists_the_worst_twenty_findings_and_says_how_many_more() -> None:
    findings = [basic_finding(f"CVE-2021-{n:04d}", "LOW", cvss=f"{n / 10:.1f}") for n in range(30)]

    events = Detector().run(listing_scan(*findings))

    evidence = events[0].evidence
    assert events[0].count == 30
    assert len(evidence["findings"]) == EVIDENCE_LIMIT
    assert evidence["findings_not_listed"] == 10
    assert evidence["findings"][0] == {
        "id": "CVE-2021-0029",
        "severity": "LOW",
        "package": "openssl",
        "cvss": 2.9,
    }


def test_an_alias_names_the_code_repository_an_ecr_repository_is_built_from() -> None:
    settings = Settings.from_dict(
        {"repository_aliases": {"devsecops/cat_dog_server": "Acme/Cat-Dog-Server"}}
    )

    events = Detector(settings).run(scan_record(inspector()))

    assert events[0].risk_object == "acme/cat-dog-server"
    assert events[0].evidence["ecr_repository"] == "devsecops/cat_dog_server"


def test_an_inspector_finding_about_an_ec2_instance_is_ignored() -> None:
    event = inspector()
    event["detail"]["resources"][0]["type"] = "AWS_EC2_INSTANCE"

    assert record_of(event) is None
