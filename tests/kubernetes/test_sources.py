"""Replay adapters: files of ingress lines, Events and audit entries become subscription events."""

from __future__ import annotations

import argparse
import base64
import gzip
import json
from pathlib import Path
from typing import Any

from devsecops.sources import k8s, nginx
from tests.kubernetes.lines import access, kube_event, pod_creation, wrapped

OPTIONS = argparse.Namespace()


def decoded(event: dict[str, Any]) -> dict[str, Any]:
    """The JSON inside a subscription event."""
    return json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))


def test_access_lines_become_subscription_events_of_at_most_5000_lines(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    path.write_text("\n".join(access(f"/p{n}") for n in range(12_001)) + "\n\n")
    events = list(nginx.lambda_events([path], OPTIONS))
    assert [function for function, _ in events] == ["kubernetes"] * 3
    bodies = [decoded(event) for _, event in events]
    assert [len(body["logEvents"]) for body in bodies] == [5000, 5000, 2001]
    assert bodies[0]["messageType"] == "DATA_MESSAGE"
    assert bodies[0]["logGroup"] == nginx.DEFAULT_LOG_GROUP
    assert bodies[2]["logEvents"][-1]["message"] == access("/p12000")


def test_gzipped_wrapper_lines_keep_their_own_time(tmp_path: Path) -> None:
    path = tmp_path / "ingress.json.gz"
    path.write_bytes(gzip.compress((wrapped(access("/x")) + "\n").encode()))
    ((_, event),) = nginx.lambda_events([path], argparse.Namespace(log_group="/aws/eks/a/cluster"))
    body = decoded(event)
    assert body["logGroup"] == "/aws/eks/a/cluster"
    assert body["logEvents"][0]["timestamp"] == 1_628_682_747_000


def test_events_come_from_json_lines_arrays_and_list_objects(tmp_path: Path) -> None:
    lines = tmp_path / "events.jsonl"
    lines.write_text(json.dumps(kube_event("Pulling", "a")) + "\n" + json.dumps(pod_creation("x")))
    array = tmp_path / "events.json"
    array.write_text(json.dumps([kube_event("Pulling", "b")], indent=2))
    listing = tmp_path / "list.json"
    listing.write_text(json.dumps({"kind": "EventList", "items": [kube_event("Pulled", "c")]}))
    events = list(k8s.lambda_events([lines, array, listing], OPTIONS))
    messages = [
        json.loads(e["message"]) for _, event in events for e in decoded(event)["logEvents"]
    ]
    assert [m.get("message", m["kind"]) for m in messages] == ["a", "Event", "b", "c"]
    assert decoded(events[0][1])["logGroup"] == k8s.DEFAULT_LOG_GROUP


def test_a_record_without_its_own_time_takes_the_previous_ones(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_text(json.dumps(pod_creation("x")) + "\n" + json.dumps({"kind": "Event"}) + "\n")
    ((_, event),) = k8s.lambda_events([path], OPTIONS)
    stamps = [e["timestamp"] for e in decoded(event)["logEvents"]]
    assert stamps[0] == stamps[1] > 0


def test_the_samples_hold_exactly_their_sibling_source_lines() -> None:
    folder = Path(__file__).resolve().parents[2] / "events" / "kubernetes"
    for sample, source in (
        ("ingress_lfi_subscription.json", "ingress_lfi.log"),
        ("ingress_rfi_subscription.json", "ingress_rfi.log"),
        ("scanner_pull_subscription.json", "scanner_pull.jsonl"),
    ):
        messages = [
            e["message"] for e in decoded(json.loads((folder / sample).read_text()))["logEvents"]
        ]
        originals = (folder / source).read_text().splitlines()
        if source.endswith(".jsonl"):
            originals = [json.dumps(json.loads(line), separators=(",", ":")) for line in originals]
        assert messages == originals
