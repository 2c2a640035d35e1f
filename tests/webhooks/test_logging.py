"""What the function logs about a delivery: who and what, never the body, signature or secret."""

from __future__ import annotations

import io
import json

from devsecops.runtime import LocalAws
from devsecops.sources.github import signed_event
from tests.github.payloads import pull_request
from tests.webhooks.conftest import SECRET


def test_no_log_line_contains_the_body_the_signature_or_the_secret(
    aws: LocalAws, log_output: io.StringIO
) -> None:
    # GIVEN a signed delivery with a recognisable title, and a tampered copy of it
    event = signed_event("pull_request", pull_request(title="TITLE-7c1e"), secret=SECRET)
    tampered = json.loads(json.dumps(event))
    tampered["body"] = tampered["body"].replace("TITLE-7c1e", "TITLE-7c1f")

    # WHEN both reach the function (one accepted, one refused)
    aws.invoke("webhooks", event)
    aws.invoke("webhooks", tampered)

    # THEN the log says what happened
    lines = log_output.getvalue().splitlines()
    messages = [json.loads(line)["message"] for line in lines]
    assert "webhook accepted" in messages and "webhook rejected" in messages

    # AND none of the secret material or the body appears in any line
    signature = event["headers"]["x-hub-signature-256"]
    forbidden = [SECRET, signature, signature.split("=")[1], "TITLE-7c1e", "TITLE-7c1f", "stranger"]
    for line in lines:
        assert not [item for item in forbidden if item in line], line
