"""Cold start of each handler: a fresh process that imports it and serves its first event.

What a Lambda cold start costs the function's own code: a new interpreter imports the handler
module (the init phase) and handles one event (the first invocation, which pays for whatever was
left lazy). Each case runs in a new interpreter, ``--runs`` times; the figure is the median wall
time of the child, from its start until it has answered (it then exits without the interpreter's
shutdown, as a Lambda environment is frozen rather than torn down), minus that of an empty
interpreter. The floor is the least any function that talks to AWS pays: ``import boto3`` and
one client.

The children get the environment a Lambda worker of the local cloud gets (template variables,
``AWS_ENDPOINT_URL`` pointing at a moto server started here, tracing disabled as there is no
X-Ray daemon, no bytecode written as in Lambda's read-only /var/task), and the sample events of
``events/``, so the first invocation makes its real DynamoDB call.

Usage: python benchmarks/cold_import.py [--runs 7] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import Figure, Report, ratio, table  # noqa: E402

FLOOR = "floor: `import boto3` + one client"
TARGET_RATIO = 1.3

#: case -> (function logical id, handler, event file); the edge function is not deployed locally
CASES: dict[str, tuple[str | None, str, str]] = {
    "pets": ("PetsFunction", "pets.handler.lambda_handler", "pets-get"),
    "foods": ("FoodsFunction", "foods.handler.lambda_handler", "foods-get"),
    "comments": ("CommentsFunction", "comments.handler.lambda_handler", "comments-list"),
    "photos": ("PhotosFunction", "photos.handler.lambda_handler", "photos-list"),
    "edge": (None, "versioning.handler.lambda_handler", "edge-v1"),
}

#: runs in the child: import the handler, call it once, report both durations and the status
CHILD = """
import json, sys, time
started = time.perf_counter()
paths, handler, event_file = json.loads(sys.argv[1])
sys.path[0:0] = paths
module_name, _, function_name = handler.rpartition(".")
import importlib
function = getattr(importlib.import_module(module_name), function_name)
imported = time.perf_counter()

class Context:
    function_name = "bench"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    memory_limit_in_mb = "1024"
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    log_group_name = log_stream_name = "bench"
    def get_remaining_time_in_millis(self):
        return 10000

with open(event_file) as f:
    event = json.load(f)
result = function(event, Context())
done = time.perf_counter()
status = result.get("statusCode") or result.get("status") or ("forwarded" if "uri" in result else "?")
print(json.dumps({"import_ms": (imported - started) * 1000, "invoke_ms": (done - imported) * 1000,
                  "status": str(status)}), flush=True)
import os
os._exit(0)  # a Lambda environment is frozen, not torn down: interpreter shutdown is not timed
"""
FLOOR_CODE = "import boto3, os; boto3.client('dynamodb'); os._exit(0)"
EMPTY_CODE = "import os; os._exit(0)"


def wall_ms(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    completed = subprocess.run(command, env=env, check=True, capture_output=True, text=True, cwd="/")
    return (time.perf_counter() - started) * 1000, completed.stdout


def base_environment(endpoint: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
    }


def prepare(backend: Any) -> dict[str, tuple[list[str], str, str, dict[str, str]]]:
    """Deploys the template into ``backend``; per case: code paths, handler, event file, environment."""
    from localcloud.functions import worker_environment
    from localcloud.stack import deploy
    from localcloud.template import load_template

    template = load_template(ROOT / "template.yaml")
    stack = deploy(template, backend.client, backend.url)
    dynamodb = backend.client("dynamodb")
    prepared = {}
    for case, (logical_id, handler, event_name) in CASES.items():
        event_file = str(ROOT / "events" / f"{event_name}.json")
        if logical_id is None:  # the edge function: configured by the event's origin headers
            environment = base_environment(backend.url)
            paths = [str(ROOT / "services" / "edge")]
            create_version_table(dynamodb, event_file)
        else:
            spec = stack.functions[logical_id]
            environment = {
                **worker_environment(spec, backend.url, stack.region),
                "PYTHONDONTWRITEBYTECODE": "1",
            }
            paths = [str(spec.code_dir), *(str(path) for path in spec.layer_dirs)]
            if case in ("pets", "foods"):  # the item the sample event reads
                item_id = json.loads(Path(event_file).read_text())["pathParameters"]
                (key,) = item_id.values()
                dynamodb.put_item(
                    TableName=spec.environment["TABLE_NAME"],
                    Item={
                        "id": {"S": key},
                        "name": {"S": "Bench"},
                        "species": {"S": "dog"},
                        "priceCents": {"N": "100"},
                        "version": {"N": "1"},
                        "createdAt": {"S": "2026-01-01T00:00:00.000Z"},
                        "updatedAt": {"S": "2026-01-01T00:00:00.000Z"},
                    },
                )
        prepared[case] = (paths, handler, event_file, environment)
    return prepared


def create_version_table(dynamodb: Any, event_file: str) -> None:
    request = json.loads(Path(event_file).read_text())["Records"][0]["cf"]["request"]
    name = request["origin"]["custom"]["customHeaders"]["x-version-table"][0]["value"]
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "version", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "version", "KeyType": "HASH"}],
    )
    for version, path in (("v1", "/v1"), ("v2", "")):
        dynamodb.put_item(
            TableName=name,
            Item={
                "version": {"S": version},
                "domainName": {"S": "abc123defg.execute-api.us-east-1.amazonaws.com"},
                "originPath": {"S": path},
            },
        )


def measure(runs: int) -> tuple[dict[str, float], dict[str, dict[str, Any]], float]:
    from localcloud.aws_backend import AwsBackend

    backend = AwsBackend(port=0, console=lambda line: None).start()
    try:
        prepared = prepare(backend)
        python = [sys.executable, "-P"]
        empty_env = base_environment(backend.url)
        empty = statistics.median(wall_ms([*python, "-c", EMPTY_CODE], empty_env)[0] for _ in range(runs))
        totals: dict[str, list[float]] = {FLOOR: []}
        details: dict[str, list[dict[str, Any]]] = {}
        for _ in range(runs):  # interleaved, so that a burst of load elsewhere hits every case alike
            totals[FLOOR].append(wall_ms([*python, "-c", FLOOR_CODE], empty_env)[0] - empty)
            for case, (paths, handler, event_file, environment) in prepared.items():
                argument = json.dumps([paths, handler, event_file])
                elapsed, output = wall_ms([*python, "-c", CHILD, argument], environment)
                totals.setdefault(case, []).append(elapsed - empty)
                details.setdefault(case, []).append(json.loads(output.strip().splitlines()[-1]))
    finally:
        backend.stop()
    medians = {case: statistics.median(values) for case, values in totals.items()}
    summary = {
        case: {
            "import_ms": statistics.median(d["import_ms"] for d in runs_of_case),
            "invoke_ms": statistics.median(d["invoke_ms"] for d in runs_of_case),
            "status": runs_of_case[-1]["status"],
            "spread_ms": max(totals[case]) - min(totals[case]),
        }
        for case, runs_of_case in details.items()
    }
    return medians, summary, empty


def report(medians: dict[str, float], summary: dict[str, dict[str, Any]], empty: float, runs: int) -> Report:
    floor = medians[FLOOR]
    rows: list[list[Any]] = [[FLOOR, "", "", "", f"{floor:.0f}", "1.00"]]
    figures = []
    for case, values in summary.items():
        total = medians[case]
        rows.append(
            [
                f"{CASES[case][1]} (`{CASES[case][2]}` → {values['status']})",
                f"{values['import_ms']:.0f}",
                f"{values['invoke_ms']:.0f}",
                f"{values['spread_ms']:.0f}",
                f"{total:.0f}",
                ratio(total, floor),
            ]
        )
        figures.append(
            Figure(
                f"cold start of {case} (import + first invocation)",
                round(total),
                "ms",
                round(floor),
                FLOOR,
                f"<= {TARGET_RATIO}x the floor",
                total <= TARGET_RATIO * floor,
            )
        )
    headers = ["handler (event → status)", "import ms", "first call ms", "spread ms", "total ms", "x floor"]
    markdown = "\n".join(
        [
            "### Cold start: import + first invocation in a fresh interpreter",
            "",
            f"Median of {runs} runs per case, interleaved; total = child wall time minus an empty "
            f"interpreter ({empty:.0f} ms); import and first call as timed inside the child; spread = "
            "slowest minus fastest run.",
            "",
            table(headers, rows, right=range(1, 6)),
            "",
        ]
    )
    return Report("Cold start", markdown, figures)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", type=Path, help="write the headline figures here (for run.py)")
    args = parser.parse_args(argv)
    runs = max(1, args.runs)
    medians, summary, empty = measure(runs)
    result = report(medians, summary, empty, runs)
    print(result.markdown)
    result.write_json(args.json)


if __name__ == "__main__":
    main()
