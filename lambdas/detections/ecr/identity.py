"""Who made an AWS call: one identity per IAM user or role, the session name kept as evidence."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from lambdas.shared.exceptions import InputError

_ASSUMED_ROLE = re.compile(r"^arn:(?P<partition>[^:]+):sts::(?P<account>\d*):assumed-role/(.+)$")


class Principal(NamedTuple):
    """An IAM user or role ARN (the identity), its CloudTrail type and the role session name."""

    arn: str
    kind: str
    session: str | None = None


def principal_of(user_identity: Mapping[str, Any] | None) -> Principal:
    """The identity behind a CloudTrail `userIdentity`: a role session counts as its role."""
    if not isinstance(user_identity, Mapping):
        raise InputError("cloudtrail: userIdentity is missing")

    kind = str(user_identity.get("type") or "Unknown")
    arn = str(user_identity.get("arn") or "")
    assumed = _ASSUMED_ROLE.match(arn)
    if assumed:
        return _role_session(assumed, user_identity, kind)
    if arn:
        return Principal(arn, kind)

    # AWS services and some cross-account calls carry no ARN: name them by what CloudTrail gives.
    other = user_identity.get("invokedBy") or user_identity.get("principalId")
    if not other:
        raise InputError("cloudtrail: userIdentity has neither arn, invokedBy nor principalId")
    return Principal(str(other), kind)


def _role_session(assumed: re.Match[str], identity: Mapping[str, Any], kind: str) -> Principal:
    """`assumed-role/ROLE/SESSION` -> the role's IAM ARN, with its path when the issuer gives it."""
    role, _, session = assumed.group(3).partition("/")
    issuer = (identity.get("sessionContext") or {}).get("sessionIssuer") or {}
    issuer_arn = str(issuer.get("arn") or "")

    # NOTE: the STS ARN drops the role's path; the session issuer keeps it. Trust the issuer only
    # when it names the same role, so a redacted or inconsistent record cannot rename the caller.
    if issuer_arn.endswith(f"/{role}") and ":role/" in issuer_arn:
        return Principal(issuer_arn, kind, session or None)
    partition, account = assumed.group("partition"), assumed.group("account")
    return Principal(f"arn:{partition}:iam::{account}:role/{role}", kind, session or None)


def matches_any(arn: str, patterns: Iterable[str]) -> bool:
    """True when an ARN matches one of the patterns, where `*` stands for any run of characters.

    Matching ignores case: IAM names are unique regardless of case, so no two principals collide.
    """
    return any(_pattern(pattern).fullmatch(arn) for pattern in patterns)


def _pattern(pattern: str) -> re.Pattern[str]:
    """A compiled regular expression for an ARN pattern with `*` wildcards only."""
    parts = (re.escape(part) for part in pattern.strip().split("*"))
    return re.compile(".*".join(parts), re.IGNORECASE)
