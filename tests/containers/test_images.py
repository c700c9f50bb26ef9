"""The service images (services/*/Dockerfile), checked without Docker.

What each Dockerfile says must agree with the function it stands in for (its handler, its code
folder and the layer's, its service name), and its command must really serve: the Dockerfile's own
CMD is run here as the local cloud runs a task -- gunicorn with the image's folders as PYTHONPATH,
on 127.0.0.1 -- and answers the health check (the Dockerfile's own HEALTHCHECK command), JSON
errors from the handler, from the adapter and from gunicorn itself, then stops on SIGTERM.
hadolint lints the files themselves (make lint).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from store_common.container import HEALTH_PATH

from tests.support import RESOURCES, ROOT, function_environment

SERVICES = {"pets": "PetsFunction", "foods": "FoodsFunction"}
COMMAND = ["gunicorn", "--config", "python:store_common.gunicorn_conf", "store_common.container:app"]
BIN = Path(sys.executable).parent


@dataclass
class Image:
    """The instructions of a single-stage Dockerfile that matter here."""

    base: str
    workdir: str
    env: dict[str, str]
    copies: list[tuple[list[str], str]]
    runs: list[str]
    user: str
    expose: list[str]
    healthcheck: list[str]
    cmd: list[str]


def read_image(path: Path) -> Image:
    text = re.sub(r"\\\n", " ", path.read_text())
    image = Image("", "/", {}, [], [], "", [], [], [])
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, argument = line.partition(" ")
        instruction, argument = instruction.upper(), argument.strip()
        if instruction == "FROM":
            image.base = argument
        elif instruction == "WORKDIR":
            image.workdir = argument
        elif instruction == "ENV":
            image.env.update(pair.split("=", 1) for pair in argument.split())  # type: ignore[misc]
        elif instruction == "COPY":
            *sources, target = argument.split()
            image.copies.append((sources, target))
        elif instruction == "RUN":
            image.runs.append(argument)
        elif instruction == "USER":
            image.user = argument
        elif instruction == "EXPOSE":
            image.expose.extend(argument.split())
        elif instruction == "HEALTHCHECK":
            image.healthcheck = json.loads(argument.split("CMD", 1)[1])
        elif instruction == "CMD":
            image.cmd = json.loads(argument)
    return image


@pytest.fixture(params=sorted(SERVICES))
def service(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_the_image_stands_for_its_function(service: str) -> None:
    image = read_image(ROOT / "services" / service / "Dockerfile")
    function = RESOURCES[SERVICES[service]]["Properties"]
    assert image.env["HANDLER"] == function["Handler"]
    assert image.env["SERVICE_NAME"] == function["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
    layers = [r["Properties"] for r in RESOURCES.values() if r["Type"] == "AWS::Serverless::LayerVersion"]
    shared = next(layer["ContentUri"] for layer in layers if layer["ContentUri"].rstrip("/") == "shared")
    # the layer's folder and the function's CodeUri, copied into the working directory: its sys.path
    into_workdir = [sources for sources, target in image.copies if target.rstrip("/") == image.workdir]
    assert into_workdir == [[shared], [function["CodeUri"]]]
    assert image.env["PYTHONPATH"] == image.workdir


def test_the_image_is_pinned_slim_and_unprivileged(service: str) -> None:
    image = read_image(ROOT / "services" / service / "Dockerfile")
    assert re.fullmatch(r"python:3\.13\.\d+-slim-\w+@sha256:[0-9a-f]{64}", image.base), image.base
    assert image.env["PYTHONDONTWRITEBYTECODE"] == "1" and image.env["PYTHONUNBUFFERED"] == "1"
    (install,) = [run for run in image.runs if "pip install" in run]
    assert "--no-cache-dir" in install and "--only-binary=:all:" in install
    requirements = re.findall(r"-r (\S+)", install)
    copied = {target: sources[0] for sources, target in image.copies if len(sources) == 1}
    assert sorted(copied[path] for path in requirements) == [
        "requirements-container.txt",
        "shared/requirements.txt",
    ]
    uid, _, gid = image.user.partition(":")
    assert uid.isdigit() and int(uid) > 0 and gid.isdigit() and int(gid) > 0
    assert image.expose == [image.env["PORT"]] == ["8080"]
    assert image.cmd == COMMAND
    assert image.healthcheck[:2] == ["python", "-c"] and HEALTH_PATH in image.healthcheck[2]


def test_the_build_context_sends_what_the_images_copy() -> None:
    patterns = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and line[0] != "#"]
    assert patterns[0] == "*"
    included = {pattern[1:].rstrip("/") for pattern in patterns if pattern.startswith("!")}
    for service in SERVICES:
        for sources, _ in read_image(ROOT / "services" / service / "Dockerfile").copies:
            for source in sources:  # the path itself, or a folder it is in, is let through
                path = Path(source.rstrip("/"))
                assert {str(path), *map(str, path.parents)} & included, source


def test_gunicorn_is_pinned_for_the_images_and_the_local_cloud() -> None:
    pins = (ROOT / "requirements-container.txt").read_text().split()
    assert re.fullmatch(r"gunicorn==\d+\.\d+\.\d+", next(p for p in pins if p.startswith("gunicorn")))
    assert "-r requirements-container.txt" in (ROOT / "requirements-dev.txt").read_text()


# ----------------------------------------------------------------- the command, run


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Task:
    process: subprocess.Popen[bytes]
    port: int
    environment: dict[str, str]
    stdout: Path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def fetch(url: str, method: str = "GET") -> tuple[int, Message, Any]:
    request = urllib.request.Request(url, method=method)  # noqa: S310 - a local http URL
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read())


def raw_exchange(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(data)
        connection.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.fixture
def pets_task(tmp_path: Path) -> Iterator[Task]:
    """The pets image's CMD as a local process: its folders on PYTHONPATH, its environment, an AWS
    endpoint that refuses connections (nothing here may reach AWS)."""
    image = read_image(ROOT / "services" / "pets" / "Dockerfile")
    port = free_port()
    closed_port = free_port()
    environment = {
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "shared"), str(ROOT / "services" / "pets")]),
        **{name: value for name, value in image.env.items() if name != "PYTHONPATH"},
        **function_environment("PetsFunction"),
        "PORT": str(port),
        "BIND_HOST": "127.0.0.1",
        "WEB_CONCURRENCY": "1",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{closed_port}",
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    stdout = tmp_path / "stdout.log"
    with stdout.open("wb") as out, (tmp_path / "stderr.log").open("wb") as err:
        process = subprocess.Popen(  # the image's own command; gunicorn from this environment
            [str(BIN / image.cmd[0]), *image.cmd[1:]],
            cwd=ROOT / "services" / "pets",
            env=environment,
            stdout=out,
            stderr=err,
        )
    task = Task(process, port, environment, stdout)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (tmp_path / "stderr.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not listen within 30 s"
                time.sleep(0.1)
        yield task
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


@pytest.mark.slow
def test_the_command_serves_and_stops_gracefully(pets_task: Task, tmp_path: Path) -> None:
    image = read_image(ROOT / "services" / "pets" / "Dockerfile")
    healthcheck = subprocess.run(image.healthcheck, env=pets_task.environment, timeout=30, check=False)
    assert healthcheck.returncode == 0

    status, headers, body = fetch(pets_task.url(HEALTH_PATH))
    assert (status, headers["Content-Type"], body) == (200, "application/json", {"status": "ok"})

    # the handler ran: DynamoDB is unreachable, and its answer is the service's JSON 500
    status, headers, body = fetch(pets_task.url("/pets"))
    assert status == 500 and headers["Content-Type"] == "application/json"
    assert body == {"message": "Internal server error"}

    # over the HTTP API's limit: the adapter's 413, before any body is read
    answer = raw_exchange(
        pets_task.port, b"PUT /pets/rex HTTP/1.1\r\nHost: x\r\nContent-Length: 20000000\r\n\r\n"
    )
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 ") and json.loads(payload) == {
        "message": "Request Entity Too Large"
    }

    # what gunicorn refuses itself is JSON as well, without the request's text in it
    answer = raw_exchange(pets_task.port, b"NOT A REQUEST LINE <script>\r\n\r\n")
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ") and b"content-type: application/json" in head.lower()
    assert json.loads(payload) == {"message": "Bad Request"}

    pets_task.process.send_signal(signal.SIGTERM)
    assert pets_task.process.wait(timeout=30) == 0
    failed = subprocess.run(
        image.healthcheck, env=pets_task.environment, capture_output=True, timeout=30, check=False
    )
    assert failed.returncode != 0

    access_log = pets_task.stdout.read_text()
    assert f'"GET {HEALTH_PATH} HTTP/1.1" 200' in access_log and '"GET /pets HTTP/1.1" 500' in access_log
    assert not (tmp_path / ".gunicorn").exists()  # no control socket in $HOME
