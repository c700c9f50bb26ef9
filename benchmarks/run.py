"""``make bench``: every benchmark of this folder in one go; writes RESULTS.md and the README's table.

Each benchmark runs in its own process (they patch and time different things), prints its
Markdown, and hands its headline figures back as JSON. RESULTS.md gets the machine they ran on,
a summary of the headline figures (each with its floor, the ratio to it, and its target where
the project has one), then every benchmark's own tables. The README's Performance section --
between ``<!-- bench:start -->`` and ``<!-- bench:end -->`` -- is refreshed with the summary.

Usage: python benchmarks/run.py [--quick] [--only NAME ...] [--config-url URL]
                                [--output benchmarks/RESULTS.md] [--readme README.md | --no-readme]
``--quick`` runs everything at a tiny size (for the tests: the code runs, the figures mean nothing).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import machine, table  # noqa: E402

START_MARKER = "<!-- bench:start -->"
END_MARKER = "<!-- bench:end -->"

#: name -> (script, arguments of a full run, arguments of a quick run); run in this order
BENCHMARKS: dict[str, tuple[str, list[str], list[str]]] = {
    "startup": ("startup.py", ["--runs", "3"], ["--runs", "1", "--no-first-run"]),
    "cold_import": ("cold_import.py", ["--runs", "7"], ["--runs", "1"]),
    "local_api": (
        "local_api.py",
        ["--requests", "400", "--seconds", "5"],
        ["--requests", "3", "--seconds", "1", "--concurrency", "1", "2"],
    ),
    "compute": (
        "compute.py",
        ["--requests", "200", "--seconds", "5"],
        ["--requests", "3", "--seconds", "1", "--concurrency", "1"],
    ),
    "resize": (
        "resize.py",
        ["--runs", "5", "--upload-runs", "3"],
        ["--runs", "1", "--upload-runs", "1", "--size", "600x400"],
    ),
    "edge_decision": (
        "edge_decision.py",
        ["--calls", "100000"],
        ["--calls", "100", "--windows", "1", "--import-runs", "1"],
    ),
}
#: benchmarks that can use a running local cloud instead of starting their own
USES_LOCAL_CLOUD = frozenset({"local_api", "resize"})


def run_one(name: str, quick: bool, config_url: str | None, workdir: Path) -> dict[str, Any]:
    script, full, small = BENCHMARKS[name]
    output = workdir / f"{name}.json"
    command = [sys.executable, str(ROOT / "benchmarks" / script), *(small if quick else full)]
    command += ["--json", str(output)]
    if config_url and name in USES_LOCAL_CLOUD:
        command += ["--config-url", config_url]
    started = time.perf_counter()
    print(f"== {name}: {' '.join(command[1:])}", flush=True)
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(
            f"{name} failed (exit {completed.returncode}):\n{completed.stdout}\n{completed.stderr}"
        )
    print(completed.stdout.rstrip(), flush=True)
    print(f"== {name}: {elapsed:.0f} s", flush=True)
    document: dict[str, Any] = json.loads(output.read_text())
    document["seconds"] = elapsed
    return document


def summary_table(results: list[dict[str, Any]]) -> str:
    rows = []
    for result in results:
        for figure in result["figures"]:
            floor = figure.get("floor")
            value = figure["value"]
            met = figure.get("met")
            rows.append(
                [
                    figure["name"],
                    f"{value:g} {figure['unit']}",
                    f"{floor:g} {figure['unit']} ({figure['floor_name']})" if floor is not None else "",
                    f"{value / floor:.2f}" if floor else "",
                    figure.get("target") or "",
                    {True: "yes", False: "**no**", None: ""}[met],
                ]
            )
    return table(["figure", "value", "floor (same run)", "x floor", "target", "met"], rows, right=[1, 3])


def machine_line(info: dict[str, Any], load_after: float | None = None) -> str:
    load = f"load average {info['load']}" + (f" → {load_after}" if load_after is not None else "")
    return (
        f"{info['cpu']}, {info['cores']} cores, Python {info['python']}, {info['os']}; "
        f"{info['date']}; {load} (other work on the machine shows as noise)"
    )


def write_results(path: Path, info: dict[str, Any], results: list[dict[str, Any]], seconds: float) -> str:
    load_after = machine()["load"]
    summary = summary_table(results)
    parts = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`benchmarks/run.py`); do not edit by hand. Each figure is shown "
        "beside its floor, measured in the same run on the same machine.",
        "",
        f"Machine: {machine_line(info, load_after)}. Whole run: {seconds:.0f} s.",
        "",
        "## Summary",
        "",
        summary,
        "",
    ]
    parts += ["## Details", ""]
    for result in results:
        parts += [result["markdown"].strip(), ""]
    path.write_text("\n".join(parts))
    return "\n".join(
        [
            f"Measured by `make bench` on {machine_line(info, load_after)}; "
            "all tables in [benchmarks/RESULTS.md](benchmarks/RESULTS.md).",
            "",
            summary,
        ]
    )


def refresh_readme(readme: Path, section: str) -> bool:
    """Replaces what is between the markers; False (README untouched) when they are missing."""
    text = readme.read_text()
    start, end = text.find(START_MARKER), text.find(END_MARKER)
    if start < 0 or end < start:
        return False
    updated = text[: start + len(START_MARKER)] + "\n" + section.strip() + "\n" + text[end:]
    if updated != text:
        readme.write_text(updated)
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the code, not the speed")
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), help="run only these")
    parser.add_argument("--config-url", help="a running local cloud for local_api and resize")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    parser.add_argument("--no-readme", action="store_true", help="leave the README alone")
    args = parser.parse_args(argv)

    info = machine()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-") as workdir:
        results = [
            run_one(name, args.quick, args.config_url, Path(workdir))
            for name in BENCHMARKS
            if not args.only or name in args.only
        ]
    section = write_results(args.output, info, results, time.perf_counter() - started)
    print(f"== wrote {args.output}")
    if not args.no_readme:
        if refresh_readme(args.readme, section):
            print(f"== refreshed the Performance section of {args.readme}")
        else:
            print(f"== {args.readme} has no {START_MARKER} ... {END_MARKER} section: left as it is")


if __name__ == "__main__":
    main()
