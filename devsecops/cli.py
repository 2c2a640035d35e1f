"""The `devsecops` command: replay inputs through the pipeline, run the demo, serve webhooks.

Everything runs on the local runtime (moto), through the same handlers the stack deploys. Results go
to stdout as one JSON object per line; logs go to stderr.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from devsecops.runtime import LocalAws
from lambdas.shared.exceptions import SettingsError
from lambdas.shared.risk import RiskEvent
from lambdas.shared.settings import Settings

# Source name -> replay adapter module (each exposes `lambda_events(paths, options)`).
SOURCES = {
    "cloudtrail": "devsecops.sources.cloudtrail",
    "ecr": "devsecops.sources.ecr",
    "github": "devsecops.sources.github",
    "circleci": "devsecops.sources.circleci",
    "nginx": "devsecops.sources.nginx",
    "k8s": "devsecops.sources.k8s",
}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `devsecops` command."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except SettingsError as exc:
        print(f"devsecops: invalid settings: {exc}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        print(f"devsecops: {exc}", file=sys.stderr)
        return 1


def replay(args: argparse.Namespace) -> int:
    """Deliver the files' records to the handlers, then print risk events (and alerts)."""
    settings = read_settings(args.settings)
    # Without --alerts nothing reads the table's stream, so risk events stay in memory: the same
    # store semantics, and fast enough to backfill days of logs.
    with LocalAws(settings, env=_local_secrets(), memory=not args.alerts) as aws:
        for function, event in lambda_events(args.source, args.files, args):
            aws.invoke(function, event)
        if args.alerts:
            aws.pump()

        for item in aws.risk_events():
            print(json.dumps(RiskEvent.from_item(item).to_dict(), sort_keys=True))
        for alert in aws.alerts():
            print(json.dumps(alert, sort_keys=True))
    return 0


def lambda_events(source: str, files: list[Path], args: Any) -> Iterator[tuple[str, dict]]:
    """Lambda events for the files: Lambda-shaped files pass through, others go to the adapter."""
    raw: list[Path] = []
    for path in files:
        shaped = _lambda_shaped(path)
        if shaped:
            yield shaped
        else:
            raw.append(path)

    if raw:
        adapter = importlib.import_module(SOURCES[source])
        yield from adapter.lambda_events(raw, args)


def read_settings(path: Path | None) -> dict[str, Any]:
    """Read and validate a settings file; an empty object means the defaults."""
    if path is None:
        return {}
    data = json.loads(path.read_text())
    Settings.from_dict(data)
    return data


def _lambda_shaped(path: Path) -> tuple[str, dict] | None:
    """Recognise a file that already holds one event in the shape a function receives."""
    if path.suffix != ".json":
        return None
    try:
        data = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None

    if not isinstance(data, dict):
        return None
    if "detail-type" in data and data.get("source") in ("aws.ecr", "aws.inspector2"):
        return ("ecr", data)
    if "awslogs" in data:
        return ("kubernetes", data)
    if "requestContext" in data and "rawPath" in data:
        return ("webhooks", data)
    return None


def _local_secrets() -> dict[str, str]:
    """Webhook secrets for local runs: the environment's, else the samples' test secrets."""
    from devsecops.demo import LOCAL_SECRETS

    return dict(LOCAL_SECRETS)


def _demo(args: argparse.Namespace) -> int:
    """Run the demo."""
    from devsecops.demo import run

    return run(args)


def _serve(args: argparse.Namespace) -> int:
    """Serve the webhook routes locally."""
    serve = importlib.import_module("devsecops.serve")
    return int(serve.run(args) or 0)


def _parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(prog="devsecops", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    play = commands.add_parser("replay", help="run input files through the detections")
    play.add_argument("--source", required=True, choices=sorted(SOURCES))
    play.add_argument("--settings", type=Path, help="settings JSON file")
    play.add_argument("--alerts", action="store_true", help="also run correlation, print alerts")
    play.add_argument("--event", help="GitHub event name of a single raw payload")
    play.add_argument(
        "--log-group",
        help="nginx/k8s: the CloudWatch Logs group the lines came from (names the cluster)",
    )
    play.add_argument("files", nargs="+", type=Path)
    play.set_defaults(run=replay)

    demo = commands.add_parser("demo", help="run the whole pipeline on the shipped samples")
    demo.add_argument("--settings", type=Path, help="settings JSON file")
    demo.set_defaults(run=_demo)

    redrive = commands.add_parser("redrive", help="process parked webhook deliveries again")
    _github_source().add_redrive_arguments(redrive)
    redrive.set_defaults(run=lambda args: _github_source().run_redrive(args))

    recount = commands.add_parser("recount", help="correlate parked stream records again")
    _recount().add_arguments(recount)
    recount.set_defaults(run=lambda args: _recount().run(args))

    serve = commands.add_parser("serve", help="serve the webhook routes on 127.0.0.1")
    _serve_arguments(serve)
    serve.set_defaults(run=_serve)
    return parser


def _recount() -> Any:
    """The recount command's module."""
    return importlib.import_module("devsecops.recount")


def _github_source() -> Any:
    """The GitHub adapter, which also re-drives parked deliveries of every provider."""
    return importlib.import_module("devsecops.sources.github")


def _serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `serve`, defined by its module when present."""
    try:
        serve = importlib.import_module("devsecops.serve")
    except ImportError:
        return
    serve.add_arguments(parser)


if __name__ == "__main__":
    sys.exit(main())
