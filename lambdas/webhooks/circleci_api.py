"""A small CircleCI API client on urllib: timeouts, bounded retries, pagination, no token leaks.

Only the three reads the CircleCI detections need:
- `GET /api/v2/workflow/{id}/job` (paginated by `next_page_token`): the jobs of a workflow;
- `GET /api/v2/pipeline/{id}`: who triggered a pipeline (`trigger.actor.login`);
- `GET /api/v1.1/project/{vcs}/{org}/{repo}/{number}`: a job's details, whose `steps[].name` are
  the step names. API v2 has no step list, so this one call stays on v1.1. It only takes
  `gh/`, `github/`, `bb/` or `bitbucket/` project slugs: the opaque `circleci/<org>/<project>` slugs
  of GitHub App and GitLab projects have no v1.1 equivalent (known shortcoming).

The token travels only in the `Circle-Token` header. Error messages name the method, the path
template and the HTTP status, never the token, a query string or a response body.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

from lambdas.shared.exceptions import DetectorError

DEFAULT_BASE_URL = "https://circleci.com"
RETRYABLE = frozenset({429, 500, 502, 503, 504})
MAX_PAGES = 50  # a workflow with more than 50 pages of jobs is not a workflow, it is a loop
# Values that mean "no token configured" (a secret must hold something before it is set).
NO_TOKEN = frozenset({"", "none", "unset", "disabled", "-"})
V1_VCS = {"gh": "github", "github": "github", "bb": "bitbucket", "bitbucket": "bitbucket"}


class CircleCIError(DetectorError):
    """A CircleCI API call failed; the message names the call, never the token."""

    def __init__(self, message: str, retryable: bool = False) -> None:
        super().__init__(message)
        # True when asking again later may succeed (429, 5xx, timeouts), False for 4xx and the like.
        self.retryable = retryable


@dataclass
class CircleCIClient:
    """Reads from CircleCI's API with a personal or project token."""

    token: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    # Worst case per call about 3 x 3 s plus 1.5 s of backoff: inside a short Lambda timeout.
    timeout: float = 3.0
    attempts: int = 3
    backoff: float = 0.5
    max_delay: float = 8.0
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random

    def __post_init__(self) -> None:
        scheme = urllib.parse.urlsplit(self.base_url).scheme
        if scheme not in ("http", "https"):
            raise CircleCIError("CIRCLECI_API_URL must be an http(s) URL")
        self.base_url = self.base_url.rstrip("/")

    @classmethod
    def from_environment(cls) -> CircleCIClient | None:
        """A client when a token is configured (Secrets Manager or env), else None."""
        token = _token()
        if not token:
            return None
        return cls(token=token, base_url=os.environ.get("CIRCLECI_API_URL") or DEFAULT_BASE_URL)

    def workflow_jobs(self, workflow_id: str) -> list[dict[str, Any]]:
        """Every job of a workflow, following `next_page_token` across pages."""
        path = f"/api/v2/workflow/{_segment(workflow_id)}/job"
        jobs: list[dict[str, Any]] = []
        token: str | None = None

        for _ in range(MAX_PAGES):
            page = self._get(path, {"page-token": token} if token else None)
            jobs.extend(item for item in page.get("items") or [] if isinstance(item, dict))
            token = page.get("next_page_token")
            if not token:
                return jobs
        raise CircleCIError(f"GET {path}: more than {MAX_PAGES} pages")

    def pipeline_actor(self, pipeline_id: str) -> str | None:
        """The login of whoever triggered a pipeline, when CircleCI knows it."""
        pipeline = self._get(f"/api/v2/pipeline/{_segment(pipeline_id)}")
        actor = (pipeline.get("trigger") or {}).get("actor") or {}
        login = actor.get("login")
        return login if isinstance(login, str) and login else None

    def step_names(self, project_slug: str, job_number: int) -> list[str]:
        """Names of the steps a job ran, from API v1.1's job details."""
        if not has_step_api(project_slug):
            raise CircleCIError("job steps: API v1.1 needs a gh/ or bb/ project slug")
        vcs, org, repo = project_slug.split("/")
        path = f"/api/v1.1/project/{V1_VCS[vcs]}/{_segment(org)}/{_segment(repo)}/{int(job_number)}"
        details = self._get(path)
        steps = details.get("steps") or []
        return [step["name"] for step in steps if isinstance(step, dict) and step.get("name")]

    def _get(self, path: str, query: dict[str, str] | None = None) -> dict[str, Any]:
        """GET a JSON object, retrying 429, 5xx, timeouts and connection errors with backoff."""
        url = self.base_url + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        request = urllib.request.Request(
            url, headers={"Circle-Token": self.token, "Accept": "application/json"}
        )
        problem = "no attempt"

        for attempt in range(1, self.attempts + 1):
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                    return _json_object(answer.read(), path)
            except urllib.error.HTTPError as exc:
                problem = f"HTTP {exc.code}"
                if exc.code not in RETRYABLE:
                    raise CircleCIError(f"GET {path}: {problem}") from None
                wait = _retry_after(exc.headers.get("Retry-After"))
            except (OSError, http.client.HTTPException) as exc:
                # Timeouts, refused connections, resets. Only the error's type is kept.
                problem = type(getattr(exc, "reason", exc)).__name__
                wait = None
            if attempt < self.attempts:
                self.sleep(self._delay(attempt, wait))

        raise CircleCIError(f"GET {path}: {problem} after {self.attempts} attempts", True)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait: the server's Retry-After if given, else exponential with jitter."""
        if retry_after is not None:
            return min(retry_after, self.max_delay)
        ceiling = min(self.backoff * 2 ** (attempt - 1), self.max_delay)
        return ceiling / 2 + self.jitter() * ceiling / 2


def has_step_api(project_slug: str) -> bool:
    """True for `gh/org/repo`-style slugs, the only ones API v1.1 can give steps for."""
    parts = project_slug.split("/")
    return len(parts) == 3 and parts[0] in V1_VCS and all(parts)


def _token() -> str | None:
    """The API token: Secrets Manager (cached five minutes) in AWS, the environment locally."""
    arn = os.environ.get("CIRCLECI_API_TOKEN_SECRET_ARN")
    if arn:
        from aws_lambda_powertools.utilities.parameters import get_secret

        value = get_secret(arn, max_age=300)
        token = value.strip() if isinstance(value, str) else ""
    else:
        token = os.environ.get("CIRCLECI_API_TOKEN", "").strip()
    return None if token.lower() in NO_TOKEN else token


def _segment(value: str) -> str:
    """One URL path segment, quoted so an id can never change the path."""
    return urllib.parse.quote(str(value), safe="")


def _json_object(raw: bytes, path: str) -> dict[str, Any]:
    """Decode a JSON object answer."""
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CircleCIError(f"GET {path}: answer is not JSON") from None
    if not isinstance(data, dict):
        raise CircleCIError(f"GET {path}: answer is not a JSON object")
    return data


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta seconds or an HTTP date), else None."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())
