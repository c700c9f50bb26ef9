"""What the benchmarks share: the machine they ran on, percentiles, Markdown tables, a local cloud.

Every benchmark prints Markdown on stdout and, with ``--json PATH``, writes its headline figures
(each with the floor it is compared to) for ``benchmarks/run.py``, which assembles RESULTS.md.
"""

from __future__ import annotations

import json
import math
import os
import platform
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localcloud.child import DevChild, DevStartError, start_dev, stop_dev

ROOT = Path(__file__).resolve().parents[1]


def machine() -> dict[str, Any]:
    """CPU model, cores, Python and the date: the header of every published table."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    return {
        "cpu": model,
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load": round(load, 2),
    }


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` in 0..1); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], right: Sequence[int] = ()) -> str:
    """A Markdown table; columns whose index is in ``right`` are right-aligned."""
    lines = ["| " + " | ".join(headers) + " |"]
    lines.append("|" + "|".join("---:" if i in right else "---" for i in range(len(headers))) + "|")
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def ratio(value: float, floor: float) -> str:
    return f"{value / floor:.2f}" if floor else "n/a"


@dataclass
class Figure:
    """One headline figure, compared with its floor; ``target`` is the ratio (or value) to reach."""

    name: str
    value: float
    unit: str
    floor: float | None = None
    floor_name: str = ""
    target: str = ""
    met: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass
class Report:
    """What a benchmark hands to the runner: its Markdown and its headline figures."""

    title: str
    markdown: str
    figures: list[Figure] = field(default_factory=list)

    def write_json(self, path: Path | None) -> None:
        if path is not None:
            document = {
                "title": self.title,
                "markdown": self.markdown,
                "figures": [figure.as_dict() for figure in self.figures],
            }
            path.write_text(json.dumps(document, indent=2))


# ---------------------------------------------------------------------- process trees
def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # the command may contain spaces and parentheses: the fields start after the last ")"
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry))
    return children


def tree_rss(pid: int) -> dict[int, int]:
    """RSS in bytes of ``pid`` and each of its descendants (Linux /proc); {} when it is gone."""
    children = _children()
    result: dict[int, int] = {}
    pending = [pid]
    page = os.sysconf("SC_PAGE_SIZE")
    while pending:
        current = pending.pop()
        try:
            resident = int(Path(f"/proc/{current}/statm").read_text().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
        result[current] = resident
        pending.extend(children.get(current, []))
    return result


class RssSampler:
    """Samples the RSS of a process tree every ``interval`` seconds in a thread; keeps the peak."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_total = 0
        self.peak_processes = 0
        self.peak_root = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        sizes = tree_rss(self.pid)
        total = sum(sizes.values())
        if total > self.peak_total:
            self.peak_total = total
            self.peak_processes = len(sizes)
            self.peak_root = sizes.get(self.pid, 0)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sample()


# ---------------------------------------------------------------------- the local cloud
@contextmanager
def local_cloud(
    config_url: str | None = None, max_seconds: float = 60.0, extra_args: Sequence[str] = ()
) -> Iterator[DevChild | None]:
    """``python -m localcloud dev`` on free ports (stopped at the end), or None with ``config_url``.

    Yields None when ``config_url`` is given: the caller uses that running local cloud.
    """
    if config_url:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="bench-dev-") as workdir:
        try:
            dev = start_dev(Path(workdir), *extra_args, timeout=max_seconds)
        except DevStartError as error:
            raise SystemExit(str(error)) from None
        try:
            yield dev
        finally:
            stop_dev(dev.process)
