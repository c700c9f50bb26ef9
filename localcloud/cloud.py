"""The whole local cloud in one object: backend, deployed template, functions, gateways, web.

Start-up order matters: every port is bound first (so a port in use fails in milliseconds, before
any work), then the backend starts (restoring persisted state), the template is deployed into
it, and only then do the gateways and the web server accept requests. Stopping runs the same
steps backwards: servers, workers, backend (which saves persisted state last).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localcloud import ACCOUNT_ID, moto_internals
from localcloud.authorizer import JwtAuthorizer, local_jwks_url
from localcloud.aws_backend import AwsBackend
from localcloud.functions import DEFAULT_MAX_WORKERS, FunctionRuntime
from localcloud.gateway import Gateway
from localcloud.routes import IMPLICIT_API
from localcloud.serverless import implicit_api_needed
from localcloud.servers import PortInUseError, ServerThread, bind
from localcloud.stack import LocalStack, deploy
from localcloud.template import Template
from localcloud.webserver import web_app

__all__ = ["LocalCloud", "Ports"]

STATE_FILE_NAME = "aws-state.pickle"


@dataclass
class Ports:
    host: str = "127.0.0.1"
    web: int = 3000
    api: int = 3001
    aws: int = 4566


@dataclass
class LocalCloud:
    template: Template
    ports: Ports = field(default_factory=Ports)
    persist_dir: Path | None = None
    max_workers: int = DEFAULT_MAX_WORKERS
    watch: bool = True
    console: Callable[[str], None] = print

    backend: AwsBackend | None = None
    stack: LocalStack | None = None
    runtime: FunctionRuntime | None = None
    api_servers: dict[str, ServerThread] = field(default_factory=dict)
    web_server: ServerThread | None = None
    _stopped: threading.Event = field(default_factory=threading.Event)

    def start(self) -> dict[str, Any]:
        """Starts everything; returns the config.json document. Raises PortInUseError early."""
        api_names = [resource.logical_id for resource in self.template.of_type("AWS::Serverless::HttpApi")]
        if implicit_api_needed(self.template.of_type("AWS::Serverless::Function")):
            api_names.append(IMPLICIT_API)
        sockets = self._bind_all(api_names)
        state_file = self.persist_dir / STATE_FILE_NAME if self.persist_dir else None
        try:
            self.backend = AwsBackend(self.ports.host, self.ports.aws, self._region, state_file, self.console)
        except PortInUseError:
            for sock in sockets.values():
                sock.close()
            raise
        try:
            self.backend.start()
            self.stack = deploy(self.template, self.backend.client, self.backend.url)
            self.runtime = FunctionRuntime(
                self.stack.functions,
                self.backend.url,
                self._region,
                self.console,
                max_workers=self.max_workers,
                watch=self.watch,
            )
            self._route_lambda_service_to_workers()
            authorizer = JwtAuthorizer(local_jwks_url(self.backend.url))
            for name in api_names:
                api = self.stack.apis.get(name)
                if api is None:
                    sockets.pop(name).close()
                    continue
                gateway = Gateway(api, self.runtime, authorizer, ACCOUNT_ID, self.console)
                self.api_servers[name] = ServerThread(f"api-{name}", sockets.pop(name), gateway).start()
            web_dir = self.template.base_dir / "web"
            config = self.config()
            self.web_server = ServerThread(
                "web", sockets.pop("web"), web_app(config, web_dir if web_dir.is_dir() else None)
            ).start()
            return config
        except BaseException:
            for sock in sockets.values():
                sock.close()
            self.stop()
            raise

    @property
    def _region(self) -> str:
        return str(self.template.pseudo["AWS::Region"])

    def _bind_all(self, api_names: list[str]) -> dict[str, socket.socket]:
        sockets: dict[str, socket.socket] = {}
        try:
            sockets["web"] = bind(self.ports.host, self.ports.web, "--web-port")
            for index, name in enumerate(api_names):
                port = self.ports.api + index if self.ports.api else 0
                sockets[name] = bind(self.ports.host, port, "--api-port")
        except PortInUseError:
            for sock in sockets.values():
                sock.close()
            raise
        return sockets

    def _route_lambda_service_to_workers(self) -> None:
        assert self.runtime is not None
        runtime = self.runtime
        by_name = {spec.function_name: logical_id for logical_id, spec in runtime.functions.items()}

        def invoke(function_name: str, event: Any) -> tuple[bool, Any]:
            result = runtime.invoke(by_name.get(function_name, function_name), event)
            return (True, result.payload) if result.ok else (False, result.error)

        moto_internals.install_local_integrations(
            invoke, self.backend.url if self.backend else "", self.console
        )

    def config(self) -> dict[str, Any]:
        """The config.json document (same keys as the deployed stack's)."""
        assert self.stack is not None and self.backend is not None
        apis: dict[str, str] = {}
        api_url = None
        for name, api in self.stack.apis.items():
            server = self.api_servers.get(name)
            if server is None:
                continue
            for index, stage in enumerate(api.stages):
                url = server.url + stage.prefix
                apis[name if index == 0 else f"{name}/{stage.name}"] = url
                if api_url is None:
                    api_url = url
        cognito = self.stack.cognito()
        return {
            "region": self._region,
            "apiUrl": api_url,
            "apis": apis,
            "edgeUrl": None,
            "cognito": {
                "region": self._region,
                "userPoolId": cognito["userPoolId"],
                "userPoolClientId": cognito["userPoolClientId"],
                "endpointUrl": self.backend.url,
            },
            "awsEndpointUrl": self.backend.url,
        }

    @property
    def web_url(self) -> str:
        assert self.web_server is not None
        return self.web_server.url

    def stop(self) -> None:
        """Idempotent; servers first, then workers, then the backend (which saves its state)."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        servers = [*self.api_servers.values(), *([self.web_server] if self.web_server else [])]
        for server in servers:
            server.stop()
        if self.runtime is not None:
            self.runtime.close()
        moto_internals.install_local_integrations(None)
        if self.backend is not None:
            self.backend.stop()
