"""The ECR function: container image scans and pushes."""
