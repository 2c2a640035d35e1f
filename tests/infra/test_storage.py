"""The tables, their key, the topics and the stream that feeds correlation."""

from __future__ import annotations

import json
from typing import Any

from lambdas.shared import schema
from tests.infra.conftest import FULL_SETTINGS, Synthesized


def table(synthesized: Synthesized, name: str) -> dict[str, Any]:
    """The full resource of the risk or state table."""
    construct = getattr(synthesized.stack.store, name)
    return synthesized.resources("AWS::DynamoDB::Table")[synthesized.logical_id(construct)]


def key_ref(synthesized: Synthesized) -> dict[str, Any]:
    """How the template refers to the detector's KMS key ARN."""
    return {"Fn::GetAtt": [synthesized.logical_id(synthesized.stack.store.key), "Arn"]}


def test_the_risk_table_is_keyed_by_entity_and_id_with_one_index_by_time(
    synthesized: Synthesized,
) -> None:
    properties = table(synthesized, "risk_table")["Properties"]
    (local,) = properties["LocalSecondaryIndexes"]

    assert properties["KeySchema"] == [
        {"AttributeName": schema.RISK_PK, "KeyType": "HASH"},
        {"AttributeName": schema.RISK_SK, "KeyType": "RANGE"},
    ]
    assert local["IndexName"] == schema.RISK_TIME_INDEX
    assert local["KeySchema"][1] == {"AttributeName": schema.RISK_TIME_KEY, "KeyType": "RANGE"}
    assert local["Projection"]["ProjectionType"] == "INCLUDE"
    assert set(schema.RISK_INDEX_PROJECTION) <= set(local["Projection"]["NonKeyAttributes"])
    # Each index costs a write unit per risk event: none by detection (a filtered scan does).
    assert "GlobalSecondaryIndexes" not in properties


def test_the_risk_table_streams_old_and_new_images_and_is_kept_on_stack_deletion(
    synthesized: Synthesized,
) -> None:
    resource = table(synthesized, "risk_table")

    assert resource["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert resource["DeletionPolicy"] == "Retain"
    assert resource["UpdateReplacePolicy"] == "Retain"


def test_the_state_table_has_its_keys_and_no_stream(synthesized: Synthesized) -> None:
    properties = table(synthesized, "state_table")["Properties"]

    assert properties["KeySchema"] == [
        {"AttributeName": schema.STATE_PK, "KeyType": "HASH"},
        {"AttributeName": schema.STATE_SK, "KeyType": "RANGE"},
    ]
    assert "StreamSpecification" not in properties


def test_both_tables_are_on_demand_with_ttl_pitr_and_the_customer_key(
    synthesized: Synthesized,
) -> None:
    for name in ("risk_table", "state_table"):
        properties = table(synthesized, name)["Properties"]

        assert properties["BillingMode"] == "PAY_PER_REQUEST"
        assert properties["TimeToLiveSpecification"] == {
            "AttributeName": schema.TTL_ATTRIBUTE,
            "Enabled": True,
        }
        assert properties["PointInTimeRecoverySpecification"] == {
            "PointInTimeRecoveryEnabled": True
        }
        assert properties["SSESpecification"] == {
            "KMSMasterKeyId": key_ref(synthesized),
            "SSEEnabled": True,
            "SSEType": "KMS",
        }


def test_the_key_rotates_and_outlives_the_stack(synthesized: Synthesized) -> None:
    (key,) = synthesized.resources("AWS::KMS::Key").values()

    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"


def test_both_topics_use_the_key_and_refuse_requests_without_tls(
    synthesized: Synthesized,
) -> None:
    stack = synthesized.stack
    policies = synthesized.resources("AWS::SNS::TopicPolicy").values()

    for topic in (stack.alerts.topic, stack.monitoring.topic):
        topic_id = synthesized.logical_id(topic)
        properties = synthesized.resources("AWS::SNS::Topic")[topic_id]["Properties"]
        (policy,) = [p for p in policies if p["Properties"]["Topics"] == [{"Ref": topic_id}]]
        denials = [
            statement
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            if statement["Effect"] == "Deny"
        ]

        assert properties["KmsMasterKeyId"] == key_ref(synthesized)
        assert [d["Condition"] for d in denials] == [{"Bool": {"aws:SecureTransport": "false"}}]


def test_the_alert_e_mail_is_subscribed_to_the_alert_topic(synthesized: Synthesized) -> None:
    topic_ref = {"Ref": synthesized.logical_id(synthesized.stack.alerts.topic)}
    subscriptions = [
        s["Properties"] for s in synthesized.resources("AWS::SNS::Subscription").values()
    ]

    assert {
        "Endpoint": FULL_SETTINGS["alert_email"],
        "Protocol": "email",
        "TopicArn": topic_ref,
    } in (subscriptions)


def test_the_stream_mapping_bisects_retries_a_bounded_number_of_times_and_parks_failures(
    synthesized: Synthesized,
) -> None:
    store, correlation = synthesized.stack.store, synthesized.stack.correlation
    stream = {"Fn::GetAtt": [synthesized.logical_id(store.risk_table), "StreamArn"]}
    (mapping,) = [
        m["Properties"]
        for m in synthesized.resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == stream
    ]

    assert mapping["FunctionName"] == {"Ref": synthesized.logical_id(correlation.function)}
    assert mapping["BatchSize"] == 100
    assert mapping["BisectBatchOnFunctionError"] is True
    assert 0 < mapping["MaximumRetryAttempts"] <= 10
    assert 0 < mapping["MaximumRecordAgeInSeconds"] <= 24 * 3600
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": [synthesized.logical_id(correlation.dead_letters), "Arn"]
    }


def test_the_stream_mapping_leaves_ttl_removals_out_so_they_cost_no_invocation(
    synthesized: Synthesized,
) -> None:
    (mapping,) = [
        m["Properties"]
        for m in synthesized.resources("AWS::Lambda::EventSourceMapping").values()
        if "StreamArn" in json.dumps(m["Properties"]["EventSourceArn"])
    ]

    (only,) = mapping["FilterCriteria"]["Filters"]
    assert json.loads(only["Pattern"]) == {"eventName": ["INSERT", "MODIFY"]}


def test_the_stack_outputs_what_a_user_needs_after_deploy(synthesized: Synthesized) -> None:
    outputs = synthesized.template.to_json()["Outputs"]

    assert set(outputs) >= {
        "RiskTableName",
        "StateTableName",
        "AlertTopicArn",
        "GitHubWebhookUrl",
        "CircleCiWebhookUrl",
        "GitHubWebhookSecret",
        "CircleCiWebhookSecret",
        "CircleCiApiToken",
    }


def test_the_optional_trail_is_multi_region_into_a_private_tls_only_versioned_bucket(
    synthesized: Synthesized,
) -> None:
    (trail,) = synthesized.resources("AWS::CloudTrail::Trail").values()
    (bucket,) = synthesized.resources("AWS::S3::Bucket").values()
    (policy,) = synthesized.resources("AWS::S3::BucketPolicy").values()
    denials = [
        s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"
    ]

    assert trail["Properties"]["IsMultiRegionTrail"] is True
    assert trail["Properties"]["EnableLogFileValidation"] is True
    assert bucket["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
    assert "BucketEncryption" in bucket["Properties"]
    assert all(bucket["Properties"]["PublicAccessBlockConfiguration"].values())
    assert [d["Condition"] for d in denials] == [{"Bool": {"aws:SecureTransport": "false"}}]
