"""Logger and metrics, built once per process and shared by every handler.

Both write JSON to stderr, never stdout: in Lambda the two streams reach the same log group, and
locally stdout belongs to `devsecops replay`'s output. No handler logs its incoming event.
"""

from __future__ import annotations

import logging
import sys
import warnings

from aws_lambda_powertools import Logger, Metrics

NAMESPACE = "DevSecOpsDetector"

# The service name comes from POWERTOOLS_SERVICE_NAME: each function's own name in the stack.
logger = Logger(logger_handler=logging.StreamHandler(sys.stderr))
metrics = Metrics(namespace=NAMESPACE)

# Most invocations have nothing to count (a webhook nobody reads, a benign log batch): that is
# normal, not worth a warning in every log stream.
warnings.filterwarnings("ignore", message="No application metrics to publish")
