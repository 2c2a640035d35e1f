"""CircleCI outbound webhook payloads, parsed into the record both CircleCI detections read.

A record is one `workflow-completed` or `job-completed` delivery plus what the handler learned from
CircleCI's API (the pipeline's actor, a workflow's jobs, a job's steps). Parsing is strict about
the fields the detections need and ignores the rest: CircleCI documents its payloads as open maps.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any, NamedTuple

from lambdas.shared.exceptions import InputError
from lambdas.shared.risk import RiskObjectType, iso_utc, parse_time
from lambdas.shared.settings import Settings

WORKFLOW_COMPLETED = "workflow-completed"
JOB_COMPLETED = "job-completed"
EVENT_TYPES = (WORKFLOW_COMPLETED, JOB_COMPLETED)

# Job statuses meaning the job never did its work. The spec's four, plus the states of a job
# that never started (held for approval, queued) should one be reported at workflow end.
DID_NOT_RUN = frozenset(
    {"canceled", "not_run", "blocked", "unauthorized", "on_hold", "queued", "not_running"}
)
# Finished workflows judged in full. A canceled or unauthorized workflow stops its jobs itself, so
# it is judged only on whether a mandatory job exists in it at all (see the job detection).
JUDGED_WORKFLOWS = frozenset({"success", "failed", "error"})
STOPPED_WORKFLOWS = frozenset({"canceled", "unauthorized"})


class JobRun(NamedTuple):
    """One job of a workflow, as a webhook or the API reports it."""

    name: str
    status: str
    id: str = ""
    number: int | None = None

    @property
    def ran(self) -> bool:
        """True when the job did its work (a failed job did run)."""
        return self.status not in DID_NOT_RUN


class CircleCIEvent(NamedTuple):
    """A CircleCI webhook delivery with what the API added to it."""

    type: str
    delivery_id: str
    event_time: str
    project_slug: str
    repository_url: str | None
    workflow_id: str
    workflow_name: str
    workflow_status: str | None
    workflow_url: str | None
    pipeline_id: str | None
    pipeline_number: int | None
    trigger_type: str | None
    branch: str | None
    revision: str | None
    commit_author: str | None
    job: JobRun | None = None
    # Filled by the handler from CircleCI's API; None means "not looked up".
    actor: str | None = None
    jobs: tuple[JobRun, ...] | None = None
    steps: tuple[str, ...] | None = None
    # True once the grace period for late job webhooks is over (the delayed check).
    deferred: bool = False

    def enriched(self, **changes: Any) -> CircleCIEvent:
        """A copy with API facts or the deferred flag set."""
        return self._replace(**changes)


def parse_event(payload: Mapping[str, Any]) -> CircleCIEvent:
    """Parse a webhook body; raise InputError naming the first missing field."""
    kind = _text(payload, "type")
    if kind not in EVENT_TYPES:
        raise InputError(f"circleci: unsupported type {kind[:40]!r}")
    workflow = _map(payload, "workflow")
    pipeline = payload.get("pipeline") if isinstance(payload.get("pipeline"), dict) else {}
    vcs = pipeline.get("vcs") if isinstance(pipeline.get("vcs"), dict) else {}
    commit = vcs.get("commit") if isinstance(vcs.get("commit"), dict) else {}
    author = commit.get("author") if isinstance(commit.get("author"), dict) else {}

    return CircleCIEvent(
        type=kind,
        delivery_id=_text(payload, "id"),
        event_time=_time(payload.get("happened_at")),
        project_slug=_text(_map(payload, "project"), "slug"),
        repository_url=_repository_url(vcs, pipeline),
        workflow_id=_text(workflow, "id"),
        workflow_name=_text(workflow, "name"),
        workflow_status=_optional(workflow.get("status")),
        workflow_url=_optional(workflow.get("url")),
        pipeline_id=_optional(pipeline.get("id")),
        pipeline_number=_number(pipeline.get("number")),
        trigger_type=_optional((pipeline.get("trigger") or {}).get("type")),
        branch=_optional(vcs.get("branch")),
        revision=_optional(vcs.get("revision")),
        commit_author=_optional(author.get("name")),
        job=_job(payload) if kind == JOB_COMPLETED else None,
    )


def job_run(item: Mapping[str, Any]) -> JobRun | None:
    """A JobRun from one item of the API's workflow job list (None if it has no name)."""
    name = item.get("name")
    if not isinstance(name, str) or not name:
        return None
    status = item.get("status")
    return JobRun(
        name=name,
        status=status if isinstance(status, str) else "unknown",
        id=str(item.get("id") or ""),
        number=_number(item.get("job_number")),
    )


def patterns_for(name: str, table: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The mandatory patterns of every key of `table` that `name` matches (fnmatch, exact case)."""
    found: list[str] = []
    for key, patterns in table.items():
        if fnmatch.fnmatchcase(name, key):
            found.extend(patterns)
    return tuple(dict.fromkeys(found))


def repository(event: CircleCIEvent, settings: Settings) -> str:
    """The canonical `owner/name`, as the GitHub detections write it; else the aliased slug."""
    if event.repository_url:
        path = _url_path(event.repository_url)
        if path.count("/") >= 1:
            return settings.repository("/".join(path.split("/")[-2:]))
    if event.project_slug in settings.repository_aliases:
        return settings.repository(event.project_slug)
    vcs, _, rest = event.project_slug.partition("/")
    if vcs in ("gh", "github", "bb", "bitbucket") and rest.count("/") == 1:
        return settings.repository(rest)
    return settings.repository(event.project_slug)


def risk_object(event: CircleCIEvent, settings: Settings) -> tuple[str, RiskObjectType]:
    """The pipeline's actor login when the API gave it, else the repository."""
    if event.actor:
        return event.actor, "user"
    return repository(event, settings), "repository"


def evidence(event: CircleCIEvent) -> dict[str, Any]:
    """The fields that explain a CircleCI risk event; the author name is evidence only."""
    found = {
        "project_slug": event.project_slug,
        "workflow_id": event.workflow_id,
        "workflow_name": event.workflow_name,
        "workflow_status": event.workflow_status,
        "workflow_url": event.workflow_url,
        "pipeline_number": event.pipeline_number,
        "trigger_type": event.trigger_type,
        "branch": event.branch,
        "revision": event.revision,
        "commit_author": event.commit_author,
    }
    return {key: value for key, value in found.items() if value not in (None, "")}


def _repository_url(vcs: Mapping[str, Any], pipeline: Mapping[str, Any]) -> str | None:
    """The URL of the repository being built.

    The target repository comes first: for a pull request from a fork, the origin is the fork,
    while the pipeline that lost its security job belongs to the target. GitHub App and GitLab
    projects carry no `vcs` map; their trigger parameters name the repository instead.
    """
    for key in ("target_repository_url", "origin_repository_url"):
        if isinstance(vcs.get(key), str) and vcs[key]:
            return vcs[key]
    parameters = pipeline.get("trigger_parameters")
    if not isinstance(parameters, dict):
        return None
    for section, key in (("github_app", "repo_url"), ("git", "repo_url"), ("gitlab", "web_url")):
        value = (parameters.get(section) or {}).get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _url_path(url: str) -> str:
    """`owner/name` part of an https or scp-style git URL, without `.git`."""
    text = url.strip()
    if "://" in text:
        text = text.split("://", 1)[1].split("/", 1)[-1]
    elif ":" in text:
        text = text.split(":", 1)[1]
    return text.strip("/").removesuffix(".git")


def _job(payload: Mapping[str, Any]) -> JobRun:
    """The job of a job-completed delivery."""
    job = _map(payload, "job")
    return JobRun(
        name=_text(job, "name"),
        status=_text(job, "status"),
        id=_text(job, "id"),
        number=_number(job.get("number")),
    )


def _map(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """A required object field."""
    value = data.get(key)
    if not isinstance(value, dict):
        raise InputError(f"circleci: field {key} missing or not an object")
    return value


def _text(data: Mapping[str, Any], key: str) -> str:
    """A required, non-empty string field."""
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise InputError(f"circleci: field {key} missing or not a string")
    return value


def _optional(value: Any) -> str | None:
    """A string field that may be absent."""
    return value if isinstance(value, str) and value else None


def _number(value: Any) -> int | None:
    """An integer field that may be absent (bool is not a number here)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _time(value: Any) -> str:
    """The event time as ISO 8601 UTC with Z."""
    if not isinstance(value, str):
        raise InputError("circleci: field happened_at missing or not a string")
    try:
        return iso_utc(parse_time(value))
    except ValueError:
        raise InputError("circleci: field happened_at is not an ISO 8601 time") from None
