"""The Lambda runtime inside one worker process (the child side of :mod:`localcloud.functions`).

Started as ``python -P lambda_worker.py <config-json>``: ``-P`` keeps this file's folder off
``sys.path`` so nothing of the local cloud is importable by the handler. The parent has already
set the function's environment (template variables, ``AWS_ENDPOINT_URL``, ``AWS_LAMBDA_*``...);
this module only puts the code root and the layers on ``sys.path`` -- in that order, as Lambda
has ``/var/task`` before ``/opt/python`` -- imports the handler once (the init phase), and then
serves invocations one at a time, like a Lambda execution environment.

Protocol on two dedicated pipes (stdout and stderr stay the function's own logs): frames of a
4-byte big-endian length and a JSON document. After init the worker sends
``{"ready": true, "init_ms": ...}`` or ``{"ready": false, "error": {...}}`` (and exits: the next
invocation starts a fresh worker, as Lambda retries a failed init). Each request
``{"request_id", "event", "deadline_ms", "invoked_function_arn"}`` gets
``{"ok": true, "payload": "<json>"}`` or ``{"ok": false, "error": {errorMessage, errorType,
stackTrace}}``. EOF on the request pipe (the parent closed it) ends an idle worker.

A worker never outlives the local cloud, even one killed with SIGKILL and even while the worker
is busy (:func:`watch_liveness`): a thread waits on the liveness pipe, whose write end only the
local cloud's main process holds and never writes to, and on EOF kills the worker's process group
(the worker and whatever its handler started). Why not the request pipe alone: it is read only
between invocations, so a worker busy in its handler -- say in boto3's retries against the
endpoint that died with the local cloud, 25 s for DynamoDB -- stayed that long. Why not
``prctl(PR_SET_PDEATHSIG)``: it fires when the *thread* that started the worker ends (workers are
started from request threads) and names only the direct parent.

Only the standard library is used here: the handler's own imports decide what else is loaded.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib
import json
import os
import re
import select
import signal
import socket
import struct
import sys
import threading
import time
import traceback
import warnings
from typing import Any

_HEADER = struct.Struct(">I")


def _read_exact(fd: int, size: int) -> bytes | None:
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int) -> Any:
    header = _read_exact(fd, _HEADER.size)
    if header is None:
        return None
    body = _read_exact(fd, _HEADER.unpack(header)[0])
    return None if body is None else json.loads(body)


def write_frame(fd: int, document: Any) -> None:
    body = json.dumps(document).encode()
    data = _HEADER.pack(len(body)) + body
    while data:
        written = os.write(fd, data)
        data = data[written:]


def watch_liveness(fd: int) -> threading.Thread:
    """Ends this worker when ``fd`` (the liveness pipe's read end) reads EOF: the local cloud's
    main process, the only holder of the write end, is gone. With SIGKILL to its process group
    when the worker leads one (it does: its own session), so processes its handler started go
    too. Runs in a daemon thread: it works during the init phase and during an invocation alike."""

    def watch() -> None:
        try:
            while os.read(fd, 1):  # nobody writes: only EOF (or an error) ends the read
                pass
        except OSError:
            pass
        if os.getpgrp() == os.getpid():  # a worker leads its own group (its own session)
            with contextlib.suppress(OSError):
                os.killpg(os.getpgrp(), signal.SIGKILL)
        os._exit(1)  # not a group leader (a group is not ours to end): this process only

    thread = threading.Thread(target=watch, name="liveness", daemon=True)
    thread.start()
    return thread


class LambdaContext:
    """The context object of the Python runtime (same attributes as awslambdaric's)."""

    def __init__(self, request_id: str, deadline_ms: int, invoked_function_arn: str) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_function_arn
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        # awslambdaric passes the environment variable through, so it is a string there too
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def log(self, message: str) -> None:
        sys.stdout.write(message)

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},function_name={self.function_name},"
            f"function_version={self.function_version},invoked_function_arn={self.invoked_function_arn}])"
        )


def _error(error: BaseException, error_type: str | None = None) -> dict[str, Any]:
    # Like Lambda's runtime, show the function's frames, not the runtime's own.
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename != __file__]
    return {
        "errorMessage": str(error),
        "errorType": error_type or type(error).__name__,
        "stackTrace": traceback.format_list(frames),
    }


def _load_handler(handler: str) -> Any:
    module_name, _, function_name = handler.rpartition(".")
    if not module_name:
        raise ValueError(f"Bad handler '{handler}': not enough values to unpack (expected 2, got 1)")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except SyntaxError as error:
        raise _InitError(_error(error, "Runtime.UserCodeSyntaxError")) from error
    except ImportError as error:
        raise _InitError(
            {
                "errorMessage": f"Unable to import module '{module_name}': {error}",
                "errorType": "Runtime.ImportModuleError",
                "stackTrace": [],
            }
        ) from error
    function = getattr(module, function_name, None)
    if function is None:
        raise _InitError(
            {
                "errorMessage": f"Handler '{function_name}' missing on module '{module_name}'",
                "errorType": "Runtime.HandlerNotFound",
                "stackTrace": [],
            }
        )
    return function


class _InitError(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error["errorMessage"])
        self.error = error


def _log_error(error: dict[str, Any], request_id: str | None = None) -> None:
    prefix = f"[ERROR]\t{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime())}Z\t{request_id or ''}\t"
    sys.stderr.write(f"{prefix}{error['errorType']}: {error['errorMessage']}\n")
    for line in error.get("stackTrace") or []:
        sys.stderr.write(line if line.endswith("\n") else line + "\n")
    sys.stderr.flush()


def _third_party_modules(code_paths: list[str]) -> list[str]:
    """What the init phase imported that is not the function's own code (its code root and layers):
    the zygote imports these too, so the next worker forked from it starts with them loaded."""
    roots = tuple(os.path.join(os.path.abspath(path), "") for path in code_paths)
    names = []
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if name != "__main__" and file and not os.path.abspath(file).startswith(roots):
            names.append(name)
    return sorted(names)


def main(argv: list[str]) -> int:
    config = json.loads(argv[1])
    return run(config)


def run(config: dict[str, Any]) -> int:
    """The worker: init (the handler's import), then one invocation at a time until EOF."""
    if config.get("liveness_fd") is not None:
        watch_liveness(int(config["liveness_fd"]))
    request_fd, response_fd = int(config["request_fd"]), int(config["response_fd"])
    # Lambda: /var/task (code root) first, then the layers (/opt/python), then the runtime.
    sys.path[0:0] = [path for path in config["paths"] if path not in sys.path]
    started = time.perf_counter()
    try:
        handler = _load_handler(config["handler"])
    except _InitError as error:
        _log_error(error.error)
        write_frame(response_fd, {"ready": False, "error": error.error})
        return 1
    except Exception as error:  # the module's top-level code raised
        details = _error(error)
        _log_error(details)
        write_frame(response_fd, {"ready": False, "error": details})
        return 1
    init_ms = (time.perf_counter() - started) * 1000
    modules = _third_party_modules(config["paths"])
    write_frame(response_fd, {"ready": True, "init_ms": init_ms, "modules": modules})

    while True:
        request = read_frame(request_fd)
        if request is None:
            return 0
        context = LambdaContext(
            request["request_id"], request["deadline_ms"], request["invoked_function_arn"]
        )
        try:
            result = handler(request["event"], context)
        except Exception as error:
            details = _error(error)
            _log_error(details, request["request_id"])
            response: dict[str, Any] = {"ok": False, "error": details}
        else:
            try:
                response = {"ok": True, "payload": json.dumps(result)}
            except (TypeError, ValueError) as error:
                details = {
                    "errorMessage": f"Unable to marshal response: {error}",
                    "errorType": "Runtime.MarshalError",
                    "stackTrace": [],
                }
                _log_error(details, request["request_id"])
                response = {"ok": False, "error": details}
        sys.stdout.flush()
        sys.stderr.flush()
        write_frame(response_fd, response)


# ---------------------------------------------------------------------- the zygote
def _send(sock: socket.socket, document: Any) -> None:
    body = json.dumps(document).encode()
    sock.sendall(_HEADER.pack(len(body)) + body)


def zygote(sock: socket.socket) -> int:
    """Forks workers on request, from a process that has already imported what they need.

    Started once per local cloud process as ``python -P lambda_worker.py --zygote <fd>``, with only
    the standard library loaded; it then imports what each function's workers imported in their
    init phase besides their own code (``preload``), so a worker forked from it pays for its own
    code alone. Requests on ``sock`` (a Unix socket): ``{"op": "preload", "modules": [...]}``, and
    ``{"op": "fork", "config", "env", "cwd"}`` with five descriptors attached (request pipe,
    response pipe, stdout, stderr, liveness pipe), answered ``{"pid": ...}``. A worker that exits is
    reported ``{"exited": pid, "status": code}`` (the zygote is its parent and reaps it). EOF on
    ``sock`` (the local cloud is gone) ends the zygote; its workers end on their liveness pipe.

    Single-threaded, so that a fork copies nothing half-done.
    """
    wake, wake_write = socket.socketpair()  # SIGCHLD wakes the loop (signal.set_wakeup_fd)
    wake_write.setblocking(False)
    signal.set_wakeup_fd(wake_write.fileno())
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the local cloud, which stops us
    buffer = b""
    received: list[int] = []
    while True:
        readable, _, _ = select.select([sock, wake], [], [])
        if wake in readable:
            wake.recv(4096)
            for pid, code in _reap():
                _send(sock, {"exited": pid, "status": code})
        if sock not in readable:
            continue
        chunk, fds, _flags, _address = socket.recv_fds(sock, 1 << 16, 8)
        if not chunk:
            return 0
        buffer += chunk
        received += fds
        while len(buffer) >= _HEADER.size and len(buffer) >= _HEADER.size + _HEADER.unpack(buffer[:4])[0]:
            size = _HEADER.unpack(buffer[:4])[0]
            request = json.loads(buffer[_HEADER.size : _HEADER.size + size])
            buffer = buffer[_HEADER.size + size :]
            if request["op"] == "preload":
                _send(sock, {"preloaded": _preload(request["modules"])})
            elif request["op"] == "fork":
                descriptors, received = received[:5], received[5:]
                pid = os.fork()
                if pid == 0:
                    for closing in (wake, wake_write, sock):
                        closing.close()
                    os._exit(_forked(request, descriptors))
                for fd in descriptors:
                    os.close(fd)
                _send(sock, {"pid": pid})


def _reap() -> list[tuple[int, int]]:
    exited: list[tuple[int, int]] = []
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return exited
        if pid == 0:
            return exited
        exited.append((pid, os.waitstatus_to_exitcode(status)))


def _preload(modules: list[str]) -> int:
    loaded = 0
    for name in modules:
        try:
            importlib.import_module(name)
            loaded += 1
        except Exception:  # noqa: S112 - a module that cannot load here loads in the worker
            continue
    return loaded


def _warning_options(value: str) -> None:
    """``PYTHONWARNINGS`` (``action:message:category:module:lineno``, comma-separated), applied as
    the interpreter would have at startup."""
    for option in filter(None, value.split(",")):
        action, message, category, module, lineno = (option.split(":") + [""] * 5)[:5]
        kind = getattr(builtins, category, Warning) if category else Warning
        warnings.filterwarnings(
            action or "default",  # type: ignore[arg-type]
            message=re.escape(message),
            category=kind if isinstance(kind, type) and issubclass(kind, Warning) else Warning,
            module=re.escape(module) + "$" if module else "",
            lineno=int(lineno) if lineno.isdigit() else 0,
        )


def _forked(request: dict[str, Any], descriptors: list[int]) -> int:
    """In the new worker: its own session, output, environment and folder, then :func:`run`."""
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.setsid()
        request_fd, response_fd, stdout_fd, stderr_fd, liveness = descriptors
        devnull = os.open(os.devnull, os.O_RDONLY)
        for source, target in ((devnull, 0), (stdout_fd, 1), (stderr_fd, 2)):
            os.dup2(source, target)
            os.close(source)
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115 - for the life of the process
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
        os.environ.clear()
        os.environ.update(request["env"])
        _warning_options(os.environ.get("PYTHONWARNINGS", ""))  # read at startup: the zygote's was not this
        os.chdir(request["cwd"])
        fds = {"request_fd": request_fd, "response_fd": response_fd, "liveness_fd": liveness}
        return run({**request["config"], **fds})
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:  # this process must never go back into the zygote's loop
        traceback.print_exc()
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--zygote"]:
        sys.exit(zygote(socket.socket(fileno=int(sys.argv[2]))))
    sys.exit(main(sys.argv))
