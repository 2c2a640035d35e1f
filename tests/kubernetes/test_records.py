"""Parsing Kubernetes log lines: what becomes a record, what is ignored, what is counted as bad."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from lambdas.kubernetes.decode import decode, percent_decode
from lambdas.kubernetes.records import (
    IGNORED,
    AccessEntry,
    AuditEntry,
    KubeEvent,
    cluster_name,
    parse_message,
)
from tests.kubernetes.lines import TIMESTAMP_MS, access, batch, kube_event, pod_creation, wrapped

# Keys the parser reads, so that generated objects reach its deeper branches.
FIELDS = [
    "object",
    "spec",
    "requestObject",
    "user",
    "extra",
    "canonicalArn",
    "containers",
    "image",
    "count",
    "source",
    "host",
    "involvedObject",
    "lastTimestamp",
    "objectRef",
]


def test_a_default_format_line_gives_its_fields() -> None:
    entry = parse_message(access("/a?b=c", status="404"), TIMESTAMP_MS)
    assert isinstance(entry, AccessEntry)
    assert (entry.remote_addr, entry.method, entry.target) == ("203.0.113.7", "GET", "/a?b=c")
    assert (entry.status, entry.upstream, entry.host) == (
        "404",
        "default-webapp-80",
        "default-webapp-80",
    )


def test_a_line_from_an_older_controller_without_alternative_upstream_parses() -> None:
    line = access("/x").replace(" [] 10.0.1.23:80", " 10.0.1.23:80")
    assert isinstance(parse_message(line, TIMESTAMP_MS), AccessEntry)


def test_a_request_line_with_a_raw_space_keeps_the_whole_target() -> None:
    line = access("/x?f=a b/../../etc/passwd")
    assert parse_message(line, TIMESTAMP_MS).target == "/x?f=a b/../../etc/passwd"


def test_a_line_without_a_request_parses_without_a_target() -> None:
    line = access("/").replace('"GET / HTTP/1.1"', '"-"')
    entry = parse_message(line, TIMESTAMP_MS)
    assert isinstance(entry, AccessEntry) and entry.target is None


def test_a_wrapped_line_carries_the_node_pod_and_namespace() -> None:
    entry = parse_message(wrapped(access("/x")), TIMESTAMP_MS)
    assert entry.origin == (
        "ip-10-0-1-23.ec2.internal",
        "ingress-nginx-controller-abc12",
        "ingress-nginx",
    )


def test_events_and_audit_entries_are_told_apart_by_api_version() -> None:
    event = parse_message(json.dumps(kube_event("Pulling", "m")), TIMESTAMP_MS)
    audit = parse_message(json.dumps(pod_creation("nginx")), TIMESTAMP_MS)
    assert isinstance(event, KubeEvent) and event.host == "node-1"
    assert isinstance(audit, AuditEntry) and audit.images == ("nginx",)
    assert audit.time == "2021-08-11T13:07:02Z"


def test_controller_diagnostics_are_ignored_and_garbage_is_counted() -> None:
    built = batch(
        "I0811 11:52:27.000000       7 controller.go:190] Configuration changes detected",
        "2021/08/11 11:52:27 [error] 31#31: *1 connect() failed",
        json.dumps({"kind": "Pod", "apiVersion": "v1"}),
        "this is not a log line",
        '{"broken json',
        "[1, 2, 3]",
        access("/ok"),
        screened=False,
    )
    assert (built.ignored, built.unparseable, built.access_seen) == (3, 3, 1)


def test_the_screen_counts_every_access_line_but_keeps_only_notable_ones() -> None:
    built = batch(access("/ok?page=2"), access("/x?f=../../etc/passwd"), access("/static/a.js"))
    assert built.access_seen == 3
    assert [entry.target for entry in built.access] == ["/x?f=../../etc/passwd"]


def test_the_cluster_comes_from_the_log_group() -> None:
    assert cluster_name("/aws/eks/prod-eu/cluster") == "prod-eu"
    assert cluster_name("/aws/containerinsights/staging/application") == "staging"
    assert cluster_name("/k8s/ingress") == "/k8s/ingress"


def test_decoding_undoes_nginx_escapes_repeated_encoding_and_odd_forms() -> None:
    assert decode("..\\x5C..\\x5Cwin.ini") == "../../win.ini"
    assert decode("%25252E%25252E%25252F") == "../"
    assert decode("%u002e%u002e%c0%af") == "../"
    assert decode("100%") == "100%"


@given(st.text(alphabet=st.sampled_from("%25abcdefABCDEF019=&/.\\x ué"), max_size=40))
def test_fast_percent_decoding_agrees_with_the_standard_library(text: str) -> None:
    from urllib.parse import unquote

    assert percent_decode(text.lower()) == unquote(text.lower(), errors="replace")


@settings(max_examples=300)
@given(st.text(max_size=300), st.integers())
def test_the_parser_never_raises_on_arbitrary_text(text: str, timestamp: int) -> None:
    record = parse_message(text, timestamp)
    assert (
        record is None
        or record is IGNORED
        or isinstance(record, (AccessEntry, KubeEvent, AuditEntry))
    )
    built = batch(text, "{" + text, '{"log": ' + json.dumps(text) + "}", screened=True)
    assert (
        built.access_seen
        + built.ignored
        + built.unparseable
        + len(built.events)
        + len(built.audits)
        == 3
    )


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(FIELDS), inner, max_size=5)
    ),
    max_leaves=20,
)


@settings(max_examples=200)
@given(JSON_VALUES)
def test_the_parser_never_raises_on_events_or_audit_entries_of_odd_shape(value: object) -> None:
    body = value if isinstance(value, dict) else {"object": value}
    for api in ("v1", "audit.k8s.io/v1"):
        record = parse_message(json.dumps({**body, "kind": "Event", "apiVersion": api}), 0)
        assert isinstance(record, (KubeEvent, AuditEntry)) or record in (None, IGNORED)
