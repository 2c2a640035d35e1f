"""Lambda code: the detections, the thin handlers that run them, and what they share."""
