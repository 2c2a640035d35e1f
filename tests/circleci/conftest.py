"""Fixtures of the CircleCI tests: a fake CircleCI API on 127.0.0.1 and webhook payload builders."""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

TOKEN = "test-circle-token-9f8e7d"
WORKFLOW_ID = "6a1bd1c8-e3c4-4d7a-b3e4-16cc726cc0ca"
PIPELINE_ID = "1285fe1d-d3a6-44fc-8886-8979558254c4"


@dataclass
class Reply:
    """One canned answer: status, JSON body, headers, and an optional delay before answering."""

    status: int = 200
    body: Any = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class FakeCircleCI:
    """Routes (path with query) to queues of replies; the last reply of a route repeats."""

    url: str = ""
    routes: dict[str, list[Reply]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def add(self, path: str, *replies: Reply) -> None:
        """Answer `path` with these replies in turn."""
        self.routes[path] = list(replies)

    def hits(self, path: str) -> int:
        """How many requests reached `path`."""
        return sum(1 for seen, _ in self.requests if seen == path)

    def reply_for(self, path: str) -> Reply:
        """The next reply for a path (404 for unknown paths)."""
        queue = self.routes.get(path)
        if not queue:
            return Reply(404, {"message": "not found"})
        return queue.pop(0) if len(queue) > 1 else queue[0]


@pytest.fixture
def fake_circleci() -> Iterator[FakeCircleCI]:
    """A fake CircleCI API served over real HTTP on 127.0.0.1, on a free port."""
    fake = FakeCircleCI()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            fake.requests.append((self.path, dict(self.headers)))
            reply = fake.reply_for(self.path)
            if reply.delay:
                time.sleep(reply.delay)
            data = json.dumps(reply.body).encode()
            try:
                self.send_response(reply.status)
                for name, value in {"Content-Type": "application/json", **reply.headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (the timeout test)

        def log_message(self, *args: Any) -> None:
            """Keep the test output quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield fake
    server.shutdown()
    server.server_close()


def workflow_payload(
    name: str = "deployment", status: str = "success", workflow_id: str = WORKFLOW_ID, **extra: Any
) -> dict[str, Any]:
    """A `workflow-completed` body in the shape CircleCI documents for GitHub OAuth projects."""
    body = {
        "id": f"wf-delivery-{workflow_id}-{status}",
        "type": "workflow-completed",
        "happened_at": "2024-05-02T10:15:30.123Z",
        "webhook": {"id": "cf8c4fdd-0587-4da1-b4ca-4846e9640af9", "name": "devsecops"},
        "project": {"id": "p-1", "name": "app", "slug": "gh/Acme/App"},
        "organization": {"id": "o-1", "name": "Acme"},
        "workflow": {
            "id": workflow_id,
            "name": name,
            "created_at": "2024-05-02T10:10:00.000Z",
            "stopped_at": "2024-05-02T10:15:30.000Z",
            "url": f"https://app.circleci.com/pipelines/gh/Acme/App/7/workflows/{workflow_id}",
            "status": status,
        },
        "pipeline": {
            "id": PIPELINE_ID,
            "number": 7,
            "created_at": "2024-05-02T10:09:58.000Z",
            "trigger": {"type": "webhook"},
            "vcs": {
                "provider_name": "github",
                "origin_repository_url": "https://github.com/Acme/App",
                "target_repository_url": "https://github.com/Acme/App",
                "revision": "68d5575c64352792e6e716a1e909db5f9cb3bc2a",
                "commit": {"subject": "small change", "author": {"name": "Pat Rick"}},
                "branch": "main",
            },
        },
    }
    body.update(extra)
    return body


def job_payload(
    name: str = "k8s-security",
    status: str = "success",
    workflow_name: str = "deployment",
    job_id: str = "aa1e394f-42c8-4809-93fc-7ba9f8fc51d2",
    number: int = 94,
) -> dict[str, Any]:
    """A `job-completed` body of the same workflow."""
    body = workflow_payload(workflow_name)
    body["id"] = f"job-delivery-{job_id}-{status}"
    body["type"] = "job-completed"
    body["happened_at"] = "2024-05-02T10:14:00.000Z"
    workflow = copy.deepcopy(body["workflow"])
    workflow.pop("status")
    body["workflow"] = workflow
    body["job"] = {
        "id": job_id,
        "name": name,
        "number": number,
        "status": status,
        "started_at": "2024-05-02T10:12:00.000Z",
        "stopped_at": "2024-05-02T10:14:00.000Z",
    }
    return body


@pytest.fixture(autouse=True)
def _no_circleci_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests start with no API token, URL or queue unless they set one."""
    for name in (
        "CIRCLECI_API_TOKEN",
        "CIRCLECI_API_TOKEN_SECRET_ARN",
        "CIRCLECI_API_URL",
        "CI_CHECK_QUEUE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
