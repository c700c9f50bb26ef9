"""Import time of each handler in a fresh process, against ``import boto3`` plus one client.

Runs each import N times in new interpreters (as a Lambda cold start does) and prints the median
wall time, and the ratio to the floor. Usage: python benchmarks/cold_import.py [--runs 7]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = {
    **os.environ,
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "TABLE_NAME": "bench-table",
    "IDEMPOTENCY_TABLE_NAME": "bench-idempotency",
    "PYTHONPATH": os.pathsep.join(
        str(ROOT / p) for p in ("shared", "services/pets", "services/foods", "services/comments")
    ),
}
CASES = {
    "floor: import boto3 + client": "import boto3; boto3.client('dynamodb')",
    "pets.handler": "import pets.handler",
    "foods.handler": "import foods.handler",
    "comments.handler": "import comments.handler",
}


def time_once(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=ENV, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    empty = statistics.median(time_once("pass") for _ in range(args.runs))
    results = {
        name: statistics.median(time_once(code) for _ in range(args.runs)) - empty
        for name, code in CASES.items()
    }
    floor = results["floor: import boto3 + client"]
    print(
        f"| import in a fresh process (median of {args.runs}, interpreter start-up subtracted) | ms | x floor |"
    )
    print("|---|---:|---:|")
    for name, seconds in results.items():
        print(f"| {name} | {seconds * 1000:.0f} | {seconds / floor:.2f} |")


if __name__ == "__main__":
    main()
