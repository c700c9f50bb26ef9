"""The whole local cloud in one object: backend, deployed template, functions, tasks, gateways,
edge, web.

Start-up order matters: every port is bound first (so a port in use fails in milliseconds, before
any work), then the backend starts (restoring persisted state), the template is deployed into
it (custom resources run then, as on CloudFormation), the ECS services' tasks start, and only
then do the gateways, the edge servers (one per CloudFront distribution with a custom origin) and
the web server accept requests. Stopping runs the same steps backwards: servers, tasks, workers,
backend (which saves persisted state last).
"""

from __future__ import annotations

import dataclasses
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localcloud import ACCOUNT_ID, moto_internals
from localcloud.authorizer import JwtAuthorizer, local_jwks_url
from localcloud.aws_backend import AwsBackend
from localcloud.cloudfront import served_distributions
from localcloud.containers import TaskRuntime
from localcloud.custom_resources import CustomResourceRunner, one_off_invoker
from localcloud.edge import EdgeRequestHandler, EdgeServer, LocalOrigins
from localcloud.functions import DEFAULT_MAX_WORKERS, FunctionRuntime
from localcloud.gateway import Gateway, api_request_handler
from localcloud.servers import PortInUseError, ServerThread, bind, local_origins
from localcloud.stack import LocalStack, deploy
from localcloud.state import state_dir
from localcloud.template import Template
from localcloud.webserver import LOCAL_CONFIRM_PATH, WebRequestHandler, web_app

__all__ = ["LocalCloud", "Ports"]

STATE_FILE_NAME = "aws-state.pickle"
#: in the state folder: what workers imported besides their own code, for the next run's zygote
PRELOAD_FILE_NAME = "preload-modules.json"


@dataclass
class Ports:
    host: str = "127.0.0.1"
    web: int = 3000
    api: int = 3001
    aws: int = 4566
    #: the first served CloudFront distribution; the next ones take the following ports
    edge: int = 3002


@dataclass
class LocalCloud:
    template: Template
    ports: Ports = field(default_factory=Ports)
    persist_dir: Path | None = None
    max_workers: int = DEFAULT_MAX_WORKERS
    watch: bool = True
    console: Callable[[str], None] = print
    #: functions' metrics lines, Powertools' empty-metrics warnings and custom resources' own logs too
    verbose: bool = False

    backend: AwsBackend | None = None
    stack: LocalStack | None = None
    runtime: FunctionRuntime | None = None
    #: the ECS services' tasks (``StoreCompute=fargate``)
    tasks: TaskRuntime | None = None
    api_servers: dict[str, ServerThread] = field(default_factory=dict)
    edge_servers: dict[str, ServerThread] = field(default_factory=dict)
    web_server: ServerThread | None = None
    _web_origin: str | None = field(default=None, init=False, repr=False)
    _stopped: threading.Event = field(default_factory=threading.Event)

    def start(self) -> dict[str, Any]:
        """Starts everything; returns the config.json document. Raises PortInUseError early."""
        api_names = [resource.logical_id for resource in self.template.of_type("AWS::ApiGatewayV2::Api")]
        edge_names = served_distributions(self.template)
        sockets = self._bind_all(api_names, edge_names)
        state_file = self.persist_dir / STATE_FILE_NAME if self.persist_dir else None
        try:
            self.backend = AwsBackend(
                self.ports.host,
                self.ports.aws,
                self._region,
                state_file,
                self.console,
                web_origins=local_origins(*sockets["web"].getsockname()[:2]),  # browsers: the web client only
            )
        except PortInUseError:
            for sock in sockets.values():
                sock.close()
            raise
        try:
            self.backend.start()
            runner = CustomResourceRunner(
                # the functions' own lines only with --verbose: the runner reports each outcome
                one_off_invoker(self.backend.url, self._region, self.console if self.verbose else _silent),
                self.console,
            )
            edge_hosts = {}
            for name in edge_names:
                host, port = sockets[_edge_key(name)].getsockname()[:2]
                edge_hosts[name] = f"{host}:{port}"
            try:
                self.stack = deploy(
                    self.template,
                    self.backend.client,
                    self.backend.url,
                    edge_hosts=edge_hosts,
                    custom_resources=runner,
                )
            finally:
                runner.close()
            self.runtime = FunctionRuntime(
                self.stack.functions,
                self.backend.url,
                self._region,
                self.console,
                max_workers=self.max_workers,
                watch=self.watch,
                preload_file=state_dir(self.template.base_dir) / PRELOAD_FILE_NAME,
                verbose=self.verbose,
            )
            self._route_lambda_service_to_workers()
            self.tasks = TaskRuntime(
                self.stack.ecs_services,
                self.backend.url,
                self._region,
                self.console,
                watch=self.watch,
                verbose=self.verbose,
            )
            self.tasks.start()
            authorizer = JwtAuthorizer(local_jwks_url(self.backend.url))
            web_host, web_port = sockets["web"].getsockname()[:2]
            self._web_origin = f"http://{web_host}:{web_port}"
            self._allow_web_origin(self.stack)
            for name in api_names:
                api = self.stack.apis.get(name)
                if api is None:
                    sockets.pop(name).close()
                    continue
                gateway = Gateway(api, self.runtime, authorizer, ACCOUNT_ID, self.console, self.tasks.pick)
                aws_domain = (  # accepted as Host: the edge sends it (AllViewerExceptHostHeader)
                    f"{api.api_id}.execute-api.{self._region}.{self.template.pseudo['AWS::URLSuffix']}"
                )
                self.api_servers[name] = ServerThread(
                    f"api-{name}", sockets.pop(name), gateway, api_request_handler(aws_domain)
                ).start()
            origins = self._local_origins()
            for name in edge_names:
                spec = self.stack.distributions.get(name)
                if spec is None:  # left out (reported): nothing to serve
                    sockets.pop(_edge_key(name)).close()
                    continue
                edge = EdgeServer(spec, self.runtime, origins, self.console)
                self.edge_servers[name] = ServerThread(
                    f"edge-{name}", sockets.pop(_edge_key(name)), edge, EdgeRequestHandler
                ).start()
            web_dir = self.template.base_dir / "web"
            config = self.config()
            confirm = self._confirm_sign_up if "localConfirmUrl" in config else None
            self.web_server = ServerThread(
                "web",
                sockets.pop("web"),
                web_app(config, web_dir if web_dir.is_dir() else None, confirm),
                WebRequestHandler,
            ).start()
            return config
        except BaseException:
            for sock in sockets.values():
                sock.close()
            self.stop()
            raise

    def _allow_web_origin(self, stack: LocalStack) -> None:
        """Each API and bucket with CORS also allows the local web client's origin, as the deployed
        stack's allow its web distribution's (which the local web server stands in for): moving
        the web port needs no CORS override."""
        assert self._web_origin is not None and self.backend is not None
        origins = web_origins(self._web_origin)
        for api in stack.apis.values():
            if api.cors is not None:
                extra = tuple(origin for origin in origins if origin not in api.cors.allow_origins)
                api.cors = dataclasses.replace(api.cors, allow_origins=(*api.cors.allow_origins, *extra))
        s3 = self.backend.client("s3")
        for bucket in self.template.of_type("AWS::S3::Bucket"):
            if "CorsConfiguration" not in bucket.properties or bucket.logical_id not in stack.physical:
                continue
            name = stack.physical[bucket.logical_id].ref
            rules = s3.get_bucket_cors(Bucket=name)["CORSRules"]
            for rule in rules:
                rule["AllowedOrigins"] = [
                    *rule["AllowedOrigins"],
                    *(o for o in origins if o not in rule["AllowedOrigins"]),
                ]
            s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": rules})

    @property
    def _region(self) -> str:
        return str(self.template.pseudo["AWS::Region"])

    def _bind_all(self, api_names: list[str], edge_names: list[str]) -> dict[str, socket.socket]:
        sockets: dict[str, socket.socket] = {}
        try:
            sockets["web"] = bind(self.ports.host, self.ports.web, "--web-port")
            for index, name in enumerate(api_names):
                port = self.ports.api + index if self.ports.api else 0
                sockets[name] = bind(self.ports.host, port, "--api-port")
            for index, name in enumerate(edge_names):
                port = self.ports.edge + index if self.ports.edge else 0
                sockets[_edge_key(name)] = bind(self.ports.host, port, "--edge-port")
        except PortInUseError:
            for sock in sockets.values():
                sock.close()
            raise
        return sockets

    def _local_origins(self) -> LocalOrigins:
        """Each served API's AWS domain name -> its local server: where the edge may send requests."""
        assert self.stack is not None
        suffix = self.template.pseudo["AWS::URLSuffix"]
        servers = {}
        for name, api in self.stack.apis.items():
            server = self.api_servers.get(name)
            if server is not None:
                servers[f"{api.api_id}.execute-api.{self._region}.{suffix}"] = (server.host, server.port)
        return LocalOrigins(servers)

    def _route_lambda_service_to_workers(self) -> None:
        assert self.runtime is not None
        runtime = self.runtime
        by_name = {spec.function_name: logical_id for logical_id, spec in runtime.functions.items()}

        def invoke(function_name: str, event: Any) -> tuple[bool, Any]:
            result = runtime.invoke(by_name.get(function_name, function_name), event)
            return (True, result.payload) if result.ok else (False, result.error)

        def invoke_async(function_name: str, event: Any) -> None:
            runtime.invoke_async(by_name.get(function_name, function_name), event)

        moto_internals.install_local_integrations(
            invoke, invoke_async, self.backend.url if self.backend else "", self.console
        )

    def _confirm_sign_up(self, email: str) -> None:
        """The web server's local confirm action: AdminConfirmSignUp in the main API's user pool."""
        assert self.stack is not None and self.backend is not None
        pool_id = self.stack.cognito()["userPoolId"]
        self.backend.client("cognito-idp").admin_confirm_sign_up(UserPoolId=pool_id, Username=email)

    def config(self) -> dict[str, Any]:
        """The config.json document (same keys as the deployed stack's, plus ``localConfirmUrl``)."""
        assert self.stack is not None and self.backend is not None
        apis: dict[str, str] = {}
        api_url = None
        for name, api in self.stack.apis.items():
            server = self.api_servers.get(name)
            if server is None:
                continue
            # the $default stage first: ``apiUrl`` is the first API's $default stage, if it has one
            for stage in sorted(api.stages, key=lambda stage: stage.name != "$default"):
                url = server.url + stage.prefix
                apis[name if stage.name == "$default" else f"{name}/{stage.name}"] = url
                if api_url is None:
                    api_url = url
        cognito = self.stack.cognito()
        document: dict[str, Any] = {
            "region": self._region,
            "apiUrl": api_url,
            "apis": apis,
            "edgeUrl": next((server.url for server in self.edge_servers.values()), None),
            "cognito": {
                "region": self._region,
                "userPoolId": cognito["userPoolId"],
                "userPoolClientId": cognito["userPoolClientId"],
                "endpointUrl": self.backend.url,
            },
            "awsEndpointUrl": self.backend.url,
        }
        if cognito["userPoolId"] and self._web_origin:
            # local only: no email is sent, so the web client confirms sign-ups through this
            document["localConfirmUrl"] = self._web_origin + LOCAL_CONFIRM_PATH
        return document

    def sam_env_vars(self) -> dict[str, dict[str, str]]:
        """``sam local invoke --env-vars`` for this stack: each function's template variables with
        their local values, and ``AWS_ENDPOINT_URL`` set to this backend (the template declares it
        empty, so SAM CLI passes it on). The container reaches 127.0.0.1 with ``--docker-network host``."""
        assert self.stack is not None and self.backend is not None
        document = {}
        for resource in self.template.of_type("AWS::Lambda::Function"):
            spec = self.stack.functions.get(resource.logical_id)
            declared = (resource.properties.get("Environment") or {}).get("Variables") or {}
            if spec is None or not declared:  # Lambda@Edge functions have no environment at all
                continue
            variables = {name: spec.environment[name] for name in declared if name in spec.environment}
            if "AWS_ENDPOINT_URL" in declared:
                variables["AWS_ENDPOINT_URL"] = self.backend.url
            document[resource.logical_id] = variables
        return document

    @property
    def web_url(self) -> str:
        assert self.web_server is not None
        return self.web_server.url

    def stop(self) -> None:
        """Idempotent; servers first, then workers, then the backend (which saves its state)."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        servers = [
            *self.edge_servers.values(),
            *self.api_servers.values(),
            *([self.web_server] if self.web_server else []),
        ]
        for server in servers:
            server.stop()
        if self.tasks is not None:
            self.tasks.close()
        if self.runtime is not None:
            self.runtime.close()
        moto_internals.install_local_integrations(None)
        if self.backend is not None:
            self.backend.stop()


def _silent(line: str) -> None:
    return None


def web_origins(origin: str) -> tuple[str, ...]:
    """The local web client's origin, and its ``localhost`` twin when it listens on 127.0.0.1."""
    twin = origin.replace("://127.0.0.1:", "://localhost:")
    return (origin,) if twin == origin else (origin, twin)


def _edge_key(distribution: str) -> str:
    """The socket of a distribution's edge server (logical ids share the namespace of the APIs)."""
    return f"edge:{distribution}"
