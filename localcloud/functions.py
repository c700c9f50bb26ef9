"""Running the template's Lambda functions without containers: warm worker processes.

Why processes, one per concurrent invocation of a function (like Lambda execution environments):

* each function has its own environment variables, and ``os.environ`` is process-global;
* each function has its own code root on ``sys.path`` -- two functions may both have a
  ``handler`` module, or different versions of a package -- and ``sys.modules`` is per process;
* module-level state (clients created at cold start, caches) must behave as in Lambda: kept
  between invocations of one environment, never shared between functions.

A worker is started lazily on the first invocation (the cold start, reported in the log), imports
the handler once, and stays warm. Workers are forked from a zygote (:class:`_Zygote`) that has
already imported what workers imported in their init phase besides their own code -- boto3,
Powertools, pydantic --, so a cold start costs the function's own code only: a second concurrent
worker, and the first request after an edit, start in tens of milliseconds. The zygote holds no
function's environment or code; each worker gets its own after the fork. One difference from a
fresh interpreter: settings Python reads only at startup (``PYTHONHASHSEED``) are the zygote's,
shared by its workers (``PYTHONWARNINGS`` is applied again in each worker). A function gets a small pool: an idle worker is reused (the
most recently used first, so few stay warm), and when all are busy a new one starts, up to
``max_workers`` (or the function's ``ReservedConcurrentExecutions``); beyond that an invocation
waits for a free worker for at most its timeout, then fails as throttled. One invocation at a
time per worker keeps a handler's view of the world exactly Lambda's, and costs nothing at
concurrency 1: the per-invocation overhead is two pipe writes and two JSON encodings.

``Timeout`` is enforced: the worker is killed, the invocation fails with Lambda's
"Task timed out" error and the next invocation starts a fresh worker; a worker that dies is
replaced the same way. When ``watch`` is on, a change to any ``.py`` file under the code root or
a layer retires the warm workers, so edits show up on the next request without a restart.

Worker output (the function's stdout and stderr) goes to the console line by line, prefixed with
the function's logical id; the invocation protocol uses two separate pipes (see
:mod:`localcloud.lambda_worker`).

Workers never outlive the process that runs the local cloud, however it ends (SIGKILL included)
and however busy they are: each gets the read end of one liveness pipe (:func:`liveness_fd`)
whose write end only this process holds, and exits on its EOF (``watch_liveness`` in
:mod:`localcloud.lambda_worker`).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import secrets
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from localcloud import lambda_worker

__all__ = ["FunctionRuntime", "FunctionSpec", "InvocationResult", "worker_environment"]

WORKER_SCRIPT = Path(lambda_worker.__file__).resolve()
#: Lambda allows 10 s for the init phase; a first import on a cold disk can be slow, so be generous.
INIT_TIMEOUT_SECONDS = 30.0
DEFAULT_MAX_WORKERS = 4
#: between the attempts of a failed asynchronous invocation (Lambda waits about 1 and 2 minutes)
ASYNC_RETRY_DELAYS_SECONDS = (1.0, 2.0)
Console = Callable[[str], None]


@dataclass(frozen=True)
class FunctionSpec:
    """An ``AWS::Lambda::Function`` as the local runtime needs it (values already resolved)."""

    logical_id: str
    function_name: str
    arn: str
    handler: str
    runtime: str
    code_dir: Path
    layer_dirs: tuple[Path, ...] = ()
    memory_mb: int = 128
    timeout_seconds: float = 3.0
    environment: dict[str, str] = field(default_factory=dict)
    alias: str | None = None
    reserved_concurrency: int | None = None
    #: asynchronous invocations: retries after the first attempt (``EventInvokeConfig``; Lambda's
    #: default is 2), then the event goes to the dead-letter queue (``DeadLetterConfig``), if any
    async_retries: int = 2
    dead_letter_arn: str | None = None

    @property
    def invoked_arn(self) -> str:
        return f"{self.arn}:{self.alias}" if self.alias else self.arn


@dataclass
class InvocationResult:
    ok: bool
    payload: Any = None
    error: dict[str, Any] | None = None
    duration_ms: float = 0.0
    #: set when this invocation had to start a worker (a cold start)
    init_ms: float | None = None
    request_id: str = ""


class Invoker(Protocol):
    """What the gateway and the edge call a function through (:class:`FunctionHost` locally)."""

    def invoke(self, logical_id: str, event: Any, request_id: str | None = None) -> InvocationResult: ...


#: what --verbose shows and the quiet console does not: Powertools' warning on every flush without metrics
_QUIET_WARNINGS = "ignore:No application metrics to publish:UserWarning"


def quiet(console: Console) -> Console:
    """The console without what only ``--verbose`` shows: the functions' metrics (CloudWatch EMF
    JSON lines, which CloudWatch turns into metrics on AWS and nothing reads locally)."""

    def write(line: str) -> None:
        if not line.partition("] ")[2].startswith('{"_aws"'):
            console(line)

    return write


def worker_environment(
    spec: FunctionSpec, aws_endpoint_url: str, region: str, verbose: bool = True
) -> dict[str, str]:
    """The process environment of a worker: a Lambda-like one, nothing inherited but ``PATH``.

    Template variables come first; the variables Lambda reserves (``AWS_REGION``, ``AWS_LAMBDA_*``,
    credentials...) and ``AWS_ENDPOINT_URL`` -- how boto3 finds the local backend -- cannot be
    overridden by the template, as in Lambda.
    """
    day = time.strftime("%Y/%m/%d", time.gmtime())
    environment = base_environment(verbose)
    environment.update(spec.environment)
    environment.update(
        {
            "TZ": ":UTC",
            "_HANDLER": spec.handler,
            "LAMBDA_TASK_ROOT": str(spec.code_dir),
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": spec.function_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.function_name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"{day}/[$LATEST]{secrets.token_hex(16)}",
            **local_aws_environment(aws_endpoint_url, region),
        }
    )
    return environment


def base_environment(verbose: bool) -> dict[str, str]:
    """What every local process of the stack starts from (a worker, an ECS task): nothing
    inherited but ``PATH``."""
    environment = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "PYTHONUNBUFFERED": "1",
        # There is no X-Ray daemon locally.
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    if not verbose:
        environment["PYTHONWARNINGS"] = _QUIET_WARNINGS
    return environment


def local_aws_environment(aws_endpoint_url: str, region: str) -> dict[str, str]:
    """The region, placeholder credentials and the local backend's endpoint, as boto3 reads them."""
    return {
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": "localcloud",
        "AWS_SECRET_ACCESS_KEY": "localcloud",
        "AWS_SESSION_TOKEN": "localcloud",
        "AWS_ENDPOINT_URL": aws_endpoint_url,
        # No shared config/credentials files and no instance metadata, as in Lambda and ECS.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


_liveness_lock = threading.Lock()
_liveness: tuple[int, int] | None = None  # (read end, write end)


def liveness_fd() -> int:
    """The read end of this process's liveness pipe, for workers (and whatever starts them) to
    watch: EOF on it means this process is gone.

    The write end is never written to and is held by this process only: it is not inheritable,
    so ``subprocess`` never passes it on, and a child made by ``os.fork`` closes it at once (so a
    forked process that starts workers, like a pre-imported "zygote", keeps only the read end and
    its workers still end with this process, not with it). Created on first use, kept for the
    life of the process: one pipe serves every worker of every local cloud it runs.
    """
    global _liveness
    with _liveness_lock:
        if _liveness is None:
            _liveness = os.pipe()  # both ends close-on-exec: only pass_fds hands the read end on
        return _liveness[0]


def _close_liveness_write_end_in_child() -> None:
    global _liveness
    if _liveness is not None:
        with contextlib.suppress(OSError):
            os.close(_liveness[1])
        _liveness = (_liveness[0], -1)


os.register_at_fork(after_in_child=_close_liveness_write_end_in_child)


class WorkerError(RuntimeError):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("errorMessage", ""))
        self.error = error


_EOF = object()
"""What ``_Worker._read`` returns when the worker closed its end of the pipe (it is exiting)."""


class _Zygote:
    """The process workers are forked from (``lambda_worker.zygote``), and its control socket.

    One per local cloud process, shared by every runtime in it, started on first use. It imports
    what workers imported in their init phase besides their own code (:meth:`preload`), so a new
    worker -- a second concurrent one, or the first after an edit -- costs a fork and its own code
    instead of a whole interpreter start with boto3, Powertools and pydantic. It holds no function's
    environment or code: both are the worker's, set after the fork.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()  # one request at a time on the socket
        self._condition = threading.Condition()
        self._replies: list[dict[str, Any]] = []
        self._exited: dict[int, int] = {}
        self.preloaded: set[str] = set()
        ours, theirs = socket.socketpair()
        try:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and script
                [sys.executable, "-P", str(WORKER_SCRIPT), "--zygote", str(theirs.fileno())],
                env={name: os.environ[name] for name in ("PATH", "LANG") if name in os.environ},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),),
                start_new_session=True,  # Ctrl-C is the local cloud's, which stops it in order
            )
        finally:
            theirs.close()
        self._socket = ours
        self._reader = threading.Thread(target=self._read, name="zygote", daemon=True)
        self._reader.start()

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def fork(self, config: dict[str, Any], env: dict[str, str], cwd: Path, fds: list[int]) -> _ForkedProcess:
        reply = self._request({"op": "fork", "config": config, "env": env, "cwd": str(cwd)}, fds)
        return _ForkedProcess(int(reply["pid"]), self)

    def preload(self, modules: list[str]) -> int:
        """Imports ``modules`` in the zygote (those not already asked for); how many were new."""
        new = sorted(set(modules) - self.preloaded)
        if new:
            self.preloaded.update(new)
            self._request({"op": "preload", "modules": new}, [])
        return len(new)

    def exit_status(self, pid: int) -> int | None:
        with self._condition:
            return self._exited.get(pid)

    def wait_exit(self, pid: int, timeout: float) -> int | None:
        deadline = time.monotonic() + timeout
        with self._condition:
            while pid not in self._exited and self.alive:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._condition.wait(remaining)
            return self._exited.get(pid)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self._socket.close()

    def _request(self, request: dict[str, Any], fds: list[int]) -> dict[str, Any]:
        body = json.dumps(request).encode()
        with self._lock:
            socket.send_fds(self._socket, [lambda_worker._HEADER.pack(len(body)) + body], fds)
            with self._condition:
                while not self._replies:
                    if not self.alive or not self._reader.is_alive():
                        raise WorkerError(
                            {
                                "errorMessage": "the local zygote process is gone",
                                "errorType": "Runtime.ExitError",
                            }
                        )
                    self._condition.wait(1.0)
                return self._replies.pop(0)

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = self._socket.recv(1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self._condition:
                    self._condition.notify_all()
                return
            buffer += chunk
            size = lambda_worker._HEADER.size
            while (
                len(buffer) >= size and len(buffer) >= size + lambda_worker._HEADER.unpack(buffer[:size])[0]
            ):
                length = lambda_worker._HEADER.unpack(buffer[:size])[0]
                message = json.loads(buffer[size : size + length])
                buffer = buffer[size + length :]
                with self._condition:
                    if "exited" in message:
                        self._exited[int(message["exited"])] = int(message["status"])
                    else:
                        self._replies.append(message)
                    self._condition.notify_all()


_zygote_lock = threading.Lock()
_zygote: _Zygote | None = None


def shared_zygote() -> _Zygote:
    """This process's zygote, started (again, if it died) on first use."""
    global _zygote
    with _zygote_lock:
        if _zygote is None or not _zygote.alive:
            _zygote = _Zygote()
            atexit.register(_zygote.close)
        return _zygote


class _ForkedProcess:
    """A worker forked by the zygote: what ``subprocess.Popen`` offered, for a process that is the
    zygote's child, not ours (its exit status comes from the zygote)."""

    def __init__(self, pid: int, zygote: _Zygote) -> None:
        self.pid = pid
        self._zygote = zygote

    def poll(self) -> int | None:
        status = self._zygote.exit_status(self.pid)
        if status is None and not self._zygote.alive:  # nobody reaps it any more: ask the kernel
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return -1
        return status

    def wait(self, timeout: float) -> int:
        status = self._zygote.wait_exit(self.pid, timeout)
        if status is None and self.poll() is None:
            raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout)
        return status if status is not None else -1

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)  # its own session: what its handler started goes too


class _Worker:
    """One worker process (one Lambda execution environment)."""

    def __init__(
        self, spec: FunctionSpec, environment: dict[str, str], console: Console, generation: int
    ) -> None:
        self.spec = spec
        self.generation = generation
        request_read, self._request_write = os.pipe()
        self._response_read, response_write = os.pipe()
        stdout_read, stdout_write = os.pipe()
        stderr_read, stderr_write = os.pipe()
        config = {
            "handler": spec.handler,
            "paths": [str(spec.code_dir), *(str(path) for path in spec.layer_dirs)],
        }
        try:
            self.process = shared_zygote().fork(
                config,
                environment,
                spec.code_dir,
                [request_read, response_write, stdout_write, stderr_write, liveness_fd()],
            )
        except BaseException:
            for fd in (self._request_write, self._response_read, stdout_read, stderr_read):
                os.close(fd)
            raise
        finally:
            for fd in (request_read, response_write, stdout_write, stderr_write):
                os.close(fd)
        prefix = f"[{spec.logical_id}] "
        self._forwarders = [
            threading.Thread(target=_forward, args=(open(fd, "rb"), prefix, console), daemon=True)  # noqa: SIM115 - closed by _forward
            for fd in (stdout_read, stderr_read)
        ]
        for thread in self._forwarders:
            thread.start()
        #: what the init phase imported besides the function's own code (see ``wait_ready``)
        self.modules: list[str] = []

    def wait_ready(self) -> float:
        """Waits for the end of the init phase; returns its duration in ms."""
        frame = self._read(time.monotonic() + INIT_TIMEOUT_SECONDS)
        if frame is None or frame is _EOF:
            self.kill()
            raise WorkerError(
                {
                    "errorMessage": f"Runtime exited during init (exit status {self.process.poll()})",
                    "errorType": "Runtime.ExitError",
                }
            )
        if not frame.get("ready"):
            self.kill()
            raise WorkerError(frame["error"])
        self.modules = list(frame.get("modules") or [])
        return float(frame.get("init_ms", 0.0))

    def invoke(self, event: Any, request_id: str) -> InvocationResult:
        started = time.monotonic()
        deadline_ms = int(time.time() * 1000 + self.spec.timeout_seconds * 1000)
        request = {
            "request_id": request_id,
            "event": event,
            "deadline_ms": deadline_ms,
            "invoked_function_arn": self.spec.invoked_arn,
        }
        try:
            lambda_worker.write_frame(self._request_write, request)
        except OSError:
            self.kill()
            return _failure("Runtime.ExitError", f"RequestId: {request_id} Error: Runtime exited", started)
        frame = self._read(started + self.spec.timeout_seconds + 0.2)
        if frame is None or frame is _EOF:
            # EOF on the pipe means the process is exiting even if it is not reaped yet.
            timed_out = frame is None and self.process.poll() is None
            self.kill()
            if timed_out:
                message = f"{request_id} Task timed out after {self.spec.timeout_seconds:.2f} seconds"
                return _failure("Sandbox.Timedout", message, started)
            message = (
                f"RequestId: {request_id} Error: Runtime exited with error: exit status {self.process.poll()}"
            )
            return _failure("Runtime.ExitError", message, started)
        duration = (time.monotonic() - started) * 1000
        if frame.get("ok"):
            return InvocationResult(
                True, json.loads(frame["payload"]), duration_ms=duration, request_id=request_id
            )
        return InvocationResult(False, error=frame["error"], duration_ms=duration, request_id=request_id)

    def _read(self, deadline: float) -> Any:
        """Reads one frame before ``deadline`` (monotonic); None on timeout, ``_EOF`` if the worker exited."""
        buffer = b""
        needed = lambda_worker._HEADER.size
        header_done = False
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([self._response_read], [], [], remaining)
            if not ready:
                return None
            chunk = os.read(self._response_read, max(needed - len(buffer), 1 << 16))
            if not chunk:
                return _EOF
            buffer += chunk
            if not header_done and len(buffer) >= lambda_worker._HEADER.size:
                needed = lambda_worker._HEADER.size + lambda_worker._HEADER.unpack(buffer[:4])[0]
                header_done = True
            if header_done and len(buffer) >= needed:
                return json.loads(buffer[lambda_worker._HEADER.size : needed])

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def close_input(self) -> None:
        """Closes the request pipe: an idle worker exits by itself."""
        with contextlib.suppress(OSError):
            os.close(self._request_write)
        self._request_write = -1

    def stop(self, grace_seconds: float = 2.0) -> None:
        self.close_input()
        try:
            self.process.wait(grace_seconds)
        except subprocess.TimeoutExpired:
            self.kill()
        self._cleanup()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):  # SIGKILL is not ignorable
                self.process.wait(5)
        self.close_input()
        self._cleanup()

    def _cleanup(self) -> None:
        if self._response_read >= 0:
            with contextlib.suppress(OSError):
                os.close(self._response_read)
            self._response_read = -1
        for thread in self._forwarders:
            thread.join(timeout=1)


def _forward(stream: IO[bytes] | None, prefix: str, console: Console) -> None:
    if stream is None:
        return
    with stream:
        for line in iter(stream.readline, b""):
            console(prefix + line.decode("utf-8", errors="replace").rstrip("\n"))


def _failure(error_type: str, message: str, started: float) -> InvocationResult:
    return InvocationResult(
        False,
        error={"errorMessage": message, "errorType": error_type},
        duration_ms=(time.monotonic() - started) * 1000,
    )


class _FunctionPool:
    """The warm workers of one function."""

    def __init__(
        self, spec: FunctionSpec, environment: dict[str, str], console: Console, max_workers: int
    ) -> None:
        self.spec = spec
        self._environment = environment
        self._console = console
        self._max_workers = max(1, min(max_workers, spec.reserved_concurrency or max_workers))
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._starting = 0
        self._condition = threading.Condition()
        self._closed = False
        self.generation = 0

    def invoke(self, event: Any, request_id: str) -> InvocationResult:
        started = time.monotonic()
        try:
            worker, init_ms = self._acquire(started + max(self.spec.timeout_seconds, 1.0))
        except WorkerError as error:
            result = InvocationResult(False, error=error.error, request_id=request_id)
            result.duration_ms = (time.monotonic() - started) * 1000
            return result
        healthy = False
        try:
            result = worker.invoke(event, request_id)
            healthy = worker.alive
        finally:
            self._release(worker, healthy)
        result.init_ms = init_ms
        return result

    def _acquire(self, deadline: float) -> tuple[_Worker, float | None]:
        retired: list[_Worker] = []
        try:
            with self._condition:
                while True:
                    if self._closed:
                        raise WorkerError(
                            {"errorMessage": "the local cloud is stopping", "errorType": "Shutdown"}
                        )
                    while self._idle:
                        worker = self._idle.pop()
                        if worker.generation == self.generation and worker.alive:
                            return worker, None
                        self._all.discard(worker)
                        retired.append(worker)
                    if len(self._all) + self._starting < self._max_workers:
                        self._starting += 1
                        generation = self.generation
                        break
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise WorkerError(
                            {"errorMessage": "Rate Exceeded.", "errorType": "TooManyRequestsException"}
                        )
                    self._condition.wait(remaining)
        finally:
            for worker in retired:
                worker.stop()
        try:
            worker = _Worker(self.spec, self._environment, self._console, generation)
            init_ms = worker.wait_ready()
        except BaseException:
            with self._condition:
                self._starting -= 1
                self._condition.notify()
            raise
        with self._condition:
            self._starting -= 1
            self._all.add(worker)
        if worker.modules:  # the next worker of any function starts with them loaded
            threading.Thread(target=shared_zygote().preload, args=(worker.modules,), daemon=True).start()
        return worker, init_ms

    def _release(self, worker: _Worker, healthy: bool) -> None:
        keep = False
        with self._condition:
            if healthy and not self._closed and worker.generation == self.generation:
                self._idle.append(worker)
                keep = True
            else:
                self._all.discard(worker)
            self._condition.notify()
        if not keep:
            worker.stop()

    def retire_idle(self) -> None:
        """New code: idle workers go now, busy ones when their invocation ends."""
        with self._condition:
            self.generation += 1
            idle, self._idle = self._idle, []
            for worker in idle:
                self._all.discard(worker)
        for worker in idle:
            worker.stop()

    def close(self) -> list[_Worker]:
        with self._condition:
            self._closed = True
            workers = list(self._all)
            self._idle.clear()
            self._all.clear()
            self._condition.notify_all()
        return workers


class FunctionRuntime:
    """All functions of the template, invoked by logical id."""

    def __init__(
        self,
        functions: dict[str, FunctionSpec],
        aws_endpoint_url: str,
        region: str,
        console: Console,
        max_workers: int = DEFAULT_MAX_WORKERS,
        watch: bool = False,
        preload_file: Path | None = None,
        verbose: bool = True,
    ) -> None:
        """``preload_file``: where the modules workers imported besides their own code are kept
        between runs, so that even the first worker of a run is forked from a warm zygote."""
        self.functions = functions
        self._preload_file = preload_file
        if preload_file is not None and preload_file.is_file():
            with contextlib.suppress(OSError, ValueError):
                modules = [str(name) for name in json.loads(preload_file.read_text())]
                threading.Thread(target=shared_zygote().preload, args=(modules,), daemon=True).start()
        self._console = console
        self._aws_endpoint_url, self._region = aws_endpoint_url, region
        self._pools = {
            logical_id: _FunctionPool(
                spec,
                worker_environment(spec, aws_endpoint_url, region, verbose),
                console if verbose else quiet(console),
                max_workers,
            )
            for logical_id, spec in functions.items()
        }
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        if watch:
            self._watcher = threading.Thread(target=self._watch, name="code-watcher", daemon=True)
            self._watcher.start()

    def invoke(self, logical_id: str, event: Any, request_id: str | None = None) -> InvocationResult:
        pool = self._pools.get(logical_id)
        request_id = request_id or str(uuid.uuid4())
        if pool is None:
            return InvocationResult(
                False,
                error={
                    "errorMessage": f"Function not found: {logical_id} cannot run locally",
                    "errorType": "ResourceNotFoundException",
                },
                request_id=request_id,
            )
        return pool.invoke(event, request_id)

    def invoke_async(self, logical_id: str, event: Any) -> InvocationResult:
        """An asynchronous invocation (``InvocationType: Event``, an EventBridge target), as Lambda
        runs one: a failure is retried ``async_retries`` times (``EventInvokeConfig``; 2 by default),
        then the event goes to the function's dead-letter queue (``DeadLetterConfig``) with Lambda's
        message attributes. Lambda waits about 1 and 2 minutes between attempts; locally
        :data:`ASYNC_RETRY_DELAYS_SECONDS`. Returns the last attempt's result.
        """
        request_id = str(uuid.uuid4())  # one request id for every attempt, as Lambda keeps it
        result = self.invoke(logical_id, event, request_id)
        spec = self.functions.get(logical_id)
        attempts = 1
        while not result.ok and spec is not None and attempts <= spec.async_retries:
            if self._stop.wait(
                ASYNC_RETRY_DELAYS_SECONDS[min(attempts, len(ASYNC_RETRY_DELAYS_SECONDS)) - 1]
            ):
                return result
            result = self.invoke(logical_id, event, request_id)
            attempts += 1
        if not result.ok:
            error = result.error or {}
            self._console(
                f"[{logical_id}] asynchronous invocation {request_id} failed after {attempts} attempt(s): "
                f"{error.get('errorType')}: {error.get('errorMessage')}"
            )
            if spec is not None and spec.dead_letter_arn:
                self._dead_letter(spec.dead_letter_arn, event, request_id, error)
        return result

    def _dead_letter(self, arn: str, event: Any, request_id: str, error: dict[str, Any]) -> None:
        """Lambda's dead-letter message: the event as the body, the failure as attributes."""
        service, name = arn.split(":")[2], arn.split(":")[-1]
        if service != "sqs":
            self._console(f"localcloud: dead-letter target {arn} is not emulated locally (SQS is)")
            return
        from localcloud.aws_backend import aws_client  # boto3 only when a dead letter happens

        sqs = aws_client("sqs", self._aws_endpoint_url, self._region)
        attributes = {
            "RequestID": ("String", request_id),
            "ErrorCode": ("Number", "200"),  # the function ran and raised
            "ErrorMessage": ("String", str(error.get("errorMessage", ""))[:1024] or "Unhandled"),
        }
        sqs.send_message(
            QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"],
            MessageBody=json.dumps(event),
            MessageAttributes={k: {"DataType": t, "StringValue": v} for k, (t, v) in attributes.items()},
        )

    def close(self) -> None:
        """Stops every worker: pipes closed first so they all exit together, then waited for."""
        self._stop.set()
        workers = [worker for pool in self._pools.values() for worker in pool.close()]
        for worker in workers:
            worker.close_input()
        for worker in workers:
            worker.stop(grace_seconds=2.0)
        if self._watcher is not None:
            self._watcher.join(timeout=2)
        if self._preload_file is not None and _zygote is not None and _zygote.preloaded:
            with contextlib.suppress(OSError):
                self._preload_file.parent.mkdir(parents=True, exist_ok=True)
                self._preload_file.write_text(json.dumps(sorted(_zygote.preloaded)))

    def _watch(self) -> None:
        fingerprints = {logical_id: _fingerprint(pool.spec) for logical_id, pool in self._pools.items()}
        while not self._stop.wait(1.0):
            for logical_id, pool in self._pools.items():
                current = _fingerprint(pool.spec)
                if current != fingerprints[logical_id]:
                    fingerprints[logical_id] = current
                    self._console(f"[{logical_id}] code changed: the next invocation starts a new worker")
                    pool.retire_idle()


def _python_files(root: Path) -> Iterator[os.DirEntry[str]]:
    try:
        entries = list(os.scandir(root))
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(".") or entry.name == "__pycache__":
            continue
        if entry.is_dir(follow_symlinks=False):
            yield from _python_files(Path(entry.path))
        elif entry.name.endswith(".py"):
            yield entry


def _fingerprint(spec: FunctionSpec) -> tuple[int, int]:
    return code_fingerprint((spec.code_dir, *spec.layer_dirs))


def code_fingerprint(roots: Iterable[Path]) -> tuple[int, int]:
    """How many ``.py`` files the folders hold and the latest change among them: a change to
    either means the code changed."""
    count, latest = 0, 0
    for root in roots:
        for entry in _python_files(root):
            count += 1
            latest = max(latest, entry.stat().st_mtime_ns)
    return count, latest
