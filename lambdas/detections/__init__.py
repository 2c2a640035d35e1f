"""Detections: one module per source family, each rule a pure function of one record."""
