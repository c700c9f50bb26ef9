"""The local AWS backend: moto in server mode, in this process, on 127.0.0.1.

Handlers reach it through boto3's standard ``AWS_ENDPOINT_URL``; the local cloud itself uses
boto3 clients from :meth:`AwsBackend.client`. ``MOTO_PORT`` is set to the real port because
moto's Step Functions executor calls other services at ``localhost:$MOTO_PORT``, and the
executor is switched on (``stepfunctions.execute_state_machine``) so state machines run.

With a state file (``--persist DIR``) nothing that was acknowledged is lost, even if the process
is killed (SIGKILL, a crash): every AWS request that may change something (by its operation: not
a Get/List/Describe/Query/Scan, not a GET/HEAD) and succeeded is written to a journal
(``aws-state.journal``: records with a length, a CRC and a sequence number) *before its response
is sent*. Two kinds of record, by what keeps each cheap and exact:

* DynamoDB writes (every API write is one): the request itself, replayed at start-up. DynamoDB
  operations are deterministic given the same prior state, and writes run one at a time with
  their journal append, so the journal's order is the order they took effect in -- a conditional
  write replays with the outcome it had. Cost: appending a few hundred bytes, whatever the size
  of the tables.
* Any other service (Cognito sign-ups and sign-ins, S3 uploads, Step Functions executions):
  their results hold random ids and tokens, so a replay would differ; the backends of that
  service are pickled into the record instead (concurrent writes share one record: group commit).

A full snapshot (``aws-state.pickle``, tagged with the last journal sequence it contains) is
written every few seconds while requests come in and on stop, and then the journal is emptied.
Start-up restores the snapshot, then applies the journal records newer than it, in order; a
torn last record (the process died while appending it) belongs to a write that was never
acknowledged, and is ignored.

This protects against the process dying, not the machine: records are written to the file
without fsync, so the operating system's page cache holds them (a kill cannot lose them, a power
cut can). Lambda requests (invocations) are never persisted and pass straight through -- a Step
Functions Task waiting on a handler must not hold up that handler's own writes.

Snapshots and pickled records are taken between requests: a gate lets requests run concurrently
but holds them while the backends are being pickled, so what is saved is consistent.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import re
import struct
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import boto3
import requests
from botocore.config import Config

from localcloud.dynamodb_ttl import TtlSweeper
from localcloud.s3_post_policy import enforce_post_policies
from localcloud.servers import ServerThread, bind

__all__ = ["DUMMY_CREDENTIALS", "AwsBackend", "AwsCall", "aws_client", "classify", "read_journal"]

DUMMY_CREDENTIALS = {"aws_access_key_id": "localcloud", "aws_secret_access_key": "localcloud"}
_SAVE_INTERVAL_SECONDS = 5.0
_SNAPSHOT_MAGIC = b"LCSTATE1"
_PICKLE_ATTEMPTS = 3
#: journaled as the request itself and replayed; other services as their pickled backends
_REPLAYED_SERVICE = "dynamodb"
_REPLAYED = frozenset({_REPLAYED_SERVICE})
_RECORD_HEADER = struct.Struct(">II")  # payload length, CRC-32 of the payload
#: operations (``X-Amz-Target``) that only read; any other operation may change state
_READ_OPERATIONS = ("Get", "List", "Describe", "Query", "Scan", "BatchGet", "Head")
#: SigV4 credential scope service -> moto's service name, where they differ
_SCOPE_SERVICES = {"states": "stepfunctions"}
_CREDENTIAL = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_QUERY_CREDENTIAL = re.compile(
    r"X-Amz-Credential=[^&]*?(?:%2F|/)\d{8}(?:%2F|/)[^&/%]+(?:%2F|/)([^&/%]+)(?:%2F|/)", re.I
)
_CLIENT_CONFIG = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=60)


def aws_client(service: str, endpoint_url: str | None, region: str) -> Any:
    """A boto3 client for the local backend (dummy credentials), or for AWS when no endpoint."""
    if endpoint_url is None:
        return boto3.client(service, region_name=region, config=_CLIENT_CONFIG)  # type: ignore[call-overload]
    return boto3.client(  # type: ignore[call-overload]
        service, endpoint_url=endpoint_url, region_name=region, config=_CLIENT_CONFIG, **DUMMY_CREDENTIALS
    )


@dataclass(frozen=True)
class AwsCall:
    """What a request to the backend is, as far as persistence cares."""

    #: moto's service name (``dynamodb``, ``s3``, ``stepfunctions``...), None when unknown
    service: str | None
    mutating: bool


def classify(environ: dict[str, Any]) -> AwsCall:
    """The service (from the SigV4 credential scope) and whether the operation may change state."""
    match = _CREDENTIAL.search(str(environ.get("HTTP_AUTHORIZATION", ""))) or _QUERY_CREDENTIAL.search(
        str(environ.get("QUERY_STRING", ""))
    )
    service = _SCOPE_SERVICES.get(match.group(1), match.group(1)) if match else None
    if str(environ.get("PATH_INFO", "")).startswith("/moto-api"):
        return AwsCall("moto_api", False)
    method = str(environ.get("REQUEST_METHOD", "GET")).upper()
    if service is None and str(environ.get("CONTENT_TYPE", "")).startswith("multipart/form-data"):
        service = "s3"  # a presigned POST form: its credential is a form field, not a header
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return AwsCall(service, not str(target).rsplit(".", 1)[-1].startswith(_READ_OPERATIONS))
    return AwsCall(service, method not in ("GET", "HEAD", "OPTIONS"))


class _ReadWriteLock:
    """Many readers or one writer; a waiting writer holds new readers back (no starvation)."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        with self._condition:
            while self._writing or self._writers_waiting:
                self._condition.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._condition:
                self._readers -= 1
                self._condition.notify_all()

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        with self._condition:
            self._writers_waiting += 1
            while self._writing or self._readers:
                self._condition.wait()
            self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._condition:
                self._writing = False
                self._condition.notify_all()


class _RequestGate:
    """Many requests at a time, or one snapshot: a small readers-writer lock around moto."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._active = 0
        self._snapshotting = False
        self.requests = 0

    def wrap(
        self, app: Callable[..., Iterable[bytes]], persisted: Callable[[str], bool] = lambda service: True
    ) -> Callable[..., Iterable[bytes]]:
        """Requests to services that are never ``persisted`` (Lambda) are not gated at all."""

        def gated(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            service = classify(environ).service
            if service is not None and not persisted(service):
                return app(environ, start_response)
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


def _replay(
    app: Callable[..., Iterable[bytes]], path: str, query: str, headers: dict[str, str], body: bytes
) -> str:
    """Sends a journaled request to moto's application again (no server involved); its status."""
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    environ = EnvironBuilder(
        path=path, query_string=query, method="POST", headers=list(headers.items()), data=body
    ).get_environ()
    _, status, _ = run_wsgi_app(app, environ, buffered=True)
    return str(status)


JournalRecord = tuple[int, str, Any]
"""(sequence, kind, content): ``("request", (path, query, headers, body))`` for a DynamoDB write
to replay, ``("backends", {key: pickled backend})`` for a state to restore."""


def read_journal(path: Path) -> tuple[list[JournalRecord], bool]:
    """The journal's complete records in order, and whether a torn or corrupt tail followed them
    (a record being appended when the process died)."""
    data = path.read_bytes() if path.exists() else b""
    records: list[JournalRecord] = []
    offset = 0
    while offset + _RECORD_HEADER.size <= len(data):
        length, crc = _RECORD_HEADER.unpack_from(data, offset)
        payload = data[offset + _RECORD_HEADER.size : offset + _RECORD_HEADER.size + length]
        if len(payload) < length or zlib.crc32(payload) != crc:
            return records, True
        sequence, kind, content = pickle.loads(payload)  # noqa: S301 - our own file, checked by its CRC
        records.append((int(sequence), str(kind), content))
        offset += _RECORD_HEADER.size + length
    return records, offset != len(data)


class AwsBackend:
    """moto's server on host:port (0 = any free port)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        region: str = "us-east-1",
        state_file: Path | None = None,
        console: Callable[[str], None] = print,
        web_origins: Iterable[str] = (),
    ) -> None:
        self.region = region
        #: the only browser origins the endpoint answers (see moto_internals.quiet_request_handler)
        self._web_origins = frozenset(web_origins)
        self._state_file = state_file
        self._journal_file = state_file.with_suffix(".journal") if state_file else None
        self._console = console
        self._gate = _RequestGate()
        self._socket = bind(host, port, "--aws-port")
        self._server: ServerThread | None = None
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()
        self._stop = threading.Event()
        self._saver: threading.Thread | None = None
        self._ttl: TtlSweeper | None = None
        self._saved_at_request = 0
        # the journal: records appended under _commit_lock, in sequence
        self._journal: BinaryIO | None = None
        self._sequence = 0  # of the last record written (or contained in the snapshot)
        self._commit_lock = threading.Lock()
        self._dynamodb = _ReadWriteLock()  # DynamoDB writes: execution (+ journal append)
        self._pending_lock = threading.Lock()
        self._writes_done = 0  # state-changing requests that succeeded
        self._writes_durable = 0  # ... of which this many are in the journal or a snapshot
        self._pending: set[str] = set()
        self._pending_unknown = False

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
        if self._state_file is not None:
            self._restore(moto_internals)
        self._server = ServerThread(
            "aws-backend",
            self._socket,
            enforce_post_policies(  # S3's checks of browser uploads, before the gate (bodies read first)
                self._durable(self._gate.wrap(moto_internals.wsgi_app(), moto_internals.is_persisted)),
                {DUMMY_CREDENTIALS["aws_access_key_id"]: DUMMY_CREDENTIALS["aws_secret_access_key"]},
                region=self.region,
            ),
            moto_internals.quiet_request_handler(self._web_origins),
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
        self._ttl = TtlSweeper(self.client("dynamodb"), self._console).start()  # moto has no TTL
        return self

    def _restore(self, moto_internals: Any) -> None:
        """The snapshot, then the journal records newer than it; then one compacting save."""
        assert self._state_file is not None and self._journal_file is not None
        if self._state_file.exists():
            try:
                data = self._state_file.read_bytes()
                if data.startswith(_SNAPSHOT_MAGIC):
                    (self._sequence,) = struct.unpack_from(">Q", data, len(_SNAPSHOT_MAGIC))
                    data = data[len(_SNAPSHOT_MAGIC) + 8 :]
                failed = moto_internals.load_state(data)
            except Exception as error:  # unreadable (another moto version, a torn file): start empty
                self._set_aside(self._state_file, error)
                self._sequence = 0
            else:
                self._console(f"localcloud: restored AWS state from {self._state_file}")
                for failure in failed:
                    self._console(f"localcloud: WARNING could not restore {failure}")
        replayed = 0
        try:
            records, torn = read_journal(self._journal_file)
            replay_app = moto_internals.wsgi_app()
            for sequence, kind, content in records:
                if sequence <= self._sequence:
                    continue  # already in the snapshot
                if kind == "request":
                    status = _replay(replay_app, *content)
                    if not status.startswith("2"):
                        self._console(f"localcloud: WARNING journal record {sequence} replayed as {status}")
                else:
                    for failure in moto_internals.restore_backends(content):
                        self._console(f"localcloud: WARNING could not restore {failure}")
                self._sequence = sequence
                replayed += 1
        except Exception as error:
            self._set_aside(self._journal_file, error)
        else:
            if replayed:
                self._console(
                    f"localcloud: replayed {replayed} journal records (writes since the last snapshot)"
                )
            if torn:
                self._console("localcloud: ignored the journal's incomplete last record (never acknowledged)")
        if self._journal_file.exists():
            self.save()  # compacts: the snapshot holds everything, the journal starts empty
        self._journal_file.parent.mkdir(parents=True, exist_ok=True)
        self._journal = self._journal_file.open("ab")

    def _set_aside(self, path: Path, error: Exception) -> None:
        kept = (
            path.with_suffix(path.suffix + ".unreadable")
            if path.suffix == ".journal"
            else path.with_suffix(".unreadable")
        )
        path.replace(kept)
        self._console(f"localcloud: WARNING cannot restore {path} ({error}); kept it as {kept}")

    def client(self, service: str) -> Any:
        with self._clients_lock:
            if service not in self._clients:
                self._clients[service] = aws_client(service, self.url, self.region)
            return self._clients[service]

    # ------------------------------------------------------------------ durability
    def _durable(self, app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        """DynamoDB writes one at a time; with ``--persist``, each successful state-changing
        request journaled before its response is sent.

        One at a time, always, and never beside a read: DynamoDB makes a conditional write atomic
        (check and write of an item) and never returns half of an update; moto does neither --
        two threads can both pass ``version = :expected`` and both write, and a GetItem during an
        UpdateItem can see the new version with the old attributes. Either is a lost update
        under ``If-Match`` (found by ``tests/reliability/test_concurrency.py``).
        """
        from localcloud import moto_internals

        journaling = self._state_file is not None

        def durable(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            call = classify(environ)
            if call.service == _REPLAYED_SERVICE and not call.mutating:
                with self._dynamodb.reading():
                    return list(app(environ, start_response))
            if not call.mutating or (
                call.service is not None and not moto_internals.is_persisted(call.service)
            ):
                return app(environ, start_response)
            statuses: list[str] = []

            def recording_start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
                statuses.append(status)
                return start_response(status, headers, exc_info)

            try:
                if call.service == _REPLAYED_SERVICE:
                    length = int(environ.get("CONTENT_LENGTH") or 0)
                    body = environ["wsgi.input"].read(length) if length else b""
                    environ["wsgi.input"] = io.BytesIO(body)
                    with self._dynamodb.writing():  # atomic, and the journal's order is the order of effect
                        data = list(app(environ, recording_start_response))
                        if journaling and statuses and statuses[-1][:1] == "2":
                            self._journal_request(environ, body)
                    return data
                if not journaling:
                    return app(environ, start_response)
                data = list(app(environ, recording_start_response))
                if statuses and statuses[-1][:1] == "2":
                    self._after_write(call)
                return data
            except Exception as error:  # not durable: the client must not see a success
                message = f"localcloud could not persist this write: {error}".encode()
                start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
                return [message]

        return durable

    def _journal_request(self, environ: dict[str, Any], body: bytes) -> None:
        headers = {
            key[5:].replace("_", "-").title(): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = str(environ["CONTENT_TYPE"])
        request = (str(environ.get("PATH_INFO", "/")), str(environ.get("QUERY_STRING", "")), headers, body)
        with self._commit_lock:
            self._append("request", request)
            with self._pending_lock:
                self._writes_done += 1  # counted for the periodic saver's "anything new?"

    def _append(self, kind: str, content: Any) -> None:
        """One journal record (call with ``_commit_lock`` held)."""
        payload = pickle.dumps((self._sequence + 1, kind, content))
        assert self._journal is not None
        self._journal.write(_RECORD_HEADER.pack(len(payload), zlib.crc32(payload)) + payload)
        self._journal.flush()
        self._sequence += 1

    def _after_write(self, call: AwsCall) -> None:
        """Called after each successful state-changing request, before its response is sent."""
        with self._pending_lock:
            self._writes_done += 1
            ticket = self._writes_done
            if call.service is None:
                self._pending_unknown = True
            else:
                self._pending.add(call.service)
        self._commit(ticket)

    def _commit(self, ticket: int) -> None:
        """Makes write number ``ticket`` durable: one journal record with the backends of every
        service written since the last record (group commit: one record may cover many writes)."""
        from localcloud import moto_internals

        with self._commit_lock:
            if self._writes_durable >= ticket:  # a record or snapshot taken meanwhile holds it
                return
            with self._gate.exclusive():
                with self._pending_lock:
                    covered = self._writes_done
                    services = None if self._pending_unknown else frozenset(self._pending)
                    self._pending.clear()
                    self._pending_unknown = False
                # DynamoDB is never in such a record: its writes are journaled as requests
                blobs, failed = moto_internals.backend_blobs(services, exclude=_REPLAYED)
                for _ in range(_PICKLE_ATTEMPTS - 1):
                    if not failed:
                        break
                    # a Step Functions execution thread was changing its backend: try again
                    time.sleep(0.01)
                    retried, failed = moto_internals.backend_blobs(services, exclude=_REPLAYED)
                    blobs.update(retried)
            for failure in failed:  # the next snapshot (a few seconds) takes it instead
                self._console(f"localcloud: WARNING could not journal {failure}")
            if blobs:
                self._append("backends", blobs)
            self._writes_durable = covered

    def save(self) -> None:
        """Writes a consistent snapshot of the backends to the state file (atomically), tagged with
        the journal sequence it includes, then empties the journal."""
        if self._state_file is None:
            return
        from localcloud import moto_internals

        # no DynamoDB write may be in the snapshot and also journaled after it (it would replay twice)
        with self._dynamodb.writing(), self._commit_lock:
            with self._gate.exclusive():
                requests_seen = self._gate.requests
                with self._pending_lock:
                    covered = self._writes_done
                    self._pending.clear()
                    self._pending_unknown = False
                blob, failed = moto_internals.save_state()
            self._state_file.parent.mkdir(parents=True, exist_ok=True)
            temporary = self._state_file.with_suffix(".tmp")
            temporary.write_bytes(_SNAPSHOT_MAGIC + struct.pack(">Q", self._sequence) + blob)
            temporary.replace(self._state_file)
            if self._journal is not None:
                self._journal.truncate(0)
            elif self._journal_file is not None and self._journal_file.exists():
                self._journal_file.write_bytes(b"")
            self._writes_durable = covered
        self._saved_at_request = requests_seen
        for failure in failed:
            self._console(f"localcloud: WARNING could not save {failure}")

    def _save_periodically(self) -> None:
        """Snapshots what changed outside requests (Step Functions executions) and keeps the
        journal short."""
        while not self._stop.wait(_SAVE_INTERVAL_SECONDS):
            if self._gate.requests != self._saved_at_request:
                try:
                    self.save()
                except Exception as error:  # keep serving; report why persistence failed
                    self._console(f"localcloud: WARNING saving state failed: {error}")

    def stop(self) -> None:
        self._stop.set()
        if self._ttl is not None:
            self._ttl.stop()
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
            if self._journal is not None:
                self._journal.close()
                self._journal = None
        else:
            self._socket.close()
