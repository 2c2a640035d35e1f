"""The CircleCI API client against a fake CircleCI served over HTTP (no mocks of the client)."""

from __future__ import annotations

import logging

import pytest

from lambdas.webhooks.circleci_api import CircleCIClient, CircleCIError
from tests.circleci.conftest import PIPELINE_ID, TOKEN, WORKFLOW_ID, FakeCircleCI, Reply

JOBS = f"/api/v2/workflow/{WORKFLOW_ID}/job"


def make_client(fake: FakeCircleCI, **options: object) -> tuple[CircleCIClient, list[float]]:
    """A client of the fake server that records its waits instead of sleeping."""
    waits: list[float] = []
    settings = {"timeout": 2.0, "attempts": 3, "sleep": waits.append, "jitter": lambda: 0.5}
    settings.update(options)
    client = CircleCIClient(token=TOKEN, base_url=fake.url, **settings)  # type: ignore[arg-type]
    return client, waits


def test_workflow_jobs_follow_every_page(fake_circleci: FakeCircleCI) -> None:
    fake_circleci.add(JOBS, Reply(body={"items": [{"name": "build"}], "next_page_token": "p2"}))
    fake_circleci.add(f"{JOBS}?page-token=p2", Reply(body={"items": [{"name": "k8s-security"}]}))
    client, _ = make_client(fake_circleci)

    jobs = client.workflow_jobs(WORKFLOW_ID)

    assert [job["name"] for job in jobs] == ["build", "k8s-security"]
    assert fake_circleci.hits(f"{JOBS}?page-token=p2") == 1


def test_the_token_travels_in_the_circle_token_header(fake_circleci: FakeCircleCI) -> None:
    fake_circleci.add(JOBS, Reply(body={"items": []}))
    client, _ = make_client(fake_circleci)

    client.workflow_jobs(WORKFLOW_ID)

    path, headers = fake_circleci.requests[0]
    assert headers["Circle-Token"] == TOKEN
    assert TOKEN not in path


def test_a_429_is_retried_after_the_servers_retry_after(fake_circleci: FakeCircleCI) -> None:
    fake_circleci.add(
        JOBS,
        Reply(429, {"message": "slow down"}, headers={"Retry-After": "3"}),
        Reply(body={"items": [{"name": "k8s-security"}]}),
    )
    client, waits = make_client(fake_circleci)

    jobs = client.workflow_jobs(WORKFLOW_ID)

    assert [job["name"] for job in jobs] == ["k8s-security"]
    assert waits == [3.0]


def test_a_persistent_500_gives_up_after_the_bounded_attempts(
    fake_circleci: FakeCircleCI,
) -> None:
    fake_circleci.add(JOBS, Reply(500, {"message": "boom"}))
    client, waits = make_client(fake_circleci)

    with pytest.raises(CircleCIError) as raised:
        client.workflow_jobs(WORKFLOW_ID)

    assert fake_circleci.hits(JOBS) == 3
    assert raised.value.retryable
    assert "HTTP 500" in str(raised.value)
    # Exponential backoff with jitter: half the ceiling plus half the jitter of it.
    assert waits == [0.375, 0.75]


def test_a_404_is_not_retried(fake_circleci: FakeCircleCI) -> None:
    client, waits = make_client(fake_circleci)

    with pytest.raises(CircleCIError) as raised:
        client.workflow_jobs("unknown-workflow")

    assert not raised.value.retryable
    assert waits == []


def test_a_server_slower_than_the_timeout_is_a_retryable_failure(
    fake_circleci: FakeCircleCI,
) -> None:
    fake_circleci.add(JOBS, Reply(body={"items": []}, delay=1.0))
    client, _ = make_client(fake_circleci, timeout=0.2, attempts=2)

    with pytest.raises(CircleCIError) as raised:
        client.workflow_jobs(WORKFLOW_ID)

    assert raised.value.retryable
    assert fake_circleci.hits(JOBS) == 2


def test_a_refused_connection_is_retried_then_reported() -> None:
    waits: list[float] = []
    client = CircleCIClient(token=TOKEN, base_url="http://127.0.0.1:9", sleep=waits.append)

    with pytest.raises(CircleCIError) as raised:
        client.pipeline_actor(PIPELINE_ID)

    assert len(waits) == 2
    assert raised.value.retryable


def test_pipeline_actor_is_the_trigger_actors_login(fake_circleci: FakeCircleCI) -> None:
    fake_circleci.add(
        f"/api/v2/pipeline/{PIPELINE_ID}",
        Reply(body={"trigger": {"type": "webhook", "actor": {"login": "alice"}}}),
    )
    client, _ = make_client(fake_circleci)

    assert client.pipeline_actor(PIPELINE_ID) == "alice"


def test_step_names_come_from_the_v1_job_details(fake_circleci: FakeCircleCI) -> None:
    fake_circleci.add(
        "/api/v1.1/project/github/Acme/App/94",
        Reply(body={"steps": [{"name": "Spin up environment"}, {"name": "Run Kube Hunter"}]}),
    )
    client, _ = make_client(fake_circleci)

    assert client.step_names("gh/Acme/App", 94) == ["Spin up environment", "Run Kube Hunter"]


def test_an_opaque_project_slug_has_no_step_api(fake_circleci: FakeCircleCI) -> None:
    client, _ = make_client(fake_circleci)

    with pytest.raises(CircleCIError):
        client.step_names("circleci/DdaVtNusHqi24D4YT3X4eu/6EkDPZoN4ZdMKKZtBkRodt", 1)

    assert fake_circleci.requests == []


def test_ids_cannot_change_the_requested_path(fake_circleci: FakeCircleCI) -> None:
    client, _ = make_client(fake_circleci)

    with pytest.raises(CircleCIError):
        client.workflow_jobs("../../v1.1/me")

    assert fake_circleci.requests[0][0] == "/api/v2/workflow/..%2F..%2Fv1.1%2Fme/job"


def test_an_answer_that_is_not_json_is_an_error(fake_circleci: FakeCircleCI) -> None:
    fake_circleci.add(JOBS, Reply(body="just text"))
    client, _ = make_client(fake_circleci)

    with pytest.raises(CircleCIError, match="not a JSON object"):
        client.workflow_jobs(WORKFLOW_ID)


def test_no_error_or_log_line_reveals_the_token(
    fake_circleci: FakeCircleCI, caplog: pytest.LogCaptureFixture
) -> None:
    fake_circleci.add(JOBS, Reply(500, {"message": f"echo {TOKEN}"}))
    client, _ = make_client(fake_circleci)

    with caplog.at_level(logging.DEBUG), pytest.raises(CircleCIError) as raised:
        client.workflow_jobs(WORKFLOW_ID)

    assert TOKEN not in str(raised.value)
    assert TOKEN not in repr(client)
    assert TOKEN not in caplog.text


def test_a_base_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(CircleCIError):
        CircleCIClient(token=TOKEN, base_url="file:///etc/passwd")


def test_without_a_token_there_is_no_client(monkeypatch: pytest.MonkeyPatch) -> None:
    assert CircleCIClient.from_environment() is None

    monkeypatch.setenv("CIRCLECI_API_TOKEN", TOKEN)
    monkeypatch.setenv("CIRCLECI_API_URL", "http://127.0.0.1:1")
    client = CircleCIClient.from_environment()

    assert client is not None and client.base_url == "http://127.0.0.1:1"
