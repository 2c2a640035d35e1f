"""The settings a team tailors: one typed model, read from cdk.json, SSM, a file or the environment.

Every key is documented in the README's settings table. Unknown keys are rejected, so a typo in a
deployment's settings fails loudly instead of silently falling back to a default.
"""

from __future__ import annotations

import fnmatch
import json
import os
import types
import typing
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

from lambdas.shared.exceptions import SettingsError


class BusinessHours(NamedTuple):
    """When pushes are expected: `start` is inside the hours, `end` is the first minute outside."""

    start: str = "08:00"
    end: str = "20:00"
    timezone: str = "UTC"
    weekdays: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri")
    holidays: tuple[str, ...] = ()


class Correlation(NamedTuple):
    """When an entity's accumulated risk becomes an alert."""

    window_hours: int = 24
    threshold: int = 80
    min_detections: int = 1


class Suppression(NamedTuple):
    """A risk event to store but not count: which detection, which entity, why, and until when."""

    detection: str
    entity: str
    reason: str
    expires: str

    def matches(self, detection: str, entities: list[str], today: date) -> bool:
        """True while unexpired, for a matching detection and any matching entity key or value."""
        if date.fromisoformat(self.expires) < today:
            return False
        if not fnmatch.fnmatchcase(detection, self.detection):
            return False
        values = entities + [key.split("#", 1)[1] for key in entities]
        return any(fnmatch.fnmatchcase(value, self.entity) for value in values)


DEFAULT_SCANNER_IMAGES: tuple[str, ...] = (
    "kube-hunter",
    "kube-bench",
    "kube-recon",
    "kubescape",
    "kubeaudit",
    "kubesec",
    "peirates",
    "kubiscan",
)


class Settings(NamedTuple):
    """Everything a deployment can tailor. Defaults reproduce Splunk's detections."""

    # Risk scores by detection id (or `<detection id>.<variant>`), overriding the defaults.
    scores: Mapping[str, int] = types.MappingProxyType({})
    correlation: Correlation = Correlation()
    retention_days: int = 90
    suppressions: tuple[Suppression, ...] = ()
    # Other names of a code repository (ECR repository, CircleCI slug) -> `owner/name`.
    repository_aliases: Mapping[str, str] = types.MappingProxyType({})
    business_hours: BusinessHours = BusinessHours()
    # CONFIGURATION REQUIRED: ARN patterns (`*` wildcards) of principals expected to push images.
    known_ecr_principals: tuple[str, ...] = ()
    learning_days: int = 7
    # CONFIGURATION REQUIRED: GitHub logins trusted to open pull requests.
    known_github_users: tuple[str, ...] = ()
    trusted_github_associations: tuple[str, ...] = ("OWNER", "MEMBER", "COLLABORATOR")
    # CONFIGURATION REQUIRED: workflow pattern -> job patterns it must run; job -> steps.
    mandatory_ci_jobs: Mapping[str, tuple[str, ...]] = types.MappingProxyType(
        {"deployment": ("k8s-security",)}
    )
    mandatory_ci_steps: Mapping[str, tuple[str, ...]] = types.MappingProxyType(
        {"k8s-security": ("Run Kube Hunter",)}
    )
    circleci_grace_seconds: int = 300
    trusted_hosts: tuple[str, ...] = ()
    scanner_images: tuple[str, ...] = DEFAULT_SCANNER_IMAGES
    # Deployment-only keys: read by the CDK app, ignored by the functions.
    alert_email: str | None = None
    kubernetes_log_groups: tuple[str, ...] = ()
    ingress_filter_pattern: str | None = None
    create_cloudtrail: bool = False
    # X-Ray active tracing on every function: about $5 per million traced invocations at low
    # traffic, more than the rest of a webhook's cost, so it is opt-in.
    tracing: bool = False

    def score(self, detection: str, default: int, variant: str | None = None) -> int:
        """The configured score of a detection (or one of its variants), else the default."""
        if variant and f"{detection}.{variant}" in self.scores:
            return self.scores[f"{detection}.{variant}"]
        return self.scores.get(detection, default)

    def suppression_for(self, detection: str, entities: list[str], today: date) -> str | None:
        """The reason of the first live suppression matching a risk event, if any."""
        for rule in self.suppressions:
            if rule.matches(detection, entities, today):
                return rule.reason
        return None

    def repository(self, name: str) -> str:
        """Canonical repository name: an alias's target, else `owner/name` lower-cased."""
        cleaned = name.strip().removesuffix(".git").strip("/")
        return self.repository_aliases.get(cleaned, cleaned).lower()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        """Build and validate settings from a JSON object; raise SettingsError naming the key."""
        return _build(cls, data, "settings")


def load_settings() -> Settings:
    """Read settings from the environment: an SSM parameter, a file, inline JSON, or defaults."""
    parameter = os.environ.get("SETTINGS_PARAMETER")
    if parameter:
        return _from_parameter(parameter)

    path = os.environ.get("DEVSECOPS_SETTINGS_FILE")
    if path:
        return Settings.from_dict(json.loads(Path(path).read_text()))

    inline = os.environ.get("DEVSECOPS_SETTINGS")
    return Settings.from_dict(json.loads(inline)) if inline else Settings()


def _from_parameter(name: str) -> Settings:
    """Fetch settings from SSM; Powertools caches the value for five minutes between calls."""
    from aws_lambda_powertools.utilities.parameters import get_parameter

    data = get_parameter(name, transform="json", max_age=300)
    return Settings.from_dict(data)


def _build(cls: type, data: Any, path: str) -> Any:
    """Construct settings model `cls` from `data`, checking every field's type."""
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: expected an object")

    known = set(cls._fields)
    unknown = sorted(set(data) - known)
    if unknown:
        raise SettingsError(f"{path}: unknown key(s) {', '.join(unknown)}")

    hints = typing.get_type_hints(cls)
    values = {name: _convert(hints[name], data[name], f"{path}.{name}") for name in data}
    try:
        return cls(**values)
    except TypeError as exc:
        raise SettingsError(f"{path}: {exc}") from exc


def _convert(hint: Any, value: Any, path: str) -> Any:
    """Check `value` against a type hint and convert lists to tuples."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)

    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [arg for arg in args if arg is not type(None)]
        return _convert(inner[0], value, path)
    if _is_model(hint):
        return _build(hint, value, path)
    if origin is tuple:
        if not isinstance(value, list):
            raise SettingsError(f"{path}: expected a list")
        return tuple(_convert(args[0], item, f"{path}[{i}]") for i, item in enumerate(value))
    if origin in (dict, Mapping):
        if not isinstance(value, dict):
            raise SettingsError(f"{path}: expected an object")
        return {str(key): _convert(args[1], item, f"{path}.{key}") for key, item in value.items()}
    return _scalar(hint, value, path)


def _scalar(hint: type, value: Any, path: str) -> Any:
    """Check a scalar; bool is not accepted where an int is expected."""
    if hint is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise SettingsError(f"{path}: expected an integer")
    if not isinstance(value, hint):
        raise SettingsError(f"{path}: expected {hint.__name__}")
    return value


def _is_model(hint: Any) -> bool:
    """True for the settings' own record types (Settings, Correlation, ...)."""
    return isinstance(hint, type) and issubclass(hint, tuple) and hasattr(hint, "_fields")
