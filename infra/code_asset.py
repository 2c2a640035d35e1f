"""The functions' code asset: the `lambdas` package, with bytecode for the runtime when possible.

Lambda unpacks the asset on a read-only disk, so Python cannot cache what it compiles there: a
package shipped without bytecode is compiled from source at every cold start (10-40 ms per
function here). The asset is therefore built locally, without Docker: the package is copied and,
when an interpreter of the runtime's Python version is on this machine, compiled with hash-based
bytecode that needs no timestamps (zip files do not keep them exactly). Without such an
interpreter the asset holds sources only and works the same, just with slower cold starts;
`cdk synth` says so in a warning.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, ILocalBundling
from aws_cdk import aws_lambda as lambda_

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "lambdas"
# Names the copy leaves out: local bytecode (any version) and tests.
SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", "tests")
# Only the package decides the bundling cache key; .venv, node_modules and cdk.out stay unread.
FINGERPRINT_EXCLUDE = ["*", ".*", f"!{PACKAGE}", f"!{PACKAGE}/**", "**/__pycache__", "**/*.pyc"]


def code_asset(runtime: lambda_.Runtime) -> lambda_.Code:
    """The asset every function of `runtime` runs from, hashed on what it holds."""
    version = runtime.name.removeprefix("python")
    return lambda_.Code.from_asset(
        str(ROOT),
        exclude=FINGERPRINT_EXCLUDE,
        asset_hash_type=AssetHashType.OUTPUT,
        bundling=BundlingOptions(
            # Never pulled: local bundling always succeeds, but CDK requires an image.
            image=runtime.bundling_image,
            local=CompiledPackage(version),
        ),
    )


@jsii.implements(ILocalBundling)
class CompiledPackage:
    """Local bundling: copy the package, then compile it with the runtime's Python if present."""

    def __init__(self, version: str) -> None:
        self.version = version

    def try_bundle(self, output_dir: str, options: Any) -> bool:  # options: unused, CDK passes it
        """Fill `output_dir` with the package; True, so CDK never falls back to Docker."""
        target = Path(output_dir) / PACKAGE
        shutil.copytree(ROOT / PACKAGE, target, ignore=SKIPPED)

        python = runtime_python(self.version)
        if python is None:
            print(
                f"warning: no Python {self.version} found: the functions ship without"
                " bytecode and compile their code at every cold start",
                file=sys.stderr,
            )
            return True
        compile_command = [python, "-m", "compileall", "-q", "--invalidation-mode"]
        subprocess.run([*compile_command, "unchecked-hash", str(target)], check=True)
        return True


def runtime_python(version: str) -> str | None:
    """An interpreter of Python `version`: DEVSECOPS_RUNTIME_PYTHON, then PATH, then pyenv's."""
    candidates = [os.environ.get("DEVSECOPS_RUNTIME_PYTHON"), f"python{version}"]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates += sorted(str(path) for path in pyenv.glob(f"{version}.*/bin/python3"))
    return next((path for path in candidates if path and _reports(path, version)), None)


def _reports(command: str, version: str) -> bool:
    """True when `command` runs and reports `version` as its major.minor."""
    # A pyenv shim for a version that is installed but not selected exits non-zero: skip it.
    try:
        answer = subprocess.run(
            [command, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except OSError:
        return False
    return answer.returncode == 0 and answer.stdout.strip() == version
