"""How every detector function is built: runtime, layer, code, logs, role and environment."""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra.code_asset import code_asset
from infra.risk_store import RiskStore
from lambdas.shared.observability import NAMESPACE

RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
# Powertools' public layer for this runtime and architecture: bump the version here only.
POWERTOOLS_LAYER_VERSION = 27
POWERTOOLS_LAYER_NAME = "AWSLambdaPowertoolsPythonV3-python313-arm64"
POWERTOOLS_ACCOUNT = "017000801446"
LOG_RETENTION = logs.RetentionDays.THREE_MONTHS


class FunctionFactory(Construct):
    """Builds the functions alike; holds what they share (code asset, layer, settings, tables)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        store: RiskStore,
        settings: ssm.IStringParameter,
        tracing: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        self._settings = settings
        self._tracing = lambda_.Tracing.ACTIVE if tracing else lambda_.Tracing.DISABLED
        self._environment = {
            "POWERTOOLS_METRICS_NAMESPACE": NAMESPACE,
            "RISK_TABLE_NAME": store.risk_table.table_name,
            "STATE_TABLE_NAME": store.state_table.table_name,
            "SETTINGS_PARAMETER": settings.parameter_name,
        }

        # One asset for all functions, uploaded once: the `lambdas` package and its bytecode.
        self._code = code_asset(RUNTIME)

        # Powertools from AWS's public layer; boto3 comes with the runtime.
        layer_arn = (
            f"arn:{Aws.PARTITION}:lambda:{Aws.REGION}:{POWERTOOLS_ACCOUNT}:layer:"
            f"{POWERTOOLS_LAYER_NAME}:{POWERTOOLS_LAYER_VERSION}"
        )
        self._layer = lambda_.LayerVersion.from_layer_version_arn(self, "Powertools", layer_arn)

    def function(
        self,
        scope: Construct,
        name: str,
        *,
        memory: int,
        timeout: Duration,
        environment: dict[str, str] | None = None,
    ) -> lambda_.Function:
        """A function running `lambdas.<name>.handler.lambda_handler` with its own logs and role."""
        # Own log group: retention set, and the role may write only there.
        log_group = logs.LogGroup(
            scope, "Logs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY
        )

        # Own role without managed policies: every permission below is granted by name.
        role = iam.Role(scope, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        log_group.grant(role, "logs:CreateLogStream", "logs:PutLogEvents")
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["ssm:GetParameter"], resources=[self._settings.parameter_arn]
            )
        )

        # The function; with the `tracing` setting, X-Ray records the runtime's own segments (the
        # code imports no Tracer: aws_xray_sdk would add about 145 ms to every cold start).
        return lambda_.Function(
            scope,
            "Function",
            description=f"DevSecOpsDetector {name}",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=f"lambdas.{name}.handler.lambda_handler",
            code=self._code,
            layers=[self._layer],
            memory_size=memory,
            timeout=timeout,
            tracing=self._tracing,
            log_group=log_group,
            role=role,
            environment={
                **self._environment,
                "POWERTOOLS_SERVICE_NAME": name,
                **(environment or {}),
            },
        )
