"""gunicorn's settings for a service container (``store_common.container:app``).

Used as ``gunicorn --config python:store_common.gunicorn_conf store_common.container:app``: by the
service images (services/*/Dockerfile) and by the local cloud's task processes alike. Anything here
can be overridden per task with ``GUNICORN_CMD_ARGS`` (it wins over this file).

- bind: ``${BIND_HOST:-0.0.0.0}:${PORT:-8080}`` (the local cloud sets 127.0.0.1 and a port of its
  choosing);
- gthread workers: ``WEB_CONCURRENCY`` processes (default 2), each with a few threads. The handler
  itself runs one event at a time per process (``store_common.container`` holds a lock: Powertools
  keeps the current event on the resolver class), so the threads read requests, write answers,
  keep idle connections and answer the health check while a handler runs;
- graceful shutdown: SIGTERM (what ECS sends) lets requests in flight finish for up to 20 s, inside
  ECS's default 30 s stop timeout before SIGKILL;
- one access log line per request on stdout, with API Gateway's request id when the integration
  passes it; gunicorn's own messages on stderr;
- gunicorn's own error answers (a malformed request line, headers over the limits) are JSON
  ``{"message": ...}`` like every other error of the API, not gunicorn's HTML page.
"""

import json
import os

from gunicorn import util as _gunicorn_util

bind = [f"{os.environ.get('BIND_HOST', '0.0.0.0')}:{os.environ.get('PORT', '8080')}"]  # noqa: S104 - a container listens on its task's interface
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = 4
# gthread's main loop keeps the heartbeat, so this only catches a worker whose loop is stuck; API
# Gateway gives up on an integration after 30 s anyway.
timeout = 30
graceful_timeout = 20
# Idle keep-alive connections cost a file descriptor, not a thread, with gthread.
keepalive = 75
# The HTTP API allows 10 KiB for the request line and headers together; gunicorn's largest line.
limit_request_line = 8190
# the heartbeat file: in memory where there is /dev/shm (Linux; a container's disk may be slow)
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 - gunicorn's documented choice
# no runtime control socket: nothing uses gunicornc here, and it would be a file in $HOME
control_socket_disable = True
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-apigw-request-id}i)s'
proc_name = (
    f"store-{os.environ.get('SERVICE_NAME') or os.environ.get('POWERTOOLS_SERVICE_NAME') or 'service'}"
)


def _write_json_error(sock: object, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's error answer (``gunicorn.util.write_error``), as JSON; the detail stays in its log."""
    body = json.dumps({"message": reason}).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode("latin-1")
    _gunicorn_util.write_nonblock(sock, head + body)


# gunicorn has no setting for the format of its own error answers: its one writer is replaced (the
# version is pinned, and tests/containers/test_gunicorn.py sends it a malformed request).
_gunicorn_util.write_error = _write_json_error
