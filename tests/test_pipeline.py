"""The whole pipeline, locally: every sample through the real handlers, the stream, the alerts."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from devsecops import demo
from devsecops.runtime import LocalAws
from tests.conftest import EVENTS, ROOT


@pytest.fixture(scope="module")
def pipeline() -> tuple[list[dict], list[dict], list[dict]]:
    """Run every sample with the demo settings; return risk events, alerts and dead letters."""
    settings = json.loads(demo.DEMO_SETTINGS.read_text())
    with LocalAws(settings, env=demo.LOCAL_SECRETS) as aws:
        demo._seed_scanned_image(aws)
        for path in demo.samples():
            aws.invoke(demo._function_for(path), json.loads(path.read_text()))
        aws.pump()
        return aws.risk_events(), aws.alerts(), aws.dead_letters


def test_every_source_contributes_risk_events(pipeline) -> None:
    risk_events, _, _ = pipeline

    families = {item["detection"].split("_")[0] for item in risk_events}

    assert {"aws", "github", "circle"} <= families


def test_the_real_ecr_record_gives_three_bands_and_a_repository_alert(pipeline) -> None:
    risk_events, alerts, _ = pipeline

    bands = {
        item["detection"]: item["count"]
        for item in risk_events
        if item["risk_object"] == "acme-corp/cat_dog_client"
    }
    alerted = {(a["risk_object_type"], a["risk_object"]) for a in alerts}

    assert sorted(bands.values()) == [2, 14, 88]
    assert ("repository", "acme-corp/cat_dog_client") in alerted


def test_the_pusher_of_an_image_is_alerted_on_and_owns_its_findings(pipeline) -> None:
    risk_events, alerts, _ = pipeline
    pusher = "arn:aws:iam::111111111111:user/test"

    alert = next(a for a in alerts if a["risk_object"] == pusher)
    findings = [
        item
        for item in risk_events
        if item["risk_object"] == "acme-corp/cat_dog_server"
        and item["detection"].startswith("aws_ecr_container_scanning")
    ]

    assert {d["detection"] for d in alert["detections"]} >= {
        "aws_ecr_container_upload_outside_business_hours",
        "aws_ecr_container_upload_unknown_user",
    }
    assert findings and all(item["user"] == pusher for item in findings)


def test_nothing_is_dead_lettered_and_nothing_alerts_twice(pipeline) -> None:
    _, alerts, dead_letters = pipeline

    assert dead_letters == []
    assert len({a["id"] for a in alerts}) == len(alerts)


def test_the_demo_command_prints_the_risk_table_and_the_alerts() -> None:
    # WHEN the README's demo runs as a user would run it
    done = subprocess.run(
        [sys.executable, "-m", "devsecops.cli", "demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    # THEN it succeeds and shows the table and each alert's e-mail
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Risk table:" in done.stdout
    assert "Alerts published to the SNS topic:" in done.stdout
    assert "Subject: [" in done.stdout


def test_replay_prints_one_json_object_per_line_and_nothing_else() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "devsecops.cli",
            "replay",
            "--source",
            "cloudtrail",
            "--alerts",
            str(EVENTS / "cloudtrail" / "describe_image_scan_findings.json"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    lines = [json.loads(line) for line in done.stdout.splitlines()]

    assert done.returncode == 0, done.stderr[-2000:]
    assert [line["type"] for line in lines] == ["risk", "risk", "risk", "alert"]
    assert lines[-1]["risk_object"] == "devsecops/cat_dog_client"
