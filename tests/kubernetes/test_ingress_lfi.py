"""Kubernetes Nginx Ingress LFI: what must raise risk and what must not."""

from __future__ import annotations

import pytest

from lambdas.detections.kubernetes import kubernetes_nginx_ingress_lfi as lfi
from tests.kubernetes.lines import access, run, wrapped

ATTACKS = [
    "/index.php?page=../../../../etc/passwd",
    "/index.php?page=/etc/passwd",
    "/etc/shadow",
    "/INDEX.PHP?PAGE=../../../../ETC/PASSWD",
    "/index.php?page=..%2f..%2f..%2fetc%2fpasswd",
    "/index.php?page=%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    "/view?file=..%252f..%252f..%252fetc%252fpasswd",
    "/view?file=%25252e%25252e%25252f%25252e%25252e%25252fapp%25252fconfig.yml",
    "/view?file=%c0%ae%c0%ae/%c0%ae%c0%ae/%c0%ae%c0%ae/app/settings.py",
    "/download?file=..\\x5C..\\x5C..\\x5Cwindows\\x5Cwin.ini",
    "/download?file=c:\\x5Cwindows\\x5Cwin.ini",
    "/download?file=..%5c..%5cboot.ini",
    "/img?src=../../../../../../app/config/database.yml",
    "/static/../../app.py",
    "/static/..;/..;/WEB-INF/web.xml",
    "/page?doc=....//....//....//app/secrets.json",
    "/x?f=/proc/self/environ",
    "/x?f=%2Fproc%2Fself%2Fcmdline",
    "/x?f=/var/run/secrets/kubernetes.io/serviceaccount/token",
    "/index.php?page=php://filter/convert.base64-encode/resource=index.php",
    "/index.php?page=PHP://FILTER/resource=config.php",
    "/fetch?src=file:///etc/hostname",
    "/fetch?src=phar://uploads/avatar.jpg/shell",
    "/files/%2e%2e/%2e%2e/etc/issue",
]

BENIGN = [
    "/",
    "/login?next=../account",
    "/login?next=%2E%2E%2Faccount",
    "/docs/getting-started?page=2&sort=title",
    "/api/v1/files?path=reports/2021/q3.pdf",
    "/static/js/app.8f3a2c.min.js",
    "/search?q=passwd+reset&lang=en",
    "/search?q=how+to+edit+etc+files",
    "/oauth/authorize?redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb",
    "/downloads/agent-10.2.0.1/linux/amd64",
    "/gallery?img=../thumbs/cat.png",
    "/blog/2021/08/the-etc-directory-explained",
]


@pytest.mark.parametrize("target", ATTACKS)
def test_an_inclusion_attempt_raises_risk_on_the_host(target: str) -> None:
    events = run(lfi, access(target))
    assert len(events) == 1
    assert events[0].risk_object == "default-webapp-80"
    assert events[0].risk_score == 49


@pytest.mark.parametrize("target", BENIGN)
def test_an_ordinary_request_raises_nothing(target: str) -> None:
    assert run(lfi, access(target)) == ()


def test_a_thousand_repeats_make_one_risk_event_with_their_count() -> None:
    lines = [access("/x?f=../../../../etc/passwd", status="404")] * 1000
    events = run(lfi, *lines)
    assert [event.count for event in events] == [1000]
    assert events[0].evidence["statuses"] == {"404": 1000}


def test_attempts_in_different_hours_or_from_different_clients_are_separate() -> None:
    lines = [
        access("/?f=/etc/passwd", when="11/Aug/2021:11:59:59 +0000"),
        access("/?f=/etc/passwd", when="11/Aug/2021:12:00:00 +0000"),
        access("/?f=/etc/passwd", client="198.51.100.1"),
    ]
    keys = sorted(event.natural_key for event in run(lfi, *lines))
    assert keys == [
        "198.51.100.1#2021-08-11T11:00:00Z",
        "203.0.113.7#2021-08-11T11:00:00Z",
        "203.0.113.7#2021-08-11T12:00:00Z",
    ]


def test_the_same_attack_replayed_gets_the_same_id() -> None:
    line = access("/?f=/etc/passwd")
    assert run(lfi, line)[0].id == run(lfi, line, line)[0].id


def test_evidence_keeps_the_client_status_not_the_upstream_status() -> None:
    line = access("/?f=/etc/passwd", status="403").replace(" 612 0.004 403 ", " 612 0.004 200 ")
    evidence = run(lfi, line)[0].evidence
    assert (evidence["status"], evidence["upstream_status"]) == ("403", "200")
    assert evidence["src_ip"] == "203.0.113.7"
    assert evidence["indicator"] == "/etc/passwd"


def test_the_node_from_the_shippers_metadata_is_the_risk_object() -> None:
    event = run(lfi, wrapped(access("/?f=/etc/passwd")))[0]
    assert event.risk_object == "ip-10-0-1-23.ec2.internal"
    assert event.evidence["pod"] == "ingress-nginx-controller-abc12"


def test_basic_auth_users_do_not_hide_an_attack() -> None:
    # Splunk's regex required `- -`; a request with a logged-in user never parsed.
    assert len(run(lfi, access("/?f=/etc/passwd", user="alice"))) == 1


def test_event_time_is_the_requests_own_time() -> None:
    event = run(lfi, access("/?f=/etc/passwd", when="11/Aug/2021:13:52:27 +0200"))[0]
    assert event.event_time == "2021-08-11T11:52:27Z"
