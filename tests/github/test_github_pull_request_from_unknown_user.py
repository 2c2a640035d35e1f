"""GitHub Pull Request from Unknown User: which pull requests add risk, each counted once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lambdas.detections.base import Context
from lambdas.detections.github.common import GitHubEvent
from lambdas.detections.github.github_pull_request_from_unknown_user import RULE, detect
from lambdas.shared.pipeline import process
from lambdas.shared.settings import Settings
from lambdas.shared.store import MemoryStore
from tests.github.payloads import check_suite, pull_request

NOW = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)
KNOWN = Settings.from_dict({"known_github_users": ["Alice-Dev", "renovate[bot]"]})


def run(event: str, payload: dict, settings: Settings = KNOWN) -> list:
    """The risk events the detection raises for one delivery."""
    record = GitHubEvent(event, payload["action"], payload)
    return list(detect(record, Context(settings, NOW)).risk_events)


@pytest.mark.parametrize("association", ["NONE", "FIRST_TIME_CONTRIBUTOR", "CONTRIBUTOR"])
@pytest.mark.parametrize("action", ["opened", "reopened"])
def test_a_pull_request_by_an_unknown_untrusted_author_adds_risk(
    action: str, association: str
) -> None:
    [event] = run("pull_request", pull_request(action, association=association))

    assert event.detection == "github_pull_request_from_unknown_user"
    assert (event.risk_object, event.risk_object_type) == ("acme-corp/payments", "repository")
    assert event.user == "stranger"
    assert event.risk_score == 27
    assert event.evidence["association"] == association


def test_a_pull_request_from_a_fork_says_so_in_its_evidence() -> None:
    [event] = run("pull_request", pull_request(fork=True))

    assert event.evidence["fork"] is True
    assert event.evidence["head_repository"] == "stranger/Payments"
    assert event.evidence["url"] == "https://github.com/Acme-Corp/Payments/pull/42"
    assert event.evidence["pull_request"] == "42"


def test_a_pull_request_from_a_branch_of_the_repository_is_judged_the_same_way() -> None:
    [event] = run("pull_request", pull_request(fork=False))
    assert event.evidence["fork"] is False


@pytest.mark.parametrize("login", ["Alice-Dev", "alice-dev", "renovate[bot]"])
def test_a_known_login_adds_no_risk_whatever_its_case(login: str) -> None:
    assert run("pull_request", pull_request(login=login)) == []


@pytest.mark.parametrize("association", ["OWNER", "MEMBER", "COLLABORATOR"])
def test_a_trusted_association_adds_no_risk(association: str) -> None:
    assert run("pull_request", pull_request(association=association)) == []


def test_trusted_associations_come_from_the_settings() -> None:
    strict = Settings.from_dict({"trusted_github_associations": ["OWNER"]})
    assert len(run("pull_request", pull_request(association="MEMBER"), strict)) == 1


@pytest.mark.parametrize("action", ["closed", "synchronize", "edited", "labeled"])
def test_other_pull_request_actions_add_no_risk(action: str) -> None:
    assert run("pull_request", pull_request(action)) == []


def test_a_long_title_is_shortened_in_the_evidence() -> None:
    [event] = run("pull_request", pull_request(title="x" * 500))
    assert len(event.evidence["title"]) == 120


def test_a_check_suite_is_judged_by_its_sender_not_by_the_commit_author_name() -> None:
    # GIVEN a commit whose free-text author name claims to be a known user
    spoofed = check_suite(who="stranger", author_name="Alice-Dev")
    # AND a known sender whose commit carries an unknown name
    honest = check_suite(who="alice-dev", author_name="Some Name")

    # THEN only the unknown sender's suite adds risk, attributed to that login
    [event] = run("check_suite", spoofed)
    assert event.user == "stranger"
    assert run("check_suite", honest) == []


def test_a_check_suite_adds_one_risk_event_per_pull_request() -> None:
    events = run("check_suite", check_suite(numbers=(42, 43)))
    assert sorted(e.natural_key for e in events) == [
        "acme-corp/payments#pull/42",
        "acme-corp/payments#pull/43",
    ]


def test_a_check_suite_without_pull_requests_adds_no_risk() -> None:
    assert run("check_suite", check_suite(numbers=())) == []


def test_a_pull_request_of_another_repository_listed_in_a_check_suite_is_ignored() -> None:
    payload = check_suite()
    payload["check_suite"]["pull_requests"][0]["base"]["repo"]["id"] = 999

    assert run("check_suite", payload) == []


def test_the_same_pull_request_seen_by_both_events_is_stored_once() -> None:
    # GIVEN a store, and one pull request delivered as pull_request and as check_suite
    store = MemoryStore()
    deliveries = [
        GitHubEvent("pull_request", "opened", pull_request()),
        GitHubEvent("check_suite", "completed", check_suite()),
    ]

    # WHEN both go through the pipeline
    for record in deliveries:
        process([RULE], record, settings=KNOWN, now=NOW, store=store)

    # THEN one risk event stands for that pull request
    assert [e.natural_key for e in store.risk_events.values()] == ["acme-corp/payments#pull/42"]


def test_a_pull_request_without_an_author_is_reported_as_a_failed_detection() -> None:
    payload = pull_request()
    del payload["pull_request"]["user"]
    store = MemoryStore()

    result = process(
        [RULE], GitHubEvent("pull_request", "opened", payload), settings=KNOWN, now=NOW, store=store
    )

    assert result.failed == ["github_pull_request_from_unknown_user"]
    assert store.risk_events == {}
