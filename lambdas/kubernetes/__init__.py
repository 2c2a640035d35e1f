"""The Kubernetes function: CloudWatch Logs subscription payloads in, risk events out."""
