"""The correlation function: risk table stream in, SNS alerts out."""
