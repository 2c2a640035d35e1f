"""Names of the tables' keys and indexes, shared by the CDK stack and the local runtime."""

from __future__ import annotations

# Risk table: one item per risk event, keyed by its risk object and its id.
RISK_PK = "entity"
RISK_SK = "id"
RISK_TIME_INDEX = "by_time"  # LSI: one entity's risk events ordered by event time
RISK_TIME_KEY = "event_time"
RISK_DETECTION_KEY = "detection"  # projected into the time index
RISK_INDEX_PROJECTION = ("risk_score", "message", "count", "user", "repository", "suppressed")

# State table: detection memory, correlation aggregates and alert locks. It has no stream, so
# nothing written here reaches correlation.
STATE_PK = "pk"
STATE_SK = "sk"
TTL_ATTRIBUTE = "expires_at"
