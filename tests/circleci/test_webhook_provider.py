"""The CircleCI provider behind the real front door, on moto: signatures, checks, redelivery."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from devsecops.runtime import LocalAws
from devsecops.sources.circleci import check_event, signed_event
from lambdas.shared import clients
from lambdas.webhooks import circleci, handler
from tests.circleci.conftest import (
    PIPELINE_ID,
    TOKEN,
    WORKFLOW_ID,
    FakeCircleCI,
    Reply,
    job_payload,
    workflow_payload,
)

SECRET = "circleci-test-secret-5b1c"
JOBS = f"/api/v2/workflow/{WORKFLOW_ID}/job"
PIPELINE = f"/api/v2/pipeline/{PIPELINE_ID}"
STEPS = "/api/v1.1/project/github/Acme/App/94"


@dataclass
class SentChecks:
    """Check messages the provider sent, recorded on their way to the (moto) queue."""

    calls: list[dict[str, Any]] = field(default_factory=list)

    def bodies(self) -> list[dict[str, Any]]:
        """The message bodies, decoded."""
        return [json.loads(call["MessageBody"]) for call in self.calls]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalAws]:
    """The local stack with the CircleCI provider registered, as the lead wires it."""
    monkeypatch.setitem(handler.PROVIDERS, "circleci", circleci.PROVIDER)
    monkeypatch.setattr(circleci, "_warned", set())
    env = {"CIRCLECI_WEBHOOK_SECRET": SECRET}
    with LocalAws(settings={}, env=env) as local:
        yield local


@pytest.fixture
def checks(aws: LocalAws, monkeypatch: pytest.MonkeyPatch) -> SentChecks:
    """A check queue in moto, with a spy on what the provider sends to it."""
    sqs = clients.client("sqs")
    url = sqs.create_queue(QueueName="ci-checks")["QueueUrl"]
    monkeypatch.setenv("CI_CHECK_QUEUE_URL", url)
    sent = SentChecks()

    class Spy:
        def send_message(self, **kwargs: Any) -> Any:
            sent.calls.append(kwargs)
            return sqs.send_message(**kwargs)

    monkeypatch.setattr(circleci, "client", lambda service: Spy())
    return sent


@pytest.fixture
def api(fake_circleci: FakeCircleCI, monkeypatch: pytest.MonkeyPatch) -> FakeCircleCI:
    """The fake CircleCI API, configured as the function's API."""
    monkeypatch.setenv("CIRCLECI_API_TOKEN", TOKEN)
    monkeypatch.setenv("CIRCLECI_API_URL", fake_circleci.url)
    fake_circleci.add(PIPELINE, Reply(body={"trigger": {"actor": {"login": "mallory"}}}))
    return fake_circleci


def deliver(aws: LocalAws, payload: dict[str, Any] | bytes, header: str | None = None) -> int:
    """POST a payload signed with the webhook secret (or the given header); the HTTP status."""
    event = signed_event(payload, SECRET)
    if header is not None:
        event["headers"]["circleci-signature"] = header
    if header == "":
        del event["headers"]["circleci-signature"]
    return int(aws.invoke("webhooks", event)["statusCode"])


def detections(aws: LocalAws) -> list[str]:
    """The detection of every stored risk event."""
    return [item["detection"] for item in aws.risk_events()]


def v1(body: bytes, secret: str = SECRET) -> str:
    """A `v1=` signature of a body."""
    return "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_a_signed_delivery_is_accepted(aws: LocalAws) -> None:
    assert deliver(aws, job_payload()) == 202


def test_any_valid_signature_among_several_is_enough(aws: LocalAws) -> None:
    body = json.dumps(job_payload()).encode()

    status = deliver(aws, body, f"v1={'0' * 64}, {v1(body)}")

    assert status == 202


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("v1=" + "0" * 64, id="wrong"),
        pytest.param("", id="missing"),
        pytest.param("sha256=SIG", id="sha256-prefix"),
        pytest.param("v1=HALF", id="truncated"),
        pytest.param("v2=SIG", id="unknown-version"),
    ],
)
def test_a_delivery_without_a_valid_v1_signature_is_refused(aws: LocalAws, header: str) -> None:
    body = json.dumps(workflow_payload()).encode()
    digest = v1(body)[3:]

    status = deliver(aws, body, header.replace("SIG", digest).replace("HALF", digest[:32]))

    assert status == 401
    assert aws.risk_events() == []


def test_a_payload_missing_required_fields_is_counted_and_skipped(
    aws: LocalAws, counted: list[str]
) -> None:
    payload = workflow_payload()
    del payload["workflow"]["id"]

    assert deliver(aws, payload) == 202
    assert aws.risk_events() == []
    assert counted.count("MalformedRecords.circleci") == 1


def test_without_a_queue_a_workflow_missing_its_security_job_is_judged_at_once(
    aws: LocalAws,
) -> None:
    deliver(aws, job_payload("build", job_id="b-1"))
    deliver(aws, workflow_payload())

    (item,) = aws.risk_events()
    assert item["detection"] == "circle_ci_disable_security_job"
    assert (item["risk_object"], item["risk_object_type"]) == ("acme/app", "repository")


def test_a_covered_workflow_schedules_a_check_delayed_by_the_grace_period(
    aws: LocalAws, checks: SentChecks
) -> None:
    deliver(aws, workflow_payload())

    (call,) = checks.calls
    assert call["DelaySeconds"] == 300
    assert checks.bodies()[0]["check"] == "workflow"
    assert aws.risk_events() == []


def test_an_uncovered_workflow_schedules_nothing(aws: LocalAws, checks: SentChecks) -> None:
    deliver(aws, workflow_payload(name="nightly"))

    assert checks.calls == []


def test_a_security_job_webhook_arriving_after_its_workflow_raises_no_alarm(
    aws: LocalAws, checks: SentChecks
) -> None:
    deliver(aws, workflow_payload())
    deliver(aws, job_payload())  # late, but within the grace period

    answer = aws.invoke("webhooks", _as_sqs(checks.calls[0]))

    assert answer == {"batchItemFailures": []}
    assert aws.risk_events() == []


def test_the_delayed_check_raises_risk_when_the_job_never_came(
    aws: LocalAws, checks: SentChecks
) -> None:
    deliver(aws, workflow_payload())
    deliver(aws, job_payload("build", job_id="b-1"))

    aws.invoke("webhooks", _as_sqs(checks.calls[0]))

    assert detections(aws) == ["circle_ci_disable_security_job"]


def test_a_redelivered_workflow_and_its_repeated_check_store_one_risk_event(
    aws: LocalAws, checks: SentChecks
) -> None:
    deliver(aws, workflow_payload())
    deliver(aws, workflow_payload())
    for call in checks.calls:
        aws.invoke("webhooks", _as_sqs(call))

    assert len(checks.calls) == 2
    assert detections(aws) == ["circle_ci_disable_security_job"]
    assert aws.risk_events()[0]["count"] == 1


def test_with_a_token_the_api_job_list_and_actor_decide(
    aws: LocalAws, checks: SentChecks, api: FakeCircleCI
) -> None:
    api.add(JOBS, Reply(body={"items": [{"name": "deploy", "status": "success"}]}))
    deliver(aws, workflow_payload())
    deliver(aws, job_payload())  # the webhook says it ran; the API's complete list says not

    aws.invoke("webhooks", _as_sqs(checks.calls[0]))

    (item,) = aws.risk_events()
    assert (item["risk_object"], item["risk_object_type"]) == ("mallory", "user")
    assert item["repository"] == "acme/app"
    assert item["evidence"]["job_list"] == "api"


def test_when_the_api_fails_the_check_falls_back_to_the_job_webhooks(
    aws: LocalAws, checks: SentChecks, api: FakeCircleCI
) -> None:
    api.add(JOBS, Reply(503, {"message": "down"}))
    api.add(PIPELINE, Reply(503, {"message": "down"}))
    deliver(aws, workflow_payload())
    deliver(aws, job_payload())

    answer = aws.invoke("webhooks", _as_sqs(checks.calls[0]))

    assert answer == {"batchItemFailures": []}
    assert aws.risk_events() == []


def test_a_job_missing_its_security_step_raises_risk_on_the_actor(
    aws: LocalAws, api: FakeCircleCI
) -> None:
    api.add(STEPS, Reply(body={"steps": [{"name": "Checkout code"}, {"name": "Deploy"}]}))

    deliver(aws, job_payload())

    (item,) = aws.risk_events()
    assert item["detection"] == "circle_ci_disable_security_step"
    assert item["risk_object"] == "mallory"


def test_a_job_that_ran_its_security_step_raises_nothing(aws: LocalAws, api: FakeCircleCI) -> None:
    api.add(STEPS, Reply(body={"steps": [{"name": "Checkout code"}, {"name": "Run Kube Hunter"}]}))

    deliver(aws, job_payload())

    assert aws.risk_events() == []


def test_with_a_queue_the_step_check_runs_from_the_queue_without_delay(
    aws: LocalAws, checks: SentChecks, api: FakeCircleCI
) -> None:
    api.add(STEPS, Reply(body={"steps": [{"name": "Checkout code"}]}))

    deliver(aws, job_payload())
    assert aws.risk_events() == []
    aws.invoke("webhooks", _as_sqs(checks.calls[0]))

    assert checks.calls[0]["DelaySeconds"] == 0
    assert detections(aws) == ["circle_ci_disable_security_step"]


def test_a_step_lookup_that_keeps_failing_is_returned_to_the_queue(
    aws: LocalAws, checks: SentChecks, api: FakeCircleCI
) -> None:
    api.add(STEPS, Reply(500, {"message": "boom"}))
    deliver(aws, job_payload())

    answer = aws.invoke("webhooks", _as_sqs(checks.calls[0]))

    assert len(answer["batchItemFailures"]) == 1
    assert aws.risk_events() == []


def test_the_replay_check_event_is_the_message_the_handler_sends(checks: SentChecks) -> None:
    payload = workflow_payload()
    payload["webhook"] = {"id": "w", "name": "dropped from the message"}

    replayed = json.loads(check_event("workflow", payload)["Records"][0]["body"])

    assert replayed == circleci.check_message("workflow", payload)
    assert "webhook" not in replayed["payload"]


def test_without_a_token_the_step_detection_says_once_that_it_cannot_work(
    aws: LocalAws, log_output: io.StringIO, counted: list[str]
) -> None:
    deliver(aws, job_payload())
    deliver(aws, job_payload("build", job_id="b-1"))

    warnings = [line for line in log_output.getvalue().splitlines() if "no CircleCI API" in line]
    assert len(warnings) == 1
    assert counted.count("CircleCIStepDetectionDisabled") == 1


def test_no_log_line_holds_the_body_signature_secret_or_token(
    aws: LocalAws, checks: SentChecks, api: FakeCircleCI, log_output: io.StringIO
) -> None:
    api.add(STEPS, Reply(500, {"message": "boom"}))
    api.add(JOBS, Reply(body={"items": []}))
    payload = workflow_payload()
    body = json.dumps(payload, indent=2).encode()

    deliver(aws, payload)
    deliver(aws, body, v1(body, "wrong-secret"))
    deliver(aws, job_payload())
    for call in checks.calls:
        aws.invoke("webhooks", _as_sqs(call))

    logs = log_output.getvalue()
    assert logs  # the handler did log
    for secret in (SECRET, TOKEN, v1(body)[3:], v1(body, "wrong-secret")[3:], "small change"):
        assert secret not in logs
    assert "Pat Rick" not in logs


def _as_sqs(call: dict[str, Any]) -> dict[str, Any]:
    """The SQS event Lambda would deliver for a recorded send_message call."""
    message = json.loads(call["MessageBody"])
    return check_event(message["check"], message["payload"])
