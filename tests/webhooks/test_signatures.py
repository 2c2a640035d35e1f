"""Signature checks: only a body signed with a live secret, as GitHub signs it, gets in."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from devsecops.runtime import LocalAws
from devsecops.sources.github import signed_event
from lambdas.shared.clients import client
from lambdas.webhooks.signatures import parse_secret, sign, verify_prefixed
from tests.github.payloads import pull_request
from tests.webhooks.conftest import SECRET, status

BODY = json.dumps(pull_request()).encode()


def with_signature(header: str | None) -> dict:
    """A correctly signed pull_request event whose signature header is then replaced."""
    event = signed_event("pull_request", BODY, secret=SECRET)
    if header is None:
        del event["headers"]["x-hub-signature-256"]
    else:
        event["headers"]["x-hub-signature-256"] = header
    return event


GOOD = "sha256=" + sign(SECRET, BODY)
BAD_HEADERS = {
    "missing": None,
    "empty": "",
    "wrong secret": "sha256=" + sign("another-secret", BODY),
    "other body": "sha256=" + sign(SECRET, BODY + b" "),
    "truncated": GOOD[:-1],
    "sha1 algorithm": "sha1=" + hmac.new(SECRET.encode(), BODY, hashlib.sha1).hexdigest(),
    "no prefix": sign(SECRET, BODY),
    "other prefix": "sha512=" + sign(SECRET, BODY),
    "not hex": "sha256=" + "z" * 64,
}


@pytest.mark.parametrize("header", BAD_HEADERS.values(), ids=BAD_HEADERS.keys())
def test_a_bad_signature_is_refused_and_nothing_is_stored(aws: LocalAws, header: str) -> None:
    answer = aws.invoke("webhooks", with_signature(header))

    assert status(answer) == (401, "signature")
    assert aws.risk_events() == []


def test_the_right_signature_is_accepted(aws: LocalAws) -> None:
    assert status(aws.invoke("webhooks", with_signature(GOOD))) == (202, "accepted")
    assert len(aws.risk_events()) == 1


def test_the_legacy_sha1_header_alone_is_not_enough(aws: LocalAws) -> None:
    # GIVEN a delivery whose sha1 header is valid but whose sha256 header is missing
    event = with_signature(None)
    assert event["headers"]["x-hub-signature"].startswith("sha1=")

    # THEN it is refused
    assert status(aws.invoke("webhooks", event))[0] == 401


def test_while_rotating_both_the_new_and_the_old_secret_are_accepted() -> None:
    secrets = parse_secret(json.dumps({"secrets": ["new-secret", "old-secret"]}))

    assert verify_prefixed("sha256=" + sign("new-secret", BODY), BODY, secrets, "sha256")
    assert verify_prefixed("sha256=" + sign("old-secret", BODY), BODY, secrets, "sha256")
    assert not verify_prefixed("sha256=" + sign("retired", BODY), BODY, secrets, "sha256")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("plain-secret", ("plain-secret",)),
        ("  padded\n", ("padded",)),
        ('{"secrets": ["a", "b"]}', ("a", "b")),
        ('{"secrets": ["a", 3, ""]}', ("a",)),
        ('{"secrets": "not-a-list"}', ()),
        ("{not json", ("{not json",)),
        ('{"other": ["a"]}', ()),
        ("", ()),
    ],
)
def test_a_secret_string_is_read_as_one_secret_or_a_rotation_list(
    raw: str, expected: tuple
) -> None:
    assert parse_secret(raw) == expected


def test_the_secret_is_read_from_secrets_manager_when_an_arn_is_configured(
    aws: LocalAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a rotation secret in Secrets Manager, and no local secret
    value = json.dumps({"secrets": ["rotated-in", SECRET]})
    arn = client("secretsmanager").create_secret(Name="gh", SecretString=value)["ARN"]
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET_ARN", arn)
    monkeypatch.delenv("GITHUB_WEBHOOK_SECRET")

    # WHEN deliveries are signed with the new secret, the old one, and neither
    new = signed_event("pull_request", pull_request(number=1), secret="rotated-in")
    old = signed_event("pull_request", pull_request(number=2), secret=SECRET)
    stale = signed_event("pull_request", pull_request(number=3), secret="long-gone")

    # THEN the first two are accepted
    answers = [status(aws.invoke("webhooks", event))[0] for event in (new, old, stale)]
    assert answers == [202, 202, 401]


def test_without_any_configured_secret_deliveries_fail_loudly_and_store_nothing(
    aws: LocalAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_WEBHOOK_SECRET")

    answer = aws.invoke("webhooks", with_signature(GOOD))

    assert status(answer) == (500, "unavailable")
    assert aws.risk_events() == []


def test_an_unreadable_secrets_manager_secret_fails_loudly(
    aws: LocalAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:1:secret:x")

    assert status(aws.invoke("webhooks", with_signature(GOOD)))[0] == 500
