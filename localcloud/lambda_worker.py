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

import contextlib
import importlib
import json
import os
import signal
import struct
import sys
import threading
import time
import traceback
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


def main(argv: list[str]) -> int:
    config = json.loads(argv[1])
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
    write_frame(response_fd, {"ready": True, "init_ms": (time.perf_counter() - started) * 1000})

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


if __name__ == "__main__":
    sys.exit(main(sys.argv))
