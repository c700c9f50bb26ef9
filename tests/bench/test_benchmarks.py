"""The benchmarks run, at a tiny size, so that they cannot rot. No figure is asserted: speed is
measured by ``make bench``, never by the tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import common, run
from localcloud.child import DevChild

ROOT = Path(__file__).resolve().parents[2]


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert common.percentile(values, 0.5) == 50
    assert common.percentile(values, 0.95) == 95
    assert common.percentile(values, 0.99) == 99
    assert common.percentile([7.0], 0.99) == 7
    assert common.percentile([], 0.5) != common.percentile([], 0.5)  # NaN


def test_table_and_machine() -> None:
    assert common.table(["a", "b"], [[1, 2]], right=[1]) == "| a | b |\n|---|---:|\n| 1 | 2 |"
    info = common.machine()
    assert {"cpu", "cores", "python", "date"} <= set(info)


def test_tree_rss_counts_this_process_and_its_children() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        sizes = common.tree_rss(os.getpid())
        assert os.getpid() in sizes and child.pid in sizes
        assert all(size > 0 for size in sizes.values())
    finally:
        child.kill()
        child.wait()


def test_readme_section_is_replaced_between_the_markers_only(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\n{run.START_MARKER}\nold table\n{run.END_MARKER}\n\nAfter.\n")
    assert run.refresh_readme(readme, "| new | table |")
    assert (
        readme.read_text() == f"# Title\n\n{run.START_MARKER}\n| new | table |\n{run.END_MARKER}\n\nAfter.\n"
    )
    plain = tmp_path / "OTHER.md"
    plain.write_text("no markers\n")
    assert not run.refresh_readme(plain, "x")
    assert plain.read_text() == "no markers\n"


@pytest.mark.slow
def test_make_bench_runs_every_benchmark_at_a_tiny_size(bench_dev: DevChild, tmp_path: Path) -> None:
    """``benchmarks/run.py --quick``: each benchmark runs and reports; RESULTS.md and the README
    section are written (to copies here: the real ones hold published figures)."""
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{run.START_MARKER}\n{run.END_MARKER}\n")
    results = tmp_path / "RESULTS.md"
    command = [
        sys.executable,
        "benchmarks/run.py",
        "--quick",
        "--output",
        str(results),
        "--readme",
        str(readme),
    ]
    command += ["--config-url", f"{bench_dev.web_url}/config.json"]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    text = results.read_text()
    headings = (
        "## Summary",
        "### Cold start",
        "### Local cloud",
        "on Lambda and on Fargate",
        "### Start-up and the edit loop",
        "### Photo pipeline",
        "### Edge",
    )
    for heading in headings:
        assert heading in text, text
    for figure in ("GET /pets/{petId}", "POST /comments (JWT)", "pets.handler", "upload to READY", "edge"):
        assert figure in text
    assert "Errors:" not in text  # every request of the local cloud's cells succeeded
    section = readme.read_text()
    assert "benchmarks/RESULTS.md" in section and "| figure | value |" in section
