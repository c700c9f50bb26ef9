"""Threaded HTTP servers on sockets we bind ourselves.

werkzeug's ``make_server`` exits the process (``sys.exit(1)``) when its port is taken; binding
the socket first turns that into :class:`PortInUseError`, which the CLI reports as one line with
exit code 2. Port 0 picks a free port; :attr:`ServerThread.port` tells which.
"""

from __future__ import annotations

import errno
import socket
import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

__all__ = ["PortInUseError", "QuietRequestHandler", "ServerThread", "bind"]


class PortInUseError(OSError):
    """The port is taken (or cannot be bound); the message says which and what to do."""


class QuietRequestHandler(WSGIRequestHandler):
    """No access log from werkzeug: the gateway writes its own one line per request."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


def bind(host: str, port: int, option: str) -> socket.socket:
    """A listening socket on host:port; ``option`` names the CLI flag for the error message."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise PortInUseError(
                f"{host}:{port} is already in use: stop what uses it or pass {option} PORT"
            ) from None
        raise PortInUseError(
            f"cannot listen on {host}:{port} ({error.strerror}); try another {option}"
        ) from None
    return sock


class ServerThread:
    """A werkzeug threaded WSGI server running in a daemon thread."""

    def __init__(
        self,
        name: str,
        sock: socket.socket,
        app: Any,
        request_handler: type[WSGIRequestHandler] | None = None,
    ) -> None:
        host, port = sock.getsockname()[:2]
        self.name = name
        self.host = str(host)
        self.port = int(port)
        self._server: BaseWSGIServer = make_server(
            self.host,
            self.port,
            app,
            threaded=True,
            request_handler=request_handler or QuietRequestHandler,
            fd=sock.fileno(),
        )
        sock.close()  # make_server works on a duplicate of the descriptor
        # a short poll interval: stopping takes at most 0.1 s instead of werkzeug's 0.5 s
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.1,), name=name, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ServerThread:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
