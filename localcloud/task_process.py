"""One local ECS task: runs the container's command and ends it, with everything it started,
when the local cloud's process is gone -- however that process ends (SIGKILL included).

Run as a script (``python -P task_process.py <liveness fd> <command...>``) in its own session, by
:mod:`localcloud.containers`. The command (gunicorn, say) cannot watch the local cloud's liveness
pipe itself, so this process does, with the Lambda workers' own watcher: on EOF it kills its whole
process group, the command and the command's children. SIGTERM and SIGINT are passed on to the
command, which stops as it would when ECS stops its task; this process exits with its code.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # lambda_worker.py, beside this file

from lambda_worker import watch_liveness


def main(argv: list[str]) -> int:
    liveness, command = int(argv[1]), argv[2:]
    watch_liveness(liveness)
    child = subprocess.Popen(command)  # noqa: S603 - the task definition's command

    def forward(signum: int, _frame: object) -> None:
        child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    return child.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
