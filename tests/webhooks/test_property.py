"""Whatever arrives, the front door answers with one of its documented statuses."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devsecops.runtime import LocalAws
from devsecops.serve import http_api_event
from lambdas.webhooks.signatures import sign
from tests.github.payloads import pull_request

SECRET = "property-secret"
ANSWERS = {200, 202, 400, 401, 413}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)
objects = st.dictionaries(
    st.sampled_from(
        ["action", "alert", "pull_request", "check_suite", "repository", "sender", "number"]
    ),
    json_values,
)
bodies = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(str.encode),
    objects.map(lambda data: json.dumps(data).encode()),
    st.just(json.dumps(pull_request()).encode()),
)
events = st.sampled_from(
    [
        "ping",
        "pull_request",
        "check_suite",
        "dependabot_alert",
        "repository_vulnerability_alert",
        "push",
        "",
    ]
)
header_names = st.sampled_from(
    ["x-hub-signature-256", "x-github-event", "x-github-delivery", "content-type", "x-other"]
)


@pytest.fixture(scope="module")
def local() -> Iterator[LocalAws]:
    """One local stack for every generated request (writes are idempotent, so sharing is safe)."""
    with LocalAws({}, env={"GITHUB_WEBHOOK_SECRET": SECRET}) as aws:
        yield aws


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=bodies,
    event=events,
    signed=st.booleans(),
    encode=st.booleans(),
    noise=st.dictionaries(header_names, st.text(max_size=80), max_size=5),
)
def test_every_request_gets_a_documented_answer_and_never_an_error(
    local: LocalAws, body: bytes, event: str, signed: bool, encode: bool, noise: dict[str, str]
) -> None:
    # GIVEN arbitrary headers, then (sometimes) a valid signature and event name on top
    headers = dict(noise)
    if signed:
        headers["x-hub-signature-256"] = "sha256=" + sign(SECRET, body)
        headers["x-github-event"] = event
    request = http_api_event("POST", "/webhooks/github", headers, body)
    if encode and not request["isBase64Encoded"]:
        request.update(body=base64.b64encode(body).decode(), isBase64Encoded=True)

    # WHEN it reaches the function
    answer = local.invoke("webhooks", request)

    # THEN the answer is one of the documented ones, with a small JSON body
    assert answer["statusCode"] in ANSWERS
    assert set(json.loads(answer["body"])) == {"status"}
