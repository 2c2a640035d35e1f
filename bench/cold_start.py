"""Cold start: each handler's import time in a fresh interpreter, as a ratio to `import boto3`.

Lambda's Python runtime ships boto3 precompiled and the Powertools layer carries its own bytecode.
The function's code asset carries bytecode for the runtime's Python when the machine that ran
`cdk synth` has that Python (infra/code_asset.py), and sources only when it has not: then every
cold start compiles the project on Lambda's read-only disk. So each handler is imported twice per
run: with the project's bytecode (the headline, as a complete asset ships it) and from a copy of
`lambdas/` without bytecode (the "source" figure). Installed packages are compiled first, so a
machine that set PYTHONDONTWRITEBYTECODE still measures the runtime's situation.
"""

from __future__ import annotations

import compileall
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import ROOT, TEST_ENVIRONMENT, median

HANDLERS = (
    "lambdas.ecr.handler",
    "lambdas.webhooks.handler",
    "lambdas.kubernetes.handler",
    "lambdas.correlate.handler",
)
BASELINE = "boto3"
RUNS = 9
GOAL = 1.3
TOP = 5
# Packages a handler may import; compiled up front so their bytecode exists as in the runtime.
PACKAGES = ("boto3", "botocore", "aws_lambda_powertools", "jmespath", "dateutil", "s3transfer")
# boto3 alone first, then the handler, in the same fresh interpreter: both seconds from the start.
_TIMER = (
    "import time; start = time.perf_counter(); import {baseline}; alone = time.perf_counter();"
    " import {module}; print(alone - start, time.perf_counter() - start)"
)


def measure(runs: int = RUNS) -> dict[str, Any]:
    """Median import time of each handler as a ratio to boto3's, and the costliest imports."""
    _compile_dependencies()
    compileall.compile_dir(str(ROOT / "lambdas"), quiet=1)
    baseline_modules = _names(_importtime(BASELINE, ROOT))

    with tempfile.TemporaryDirectory(prefix="bench-source-") as scratch:
        source = Path(scratch)
        # The project as the Lambda asset holds it: sources only, no bytecode.
        shutil.copytree(ROOT / "lambdas", source / "lambdas", ignore=_no_bytecode)
        rows = [_handler_row(name, source, baseline_modules, runs) for name in HANDLERS]

    measured = [row for row in rows if "ratio" in row]
    worst = max((row["ratio"] for row in measured), default=None)
    baseline = median([row.pop("baseline_s") for row in measured]) if measured else None
    return {
        "baseline": {"module": BASELINE, "median_ms": baseline and round(baseline * 1000, 1)},
        "handlers": rows,
        "runs": runs,
        "goal": GOAL,
        "worst_ratio": worst,
        "met": worst is not None and worst <= GOAL,
    }


def _handler_row(
    module: str, source: Path, baseline_modules: set[str], runs: int
) -> dict[str, Any]:
    """One handler's figures, or a note when its module does not exist yet.

    Each run is a fresh interpreter that imports boto3 alone, timed, and then the handler (which
    finds boto3 loaded), timed from the same start: one run's ratio is its handler time over its
    own boto3 time. On a shared machine the speed of one interpreter varies by 10-20 % from the
    next, but rarely within one, so these ratios vary by about 0.01 where ratios of separate
    processes varied by 0.15.
    """
    path = ROOT / (module.replace(".", "/") + ".py")
    if not path.exists():
        return {"module": module, "skipped": f"{path.relative_to(ROOT)} does not exist yet"}

    baseline, compiled, from_source = [], [], []
    for _ in range(runs):
        alone, total = _import_seconds(module, ROOT)
        baseline.append(alone)
        compiled.append((alone, total))
        from_source.append(_import_seconds(module, source))
    return {
        "module": module,
        "median_ms": round(median([total for _, total in compiled]) * 1000, 1),
        "ratio": round(median([total / alone for alone, total in compiled]), 2),
        "source_median_ms": round(median([total for _, total in from_source]) * 1000, 1),
        "source_ratio": round(median([total / alone for alone, total in from_source]), 2),
        "top_imports": _costliest(_importtime(module, ROOT), baseline_modules),
        "baseline_s": median(baseline),
    }


def _import_seconds(module: str, cwd: Path) -> tuple[float, float]:
    """Seconds of `import boto3` alone, and of it plus `import module`, in one fresh interpreter."""
    answer = _child(["-c", _TIMER.format(baseline=BASELINE, module=module)], cwd)
    alone, total = answer.stdout.strip().splitlines()[-1].split()
    return float(alone), float(total)


@dataclass
class _Import:
    """One line of `-X importtime`: a module, its own time and the imports it triggered."""

    name: str
    level: int
    own_us: int
    children: list[_Import] = field(default_factory=list)

    def extra_us(self, known: set[str]) -> int:
        """Microseconds this import costs beyond modules in `known` (boto3's own imports)."""
        if self.name in known:
            return 0
        return self.own_us + sum(child.extra_us(known) for child in self.children)


def _importtime(module: str, cwd: Path) -> list[_Import]:
    """The import tree of `import module`, from `-X importtime` (top-level imports, in order).

    The output lists a module after everything it imported, indented one level deeper, so each
    line adopts the deeper lines pending before it as its children.
    """
    answer = _child(["-X", "importtime", "-c", f"import {module}"], cwd)
    pending: list[_Import] = []
    for line in answer.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, _cumulative, name = line.removeprefix("import time:").split("|")
        level = (len(name) - len(name.lstrip(" "))) // 2
        node = _Import(name.strip(), level, int(own))
        while pending and pending[-1].level > level:
            node.children.insert(0, pending.pop())
        pending.append(node)
    return pending


def _names(nodes: list[_Import]) -> set[str]:
    """Every module name in an import tree."""
    return {node.name for node in nodes} | {
        name for node in nodes for name in _names(node.children)
    }


def _costliest(nodes: list[_Import], baseline: set[str]) -> list[dict[str, Any]]:
    """The third-party imports project code triggers, by cost beyond boto3 (what to defer)."""
    found: list[tuple[int, str]] = []
    own = 0  # the project's modules themselves: compiling and running their top level
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if node.name.startswith("lambdas"):
            own += node.own_us
            stack.extend(node.children)
        elif node.name not in baseline:
            found.append((node.extra_us(baseline), node.name))
    found.append((own, "lambdas.* (own code)"))
    found.sort(reverse=True)
    return [{"module": name, "ms": round(cost / 1000, 1)} for cost, name in found[:TOP]]


def _child(arguments: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the venv's interpreter with the tests' environment and no bytecode writing."""
    env = {**os.environ, **TEST_ENVIRONMENT, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        [sys.executable, *arguments], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )


def _compile_dependencies() -> None:
    """Compile the installed packages handlers import, as the runtime and layer ship them."""
    site = Path(sysconfig.get_paths()["purelib"])
    for package in PACKAGES:
        if (site / package).is_dir():
            compileall.compile_dir(str(site / package), quiet=1)


def _no_bytecode(folder: str, names: list[str]) -> list[str]:
    """copytree filter: leave bytecode behind."""
    return [name for name in names if name == "__pycache__" or name.endswith(".pyc")]


def report(result: dict[str, Any]) -> None:
    """Print the figures and the costliest imports of each handler."""
    base = result["baseline"]
    print(f"import {base['module']}: {base['median_ms']} ms (median of {result['runs']})")
    for row in result["handlers"]:
        if "skipped" in row:
            print(f"{row['module']}: skipped ({row['skipped']})")
            continue
        print(
            f"{row['module']}: {row['median_ms']} ms, ratio {row['ratio']}"
            f" (from sources: {row['source_median_ms']} ms, ratio {row['source_ratio']})"
        )
        for item in row["top_imports"]:
            print(f"    {item['ms']:>7} ms  {item['module']}")


if __name__ == "__main__":
    report(measure())
