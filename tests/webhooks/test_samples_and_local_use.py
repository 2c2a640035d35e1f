"""Shipped samples, the replay adapter and `devsecops serve` all go through the real front door."""

from __future__ import annotations

import argparse
import io
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from devsecops.runtime import LocalAws
from devsecops.serve import Gateway, make_server
from devsecops.sources.github import SAMPLE_SECRET, lambda_events, signed_event
from lambdas.webhooks.signatures import sign
from tests.conftest import EVENTS, load_event
from tests.github.payloads import dependabot_alert, pull_request

SAMPLES = {
    "dependabot_alert_created.json": (202, ["github_dependabot_alert"]),
    "dependabot_alert_dismissed.json": (202, []),
    "pull_request_opened_fork.json": (202, ["github_pull_request_from_unknown_user"]),
    "ping.json": (200, []),
    "pull_request_bad_signature.json": (401, []),
}


@pytest.fixture
def sample_aws() -> Iterator[LocalAws]:
    """A local stack using the samples' documented test secret."""
    with LocalAws({}, env={"GITHUB_WEBHOOK_SECRET": SAMPLE_SECRET}) as aws:
        yield aws


@pytest.mark.parametrize("name", SAMPLES)
def test_each_sample_gets_its_documented_answer(sample_aws: LocalAws, name: str) -> None:
    expected_status, expected_detections = SAMPLES[name]

    answer = sample_aws.invoke("webhooks", load_event(f"github/{name}"))

    assert answer["statusCode"] == expected_status
    assert [item["detection"] for item in sample_aws.risk_events()] == expected_detections


def test_every_signed_sample_carries_its_payload_file_byte_for_byte() -> None:
    for name in ("dependabot_alert_created", "pull_request_opened_fork", "ping"):
        event = load_event(f"github/{name}.json")
        body = (EVENTS / "github" / "payloads" / f"{name}.json").read_bytes()
        assert event["body"].encode() == body
        assert event["headers"]["x-hub-signature-256"] == "sha256=" + sign(SAMPLE_SECRET, body)


def test_replay_signs_json_lines_and_raw_payloads_and_skips_what_is_not_a_delivery(
    tmp_path: Path, sample_aws: LocalAws, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a JSON-lines file with two deliveries and a broken line, and a raw payload file
    lines = tmp_path / "deliveries.jsonl"
    lines.write_text(
        json.dumps({"event": "pull_request", "delivery": "g-1", "payload": pull_request()})
        + "\n{not json\n"
        + json.dumps({"event": "dependabot_alert", "payload": dependabot_alert()})
        + "\n"
    )
    raw = tmp_path / "alert.json"
    raw.write_text(json.dumps(dependabot_alert(number=99)))

    # WHEN replayed
    events = list(lambda_events([lines], argparse.Namespace(event=None)))
    events += list(lambda_events([raw], argparse.Namespace(event="dependabot_alert")))
    answers = [sample_aws.invoke(function, event)["statusCode"] for function, event in events]

    # THEN each delivery passed the signature check and the broken line was reported
    assert answers == [202, 202, 202]
    assert len(sample_aws.risk_events()) == 3
    assert "deliveries.jsonl:2" in capsys.readouterr().err


def test_serve_turns_an_http_request_into_a_risk_event_on_stdout(sample_aws: LocalAws) -> None:
    # GIVEN the local server on a free port
    out = io.StringIO()
    server = make_server(Gateway(sample_aws, out), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/webhooks/github"

    try:
        # WHEN a signed delivery and an unsigned one are posted
        event = signed_event("pull_request", pull_request())
        good = urllib.request.Request(url, data=event["body"].encode(), headers=event["headers"])
        with urllib.request.urlopen(good) as response:
            accepted = response.status
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(url, data=b"{}"))
    finally:
        server.shutdown()
        server.server_close()

    # THEN the first is accepted and printed as a risk event line, the second refused
    assert (accepted, refused.value.code) == (202, 401)
    [line] = [json.loads(text) for text in out.getvalue().splitlines()]
    assert (line["type"], line["detection"]) == ("risk", "github_pull_request_from_unknown_user")
