"""Kubernetes log lines as records: ingress-nginx access lines, and Events and audit entries.

The JSON objects (Events, audit entries) are read by `lambdas.kubernetes.objects`; this module
reads access lines, unwraps shippers' JSON wrappers and gathers everything into a batch.

One CloudWatch Logs subscription payload becomes one `Batch`. Parsing is pure and bounded: a line
either becomes a record, is recognised as something the detections do not read (controller
diagnostics, other audit verbs), or is counted as unparseable. Nothing here raises on bad input.

Access lines are the high-volume case, so an `AccessEntry` keeps the regex match and extracts the
request target eagerly and every other field only when a detection asks for it.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lambdas.kubernetes.decode import MAX_TARGET, decode, decode_lowered
from lambdas.kubernetes.objects import (
    IGNORED,
    AuditEntry,
    KubeEvent,
    Origin,
    origin_of,
    parse_object,
)

# ingress-nginx's default `log-format-upstream` ("upstreaminfo"). The remote user may be anything
# (Splunk's regex required "-", so basic-auth requests never parsed). The alternative upstream
# name is optional because older controllers did not log it. The tail (upstream addresses,
# lengths, times, statuses, request id) may hold comma-separated lists, so it is kept whole.
ACCESS_LINE = re.compile(
    r'(\S+) - (\S+) \[([^\]]*)\] "(?:(\S+) (\S+)(?: HTTP/[\d.]+)?|([^"]*))" (\d{3}) (\S+) '
    r'"([^"]*)" "([^"]*)" \S+ \S+ \[([^\]]*)\](?: \[[^\]]*\])? ?(.*)'
)
# The head of an ordinary access line, up to its request target and protocol: what the screen
# needs. Matching this far costs about half the full regex, which then runs only on the few lines
# the screen keeps (they need every field). A request line with raw spaces fails here and takes
# the full parse, which keeps everything between method and protocol.
# (`[^ ]` rather than `\S`: the same on nginx's escaped lines, and a third faster.)
ACCESS_HEAD = re.compile(r'[^ ]+ - [^ ]+ \[[^\]]*\] "[^ "]+ ([^ "]+)(?: HTTP/[0-9.]+)?"')
# Lines the controller writes besides access lines: klog diagnostics and nginx's error log.
DIAGNOSTIC_LINE = re.compile(r"[IWEF]\d{4} |\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[|-{5,}|\s*$")
MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


class AccessEntry:
    """One ingress-nginx access line; fields other than the target are read on demand."""

    __slots__ = ("match", "timestamp", "origin")

    def __init__(self, match: re.Match[str], timestamp: int, origin: Origin | None) -> None:
        self.match = match
        self.timestamp = timestamp
        self.origin = origin

    @property
    def target(self) -> str | None:
        """The request target as logged (path and query), None if the request line was odd."""
        return request_target(self.match)

    @property
    def remote_addr(self) -> str:
        """The client address as nginx saw it (a load balancer's, unless configured)."""
        return self.match[1]

    @property
    def method(self) -> str:
        """The HTTP method, or "" for a request line nginx could not split."""
        return self.match[4] or ""

    @property
    def status(self) -> str:
        """The status the client received (not the upstream's, which Splunk reported)."""
        return self.match[7]

    @property
    def user_agent(self) -> str:
        """The client's User-Agent header."""
        return self.match[10]

    @property
    def upstream(self) -> str:
        """The upstream name `namespace-service-port`, "" when none was chosen."""
        return self.match[11]

    @property
    def upstream_status(self) -> str:
        """The upstream's status (second to last field of the tail), "-" when unknown."""
        parts = self.match[12].rsplit(" ", 2)
        return parts[-2] if len(parts) == 3 else "-"

    @property
    def host(self) -> str:
        """The host that served the request: the node from the wrapper, else the upstream."""
        if self.origin and self.origin.host:
            return self.origin.host
        upstream = self.upstream
        return upstream if upstream and upstream != "-" else "unknown-ingress"

    def epoch(self) -> float:
        """Request time in epoch seconds: the line's own `time_local`, else the log event's."""
        parsed = nginx_time(self.match[3])
        return parsed if parsed is not None else self.timestamp / 1000


# An access line as the batch keeps it: the target as the application reads it (lower-case,
# decoded; "" if none), the line, the log event's time and the wrapper's origin. `Batch.access`
# matches the line again when entries are wanted, which is cheaper than keeping match objects.
AccessLine = tuple[str, str, int, "Origin | None"]
# Decides from a decoded target whether an access line is worth keeping for the detections.
Keep = Callable[[str], bool]


@dataclass
class Batch:
    """The records of one subscription payload, and what could not be used.

    Access lines are the bulk of the volume and nearly all are ordinary, so the handler passes
    `keep`, the detections' own screen: lines it rejects are counted, not kept, while the batch
    is built and the line is still in the processor's cache. Without `keep` every line is kept.
    """

    cluster: str
    keep: Keep | None = None
    access_lines: list[AccessLine] = field(default_factory=list)
    access_seen: int = 0
    events: list[KubeEvent] = field(default_factory=list)
    audits: list[AuditEntry] = field(default_factory=list)
    ignored: int = 0
    unparseable: int = 0
    # Views of the records several detections share, computed once by the first that needs one.
    memo: dict[str, Any] = field(default_factory=dict)

    @property
    def access(self) -> list[AccessEntry]:
        """The kept access lines as entries."""
        return [access_entry(line) for line in self.access_lines]

    def add(self, message: str, timestamp: int) -> None:
        """Parse one log event's message into this batch; count it if it cannot be used."""
        self.add_all(((message, timestamp),))

    def add_all(self, messages: Iterable[tuple[Any, int]]) -> None:
        """Parse (message, timestamp ms) pairs into this batch.

        Access lines take an inlined path with local names: this loop runs for every line, and
        at a few microseconds per line a method call or an attribute lookup is a visible share.
        A line the screen keeps must also match the full access-line regex, or it is counted as
        unparseable; a line it drops was only read up to its target (known shortcoming: a broken
        tail after a valid head goes uncounted there, which no detection would have read anyway).
        """
        match_head, match_line = ACCESS_HEAD.match, ACCESS_LINE.match
        keep, kept = self.keep, self.access_lines.append
        seen = broken = 0
        for message, timestamp in messages:
            head = match_head(message) if type(message) is str else None
            if head is None:
                self._add_other(message, timestamp)
                continue
            seen += 1
            text = head[1].lower()
            if "%" in text or "\\" in text:
                text = decode_lowered(text[:MAX_TARGET])
            if keep is None or keep(text):
                if match_line(message) is None:
                    broken += 1
                    continue
                kept((text, message, timestamp, None))
        self.access_seen += seen - broken
        self.unparseable += broken

    def _add_other(self, message: Any, timestamp: int) -> None:
        """A line that is not a plain access line: wrapped, an Event, an audit entry, or bad."""
        record = parse_message(message, timestamp)
        if isinstance(record, AccessEntry):  # a shipper's wrapper around an access line
            self.access_seen += 1
            text = decode(record.target or "")
            if self.keep is None or self.keep(text):
                self.access_lines.append((text, record.match.string, timestamp, record.origin))
        elif isinstance(record, KubeEvent):
            self.events.append(record)
        elif isinstance(record, AuditEntry):
            self.audits.append(record)
        elif record is IGNORED:
            self.ignored += 1
        else:
            self.unparseable += 1


Record = AccessEntry | KubeEvent | AuditEntry | object | None


def access_entry(line: AccessLine) -> AccessEntry:
    """The entry of a line the batch kept (its match is known to succeed)."""
    match = ACCESS_LINE.match(line[1])
    assert match is not None  # noqa: S101 - the batch only keeps lines that matched
    return AccessEntry(match, line[2], line[3])


def request_target(match: re.Match[str]) -> str | None:
    """The target of an access line's request, None when nginx logged no `METHOD TARGET`."""
    if match[5] is not None:
        return match[5]
    # An odd request line (raw spaces in the target, junk): keep all between method and protocol,
    # an attacker could hide behind a space.
    words = (match[6] or "").split(" ")
    if words[-1].startswith("HTTP/"):
        words.pop()
    return " ".join(words[1:]) or None


def cluster_name(log_group: str) -> str:
    """The cluster of a log group: `/aws/eks/<name>/…`, `/aws/containerinsights/<name>/…`."""
    parts = log_group.strip("/").split("/")
    if len(parts) >= 3 and parts[0] == "aws" and parts[1] in ("eks", "containerinsights"):
        return parts[2]
    return log_group or "unknown-cluster"


def parse_message(message: str, timestamp: int, origin: Origin | None = None) -> Record:
    """One log message as a record, `IGNORED`, or None when it cannot be parsed."""
    if not isinstance(message, str):
        return None
    match = ACCESS_LINE.match(message)
    if match is not None:
        return AccessEntry(match, timestamp, origin)
    if message.startswith("{"):
        return _parse_json(message, timestamp, origin)
    return IGNORED if DIAGNOSTIC_LINE.match(message) else None


def _parse_json(message: str, timestamp: int, origin: Origin | None) -> Record:
    """A JSON line: a shipper's wrapper around a line, an Event or an audit entry."""
    try:
        data = json.loads(message)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None

    inner = data.get("log")
    if isinstance(inner, str) and origin is None:
        return parse_message(inner.rstrip("\n"), timestamp, origin_of(data.get("kubernetes")))
    return parse_object(data, timestamp)


@functools.lru_cache(maxsize=1024)  # a batch's lines share a few seconds: parse each once
def nginx_time(value: str) -> float | None:
    """Epoch seconds of an nginx `time_local` such as `11/Aug/2021:11:52:27 +0000`."""
    try:
        moment = datetime(
            int(value[7:11]),
            MONTHS[value[3:6]],
            int(value[0:2]),
            int(value[12:14]),
            int(value[15:17]),
            int(value[18:20]),
            tzinfo=UTC,
        )
        sign = -1 if value[21] == "-" else 1
        offset = sign * (int(value[22:24]) * 3600 + int(value[24:26]) * 60)
    except (KeyError, ValueError, IndexError):
        return None
    return moment.timestamp() - offset
