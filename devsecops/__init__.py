"""The `devsecops` command and the local runtime that runs the pipeline without an AWS account."""
