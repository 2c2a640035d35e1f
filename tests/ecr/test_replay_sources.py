"""Replay adapters: raw CloudTrail and ECR files become the events the ECR function receives."""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

import pytest

from devsecops import cli
from devsecops.sources import cloudtrail, ecr
from tests.conftest import EVENTS, load_event

RAW = EVENTS / "cloudtrail" / "raw"
OPTIONS = argparse.Namespace()


def raw(name: str) -> dict:
    """A raw CloudTrail record shipped in events/cloudtrail/raw/."""
    return json.loads((RAW / name).read_text())


READ = "aws_ecr_scanning_findings_events.json"
PUSH = "aws_cloudtrail_putimage.example_log.json"
OTHER = {"eventSource": "s3.amazonaws.com", "eventName": "GetObject", "eventID": "x"}


def test_a_gzipped_trail_file_yields_its_ecr_calls_as_eventbridge_delivers_them(tmp_path) -> None:
    # GIVEN a log file as CloudTrail writes it to S3, with one record of another service
    trail = tmp_path / "trail.json.gz"
    log = {"Records": [raw(READ), OTHER, raw(PUSH)]}
    trail.write_bytes(gzip.compress(json.dumps(log).encode()))

    # WHEN it is adapted
    events = list(cloudtrail.lambda_events([trail], OPTIONS))

    # THEN the two ECR calls go to the ECR function in the envelope of the shipped samples
    assert [function for function, _ in events] == ["ecr", "ecr"]
    wrapped = events[0][1]
    sample = load_event("cloudtrail/describe_image_scan_findings.json")
    assert {key: wrapped[key] for key in sample if key != "id"} == {
        key: sample[key] for key in sample if key != "id"
    }


def test_wrapping_the_same_record_twice_gives_the_same_event_id() -> None:
    first = cloudtrail.as_eventbridge(raw(PUSH))

    assert first["id"] == cloudtrail.as_eventbridge(raw(PUSH))["id"]


def test_json_lines_are_read_and_a_broken_line_is_skipped(tmp_path, capsys) -> None:
    lines = tmp_path / "records.jsonl"
    lines.write_text(json.dumps(raw(PUSH)) + "\n{not json\n\n" + json.dumps(raw(READ)) + "\n")

    events = list(cloudtrail.lambda_events([lines], OPTIONS))

    assert [event["detail"]["eventName"] for _, event in events] == [
        "PutImage",
        "DescribeImageScanFindings",
    ]
    assert "records.jsonl:2: not JSON" in capsys.readouterr().err


def test_a_json_array_of_ecr_events_passes_through(tmp_path) -> None:
    batch = tmp_path / "events.json"
    items = [load_event("ecr/inspector2_finding_high.json"), {"not": "an event"}]
    batch.write_text(json.dumps(items))

    events = list(ecr.lambda_events([batch], OPTIONS))

    assert events == [("ecr", items[0])]


@pytest.mark.parametrize(
    ("source", "path", "counts"),
    [
        ("cloudtrail", RAW / READ, [2, 14, 88]),
        ("ecr", EVENTS / "cloudtrail" / "describe_image_scan_findings.json", [2, 14, 88]),
    ],
)
def test_devsecops_replay_prints_the_three_risk_events_of_the_real_record(
    source: str, path: Path, counts: list[int], capsys
) -> None:
    assert cli.main(["replay", "--source", source, str(path)]) == 0

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(line["count"] for line in lines) == counts
    assert {line["risk_object"] for line in lines} == {"devsecops/cat_dog_client"}
