"""How an alert reads: an e-mail body for people, JSON for machines, attributes for filters."""

from __future__ import annotations

import json
from typing import Any

from lambdas.correlate.engine import Alert
from lambdas.shared.clients import client


def subject(alert: dict[str, Any]) -> str:
    """A subject line within SNS's 100 characters."""
    line = (
        f"[{alert['severity']}] {alert['risk_object_type']} {alert['risk_object']}"
        f" reached risk {alert['risk_score']}"
    )
    return line if len(line) <= 100 else line[:97] + "..."


def render_text(alert: dict[str, Any]) -> str:
    """The alert as an e-mail a person reads."""
    lines = [
        f"The {alert['risk_object_type']} {alert['risk_object']} accumulated a risk score of "
        f"{alert['risk_score']} (threshold {alert['threshold']}) between "
        f"{alert['window']['start']} and {alert['window']['end']}.",
        "",
        "Contributing detections:",
    ]
    for item in alert["detections"]:
        lines.append(
            f"  - {item['detection']}: {item['count']} risk event(s), score {item['score']}"
        )

    lines += ["", f"First event: {alert['first_event']}", f"Last event:  {alert['last_event']}"]
    lines += ["", "Top evidence:"]
    for entry in alert["top_evidence"]:
        lines.append(f"  - [{entry['score']}] {entry['event_time']} {entry['message']}")

    lines += ["", f"Alert id: {alert['id']}"]
    return "\n".join(lines)


def attributes(alert: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Message attributes that subscription filter policies can match."""
    detections = [item["detection"] for item in alert["detections"]]
    return {
        "severity": {"DataType": "String", "StringValue": alert["severity"]},
        "risk_object_type": {"DataType": "String", "StringValue": alert["risk_object_type"]},
        "detections": {"DataType": "String.Array", "StringValue": json.dumps(detections)},
    }


def publish(topic_arn: str, alert: Alert) -> None:
    """Publish an alert: text for e-mail, JSON for queues, functions and HTTPS endpoints."""
    body = alert.to_dict()
    machine = json.dumps(body, sort_keys=True)
    message = {
        "default": render_text(body),
        "email": render_text(body),
        "sqs": machine,
        "lambda": machine,
        "http": machine,
        "https": machine,
    }
    client("sns").publish(
        TopicArn=topic_arn,
        Subject=subject(body),
        Message=json.dumps(message),
        MessageStructure="json",
        MessageAttributes=attributes(body),
    )
