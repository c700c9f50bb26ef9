"""ECS services on Fargate, locally: each service's ``DesiredCount`` tasks as local processes,
and the Cloud Map services they register in, which the gateway's VPC-link integrations look up.

A task runs its task definition's command (:class:`localcloud.resources.ecs.TaskSpec`) in the
service's folder, with the container's environment from the template, the local backend's
endpoint and placeholder credentials (as a Lambda worker gets them), ``AWS_EXECUTION_ENV`` as
Fargate sets it, the image's code folders as ``PYTHONPATH``, and two variables standing in for
the container's network: ``PORT`` (a free port on this machine instead of the container port) and
``BIND_HOST`` (127.0.0.1: nothing is reachable from another machine). A command naming ``python``
or a console script runs the project's interpreter or its script.

A task is registered in its service's Cloud Map services once the container's health check
passes (run as a local process with the task's environment; without one, once its port accepts
connections) and taken out before it is stopped. With ``watch`` on, a
change to a ``.py`` file of the image's code replaces a service's tasks (new ones first, then the
old ones stop: a rolling deployment), as a new image would. Tasks never outlive the local cloud
(:mod:`localcloud.task_process`).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from localcloud.functions import base_environment, code_fingerprint, liveness_fd, local_aws_environment, quiet
from localcloud.http_integration import Target
from localcloud.resources.ecs import ServiceSpec, TaskSpec

__all__ = ["TaskRuntime", "TaskStartError"]

TASK_SCRIPT = Path(__file__).resolve().with_name("task_process.py")
#: how long a task may take to accept connections
READY_TIMEOUT_SECONDS = 30.0
#: how long a stopping task gets after SIGTERM before SIGKILL (ECS's stopTimeout default)
STOP_GRACE_SECONDS = 30.0


class TaskStartError(RuntimeError):
    """A task exited, or did not accept connections in time; the message holds its last output."""


@dataclass
class _Task:
    service: str
    number: int
    port: int
    process: subprocess.Popen[bytes]
    environment: dict[str, str]
    output: list[str] = field(default_factory=list)
    #: healthy: registered in Cloud Map, its output shown
    ready: bool = False

    @property
    def name(self) -> str:
        return f"{self.service}/{self.number}"


class TaskRuntime:
    """Every ECS service of the stack, its tasks running; Cloud Map lookups by service ARN."""

    def __init__(
        self,
        services: dict[str, ServiceSpec],
        aws_endpoint_url: str,
        region: str,
        console: Callable[[str], None],
        *,
        watch: bool = False,
        verbose: bool = True,
    ) -> None:
        self.services = services
        self._endpoint, self._region, self._verbose = aws_endpoint_url, region, verbose
        self._console = console if verbose else quiet(console)
        self._lock = threading.Lock()
        self._running: dict[str, list[_Task]] = {name: [] for name in services}
        self._numbers = itertools.count(1)
        self._next_target = itertools.count()
        self._stop = threading.Event()
        self._watch = watch
        self._watcher: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Starts every service's tasks and waits until they all accept connections."""
        started = [task for name in self.services for task in self._start_tasks(name)]
        try:
            for task in started:
                self._wait_ready(task, self.services[task.service].task)
        except TaskStartError:
            self._stop_tasks(started, grace=2.0)
            raise
        with self._lock:
            for task in started:
                self._running[task.service].append(task)
        if self._watch and self.services:
            self._watcher = threading.Thread(target=self._watch_code, name="task-watcher", daemon=True)
            self._watcher.start()

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            tasks = [task for tasks in self._running.values() for task in tasks]
            self._running = {name: [] for name in self.services}
        self._stop_tasks(tasks, grace=5.0)
        if self._watcher is not None:
            self._watcher.join(timeout=2)

    # ------------------------------------------------------------------ Cloud Map
    def targets(self, registry_arn: str) -> list[Target]:
        """Each running task registered in the Cloud Map service ``registry_arn``."""
        with self._lock:
            return [
                Target("127.0.0.1", task.port, task.name)
                for name, spec in self.services.items()
                if registry_arn in spec.registries
                for task in self._running[name]
                if task.process.poll() is None
            ]

    def pick(self, registry_arn: str) -> Target | None:
        """One registered task, in turn (Cloud Map answers every healthy instance)."""
        targets = self.targets(registry_arn)
        return targets[next(self._next_target) % len(targets)] if targets else None

    # ------------------------------------------------------------------ tasks
    def _start_tasks(self, service: str) -> list[_Task]:
        spec = self.services[service]
        return [self._start_task(service, spec.task) for _ in range(spec.desired_count)]

    def _start_task(self, service: str, task: TaskSpec) -> _Task:
        port = _free_port()
        environment = base_environment(self._verbose)
        environment.update(task.environment)
        environment.update(
            {
                **local_aws_environment(self._endpoint, self._region),
                "AWS_EXECUTION_ENV": "AWS_ECS_FARGATE",
                "PYTHONPATH": os.pathsep.join(str(root) for root in task.code_roots),
                "PORT": str(port),
                "BIND_HOST": "127.0.0.1",
            }
        )
        liveness = liveness_fd()
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and the task definition's command
            [sys.executable, "-P", str(TASK_SCRIPT), str(liveness), *_local_command(task.command)],
            cwd=task.working_dir,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(liveness,),
            start_new_session=True,  # Ctrl-C is the local cloud's, which stops its tasks in order
        )
        started = _Task(service, next(self._numbers), port, process, environment)
        threading.Thread(
            target=self._relay, args=(started,), name=f"task-{started.name}", daemon=True
        ).start()
        return started

    def _relay(self, task: _Task) -> None:
        """The task's output to the console, line by line, prefixed with the task's name."""
        assert task.process.stdout is not None
        for raw in task.process.stdout:
            line = raw.decode(errors="replace").rstrip()
            task.output.append(line)
            del task.output[:-20]
            if task.ready or self._verbose:
                self._console(f"[{task.name}] {line}")
        code = task.process.wait()
        if not self._stop.is_set() and code not in (0, -15):
            self._console(f"[{task.name}] task stopped (exit {code})")

    def _wait_ready(self, task: _Task, spec: TaskSpec) -> None:
        """Until the container's health check passes (ECS's "healthy", when Cloud Map gets the
        task), or its port accepts connections when it has none; start-up output shows only if
        that fails (or with ``--verbose``)."""
        deadline = time.monotonic() + max(READY_TIMEOUT_SECONDS, spec.health_start_period)
        while time.monotonic() < deadline and task.process.poll() is None:
            if self._healthy(task, spec):
                task.ready = True
                return
            time.sleep(0.1)
        code = task.process.poll()
        reason = f"exited ({code})" if code is not None else "was not healthy in time"
        time.sleep(0.1)  # the relay thread's last lines
        raise TaskStartError(f"task {task.name} {reason}:\n" + "\n".join(task.output[-20:]))

    def _healthy(self, task: _Task, spec: TaskSpec) -> bool:
        if not spec.health_check:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", task.port), timeout=0.5),
            ):
                return True
            return False
        try:
            check = subprocess.run(  # noqa: S603 - the task definition's health check
                _local_command(spec.health_check),
                env=task.environment,
                cwd=spec.working_dir,
                capture_output=True,
                timeout=5,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return False
        return check.returncode == 0

    def _stop_tasks(self, tasks: list[_Task], grace: float) -> None:
        for task in tasks:
            if task.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    task.process.terminate()
        deadline = time.monotonic() + grace
        for task in tasks:
            try:
                task.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(task.process.pid, 9)
                task.process.wait(5)

    def _replace(self, service: str) -> None:
        """A rolling deployment: the new tasks serve before the old ones stop."""
        fresh = self._start_tasks(service)
        try:
            for task in fresh:
                self._wait_ready(task, self.services[service].task)
        except TaskStartError as error:
            self._stop_tasks(fresh, grace=2.0)
            self._console(f"[{service}] the new tasks did not start; the running ones keep serving: {error}")
            return
        with self._lock:
            old, self._running[service] = self._running[service], fresh
        self._console(f"[{service}] code changed: {len(fresh)} new task(s) serve; the old ones stop")
        self._stop_tasks(old, grace=STOP_GRACE_SECONDS)

    def _watch_code(self) -> None:
        def fingerprint(name: str) -> tuple[int, int]:
            return code_fingerprint(self.services[name].task.code_roots)

        seen = {name: fingerprint(name) for name in self.services}
        while not self._stop.wait(1.0):
            for name in self.services:
                current = fingerprint(name)
                if current != seen[name]:
                    seen[name] = current
                    self._replace(name)


def _local_command(command: tuple[str, ...]) -> list[str]:
    """``python`` is this interpreter; a console script is this environment's, then PATH's."""
    if not command:
        return []
    program, *rest = command
    if program in ("python", "python3") or program.startswith("python3."):
        return [sys.executable, *rest]
    if "/" not in program:
        beside = Path(sys.executable).with_name(program)
        found = str(beside) if beside.is_file() else shutil.which(program)
        if found is not None:
            return [found, *rest]
    return [program, *rest]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
