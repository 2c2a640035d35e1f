"""The DevSecOpsDetector stack: sources, functions, tables, correlation and alerts."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra import nag
from infra.alerts import Alerts
from infra.correlation import Correlation
from infra.ecr import EcrSource
from infra.functions import FunctionFactory
from infra.kubernetes import KubernetesSource
from infra.monitoring import Monitoring
from infra.risk_store import RiskStore
from infra.settings import DeploymentSettings
from infra.trail import Trail
from infra.webhooks import WebhookSource


class DevSecOpsDetector(Stack):
    """Everything the detector needs in one account and region; no lookups, no AWS call at synth."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)

        # Settings first: an invalid settings object stops the synth before anything else.
        self.settings = DeploymentSettings(self, "Settings")
        settings = self.settings.settings

        # Storage, topics and the function factory the sources share.
        self.store = RiskStore(self, "RiskStore")
        self.alerts = Alerts(self, "Alerts", key=self.store.key, email=settings.alert_email)
        self.monitoring = Monitoring(
            self, "Monitoring", key=self.store.key, email=settings.alert_email
        )
        functions = FunctionFactory(
            self,
            "Functions",
            store=self.store,
            settings=self.settings.parameter,
            tracing=settings.tracing,
        )
        shared = {"functions": functions, "store": self.store, "monitoring": self.monitoring}

        # One construct per source, then correlation.
        self.ecr = EcrSource(self, "Ecr", **shared)
        self.webhooks = WebhookSource(self, "Webhooks", **shared)
        self.kubernetes = KubernetesSource(
            self,
            "Kubernetes",
            **shared,
            log_groups=settings.kubernetes_log_groups,
            filter_pattern=settings.ingress_filter_pattern,
        )
        self.correlation = Correlation(self, "Correlation", **shared, topic=self.alerts.topic)

        # A trail only for accounts that have none (CloudTrail PutImage events need one).
        self.trail = Trail(self, "Trail") if settings.create_cloudtrail else None

        self._outputs()
        nag.acknowledge(self)

    def _outputs(self) -> None:
        """What a user needs after deploy: table names, topics, webhook URLs and secrets."""
        secrets = self.webhooks.secrets
        values = {
            "RiskTableName": self.store.risk_table.table_name,
            "StateTableName": self.store.state_table.table_name,
            "AlertTopicArn": self.alerts.topic.topic_arn,
            "OpsTopicArn": self.monitoring.topic.topic_arn,
            "SettingsParameterName": self.settings.parameter.parameter_name,
            "GitHubWebhookUrl": self.webhooks.urls["github"],
            "CircleCiWebhookUrl": self.webhooks.urls["circleci"],
            "GitHubWebhookSecret": secrets["GITHUB_WEBHOOK_SECRET_ARN"].secret_arn,
            "CircleCiWebhookSecret": secrets["CIRCLECI_WEBHOOK_SECRET_ARN"].secret_arn,
            "CircleCiApiToken": secrets["CIRCLECI_API_TOKEN_SECRET_ARN"].secret_arn,
            # The two queues a person re-drives by command: `devsecops redrive` and `recount`.
            "WebhookDeadLettersUrl": self.webhooks.dead_letters.queue_url,
            "CorrelationDeadLettersUrl": self.correlation.dead_letters.queue_url,
        }
        for name, value in values.items():
            CfnOutput(self, name, value=value)
