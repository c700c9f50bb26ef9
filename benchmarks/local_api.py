"""Latency and throughput of the local cloud's API, against a bare server of the same library.

Starts ``python -m localcloud dev`` on free ports (or uses a running one with ``--config-url``),
signs the demo user in, seeds a few pets, then for each route -- ``GET /pets/{id}``, ``GET /pets``
(a full page), ``PUT /pets/{id}`` and ``POST /comments`` with a JWT -- and each concurrency
(default 1, 8 and 32) sends a fixed number of requests, bounded in time too, from that many
threads (one HTTP connection each, kept alive when the server allows it). Each cell is warmed up
first (so every worker it needs is started), and reports p50/p95/p99 and requests per second.

The floor: a hello-world WSGI app on the same server class with the same settings as the gateway
(``localcloud.servers.ServerThread``), in its own process, driven by the same client. Latency is
shown as a multiple of the floor's, throughput as a fraction of it. The peak RSS of the local
cloud's whole process tree (gateway, backend and every warm worker) is sampled during the load.

Usage: python benchmarks/local_api.py [--requests 400] [--seconds 5] [--concurrency 1 8 32]
                                      [--config-url URL] [--json PATH]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import (  # noqa: E402
    Figure,
    Report,
    RssSampler,
    local_cloud,
    percentile,
    ratio,
    table,
)

#: (method, path and query, headers, body) of request number ``index`` sent by thread ``thread``
Request = tuple[str, str, dict[str, str], bytes | None]
RequestFactory = Callable[[int, int], Request]

SEEDED_PETS = 25
FLOOR_NAME = "bare server, hello world (floor)"


@dataclass
class Cell:
    name: str
    concurrency: int
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""
    elapsed: float = 0.0

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.elapsed if self.elapsed else 0.0

    def p(self, fraction: float) -> float:
        return percentile(self.latencies_ms, fraction)


def run_cell(
    base_url: str,
    name: str,
    make: RequestFactory,
    concurrency: int,
    requests: int,
    seconds: float,
    also_ok: frozenset[int] = frozenset(),
) -> Cell:
    """``requests`` requests (at most ``seconds`` long) from ``concurrency`` threads; a status of 300
    or more is an error unless it is in ``also_ok``."""
    parts = urlsplit(base_url)
    host, port, prefix = parts.hostname or "127.0.0.1", parts.port or 80, parts.path.rstrip("/")
    cell = Cell(name, concurrency)
    counter = itertools.count()
    lock = threading.Lock()
    start = threading.Barrier(concurrency + 1)
    deadline = [float("inf")]

    def worker(thread: int) -> None:
        connection = http.client.HTTPConnection(host, port, timeout=30)
        samples: list[float] = []
        errors = 0
        first_error = ""
        start.wait()
        while True:
            with lock:
                index = next(counter)
            if index >= requests or time.perf_counter() > deadline[0]:
                break
            method, path, headers, body = make(index, thread)
            began = time.perf_counter()
            try:
                connection.request(method, prefix + path, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                errors += 1
                first_error = first_error or f"{method} {path}: {error!r}"
                continue
            samples.append((time.perf_counter() - began) * 1000)
            if response.status >= 300 and response.status not in also_ok:
                errors += 1
                first_error = first_error or f"{method} {path} -> {response.status} {payload[:200]!r}"
        connection.close()
        with lock:
            cell.latencies_ms.extend(samples)
            cell.errors += errors
            cell.first_error = cell.first_error or first_error

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start.wait()
    for thread in threads:
        thread.join(seconds + 60)
    cell.elapsed = time.perf_counter() - began
    return cell


# ---------------------------------------------------------------------- the floor
def serve_floor(port_file: Path) -> None:
    """In a child process: hello world on the gateway's server class, until stdin closes."""
    from localcloud.servers import ServerThread, bind

    body = b'{"message":"hello"}'

    def hello(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("200 OK", [("content-type", "application/json"), ("content-length", str(len(body)))])
        return [body]

    server = ServerThread("floor", bind("127.0.0.1", 0, "--port"), hello).start()
    port_file.write_text(str(server.port))
    sys.stdin.read()
    server.stop()


class FloorServer:
    def __enter__(self) -> str:
        self._dir = tempfile.TemporaryDirectory(prefix="bench-floor-")
        port_file = Path(self._dir.name) / "port"
        self._process = subprocess.Popen(
            [sys.executable, __file__, "--serve-floor", str(port_file)], stdin=subprocess.PIPE, cwd=ROOT
        )
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text():
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the floor server did not start")
            time.sleep(0.02)
        return f"http://127.0.0.1:{port_file.read_text()}"

    def __exit__(self, *exc: object) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
        self._dir.cleanup()


# ---------------------------------------------------------------------- the routes
def pet(name: str) -> dict[str, Any]:
    return {"name": name, "species": "dog", "breed": "Beagle", "ageMonths": 18, "priceCents": 45000}


def routes(token: str) -> dict[str, RequestFactory]:
    json_headers = {"content-type": "application/json"}
    auth = {**json_headers, "authorization": f"Bearer {token}"}

    def get_one(index: int, thread: int) -> Request:
        return "GET", f"/pets/bench-{index % SEEDED_PETS}", {}, None

    def get_page(index: int, thread: int) -> Request:
        return "GET", "/pets?limit=20", {}, None

    def put(index: int, thread: int) -> Request:
        # a replace of a seeded pet; If-Match: * replaces whatever version it has (no 428, no 412)
        headers = {**auth, "if-match": "*"}
        return "PUT", f"/pets/bench-{index % SEEDED_PETS}", headers, json.dumps(pet(f"Put {index}")).encode()

    def post_comment(index: int, thread: int) -> Request:
        body = {"pageId": f"bench-{index % SEEDED_PETS}", "message": f"Benchmark comment {index}"}  # a pet
        return "POST", "/comments", auth, json.dumps(body).encode()

    return {
        "GET /pets/{petId}": get_one,
        "GET /pets (a page of 20)": get_page,
        "PUT /pets/{petId} (JWT)": put,
        "POST /comments (JWT)": post_comment,
    }


def seed_pets(api: str, token: str) -> Cell:
    """The pets ``bench-0`` .. ``bench-24``, one request after the other (the first is a cold start).
    Create-only, so that a stack seeded by an earlier run (--config-url) answers 412 "already there"."""
    auth = {"content-type": "application/json", "authorization": f"Bearer {token}", "if-none-match": "*"}
    return run_cell(
        api,
        "seed",
        lambda i, t: ("PUT", f"/pets/bench-{i}", auth, json.dumps(pet(f"Bench {i}")).encode()),
        1,
        SEEDED_PETS,
        60,
        also_ok=frozenset({412}),
    )


def hello(index: int, thread: int) -> Request:
    return "GET", "/", {}, None


# ---------------------------------------------------------------------- the run
def measure(
    api: str, floor_url: str, token: str, concurrencies: list[int], requests: int, seconds: float
) -> tuple[dict[int, Cell], dict[str, dict[int, Cell]], dict[str, float]]:
    floor: dict[int, Cell] = {}
    for concurrency in concurrencies:
        run_cell(floor_url, FLOOR_NAME, hello, concurrency, concurrency * 20, seconds)  # warm-up
        floor[concurrency] = run_cell(floor_url, FLOOR_NAME, hello, concurrency, requests, seconds)

    cold: dict[str, float] = {}
    seed = seed_pets(api, token)
    cold["PUT /pets/{petId} (PetsFunction)"] = seed.latencies_ms[0] if seed.latencies_ms else float("nan")
    if seed.errors:
        raise SystemExit(f"seeding failed: {seed.first_error}")
    first_comment = run_cell(api, "cold", lambda i, t: routes(token)["POST /comments (JWT)"](i, t), 1, 1, 60)
    cold["POST /comments (CommentsFunction)"] = (
        first_comment.latencies_ms[0] if first_comment.latencies_ms else float("nan")
    )

    results: dict[str, dict[int, Cell]] = {}
    for name, make in routes(token).items():
        results[name] = {}
        for concurrency in concurrencies:
            run_cell(api, name, make, concurrency, concurrency * 5, seconds)  # warm every worker needed
            results[name][concurrency] = run_cell(api, name, make, concurrency, requests, seconds)
    return floor, results, cold


def report(
    floor: dict[int, Cell],
    results: dict[str, dict[int, Cell]],
    cold: dict[str, float],
    rss: RssSampler | None,
    startup: float | None,
    requests: int,
    seconds: float,
) -> Report:
    headers = [
        "route",
        "concurrency",
        "requests",
        "errors",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "req/s",
        "p50 x floor",
        "req/s ÷ floor",
    ]
    rows: list[list[Any]] = []
    for concurrency, cell in floor.items():
        rows.append(_row(cell, concurrency, floor[concurrency]))
    for cells in results.values():
        for concurrency, cell in cells.items():
            rows.append(_row(cell, concurrency, floor[concurrency]))
    lines = [
        "### Local cloud: HTTP API latency and throughput",
        "",
        f"Each cell: {requests} requests or {seconds:g} s, whichever ends first, after a warm-up; "
        "one client thread and connection per concurrent request; the floor is a hello-world app "
        "on the gateway's own server class and settings, in its own process, same client.",
        "",
        table(headers, rows, right=range(1, len(headers))),
        "",
    ]
    other = []
    if startup is not None:
        other.append(["`localcloud dev` start-up (process start to ready)", f"{startup * 1000:.0f} ms"])
    for name, value in cold.items():
        other.append([f"first {name}: cold start through the gateway", f"{value:.0f} ms"])
    if rss is not None:
        other.append(
            [
                "peak RSS of the local cloud's process tree under this load",
                f"{rss.peak_total / 2**20:.0f} MB ({rss.peak_processes} processes; "
                f"gateway + backend process {rss.peak_root / 2**20:.0f} MB)",
            ]
        )
    if other:
        lines += [table(["figure", "value"], other, right=[1]), ""]
    errors = [
        f"{name} at {c}: {cell.first_error}"
        for name, cells in results.items()
        for c, cell in cells.items()
        if cell.errors
    ]
    if errors:
        lines += ["Errors:", *[f"- {error}" for error in errors], ""]

    figures = []
    for route, target_ms in (("GET /pets/{petId}", 10), ("PUT /pets/{petId} (JWT)", 15)):
        first = results[route].get(1)
        if first is not None:
            figures.append(
                Figure(
                    f"local {route} p50, concurrency 1",
                    round(first.p(0.5), 2),
                    "ms",
                    round(floor[1].p(0.5), 2),
                    FLOOR_NAME,
                    f"<= {target_ms} ms",
                    first.p(0.5) <= target_ms,
                )
            )
    get8 = results["GET /pets/{petId}"].get(8)
    if get8 is not None:
        share = get8.throughput / floor[8].throughput
        figures.append(
            Figure(
                "local GET /pets/{petId} throughput, concurrency 8",
                round(get8.throughput),
                "req/s",
                round(floor[8].throughput),
                FLOOR_NAME,
                ">= 1/3 of the floor",
                share >= 1 / 3,
            )
        )
    if rss is not None:
        figures.append(Figure("local cloud peak RSS under load", round(rss.peak_total / 2**20), "MB"))
    return Report("Local cloud API", "\n".join(lines), figures)


def _row(cell: Cell, concurrency: int, floor: Cell) -> list[Any]:
    return [
        cell.name,
        concurrency,
        len(cell.latencies_ms),
        cell.errors,
        f"{cell.p(0.5):.2f}",
        f"{cell.p(0.95):.2f}",
        f"{cell.p(0.99):.2f}",
        f"{cell.throughput:.0f}",
        ratio(cell.p(0.5), floor.p(0.5)),
        ratio(cell.throughput, floor.throughput),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--requests", type=int, default=400, help="requests per cell (default 400)")
    parser.add_argument("--seconds", type=float, default=5.0, help="time bound per cell (default 5)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--config-url", help="config.json of a running local cloud (default: start one)")
    parser.add_argument("--json", type=Path, help="write the headline figures here (for run.py)")
    parser.add_argument("--serve-floor", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_floor:
        serve_floor(args.serve_floor)
        return
    requests = max(1, args.requests)
    seconds = max(0.5, args.seconds)
    concurrencies = sorted({max(1, c) for c in args.concurrency} | {1})

    from localcloud.cognito_user import fetch_config, sign_in_demo

    with local_cloud(args.config_url) as dev, FloorServer() as floor_url:
        config = dev.config if dev else fetch_config(args.config_url)
        token = sign_in_demo(config)["AccessToken"]
        sampler = RssSampler(dev.process.pid) if dev else None
        if sampler is not None:
            with sampler:
                floor, results, cold = measure(
                    config["apiUrl"], floor_url, token, concurrencies, requests, seconds
                )
        else:
            floor, results, cold = measure(
                config["apiUrl"], floor_url, token, concurrencies, requests, seconds
            )
    result = report(floor, results, cold, sampler, dev.startup_seconds if dev else None, requests, seconds)
    print(result.markdown)
    result.write_json(args.json)


if __name__ == "__main__":
    main()
