"""The daily loop: a fresh clone's first ``make dev``, the local cloud's start-up, and the first
request after an edit (a new worker, forked from the zygote), each beside its floor.

* **first run**: ``benchmarks/first_run.py`` (a fresh clone of HEAD, ``make dev`` on free ports,
  this machine's package caches) -- seconds to a ready local cloud, and of its install step;
* **start-up**: ``python -m localcloud dev`` on the project's template (as ``make dev`` starts it,
  edge included), process start to its ready file, the median of ``--runs``; the SAM transform is
  cached by then (the first start of a template pays about a second more);
* **edit to response**: in a running local cloud, a handler file of the pets service is touched (its
  modification time only: nothing is changed); once the watcher has retired the warm workers, the
  next ``GET /pets/{petId}`` starts a new worker: its latency, and the worker's init time as the
  gateway reports it. The floor of both: a fresh interpreter's ``import boto3`` and one client, what
  any function that talks to AWS pays without a zygote.

Usage: python benchmarks/startup.py [--runs 3] [--no-first-run] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import Figure, Report, local_cloud, table  # noqa: E402

TOUCHED = ROOT / "services" / "pets" / "pets" / "handler.py"
_COLD = re.compile(r"GET /pets/edit-probe -> \d+ \([\d.]+ ms\) PetsFunction cold start (\d+) ms")


def first_run(timeout: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="first-run-") as folder:
        output = Path(folder) / "first_run.json"
        command = [
            sys.executable,
            str(ROOT / "benchmarks" / "first_run.py"),
            "--no-second",
            "--json",
            str(output),
        ]
        completed = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
        )
        if completed.returncode != 0 or not output.exists():
            raise SystemExit(f"first_run.py failed:\n{completed.stdout}\n{completed.stderr}")
        document = json.loads(output.read_text())
    first = document.get("first") or document
    return {"ready": float(first["ready_seconds"]), "install": float(first["install_seconds"])}


def floor_ms(runs: int) -> float:
    """A fresh interpreter's ``import boto3`` and one client."""
    code = "import boto3; boto3.client('dynamodb', region_name='us-east-1')"
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def startup_seconds(runs: int) -> float:
    times = []
    for _ in range(runs):
        with local_cloud(extra_args=("--no-watch",)) as dev:
            assert dev is not None
            times.append(dev.startup_seconds)
    return statistics.median(times)


def edit_to_response(runs: int) -> tuple[float, float]:
    """(latency of the first request after an edit, its worker's init), medians, in ms."""
    import requests

    latencies, inits = [], []
    with local_cloud() as dev:
        assert dev is not None
        api = dev.config["apiUrl"]
        requests.get(f"{api}/pets/edit-probe", timeout=30)  # a warm worker to retire
        for run in range(runs):
            seen = dev.output().count("code changed")
            os.utime(TOUCHED)  # a new modification time: what an editor's save looks like to the watcher
            deadline = time.monotonic() + 10
            while dev.output().count("code changed") <= seen and time.monotonic() < deadline:
                time.sleep(0.02)
            started = time.perf_counter()
            requests.get(f"{api}/pets/edit-probe", timeout=30)
            latencies.append((time.perf_counter() - started) * 1000)
            time.sleep(0.2)  # the gateway's console line
            colds = _COLD.findall(dev.output())
            if len(colds) > run:
                inits.append(float(colds[-1]))
    return statistics.median(latencies), statistics.median(inits) if inits else float("nan")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-first-run", dest="first_run", action="store_false", help="skip the fresh clone")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    runs = max(1, args.runs)
    floor = floor_ms(runs)
    figures: list[Figure] = []
    rows: list[list[str]] = []
    if args.first_run:
        fresh = first_run(600)
        figures.append(
            Figure(
                "fresh clone to ready `make dev` (this machine's package caches)",
                round(fresh["ready"], 1),
                "s",
                target="<= 45 s",
                met=fresh["ready"] <= 45,
            )
        )
        rows.append(
            ["fresh clone to ready `make dev`", f"{fresh['ready']:.1f} s (install {fresh['install']:.1f} s)"]
        )
    start = startup_seconds(runs)
    figures.append(
        Figure(
            "local cloud start-up (process start to ready, transform cached)",
            round(start, 2),
            "s",
            target="<= 1.5 s",
            met=start <= 1.5,
        )
    )
    rows.append(["`localcloud dev` start-up, median", f"{start:.2f} s"])
    latency, init = edit_to_response(runs)
    figures.append(
        Figure(
            "first request after an edit (a new worker)",
            round(latency, 1),
            "ms",
            floor=round(floor, 1),
            floor_name="`import boto3` + one client, fresh interpreter",
            target="<= 60 ms",
            met=latency <= 60,
        )
    )
    figures.append(
        Figure(
            "new worker init (fork from the zygote + own code)",
            round(init, 1),
            "ms",
            floor=round(floor, 1),
            floor_name="`import boto3` + one client, fresh interpreter",
            target="<= 60 ms",
            met=init <= 60,
        )
    )
    rows += [
        ["first `GET /pets/{petId}` after an edit, median", f"{latency:.0f} ms"],
        ["its new worker's init (gateway's cold start), median", f"{init:.0f} ms"],
        ["floor: fresh interpreter, `import boto3` + one client", f"{floor:.0f} ms"],
    ]
    markdown = "\n".join(
        [
            "### Start-up and the edit loop",
            "",
            f"Medians of {runs} runs. Start-up: `python -m localcloud dev` with the edge, process start to ready "
            "file. Edit: a pets handler file touched in a running local cloud, then the next request.",
            "",
            table(["", "value"], rows, right=[1]),
            "",
        ]
    )
    report = Report("Start-up and the edit loop", markdown, figures)
    print(report.markdown)
    report.write_json(args.json)


if __name__ == "__main__":
    main()
