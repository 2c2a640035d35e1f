"""Settings: typed, validated, with Splunk's defaults."""

from __future__ import annotations

from datetime import date

import pytest

from lambdas.shared.exceptions import SettingsError
from lambdas.shared.settings import Settings


def test_defaults_reproduce_splunk_hours_and_threshold() -> None:
    settings = Settings()

    assert (settings.business_hours.start, settings.business_hours.end) == ("08:00", "20:00")
    assert settings.correlation.threshold == 80
    assert settings.correlation.window_hours == 24
    assert settings.mandatory_ci_jobs == {"deployment": ("k8s-security",)}


def test_an_unknown_key_is_rejected_with_its_path() -> None:
    with pytest.raises(SettingsError, match=r"settings.correlation: unknown key\(s\) treshold"):
        Settings.from_dict({"correlation": {"treshold": 10}})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"retention_days": "90"}, "settings.retention_days: expected an integer"),
        ({"retention_days": True}, "settings.retention_days: expected an integer"),
        ({"known_github_users": "alice"}, "settings.known_github_users: expected a list"),
        ({"scores": {"x": "high"}}, r"settings.scores.x: expected an integer"),
        ({"suppressions": [{"detection": "x"}]}, r"settings.suppressions\[0\]"),
    ],
)
def test_wrong_types_are_rejected(data: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_dict(data)


def test_lists_become_tuples_and_nested_objects_are_typed() -> None:
    settings = Settings.from_dict(
        {
            "known_ecr_principals": ["arn:aws:iam::*:role/ci-*"],
            "business_hours": {"timezone": "Europe/Berlin", "holidays": ["2026-12-25"]},
            "mandatory_ci_jobs": {"deploy-*": ["trivy", "kube-hunter"]},
        }
    )

    assert settings.known_ecr_principals == ("arn:aws:iam::*:role/ci-*",)
    assert settings.business_hours.timezone == "Europe/Berlin"
    assert settings.business_hours.start == "08:00"
    assert settings.mandatory_ci_jobs == {"deploy-*": ("trivy", "kube-hunter")}


def test_scores_can_be_overridden_per_detection_and_per_variant() -> None:
    settings = Settings.from_dict({"scores": {"a": 10, "b.critical": 90}})

    assert settings.score("a", 27) == 10
    assert settings.score("b", 27, variant="critical") == 90
    assert settings.score("b", 27, variant="high") == 27


def test_repository_names_are_canonical_and_aliases_apply() -> None:
    settings = Settings.from_dict({"repository_aliases": {"devsecops/cat_dog_client": "Acme/Cats"}})

    assert settings.repository("Acme/App.git") == "acme/app"
    assert settings.repository("devsecops/cat_dog_client") == "acme/cats"


def test_suppressions_match_detection_and_entity_until_they_expire() -> None:
    settings = Settings.from_dict(
        {
            "suppressions": [
                {
                    "detection": "kubernetes_*",
                    "entity": "host#node-1*",
                    "reason": "pentest",
                    "expires": "2026-12-31",
                }
            ]
        }
    )
    entities = ["host#node-17"]

    assert settings.suppression_for("kubernetes_nginx_ingress_lfi", entities, date(2026, 12, 3))
    assert not settings.suppression_for("github_dependabot_alert", entities, date(2026, 12, 3))
    assert not settings.suppression_for("kubernetes_nginx_ingress_lfi", entities, date(2027, 1, 1))
