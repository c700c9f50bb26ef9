"""Latency of the local cloud: start-up of ``dev``, then GET /pets/{id} and authenticated PUT.

Starts ``python -m localcloud dev`` on free ports (or uses a running one with --config-url),
signs the demo user in, warms the functions, then sends N requests of each kind one after the
other (concurrency 1, a new connection each time as werkzeug closes them) and prints p50/p95/p99.
Every loop is bounded by N and by --max-seconds.

Usage: python benchmarks/local_api.py [--requests 1000] [--config-url URL] [--max-seconds 300]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from localcloud.cognito_user import fetch_config, sign_in  # noqa: E402


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)

    def at(fraction: float) -> float:
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    return (
        f"n={len(ordered)}  p50 {at(0.50):.2f} ms  p95 {at(0.95):.2f} ms  p99 {at(0.99):.2f} ms  "
        f"mean {statistics.fmean(ordered):.2f} ms"
    )


def start_dev(workdir: Path, max_seconds: float) -> tuple[subprocess.Popen[bytes], str, float]:
    ready = workdir / "ready.json"
    log = (workdir / "dev.log").open("wb")
    command = [
        sys.executable,
        "-m",
        "localcloud",
        "dev",
        "--web-port",
        "0",
        "--api-port",
        "0",
        "--aws-port",
        "0",
    ]
    started = time.perf_counter()
    process = subprocess.Popen(
        [*command, "--ready-file", str(ready)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
    )
    while not ready.exists():
        if process.poll() is not None or time.perf_counter() - started > max_seconds:
            process.kill()
            raise SystemExit(f"dev did not start:\n{(workdir / 'dev.log').read_text()}")
        time.sleep(0.02)
    startup = time.perf_counter() - started
    web_line = next(line for line in (workdir / "dev.log").read_text().splitlines() if "config.json" in line)
    return process, web_line.split()[-1], startup


def measure(
    session: requests.Session, method: str, url: str, count: int, deadline: float, **kwargs: Any
) -> list[float]:
    samples = []
    for _ in range(count):
        if time.perf_counter() > deadline:
            break
        started = time.perf_counter()
        response = session.request(method, url, timeout=30, **kwargs)
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code >= 300:
            raise SystemExit(f"{method} {url} -> {response.status_code} {response.text}")
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--config-url", help="config.json of a running local cloud (default: start one)")
    parser.add_argument("--max-seconds", type=float, default=300, help="upper bound for the whole run")
    args = parser.parse_args()
    deadline = time.perf_counter() + args.max_seconds
    process = None
    with tempfile.TemporaryDirectory() as workdir:
        try:
            if args.config_url:
                config_url = args.config_url
            else:
                process, config_url, startup = start_dev(Path(workdir), args.max_seconds)
                print(f"dev start-up (process start to ready file): {startup:.2f} s")
            config = fetch_config(config_url)
            api = config["apiUrl"]
            token = sign_in(config)["AccessToken"]
            session = requests.Session()
            auth = {"Authorization": f"Bearer {token}"}
            pet = {"name": "Bench", "species": "dog", "priceCents": 100}
            cold = measure(session, "PUT", f"{api}/pets/bench", 1, deadline, json=pet, headers=auth)
            print(f"first PUT (cold start of PetsFunction): {cold[0]:.0f} ms")
            measure(session, "GET", f"{api}/pets/bench", 20, deadline)  # warm
            gets = measure(session, "GET", f"{api}/pets/bench", args.requests, deadline)
            print(f"GET /pets/{{id}}            {percentiles(gets)}")
            puts = measure(
                session, "PUT", f"{api}/pets/bench", args.requests, deadline, json=pet, headers=auth
            )
            print(f"PUT /pets/{{id}} (with JWT)  {percentiles(puts)}")
            print(json.dumps({"get_ms_p50": statistics.median(gets), "put_ms_p50": statistics.median(puts)}))
        finally:
            if process is not None:
                process.terminate()
                process.wait(30)


if __name__ == "__main__":
    main()
