"""`devsecops serve`: the webhook routes on a local port, run by the real handler on moto.

Each HTTP request becomes the API Gateway HTTP API (payload format 2.0) event the deployed function
receives, and goes through the same handler inside `LocalAws`. After each request the table's
stream is pumped, and new risk events and alerts are printed as JSON lines on stdout. Point a GitHub
webhook at it through a tunnel, or `curl` signed samples at it.

Requests are handled one at a time (moto and the handler's clients are process-wide), which is what
a local demo needs; this is not a production server.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import threading
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# Bodies above this are refused before reading (the function's own limit is lower).
READ_LIMIT_BYTES = 8 * 1024 * 1024


def http_api_event(
    method: str, path: str, headers: dict[str, str], body: bytes, query: str = ""
) -> dict[str, Any]:
    """An HTTP API payload format 2.0 event, as API Gateway hands a request to Lambda."""
    now = datetime.now(UTC)
    lowered = {name.lower(): value for name, value in headers.items()}
    try:
        text, encoded = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode("ascii"), True

    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": lowered,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "localhost",
            "domainPrefix": "localhost",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "body": text,
        "isBase64Encoded": encoded,
    }


class Gateway:
    """Delivers requests to the webhooks handler in a LocalAws and reports what they produced."""

    def __init__(self, aws: Any, out: Any = None) -> None:
        self.aws = aws
        self.out = out or sys.stdout
        self.lock = threading.Lock()
        self.seen: set[str] = set()

    def deliver(self, event: dict[str, Any]) -> dict[str, Any]:
        """Invoke the handler, correlate, print new risk events and alerts; return the answer."""
        with self.lock:
            answer = self.aws.invoke("webhooks", event)
            self.aws.pump()
            for item in self.aws.risk_events():
                if item["id"] not in self.seen:
                    self.seen.add(item["id"])
                    self._print(_plain(item))
            for alert in self.aws.alerts():
                self._print(alert)
        return answer

    def _print(self, line: dict[str, Any]) -> None:
        """One JSON line on the output."""
        print(json.dumps(line, sort_keys=True, default=str), file=self.out, flush=True)


def make_server(gateway: Gateway, host: str, port: int) -> ThreadingHTTPServer:
    """An HTTP server whose every request goes through the gateway."""

    class Handler(BaseHTTPRequestHandler):
        """Turns one HTTP request into an HTTP API event and writes the function's answer."""

        def do_POST(self) -> None:  # noqa: N802 - the name http.server dispatches to
            self._forward()

        def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
            self._forward()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
            # Request lines go to stderr without headers or bodies.
            print(f"serve: {self.command} {self.path.split('?')[0]}", file=sys.stderr)

        def _forward(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length > READ_LIMIT_BYTES:
                self._reply({"statusCode": 413, "body": '{"status": "too-large"}'})
                return
            body = self.rfile.read(length)
            path, _, query = self.path.partition("?")
            event = http_api_event(self.command, path, dict(self.headers.items()), body, query)
            self._reply(gateway.deliver(event))

        def _reply(self, answer: dict[str, Any]) -> None:
            payload = str(answer.get("body", "")).encode()
            self.send_response(int(answer.get("statusCode", 500)))
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return ThreadingHTTPServer((host, port), Handler)


def serve(host: str = "127.0.0.1", port: int = 8080, settings_path: Path | None = None) -> None:
    """Serve `POST /webhooks/<provider>` until interrupted."""
    from devsecops.cli import read_settings
    from devsecops.demo import LOCAL_SECRETS
    from devsecops.runtime import LocalAws

    with LocalAws(read_settings(settings_path), env=dict(LOCAL_SECRETS)) as aws:
        server = make_server(Gateway(aws), host, port)
        print(f"serve: listening on http://{host}:{server.server_port}/webhooks/", file=sys.stderr)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `devsecops serve`."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on")
    parser.add_argument("--settings", type=Path, help="settings JSON file")


def run(args: argparse.Namespace) -> int:
    """Entry point used by the CLI."""
    serve(args.host, args.port, args.settings)
    return 0


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    """A stored risk event in the form `replay` prints."""
    from lambdas.shared.risk import RiskEvent

    return RiskEvent.from_item(item).to_dict()
