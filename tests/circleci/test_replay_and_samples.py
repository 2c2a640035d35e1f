"""`devsecops replay --source circleci` and the signed samples in events/circleci/."""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
from pathlib import Path

import pytest

from devsecops import cli
from devsecops.runtime import LocalAws
from devsecops.sources import circleci as source
from lambdas.webhooks import circleci, handler
from tests.circleci.conftest import job_payload, workflow_payload
from tests.conftest import EVENTS

SAMPLES = EVENTS / "circleci"
LATE_JOBS = SAMPLES / "replay" / "late_job_webhooks.jsonl"


@pytest.fixture(autouse=True)
def _circleci_route(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register the provider as the lead wires it in handler.PROVIDERS."""
    monkeypatch.setitem(handler.PROVIDERS, "circleci", circleci.PROVIDER)
    monkeypatch.delenv("CIRCLECI_WEBHOOK_SECRET", raising=False)


def replay(capsys: pytest.CaptureFixture[str], *files: Path) -> list[dict]:
    """Run the replay command; the JSON lines it prints."""
    assert cli.main(["replay", "--source", "circleci", *map(str, files)]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_replay_judges_workflows_after_their_late_job_webhooks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    lines = replay(capsys, LATE_JOBS)

    (risk,) = lines
    assert risk["type"] == "risk"
    assert risk["detection"] == "circle_ci_disable_security_job"
    assert risk["evidence"]["workflow_id"] == "6a1bd1c8-e3c4-4d7a-b3e4-16cc726cc0ca"
    assert sorted(risk["evidence"]["jobs_found"]) == []


def test_replay_of_a_workflow_and_its_security_job_in_any_order_finds_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "run.jsonl"
    path.write_text(f"{json.dumps(workflow_payload())}\n{json.dumps(job_payload())}\n")

    assert replay(capsys, path) == []


def test_replay_skips_lines_that_are_not_circleci_webhooks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text(f"not json\n{json.dumps({'type': 'ping'})}\n{json.dumps(workflow_payload())}\n")

    lines = replay(capsys, path)

    assert [line["detection"] for line in lines] == ["circle_ci_disable_security_job"]


def test_replay_never_calls_circleci_com_with_a_token_alone(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CIRCLECI_API_TOKEN", "a-real-token")

    events = list(source.lambda_events([LATE_JOBS], argparse.Namespace()))

    assert len(events) == 5
    assert "CIRCLECI_API_TOKEN ignored" in capsys.readouterr().err


def test_each_sample_is_signed_with_the_documented_test_secret() -> None:
    for path in sorted(SAMPLES.glob("*.json")):
        event = json.loads(path.read_text())
        body = (SAMPLES / "payloads" / path.name).read_bytes()
        expected = hmac.new(source.SAMPLE_SECRET.encode(), body, hashlib.sha256).hexdigest()

        assert event["body"].encode() == body, path.name
        assert event["headers"]["circleci-signature"] == f"v1={expected}", path.name
        assert "devsecops-sample-secret" in (SAMPLES / "README.md").read_text()


def test_the_samples_raise_one_risk_event_for_the_workflow_missing_its_job() -> None:
    env = {"CIRCLECI_WEBHOOK_SECRET": source.SAMPLE_SECRET}
    with LocalAws(settings={}, env=env) as aws:
        answers = [
            aws.invoke("webhooks", json.loads(path.read_text()))["statusCode"]
            for path in sorted(SAMPLES.glob("*.json"))
        ]
        items = aws.risk_events()

    assert answers == [202, 202, 202]
    (item,) = items
    assert item["evidence"]["workflow_id"] == "6a1bd1c8-e3c4-4d7a-b3e4-16cc726cc0ca"
    assert item["risk_object"] == "acme/app"
