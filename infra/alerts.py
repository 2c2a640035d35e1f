"""The alert topic: where the correlation function publishes, and who hears about it."""

from __future__ import annotations

from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct


def encrypted_topic(scope: Construct, construct_id: str, name: str, key: kms.IKey) -> sns.Topic:
    """An SNS topic encrypted with the detector's key that refuses requests without TLS."""
    return sns.Topic(scope, construct_id, display_name=name, master_key=key, enforce_ssl=True)


class Alerts(Construct):
    """The alert topic, with an optional e-mail subscription from the settings."""

    def __init__(
        self, scope: Construct, construct_id: str, *, key: kms.IKey, email: str | None
    ) -> None:
        super().__init__(scope, construct_id)

        # Alerts for people and machines (the correlation function is the only publisher).
        self.topic = encrypted_topic(self, "Topic", "DevSecOps risk alerts", key)

        # Optional e-mail recipient; AWS sends a confirmation link before delivering anything.
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
