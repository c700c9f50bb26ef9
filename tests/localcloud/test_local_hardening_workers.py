"""Workers never outlive the local cloud, even when its main process is killed with SIGKILL.

Before, a worker ended only on EOF of its request pipe, which it reads between invocations: a
worker busy in its handler when the local cloud died -- typically in boto3's retries against the
AWS endpoint that died with it, 25 s for DynamoDB -- stayed that long. Now each watches a liveness
pipe whose write end only the main process holds (``localcloud.functions.liveness_fd``).

The run's processes are found by a marker no other run has: the test's own temporary folder,
which is every worker's working directory (its code root, as Lambda's /var/task) and in the command
line of the process the busy handler starts; the zygote that forks the workers is the dev process's
child running ``lambda_worker.py --zygote``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import textwrap
import threading
import time
from pathlib import Path

import pytest
import requests

from localcloud.child import stop_dev
from tests.support import start_dev

pytestmark = pytest.mark.slow

GONE_WITHIN_SECONDS = 5.0

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.13
    CodeUri: src/
    Timeout: 120
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
  FirstFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Events:
        Call:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Path: "/first/{action}", Method: GET}
  SecondFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Events:
        Call:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Path: "/second/{action}", Method: GET}
"""

HANDLER = textwrap.dedent(
    """
    import os
    import subprocess
    import sys
    import time

    CODE_ROOT = os.path.dirname(os.path.abspath(__file__))


    def handler(event, context):
        if event["pathParameters"]["action"] == "busy":
            # a process of the handler's own, then busy far longer than the test waits
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", CODE_ROOT])
            time.sleep(120)
        return {"pid": os.getpid()}
    """
)


def processes_with(marker: str) -> dict[int, str]:
    """pid -> command line, of every live process whose command line or working directory contains
    ``marker``."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            command = (Path("/proc") / entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            folder = os.readlink(Path("/proc") / entry / "cwd")
        except OSError:  # gone meanwhile
            continue
        if command and (marker in command or marker in folder):  # a zombie's command line is empty
            found[int(entry)] = command
    return found


def children_of(parent: int) -> dict[int, str]:
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError):
                if int((Path("/proc") / entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == parent:
                    found[int(entry)] = (
                        (Path("/proc") / entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                    )
    return found


def wait_for(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return bool(condition())  # type: ignore[operator]


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs Linux /proc")
def test_no_worker_outlives_a_sigkilled_local_cloud(tmp_path: Path) -> None:
    code_root = tmp_path / "src"
    code_root.mkdir()
    (code_root / "app.py").write_text(HANDLER)
    template = tmp_path / "template.yaml"
    template.write_text(TEMPLATE)
    marker = str(code_root)

    dev = start_dev(tmp_path, "--no-watch", template=template)
    try:
        api = dev.config["apiUrl"]
        warm = {name: requests.get(f"{api}/{name}/warm", timeout=30) for name in ("first", "second")}
        assert all(response.status_code == 200 for response in warm.values()), dev.output()

        def call_busy() -> None:
            with contextlib.suppress(requests.RequestException):  # it ends with the local cloud
                requests.get(f"{api}/first/busy", timeout=30)

        threading.Thread(target=call_busy, name="busy-request", daemon=True).start()

        def started_its_own_process() -> bool:
            return any("time.sleep(120)" in command for command in processes_with(marker).values())

        assert wait_for(started_its_own_process, 20), dev.output()
        before = processes_with(marker)
        workers = [pid for pid, command in before.items() if "lambda_worker" in command]
        assert len(workers) >= 2, before  # the two functions' workers, one of them busy
        assert {response.json()["pid"] for response in warm.values()} <= set(workers)
        (zygote,) = [pid for pid, command in children_of(dev.process.pid).items() if "--zygote" in command]

        def left() -> dict[int, str]:
            """This run's workers and processes, and its zygote while it lives."""
            zygote_alive = (
                Path(f"/proc/{zygote}/cmdline").exists() and Path(f"/proc/{zygote}/cmdline").read_bytes()
            )
            return {**processes_with(marker), **({zygote: "zygote"} if zygote_alive else {})}

        dev.process.send_signal(signal.SIGKILL)
        dev.process.wait(10)
        killed_at = time.monotonic()
        assert wait_for(lambda: not left(), GONE_WITHIN_SECONDS), (
            f"still running {time.monotonic() - killed_at:.1f} s after SIGKILL: {left()}"
        )
    finally:
        stop_dev(dev.process)
        for pid in processes_with(marker):  # never leave this run's processes behind
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
