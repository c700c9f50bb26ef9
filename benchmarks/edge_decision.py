"""Edge versioning: warm per-request decision time, and how often the mapping table is read.

Runs the Lambda@Edge handler in-process against moto's DynamoDB (no AWS calls):

* decision time: ``lambda_handler`` on a warm cache, timed per call for each sample event, after a
  warm-up; only the handler call is timed (restoring the event between calls is not);
* reads per TTL: requests spread evenly over simulated time (an injected clock), counting Scans;
  then the same during a table outage, to show the back-off;
* import time of the handler module in a fresh interpreter (the cold-start share of this code).

Prints Markdown. Usage: python benchmarks/edge_decision.py [--calls 100000] [--windows 10] [--json PATH]
"""

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "services" / "edge"), str(ROOT)]
os.environ.update(
    {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
)
os.environ.pop("AWS_ENDPOINT_URL", None)

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402
from versioning import handler  # noqa: E402

from benchmarks.common import Figure, Report, percentile, ratio, table  # noqa: E402

CASES = ("edge-v1", "edge-v2", "edge-apiver-header", "edge-missing-header", "edge-unknown-version")
MAX_CALLS = 1_000_000
MIN_CALLS = 100


def load(name: str) -> dict[str, Any]:
    return json.loads((ROOT / "events" / f"{name}.json").read_text())


def table_name() -> str:
    custom = load("edge-v1")["Records"][0]["cf"]["request"]["origin"]["custom"]
    return str(custom["customHeaders"]["x-version-table"][0]["value"])


def create_table(client: Any, name: str) -> None:
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "version", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "version", "KeyType": "HASH"}],
    )
    domain = "abc123defg.execute-api.us-east-1.amazonaws.com"
    for version, path in (("v1", "/v1"), ("v2", "")):
        client.put_item(
            TableName=name,
            Item={"version": {"S": version}, "domainName": {"S": domain}, "originPath": {"S": path}},
        )


def time_calls(function: Any, name: str, calls: int) -> list[int]:
    """Nanoseconds per ``function(event, None)`` on the sample event ``name``; the event is restored
    between calls, outside the timing."""
    event = load(name)
    custom = event["Records"][0]["cf"]["request"]["origin"]["custom"]
    pristine_headers = dict(custom["customHeaders"])
    timings = []
    perf = time.perf_counter_ns
    for _ in range(calls):
        custom["customHeaders"] = dict(pristine_headers)
        start = perf()
        function(event, None)
        timings.append(perf() - start)
    return timings


def decision_times(name: str, calls: int) -> list[int]:
    """``lambda_handler`` on a warm cache."""
    return time_calls(handler.lambda_handler, name, calls)


def _forward(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return dict(event["Records"][0]["cf"]["request"])


def floor_times(calls: int) -> list[int]:
    """The same loop around a call that returns the request unchanged."""
    return time_calls(_forward, "edge-v1", calls)


class SimulatedClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def reads_over(seconds: float, requests: int, outage: tuple[float, float] | None = None) -> int:
    """Scans sent while ``requests`` arrive evenly over ``seconds`` of simulated time."""
    clock = SimulatedClock()
    handler.clock = clock
    handler._routers.clear()
    scans: list[str] = []
    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register(
        "provide-client-params.dynamodb.Scan", lambda params, **_: scans.append(params["TableName"])
    )
    client = boto3.client("dynamodb")
    event = load("edge-v1")
    custom = event["Records"][0]["cf"]["request"]["origin"]["custom"]
    pristine_headers = dict(custom["customHeaders"])
    down = False
    for i in range(requests):
        clock.now = seconds * i / requests
        if outage and not down and outage[0] <= clock.now < outage[1]:
            client.delete_table(TableName=table_name())
            down = True
        if outage and down and clock.now >= outage[1]:
            create_table(client, table_name())
            down = False
        custom["customHeaders"] = dict(pristine_headers)
        handler.lambda_handler(event, None)
    handler.clock = time.monotonic
    return len(scans)


def import_ms(runs: int = 5) -> tuple[float, float]:
    """Median ms to import the handler, and boto3 + botocore.config alone, in fresh interpreters."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "services" / "edge")}

    def once(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], env=env, check=True)
        return time.perf_counter() - start

    empty = statistics.median(once("pass") for _ in range(runs))
    floor = statistics.median(once("import boto3, botocore.config") for _ in range(runs)) - empty
    module = statistics.median(once("import versioning.handler") for _ in range(runs)) - empty
    return module * 1000, floor * 1000


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=100_000, help=f"calls per case (at most {MAX_CALLS})")
    parser.add_argument("--windows", type=int, default=10, help="TTL windows to simulate for the read count")
    parser.add_argument("--import-runs", type=int, default=5, help="fresh interpreters per import figure")
    parser.add_argument("--json", type=Path, help="write the headline figures here (for run.py)")
    args = parser.parse_args(argv)
    calls = max(MIN_CALLS, min(args.calls, MAX_CALLS))
    windows = max(1, min(args.windows, 1_000))
    ttl = handler.TTL_SECONDS

    with mock_aws():
        create_table(boto3.client("dynamodb"), table_name())
        rows = []
        with contextlib.redirect_stdout(io.StringIO()):  # refusals log one line each; not the point here
            handler.lambda_handler(load("edge-v1"), None)  # the one cold read
            floor_timings = floor_times(calls)
            for case in CASES:
                decision_times(case, min(2_000, calls))  # warm-up
                timings = decision_times(case, calls)
                rows.append((case, statistics.median(timings), percentile(timings, 0.99)))
            requests = 10_000 * windows
            steady = reads_over(ttl * windows, requests)
            outage_seconds = 60.0
            start = ttl - 10  # the table is down when the first TTL expires
            outage = reads_over(ttl * 3, 30_000, (start, start + outage_seconds))
    module, floor = import_ms(max(1, args.import_runs))
    floor_ns = statistics.median(floor_timings)

    lines = [
        "### Edge: API version routing decision (Lambda@Edge origin-request)",
        "",
        f"Warm-cache decision time of `lambda_handler`, {calls:,} calls per case after a warm-up, in "
        "process against moto; only the handler call is timed. The floor is the same loop calling a "
        f"function that returns the request unchanged ({floor_ns / 1000:.2f} µs).",
        "",
        table(
            ["event", "outcome", "median µs", "p99 µs", "x floor"],
            [
                [
                    case,
                    "403 generated" if case in ("edge-missing-header", "edge-unknown-version") else "routed",
                    f"{median / 1000:.2f}",
                    f"{p99 / 1000:.2f}",
                    ratio(median, floor_ns),
                ]
                for case, median, p99 in rows
            ],
            right=[2, 3, 4],
        ),
        "",
        table(
            ["mapping reads (Scan)", "value"],
            [
                ["TTL", f"{ttl:.0f} s"],
                [
                    f"{requests:,} requests over {windows} TTL windows",
                    f"{steady} reads ({steady / windows:.2f} per TTL)",
                ],
                [
                    f"30,000 requests over {3 * ttl:.0f} s, the table down from {start:.0f} s to "
                    f"{start + outage_seconds:.0f} s (back-off {handler.RETRY_AFTER_SECONDS:.0f} s)",
                    f"{outage} reads",
                ],
            ],
            right=[1],
        ),
        "",
        table(
            [
                f"import in a fresh interpreter (median of {max(1, args.import_runs)}, start-up subtracted)",
                "ms",
            ],
            [
                ["`import boto3, botocore.config` (floor)", f"{floor:.0f}"],
                ["`import versioning.handler`", f"{module:.0f}"],
            ],
            right=[1],
        ),
        "",
    ]
    slowest = max(median for _, median, _ in rows)
    figures = [
        Figure(
            "edge routing decision, warm cache (slowest case, median)",
            round(slowest / 1000, 2),
            "µs",
            round(floor_ns / 1000, 2),
            "a call that returns the request",
            "<= 20 µs",
            slowest <= 20_000,
        ),
        Figure("edge mapping reads per TTL window (steady traffic)", round(steady / windows, 2), "reads"),
    ]
    result = Report("Edge", "\n".join(lines), figures)
    print(result.markdown)
    result.write_json(args.json)


if __name__ == "__main__":
    main()
