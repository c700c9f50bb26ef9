"""ECS services as the local cloud runs them, on a template of their own: an HTTP API whose route
goes through a VPC link to a Cloud Map service, and an ECS service whose task definition's image
is built from a Dockerfile in the test's folder.

What is checked: the tasks run the Dockerfile's command with the container's environment, a port
of their own on 127.0.0.1 and the image's folders as PYTHONPATH; requests reach every task in turn
after the integration's parameter mapping; an edit replaces the tasks (the new ones serve before the
old ones stop); and no task, nor anything a task started, outlives a local cloud killed with SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import signal
import textwrap
import time
from pathlib import Path

import pytest
import requests

from localcloud.child import stop_dev
from tests.support import start_dev

from .test_local_hardening_workers import GONE_WITHIN_SECONDS, processes_with, wait_for

pytestmark = pytest.mark.slow

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties: {Name: tasks, ProtocolType: HTTP}
  Stage:
    Type: AWS::ApiGatewayV2::Stage
    Properties: {ApiId: !Ref Api, StageName: $default, AutoDeploy: true, StageVariables: {colour: blue}}
  Registry:
    Type: AWS::ServiceDiscovery::Service
    Properties: {Name: app, DnsConfig: {DnsRecords: [{Type: SRV, TTL: 10}]}}
  Integration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: HTTP_PROXY
      IntegrationMethod: ANY
      ConnectionType: VPC_LINK
      ConnectionId: link
      IntegrationUri: !GetAtt Registry.Arn
      PayloadFormatVersion: "1.0"
      RequestParameters:
        overwrite:path: /inner/$request.path.proxy
        overwrite:header.x-colour: $stageVariables.colour
        overwrite:header.x-request-id: $context.requestId
        remove:header.x-secret: "''"
        append:querystring.seen: "yes"
  Route:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref Api, RouteKey: "ANY /app/{proxy+}", Target: !Sub "integrations/${Integration}"}
  Task:
    Type: AWS::ECS::TaskDefinition
    Metadata: {DockerContext: ., Dockerfile: image/Dockerfile}
    Properties:
      ContainerDefinitions:
        - Name: app
          Image: example/app:1
          PortMappings: [{ContainerPort: 8080}]
          Environment: [{Name: GREETING, Value: hello}]
  Service:
    Type: AWS::ECS::Service
    Properties:
      TaskDefinition: !Ref Task
      DesiredCount: 2
      ServiceRegistries: [{RegistryArn: !GetAtt Registry.Arn}]
"""

DOCKERFILE = """\
FROM python:3.13-slim
WORKDIR /srv
COPY lib/ /srv/
COPY image/ /srv/
CMD ["python", "app.py"]
"""

APP = textwrap.dedent(
    """
    import json, os, subprocess, sys
    from http.server import BaseHTTPRequestHandler, HTTPServer

    import greeting  # from lib/, on PYTHONPATH as the image copies it into WORKDIR

    # a process of the task's own, as a server's workers are
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", os.getcwd()])


    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps(
                {
                    "pid": os.getpid(),
                    "greeting": greeting.WORD + " " + os.environ["GREETING"],
                    "version": VERSION,
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "endpoint": os.environ["AWS_ENDPOINT_URL"],
                }
            ).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass


    VERSION = 1
    HTTPServer((os.environ["BIND_HOST"], int(os.environ["PORT"])), Handler).serve_forever()
    """
)


def write_project(folder: Path) -> Path:
    (folder / "image").mkdir()
    (folder / "lib").mkdir()
    (folder / "image" / "Dockerfile").write_text(DOCKERFILE)
    (folder / "image" / "app.py").write_text(APP)
    (folder / "lib" / "greeting.py").write_text('WORD = "well"\n')
    template = folder / "template.yaml"
    template.write_text(TEMPLATE)
    return template


def pids_answering(api: str, count: int = 6) -> list[int]:
    return [requests.get(f"{api}/app/x", timeout=10).json()["pid"] for _ in range(count)]


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs Linux /proc")
def test_tasks_serve_through_the_vpc_link_and_end_with_a_sigkilled_local_cloud(tmp_path: Path) -> None:
    template = write_project(tmp_path)
    marker = str(tmp_path / "image")
    dev = start_dev(tmp_path, "--no-watch", template=template)
    try:
        api = dev.config["apiUrl"]
        answer = requests.get(
            f"{api}/app/some/thing?q=1", headers={"x-secret": "s", "x-colour": "red"}, timeout=10
        )
        assert answer.status_code == 200, dev.output()
        seen = answer.json()
        assert seen["greeting"] == "well hello"  # lib/ on PYTHONPATH, the container's environment
        assert seen["path"] == "/inner/some/thing?q=1&seen=yes"
        assert seen["headers"]["x-colour"] == "blue" and "x-secret" not in seen["headers"]
        assert seen["headers"]["x-request-id"] == answer.headers["apigw-requestid"]
        assert seen["endpoint"] == dev.config["awsEndpointUrl"]
        assert len(set(pids_answering(api))) == 2  # both tasks, in turn

        tasks = processes_with(marker)
        assert len([c for c in tasks.values() if c.split()[1].endswith("app.py")]) == 2, tasks
        assert len([c for c in tasks.values() if "time.sleep(120)" in c]) == 2, tasks
        dev.process.send_signal(signal.SIGKILL)
        dev.process.wait(10)
        killed_at = time.monotonic()
        assert wait_for(lambda: not processes_with(marker), GONE_WITHIN_SECONDS), (
            f"still running {time.monotonic() - killed_at:.1f} s after SIGKILL: {processes_with(marker)}"
        )
    finally:
        stop_dev(dev.process)
        for pid in processes_with(marker):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_an_edit_replaces_the_tasks_and_no_request_fails_meanwhile(tmp_path: Path) -> None:
    template = write_project(tmp_path)
    dev = start_dev(tmp_path, template=template)
    try:
        api = dev.config["apiUrl"]
        before = set(pids_answering(api, 4))
        app = tmp_path / "image" / "app.py"
        app.write_text(APP.replace("VERSION = 1", "VERSION = 2"))
        answers, deadline = [], time.monotonic() + 30
        while time.monotonic() < deadline:
            response = requests.get(f"{api}/app/x", timeout=10)
            answers.append(response.status_code)
            if response.status_code == 200 and response.json()["version"] == 2:
                break
            time.sleep(0.1)
        assert answers[-1] == 200 and set(answers) == {200}, (answers, dev.output())
        after = set(pids_answering(api, 4))
        assert len(after) == 2 and not after & before
        assert wait_for(lambda: "code changed: 2 new task(s) serve" in dev.output(), 5), dev.output()
    finally:
        stop_dev(dev.process)


def test_no_task_registered_is_a_503(tmp_path: Path) -> None:
    template = write_project(tmp_path)
    template.write_text(TEMPLATE.replace("DesiredCount: 2", "DesiredCount: 0"))
    dev = start_dev(tmp_path, "--no-watch", template=template)
    try:
        answer = requests.get(f"{dev.config['apiUrl']}/app/x", timeout=10)
        assert answer.status_code == 503 and answer.json() == {"message": "Service Unavailable"}
    finally:
        stop_dev(dev.process)


def test_a_task_that_cannot_start_stops_the_local_cloud_with_its_output(tmp_path: Path) -> None:
    template = write_project(tmp_path)
    (tmp_path / "image" / "app.py").write_text("raise SystemExit('no database configured')\n")
    with pytest.raises(Exception, match="no database configured"):
        start_dev(tmp_path, "--no-watch", template=template)
