"""CDK entry point: the DevSecOpsDetector stack, checked by cdk-nag's AWS Solutions rules."""

import aws_cdk as cdk

from infra.nag import add_checks
from infra.stack import DevSecOpsDetector

app = cdk.App()
add_checks(app)
DevSecOpsDetector(app, "DevSecOpsDetector")
app.synth()
