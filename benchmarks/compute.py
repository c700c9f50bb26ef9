"""The pets service on Lambda and on Fargate, locally, side by side: GET and PUT latency through the
same local gateway, with ``StoreCompute=lambda`` and then ``StoreCompute=fargate``.

Each mode gets a local cloud of its own, started on free ports and stopped before the next one
starts (they do not compete for the CPU); the demo staff user is signed in and a few pets are
seeded, then each route and concurrency is warmed up and measured with ``local_api``'s client (one
thread and keep-alive connection per concurrent request; a fixed number of requests, bounded in
time). On Lambda every concurrent request needs a warm worker of its own (at most --max-workers, 4
by default); on Fargate two tasks (the template's TasksPerService) take them, each a gunicorn with
2 processes of 4 threads, one handler call at a time per process.

What this measures is the local cloud's cost of each shape on this machine (a proxy hop and gunicorn
against a pipe to a warm worker), not AWS: docs/choosing-compute.md says what to expect there.

Usage: python benchmarks/compute.py [--requests 200] [--seconds 5] [--concurrency 1 8] [--json PATH]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import Figure, Report, local_cloud, table  # noqa: E402
from benchmarks.local_api import Cell, routes, run_cell, seed_pets  # noqa: E402

MODES = ("lambda", "fargate")
MEASURED = ("GET /pets/{petId}", "PUT /pets/{petId} (JWT)")


def measure_mode(
    mode: str, concurrencies: list[int], requests: int, seconds: float
) -> tuple[float, dict[str, dict[int, Cell]]]:
    from localcloud.cognito_user import sign_in_demo

    with local_cloud(extra_args=("--parameter-overrides", f"StoreCompute={mode}", "--no-watch")) as dev:
        assert dev is not None
        token = sign_in_demo(dev.config)["AccessToken"]
        api = dev.config["apiUrl"]
        seed = seed_pets(api, token)
        if seed.errors:
            raise SystemExit(f"{mode}: seeding failed: {seed.first_error}")
        makers = routes(token)
        cells: dict[str, dict[int, Cell]] = {}
        for name in MEASURED:
            cells[name] = {}
            for concurrency in concurrencies:
                run_cell(api, name, makers[name], concurrency, concurrency * 5, seconds)  # warm-up
                cells[name][concurrency] = run_cell(api, name, makers[name], concurrency, requests, seconds)
        return dev.startup_seconds, cells


def report(
    results: dict[str, tuple[float, dict[str, dict[int, Cell]]]], requests: int, seconds: float
) -> Report:
    headers = ["route", "concurrency"]
    for mode in MODES:
        headers += [f"{mode} p50 ms", f"{mode} p95 ms", f"{mode} req/s"]
    headers.append("errors")
    rows: list[list[Any]] = []
    figures = []
    concurrencies = sorted(next(iter(results.values()))[1][MEASURED[0]])
    for name in MEASURED:
        for concurrency in concurrencies:
            row: list[Any] = [name, concurrency]
            errors = 0
            for mode in MODES:
                cell = results[mode][1][name][concurrency]
                row += [f"{cell.p(0.50):.1f}", f"{cell.p(0.95):.1f}", f"{cell.throughput:.0f}"]
                errors += cell.errors
            row.append(errors)
            rows.append(row)
        lambda_p50 = results["lambda"][1][name][1].p(0.50)
        fargate_p50 = results["fargate"][1][name][1].p(0.50)
        figures.append(
            Figure(
                f"{name} p50 at concurrency 1, fargate (lambda as the floor)",
                round(fargate_p50, 2),
                "ms",
                floor=round(lambda_p50, 2),
                floor_name="the same request on lambda",
            )
        )
    startup = [
        [f"`localcloud dev` start-up, StoreCompute={mode}", f"{results[mode][0]:.1f} s"] for mode in MODES
    ]
    markdown = "\n".join(
        [
            "### Local cloud: the pets service on Lambda and on Fargate",
            "",
            f"Each cell: {requests} requests or {seconds:g} s, whichever ends first, after a warm-up; one "
            "client thread and keep-alive connection per concurrent request. Lambda: a warm worker per "
            "concurrent request; Fargate: 2 tasks, each gunicorn with 2 processes of 4 threads.",
            "",
            table(headers, rows, right=range(1, len(headers))),
            "",
            table(["", "value"], startup, right=[1]),
            "",
        ]
    )
    return Report("Pets on Lambda and on Fargate (local)", markdown, figures)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=200, help="requests per cell (default 200)")
    parser.add_argument("--seconds", type=float, default=5.0, help="time bound per cell (default 5)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--json", type=Path, help="write the headline figures here (for run.py)")
    args = parser.parse_args(argv)
    concurrencies = sorted({max(1, c) for c in args.concurrency} | {1})
    requests, seconds = max(1, args.requests), max(0.5, args.seconds)
    results = {mode: measure_mode(mode, concurrencies, requests, seconds) for mode in MODES}
    result = report(results, requests, seconds)
    print(result.markdown)
    result.write_json(args.json)


if __name__ == "__main__":
    main()
