"""The CDK app's constructs: one module per concern of the DevSecOpsDetector stack."""
