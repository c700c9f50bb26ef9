"""``localcloud invoke``: ``sam local invoke`` without Docker.

The function runs in a worker process exactly as under ``dev`` (same environment, same code
roots and layers). Its AWS backend is the local cloud that ``make dev`` runs (recorded in
``.localcloud/stack.json``, whatever its ports), or ``--config-url``'s; when that is gone the command
refuses (exit 2) rather than quietly use another backend. ``--temporary`` asks for one: a moto
started in this process for the duration of the call with the template's resources created in it. The physical ids come from deploying
the template with find-or-create, so both cases see the same table names and pool ids.

stdout gets the function's result as JSON and nothing else; logs go to stderr. Exit code 1 when
the function raised (its error document is printed, as ``sam local invoke`` does).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from functools import partial
from typing import Any

from localcloud.aws_backend import AwsBackend, aws_client
from localcloud.cli import template_of
from localcloud.cognito_user import ConfigError, fetch_config
from localcloud.functions import FunctionRuntime
from localcloud.stack import DeployError, deploy
from localcloud.state import NoLocalCloud, config_url

__all__ = ["invoke_function"]


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _read_event(path: str) -> Any:
    text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()  # noqa: SIM115
    return json.loads(text)


def invoke_function(args: argparse.Namespace) -> int:
    template = template_of(args)
    if template is None:
        return 2
    try:
        event = _read_event(str(args.event))
    except (OSError, ValueError) as error:
        _stderr(f"localcloud: {error}")
        return 2
    if args.function not in {r.logical_id for r in template.of_type("AWS::Lambda::Function")}:
        names = ", ".join(r.logical_id for r in template.of_type("AWS::Lambda::Function"))
        _stderr(f"localcloud: {args.function} is not a function of {args.template} (functions: {names})")
        return 2

    backend: AwsBackend | None = None
    client: Callable[[str], Any]
    if args.temporary:
        backend = AwsBackend(port=0, region=args.region, console=_stderr).start()
        endpoint = backend.url
        _stderr("localcloud: using a temporary backend with the template's resources (--temporary)")
        client = backend.client
    else:
        try:
            url = config_url(args.config_url, template.base_dir)
            config = fetch_config(url, timeout=2.0)
        except NoLocalCloud as error:
            _stderr(f"localcloud: {error}; --temporary runs it against a backend of its own")
            return 2
        except ConfigError as error:
            _stderr(
                f"localcloud: the local cloud at {url} is gone ({error}); start `make dev`, or pass --temporary"
            )
            return 2
        endpoint = str(config["awsEndpointUrl"])
        _stderr(f"localcloud: using the local cloud of {url} (AWS endpoint {endpoint})")
        client = partial(_cached_client, {}, endpoint, args.region)
    runtime: FunctionRuntime | None = None
    try:
        stack = deploy(template, client, endpoint)
        if args.function not in stack.functions:
            reasons = [w for w in stack.warnings if w.startswith(args.function)]
            _stderr(f"localcloud: {args.function} cannot run locally: {'; '.join(reasons)}")
            return 2
        runtime = FunctionRuntime(
            {args.function: stack.functions[args.function]},
            endpoint,
            args.region,
            _stderr,
            max_workers=1,
            verbose=args.verbose,
        )
        result = runtime.invoke(args.function, event)
    except DeployError as error:
        _stderr(f"localcloud: cannot deploy {args.template}: {error}")
        return 2
    finally:
        if runtime is not None:
            runtime.close()
        if backend is not None:
            backend.stop()
    cold = f", init {result.init_ms:.0f} ms" if result.init_ms is not None else ""
    _stderr(f"localcloud: {args.function} finished in {result.duration_ms:.0f} ms{cold}")
    if result.ok:
        print(json.dumps(result.payload))
        return 0
    print(json.dumps(result.error))
    return 1


def _cached_client(cache: dict[str, Any], endpoint: str, region: str, service: str) -> Any:
    if service not in cache:
        cache[service] = aws_client(service, endpoint, region)
    return cache[service]
