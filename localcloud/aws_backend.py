"""The local AWS backend: moto in server mode, in this process, on 127.0.0.1.

Handlers reach it through boto3's standard ``AWS_ENDPOINT_URL``; the local cloud itself uses
boto3 clients from :meth:`AwsBackend.client`. ``MOTO_PORT`` is set to the real port because
moto's Step Functions executor calls other services at ``localhost:$MOTO_PORT``, and the
executor is switched on (``stepfunctions.execute_state_machine``) so state machines run.

With a state file (``--persist DIR``) the backends' state is restored before anything else
touches them, saved every few seconds while requests come in, and saved on stop. A snapshot is
taken between requests: a gate lets requests run concurrently but holds them while a snapshot is
being pickled, so the saved state is consistent.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import boto3
import requests
from botocore.config import Config

from localcloud.servers import ServerThread, bind

__all__ = ["DUMMY_CREDENTIALS", "AwsBackend", "aws_client"]

DUMMY_CREDENTIALS = {"aws_access_key_id": "localcloud", "aws_secret_access_key": "localcloud"}
_SAVE_INTERVAL_SECONDS = 5.0
_CLIENT_CONFIG = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=60)


def aws_client(service: str, endpoint_url: str | None, region: str) -> Any:
    """A boto3 client for the local backend (dummy credentials), or for AWS when no endpoint."""
    if endpoint_url is None:
        return boto3.client(service, region_name=region, config=_CLIENT_CONFIG)  # type: ignore[call-overload]
    return boto3.client(  # type: ignore[call-overload]
        service, endpoint_url=endpoint_url, region_name=region, config=_CLIENT_CONFIG, **DUMMY_CREDENTIALS
    )


class _RequestGate:
    """Many requests at a time, or one snapshot: a small readers-writer lock around moto."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._active = 0
        self._snapshotting = False
        self.requests = 0

    def wrap(self, app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        def gated(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            with self._condition:
                while self._snapshotting:
                    self._condition.wait()
                self._active += 1
                self.requests += 1
            try:
                body = app(environ, start_response)
                try:
                    return [b"".join(body)]
                finally:
                    close = getattr(body, "close", None)
                    if close is not None:
                        close()
            finally:
                with self._condition:
                    self._active -= 1
                    self._condition.notify_all()

        return gated

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._condition:
            while self._snapshotting:
                self._condition.wait()
            self._snapshotting = True
            while self._active:
                self._condition.wait()
        try:
            yield
        finally:
            with self._condition:
                self._snapshotting = False
                self._condition.notify_all()


class AwsBackend:
    """moto's server on host:port (0 = any free port)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        region: str = "us-east-1",
        state_file: Path | None = None,
        console: Callable[[str], None] = print,
    ) -> None:
        self.region = region
        self._state_file = state_file
        self._console = console
        self._gate = _RequestGate()
        self._socket = bind(host, port, "--aws-port")
        self._server: ServerThread | None = None
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()
        self._stop = threading.Event()
        self._saver: threading.Thread | None = None
        self._saved_at_request = 0

    @property
    def url(self) -> str:
        host, port = (
            self._socket.getsockname()[:2] if self._server is None else (self._server.host, self._server.port)
        )
        return f"http://{host}:{port}"

    def start(self) -> AwsBackend:
        # moto is imported only here: clients of a running backend (invoke, token) do not need it
        from localcloud import moto_internals

        port = self._socket.getsockname()[1]
        os.environ["MOTO_PORT"] = str(port)
        if self._state_file is not None and self._state_file.exists():
            try:
                failed = moto_internals.load_state(self._state_file.read_bytes())
            except Exception as error:  # unreadable (another moto version, a torn file): start empty
                kept = self._state_file.with_suffix(".unreadable")
                self._state_file.replace(kept)
                self._console(
                    f"localcloud: WARNING cannot restore {self._state_file} ({error}); kept it as {kept}"
                )
            else:
                self._console(f"localcloud: restored AWS state from {self._state_file}")
                for failure in failed:
                    self._console(f"localcloud: WARNING could not restore {failure}")
        self._server = ServerThread(
            "aws-backend",
            self._socket,
            self._gate.wrap(moto_internals.wsgi_app()),
            moto_internals.quiet_request_handler(),
        ).start()
        response = requests.post(
            f"{self.url}/moto-api/config",
            json={"stepfunctions": {"execute_state_machine": True}},
            timeout=10,
        )
        response.raise_for_status()
        self._saved_at_request = self._gate.requests
        if self._state_file is not None:
            self._saver = threading.Thread(target=self._save_periodically, name="state-saver", daemon=True)
            self._saver.start()
        return self

    def client(self, service: str) -> Any:
        with self._clients_lock:
            if service not in self._clients:
                self._clients[service] = aws_client(service, self.url, self.region)
            return self._clients[service]

    def save(self) -> None:
        """Writes a consistent snapshot of the backends to the state file (atomically)."""
        if self._state_file is None:
            return
        from localcloud import moto_internals

        with self._gate.exclusive():
            requests_seen = self._gate.requests
            blob, failed = moto_internals.save_state()
        self._state_file.parent.mkdir(parents=True, exist_ok=True)
        temporary = self._state_file.with_suffix(".tmp")
        temporary.write_bytes(blob)
        temporary.replace(self._state_file)
        self._saved_at_request = requests_seen
        for failure in failed:
            self._console(f"localcloud: WARNING could not save {failure}")

    def _save_periodically(self) -> None:
        while not self._stop.wait(_SAVE_INTERVAL_SECONDS):
            if self._gate.requests != self._saved_at_request:
                try:
                    self.save()
                except Exception as error:  # keep serving; report why persistence failed
                    self._console(f"localcloud: WARNING saving state failed: {error}")

    def stop(self) -> None:
        self._stop.set()
        if self._saver is not None:
            self._saver.join(timeout=30)
        if self._server is not None:
            self._server.stop()
            if self._state_file is not None:
                started = time.monotonic()
                self.save()
                self._console(
                    f"localcloud: saved AWS state to {self._state_file} ({(time.monotonic() - started) * 1000:.0f} ms)"
                )
        else:
            self._socket.close()
