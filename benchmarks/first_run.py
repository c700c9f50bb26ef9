"""First run: from a fresh clone to a ready local cloud with ``make dev``, as a new developer does.

Clones this repository (its committed ``HEAD``, or ``--ref``) into a temporary folder, runs
``make dev`` there on free ports, waits (bounded) for the local cloud's ready file or its "up in"
line, asks its API for ``/pets`` once (the functions' own dependencies load), then stops it with
SIGTERM to its process group (Ctrl-C's clean stop) and prints:

* seconds from ``make dev`` to a ready local cloud, from a fresh clone;
* seconds of the install step (up to the moment make starts ``python -m localcloud dev``);
* the size of ``.venv`` in MB (disk usage, hard links counted once);
* with ``--second`` (the default), the same for a second ``make dev`` in the same clone, which
  should install nothing.

``--cold`` gives pip and uv empty caches of their own (a fresh machine: every package is
downloaded); without it they use this machine's caches (a second clone on a developer's machine).
Nothing here is asserted by the tests; the figures depend on the machine and on what else runs.

Usage: python benchmarks/first_run.py [--cold] [--no-second] [--ref REF] [--repo PATH]
                                      [--timeout 300] [--keep] [--json FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: every port free (0), and a ready file: what the tests' ``localcloud.child`` passes too
PORT_OPTIONS = ("--web-port", "0", "--api-port", "0", "--aws-port", "0", "--edge-port", "0")
#: the line make echoes when it starts the local cloud: the end of the install step
START_MARKER = "-m localcloud dev"
UP_MARKER = " up in "


@dataclass
class Run:
    ready_seconds: float | None = None
    install_seconds: float | None = None
    pets_status: int | None = None
    pets_seconds: float | None = None
    exit_code: int | None = None
    stop_seconds: float | None = None
    lines: list[str] = field(default_factory=list)


def clone(repo: Path, ref: str, target: Path) -> None:
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(repo), str(target)], check=True)
    subprocess.run(["git", "-C", str(target), "checkout", "--quiet", "--detach", ref], check=True)


def child_environment(cold_caches: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
    env.pop("VIRTUAL_ENV", None)
    env.pop("MAKELEVEL", None)
    if cold_caches is not None:
        env["UV_CACHE_DIR"] = str(cold_caches / "uv")
        env["PIP_CACHE_DIR"] = str(cold_caches / "pip")
    return env


def make_dev(workdir: Path, env: dict[str, str], timeout: float) -> Run:
    """``make dev`` on free ports in ``workdir``; ready, probed once, then stopped."""
    ready = workdir / ".first-run-ready.json"
    ready.unlink(missing_ok=True)
    args = " ".join((*PORT_OPTIONS, "--ready-file", str(ready)))
    run = Run()
    started = time.perf_counter()
    process = subprocess.Popen(
        ["make", "dev", f"ARGS={args}"],
        cwd=workdir,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: make, the local cloud and its workers
    )
    up = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.decode(errors="replace").rstrip()
            run.lines.append(line)
            if run.install_seconds is None and START_MARKER in line:
                run.install_seconds = time.perf_counter() - started
            if UP_MARKER in line:
                up.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        while not (ready.exists() or up.is_set()):
            if process.poll() is not None or time.perf_counter() - started > timeout:
                return run
            time.sleep(0.05)
        run.ready_seconds = time.perf_counter() - started
        run.pets_status, run.pets_seconds = probe(ready)
        return run
    finally:
        stopping = time.perf_counter()
        run.exit_code = stop(process)
        run.stop_seconds = time.perf_counter() - stopping
        reader.join(5)


def probe(ready: Path) -> tuple[int | None, float | None]:
    """GET /pets once through the local API (a function's first, cold, invocation)."""
    for _ in range(100):  # the "up in" line may come a moment before the ready file
        if ready.exists() and ready.stat().st_size:
            break
        time.sleep(0.05)
    try:
        api = str(json.loads(ready.read_text())["apiUrl"]).rstrip("/")
    except (OSError, ValueError, KeyError):
        return None, None
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(f"{api}/pets", timeout=60) as response:  # noqa: S310 - 127.0.0.1
            status = int(response.status)
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError:
        return None, None
    return status, time.perf_counter() - started


def stop(process: subprocess.Popen[bytes], timeout: float = 30) -> int:
    """SIGTERM to the whole process group, SIGKILL after ``timeout``; make's exit code (-15: it
    ended on the SIGTERM, as make does once its child has stopped; -9: it had to be killed)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)
    # workers that outlived make would still be in its group
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    return int(process.returncode)


def disk_mb(path: Path) -> float:
    """Disk usage of ``path`` in MB (as ``du``: allocated blocks, each hard-linked file once)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            try:
                info = os.lstat(os.path.join(folder, name))
            except OSError:
                continue
            key = (info.st_dev, info.st_ino)
            if key not in seen:
                seen.add(key)
                total += info.st_blocks * 512
    return total / 1e6


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--repo", type=Path, default=ROOT, help="repository to clone (default: this one)")
    parser.add_argument("--ref", default="HEAD", help="commit to check out (default: HEAD)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for ready")
    parser.add_argument("--cold", action="store_true", help="empty pip and uv caches (a fresh machine)")
    parser.add_argument("--no-second", dest="second", action="store_false", help="skip the second make dev")
    parser.add_argument("--keep", action="store_true", help="keep the clone (its path is printed)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    options = parser.parse_args(argv)

    ref = subprocess.run(
        ["git", "-C", str(options.repo), "rev-parse", "--short", options.ref],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    temp = Path(tempfile.mkdtemp(prefix="first-run-"))
    clone_dir = temp / "clone"
    try:
        clone(options.repo, options.ref, clone_dir)
        env = child_environment(temp / "caches" if options.cold else None)
        first = make_dev(clone_dir, env, options.timeout)
        venv_mb = disk_mb(clone_dir / ".venv")
        installer_mb = disk_mb(clone_dir / ".venv" / ".uv")
        second = make_dev(clone_dir, env, options.timeout) if options.second and first.ready_seconds else None
    finally:
        if not options.keep:
            subprocess.run(["rm", "-rf", str(temp)], check=False)

    caches = "empty pip and uv caches" if options.cold else "this machine's pip and uv caches"
    print(f"first run of make dev, fresh clone of {ref} ({caches}), {os.cpu_count()} cores")
    print(f"  ready local cloud:  {seconds(first.ready_seconds)}")
    print(f"  install step:       {seconds(first.install_seconds)}")
    print(
        f"  .venv:              {venv_mb:.0f} MB"
        + (f" (of which the uv installer {installer_mb:.0f} MB)" if installer_mb else "")
    )
    print(f"  GET /pets:          {first.pets_status} in {seconds(first.pets_seconds)} (first invocation)")
    print(f"  stopped:            in {seconds(first.stop_seconds)}, make's exit code {first.exit_code}")
    if second is not None:
        print(f"second make dev in the same clone: ready in {seconds(second.ready_seconds)}")
        print(f"  install step:       {seconds(second.install_seconds)}")
        print(f"  stopped:            in {seconds(second.stop_seconds)}, make's exit code {second.exit_code}")
    if options.keep:
        print(f"clone kept in {clone_dir}")
    print("make dev said, before it started the local cloud:")
    for line in first.lines[:12]:
        if START_MARKER in line:
            break
        print(f"  | {line}")
    if options.json:
        document: dict[str, Any] = {
            "ref": ref,
            "cold": options.cold,
            "venv_mb": venv_mb,
            "installer_mb": installer_mb,
            "first": {k: v for k, v in asdict(first).items() if k != "lines"},
            "second": None if second is None else {k: v for k, v in asdict(second).items() if k != "lines"},
        }
        options.json.write_text(json.dumps(document, indent=2) + "\n")
    if first.ready_seconds is None:
        print("make dev did not become ready; its output:", file=sys.stderr)
        print("\n".join(first.lines[-60:]), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
