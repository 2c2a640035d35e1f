"""The Kubernetes detections: two on ingress-nginx access lines, one on Events and audit entries.

Each reads a whole `Batch` (one subscription payload) so the ingress detections can tally
repeated attempts before anything is stored.
"""

from __future__ import annotations

from lambdas.detections.base import Rule
from lambdas.detections.kubernetes import (
    kubernetes_nginx_ingress_lfi,
    kubernetes_nginx_ingress_rfi,
    kubernetes_scanner_image_pulling,
)

RULES: tuple[Rule, ...] = (
    kubernetes_nginx_ingress_lfi.RULE,
    kubernetes_nginx_ingress_rfi.RULE,
    kubernetes_scanner_image_pulling.RULE,
)
