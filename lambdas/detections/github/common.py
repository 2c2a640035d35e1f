"""What the GitHub detections share: the record they read and safe readers of its payload."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from lambdas.detections.base import Context
from lambdas.shared.exceptions import InputError
from lambdas.shared.risk import iso_utc, parse_time


class GitHubEvent(NamedTuple):
    """One verified webhook delivery: the `X-GitHub-Event` name, the action and the payload."""

    event: str
    action: str
    payload: Mapping[str, Any]


def dig(data: Any, *path: str) -> Any:
    """The value at a path of nested objects, or None where any step is missing or not an object."""
    for key in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def text(data: Any, *path: str) -> str:
    """The string (or number, as text) at a path, else an empty string."""
    value = dig(data, *path)
    if isinstance(value, bool) or value is None:
        return ""
    return str(value) if isinstance(value, str | int) else ""


def required(record: GitHubEvent, *path: str) -> str:
    """A field a detection needs; raise InputError naming the field (never its value)."""
    value = text(record.payload, *path)
    if not value:
        raise InputError(f"github {record.event}: {'.'.join(path)} missing")
    return value


def repository(record: GitHubEvent, context: Context) -> str:
    """The canonical `owner/name` of the delivery's repository."""
    return context.settings.repository(required(record, "repository", "full_name"))


def event_time(context: Context, *candidates: str) -> str:
    """The first candidate that parses as a timestamp, in UTC; else the time of processing."""
    for candidate in candidates:
        try:
            return iso_utc(parse_time(candidate))
        except (TypeError, ValueError):
            continue
    return iso_utc(context.now)


def truncate(value: str, limit: int = 120) -> str:
    """Shorten free text kept as evidence, marking the cut."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def compact(evidence: dict[str, Any]) -> dict[str, Any]:
    """Evidence without empty values, so the stored item reads cleanly."""
    return {key: value for key, value in evidence.items() if value not in (None, "")}
