"""Where the detector keeps its data: the risk table, the state table and their KMS key."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from lambdas.shared.schema import (
    RISK_DETECTION_KEY,
    RISK_INDEX_PROJECTION,
    RISK_PK,
    RISK_SK,
    RISK_TIME_INDEX,
    RISK_TIME_KEY,
    STATE_PK,
    STATE_SK,
    TTL_ATTRIBUTE,
)

# What a console user needs to read an index page without fetching every item.
INDEX_ATTRIBUTES = [*RISK_INDEX_PROJECTION, "risk_object", "risk_object_type", "severity"]


def _string(name: str) -> dynamodb.Attribute:
    """A string key attribute."""
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


class RiskStore(Construct):
    """Both tables, encrypted with one customer-managed key that outlives the stack."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)

        # Customer-managed key, retained with the risk table: without it that data is unreadable.
        self.key = kms.Key(
            self,
            "Key",
            description="DevSecOpsDetector tables, stream and topics",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # CloudWatch alarms publish to the encrypted topics, so the service must use the key.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
            )
        )

        self.risk_table = self._risk_table()
        self.state_table = self._state_table()

    def _risk_table(self) -> dynamodb.Table:
        """One item per risk event; its stream feeds correlation."""
        # Risk table: what users read; kept when the stack is deleted.
        table = dynamodb.Table(
            self,
            "RiskTable",
            partition_key=_string(RISK_PK),
            sort_key=_string(RISK_SK),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            # Old and new images: correlation skips updates that name no new entity (stream reads
            # by Lambda cost nothing, so the larger records are free).
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            time_to_live_attribute=TTL_ATTRIBUTE,
            point_in_time_recovery_specification=_pitr(),
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.key,
            removal_policy=RemovalPolicy.RETAIN,
        )

        # One entity's risk events in time order.
        table.add_local_secondary_index(
            index_name=RISK_TIME_INDEX,
            sort_key=_string(RISK_TIME_KEY),
            projection_type=dynamodb.ProjectionType.INCLUDE,
            non_key_attributes=[*INDEX_ATTRIBUTES, RISK_DETECTION_KEY],
        )
        # No index by detection: it would cost a write unit per risk event (a sixth of a webhook's
        # correlated cost) for a view a scan with a filter gives on a table this small.
        return table

    def _state_table(self) -> dynamodb.Table:
        """Detection memory and correlation aggregates; no stream, so nothing here correlates."""
        # State table: derived data a new deployment re-learns, so it goes with the stack.
        return dynamodb.Table(
            self,
            "StateTable",
            partition_key=_string(STATE_PK),
            sort_key=_string(STATE_SK),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=TTL_ATTRIBUTE,
            point_in_time_recovery_specification=_pitr(),
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.key,
            removal_policy=RemovalPolicy.DESTROY,
        )


def _pitr() -> dynamodb.PointInTimeRecoverySpecification:
    """Point-in-time recovery on."""
    return dynamodb.PointInTimeRecoverySpecification(point_in_time_recovery_enabled=True)
