"""Tests of the Kubernetes function, its three detections and their replay adapters."""
