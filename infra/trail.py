"""An optional CloudTrail trail, for accounts without one: PutImage reaches EventBridge only so."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_s3 as s3
from constructs import Construct


class Trail(Construct):
    """A multi-region trail writing to an encrypted, versioned, TLS-only, private bucket."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)

        # Trail bucket: audit records outlive the stack.
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=RemovalPolicy.RETAIN,
        )

        # Management events of every region, with digest files to prove nothing was altered.
        self.trail = cloudtrail.Trail(
            self,
            "Trail",
            bucket=self.bucket,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_file_validation=True,
        )
