"""``python -m localcloud dev`` as a child process, for the tests and benchmarks that need a whole
local cloud: free ports, a bounded wait for its ready file, and SIGTERM to stop it (the same clean
stop as Ctrl-C).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localcloud.state import STATE_DIR_VARIABLE

__all__ = ["DevChild", "DevStartError", "start_dev", "stop_dev"]

ROOT = Path(__file__).resolve().parents[1]


class DevStartError(RuntimeError):
    """The child exited, or was not ready in time; the message holds its output."""


@dataclass
class DevChild:
    process: subprocess.Popen[bytes]
    #: config.json, as the ready file holds it
    config: dict[str, Any]
    #: the child's stdout and stderr
    log: Path
    #: the web server's URL (config.json is at ``{web_url}/config.json``)
    web_url: str
    #: from starting the process to its ready file
    startup_seconds: float

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start_dev(workdir: Path, *arguments: str, timeout: float = 60.0) -> DevChild:
    """Starts the local cloud on free ports with extra ``arguments``; its files go in ``workdir``."""
    ready = workdir / "ready.json"
    log = workdir / "dev.log"
    command = [sys.executable, "-m", "localcloud", "dev", "--ready-file", str(ready)]
    for port in ("--web-port", "--api-port", "--aws-port", "--edge-port"):
        command += [port, "0"]
    started = time.perf_counter()
    environment = {**os.environ, STATE_DIR_VARIABLE: str(workdir / "state")}  # not the project's record
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [*command, *arguments], cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, env=environment
        )
    try:
        while not ready.exists():
            if process.poll() is not None or time.perf_counter() - started > timeout:
                raise DevStartError(
                    f"localcloud dev did not start (exit {process.poll()}):\n{log.read_text()}"
                )
            time.sleep(0.02)
        startup = time.perf_counter() - started
        config = json.loads(ready.read_text())
        config_url = next(line.split()[-1] for line in log.read_text().splitlines() if "config.json" in line)
    except BaseException:
        stop_dev(process)
        raise
    return DevChild(process, config, log, config_url.rsplit("/config.json", 1)[0], startup)


def stop_dev(process: subprocess.Popen[bytes], timeout: float = 20) -> int:
    """SIGTERM, then SIGKILL after ``timeout``; returns the exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    return int(process.returncode)
