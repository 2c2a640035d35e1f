"""Kubernetes Scanner Image Pulling: what must raise risk and what must not."""

from __future__ import annotations

import pytest

from lambdas.detections.kubernetes import kubernetes_scanner_image_pulling as scanner
from lambdas.detections.kubernetes.images import repository_path, scanner_pattern
from lambdas.shared.settings import DEFAULT_SCANNER_IMAGES, Settings
from tests.kubernetes.lines import kube_event, pod_creation, run

SCANNERS = [
    "aquasec/kube-hunter",
    "aquasec/kube-hunter:0.6.8",
    "docker.io/aquasec/kube-bench:v0.6.15",
    "quay.io/kubescape/kubescape@sha256:" + "a" * 64,
    "registry.internal:5000/mirror/kube-recon:latest",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com/tools/peirates",
    "localhost/kubiscan",
    "AquaSec/Kube-Hunter:LATEST",
]
NOT_SCANNERS = [
    "kube-bench.registry.example.com/shop/web:1.4.2",
    "kubesec.io/team/api:2",
    "myteam/kube-bench-results-viewer:1.0",
    "nginx:1.25",
    "public.ecr.aws/eks/kube-proxy:v1.29.0",
]


@pytest.mark.parametrize("image", SCANNERS)
def test_a_scanner_image_matches_by_its_repository_name(image: str) -> None:
    assert scanner_pattern(image, DEFAULT_SCANNER_IMAGES) is not None


@pytest.mark.parametrize("image", NOT_SCANNERS)
def test_a_registry_host_or_a_longer_name_does_not_match(image: str) -> None:
    assert scanner_pattern(image, DEFAULT_SCANNER_IMAGES) is None


def test_the_repository_path_drops_registry_tag_and_digest() -> None:
    assert repository_path("registry.example.com:5000/sec/kube-hunter:0.6@sha256:ab") == (
        "sec/kube-hunter"
    )


def test_a_pattern_with_a_slash_matches_the_end_of_the_path() -> None:
    patterns = ("acme/trivy*",)
    assert scanner_pattern("ghcr.io/acme/trivy-operator:1", patterns) == "acme/trivy*"
    assert scanner_pattern("ghcr.io/other/trivy:1", patterns) is None


def test_pulling_a_scanner_raises_risk_on_the_node() -> None:
    events = run(scanner, kube_event("Pulling", 'Pulling image "aquasec/kube-hunter:latest"'))
    assert [(e.risk_object, e.risk_score, e.detection) for e in events] == [
        ("node-1", 81, "kubernetes_scanner_image_pulling")
    ]
    assert events[0].evidence["pod"] == "scan-1"
    assert events[0].evidence["namespace"] == "default"


def test_a_cached_scanner_image_raises_risk_although_nothing_is_pulled() -> None:
    message = 'Container image "aquasec/kube-bench:v0.6.15" already present on machine'
    assert len(run(scanner, kube_event("Pulled", message))) == 1


def test_a_watch_wrapped_event_and_a_new_style_event_both_count() -> None:
    watched = {"type": "ADDED", "object": kube_event("Pulling", 'Pulling image "kubescape"')}
    new_style = {
        "kind": "Event",
        "apiVersion": "events.k8s.io/v1",
        "regarding": {"kind": "Pod", "namespace": "ops", "name": "p", "uid": "u-2"},
        "reason": "Pulling",
        "note": 'Pulling image "kubeaudit:0.22"',
        "reportingInstance": "node-7",
    }
    assert [event.risk_object for event in run(scanner, watched, new_style)] == ["node-1", "node-7"]


def test_pulling_and_pulled_of_one_pod_and_image_share_an_id() -> None:
    pulling = kube_event("Pulling", 'Pulling image "aquasec/kube-hunter"')
    pulled = kube_event(
        "Pulled", 'Container image "aquasec/kube-hunter" already present on machine'
    )
    first, second = run(scanner, pulling, pulled)
    assert first.id == second.id


@pytest.mark.parametrize(
    "event",
    [
        kube_event("Pulling", 'Pulling image "nginx:1.25"'),
        kube_event("Pulling", 'Pulling image "kube-bench.registry.example.com/shop/web:1"'),
        kube_event("Started", "Started container kube-hunter"),
        kube_event("Pulled", 'Successfully pulled image "nginx" in 1.2s'),
    ],
)
def test_ordinary_images_and_other_reasons_raise_nothing(event: dict) -> None:
    assert run(scanner, event) == ()


def test_an_audited_pod_creation_puts_the_cluster_at_risk() -> None:
    extra = {"user": {"username": "jdoe", "extra": {"canonicalArn": ["arn:aws:iam::1:role/a"]}}}
    events = run(scanner, pod_creation("nginx", "aquasec/kube-hunter", **extra))
    assert [(e.risk_object, e.user) for e in events] == [("prod", "arn:aws:iam::1:role/a")]
    assert events[0].evidence["images"] == ["aquasec/kube-hunter"]


def test_an_audit_entry_logged_at_two_stages_makes_one_id() -> None:
    received = pod_creation("peirates", stage="RequestReceived")
    completed = pod_creation("peirates")
    first, second = run(scanner, received, completed)
    assert first.id == second.id


def test_an_init_container_or_a_pinned_node_is_read_from_the_pod_spec() -> None:
    entry = pod_creation("nginx")
    entry["requestObject"]["spec"].update(
        initContainers=[{"name": "i", "image": "kubiscan"}], nodeName="node-9"
    )
    assert [event.risk_object for event in run(scanner, entry)] == ["node-9"]


def test_other_verbs_and_resources_raise_nothing() -> None:
    listing = pod_creation("aquasec/kube-hunter", verb="list")
    deployment = pod_creation("aquasec/kube-hunter")
    deployment["objectRef"]["resource"] = "deployments"
    assert run(scanner, listing, deployment) == ()


def test_the_scanner_list_comes_from_the_settings() -> None:
    settings = Settings(scanner_images=("trivy",))
    event = kube_event("Pulling", 'Pulling image "aquasec/trivy:0.50"')
    assert len(run(scanner, event, settings=settings)) == 1
    assert (
        run(scanner, kube_event("Pulling", 'Pulling image "kube-hunter"'), settings=settings) == ()
    )
