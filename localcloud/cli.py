"""``python -m localcloud dev | invoke | token`` -- the commands behind ``make dev/invoke/token``.

Exit codes: 0 success; 1 the function raised (``invoke``) or an unexpected failure; 2 a usage
problem reported in one line (port in use, bad template, no local cloud running, ...).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from localcloud import DEFAULT_REGION, DEFAULT_STACK_NAME

if TYPE_CHECKING:
    from localcloud.template import Template

__all__ = ["main"]


class _Console:
    """Thread-safe line printer (workers, gateways and the main thread all write to it)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def __call__(self, line: str) -> None:
        with self._lock:
            try:
                self._stream.write(line + "\n")
                self._stream.flush()
            except (OSError, ValueError):  # closed pipe: keep running, drop the line
                pass


def _parameter_overrides(values: Sequence[str]) -> dict[str, str]:
    overrides = {}
    for value in values:
        name, separator, setting = value.partition("=")
        if not separator:
            raise SystemExit(f"localcloud: --parameter-overrides wants Name=Value, got {value!r}")
        overrides[name] = setting
    return overrides


def template_of(args: argparse.Namespace) -> Template | None:
    """The template of the command's options (SAM transform included); None when it cannot be
    loaded, after saying why in one line on stderr."""
    from localcloud.template import TemplateError, load_template

    try:
        return load_template(
            args.template, _parameter_overrides(args.parameter_overrides), args.region, args.stack_name
        )
    except TemplateError as error:
        print(f"localcloud: {error}", file=sys.stderr)
        return None


def _add_template_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--template", default="template.yaml", help="SAM template (default: template.yaml)")
    parser.add_argument(
        "--parameter-overrides",
        nargs="*",
        action="extend",  # repeatable: `make dev` passes its defaults, ARGS may add or override
        default=[],
        metavar="NAME=VALUE",
        help="template parameters, as for sam deploy (repeatable; the last value of a name wins)",
    )
    parser.add_argument("--region", default=DEFAULT_REGION, help=f"AWS::Region (default {DEFAULT_REGION})")
    parser.add_argument(
        "--stack-name", default=DEFAULT_STACK_NAME, help=f"AWS::StackName (default {DEFAULT_STACK_NAME})"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m localcloud", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    dev = commands.add_parser("dev", help="run the whole template locally until Ctrl-C")
    _add_template_options(dev)
    dev.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    dev.add_argument(
        "--web-port", type=int, default=3000, help="web client and config.json (0 = any free port)"
    )
    dev.add_argument("--api-port", type=int, default=3001, help="first HTTP API (0 = any free port)")
    dev.add_argument("--aws-port", type=int, default=4566, help="AWS endpoint, moto (0 = any free port)")
    dev.add_argument(
        "--edge-port",
        type=int,
        default=3002,
        help="first CloudFront distribution with a custom origin (0 = any free port)",
    )
    dev.add_argument("--persist", type=Path, metavar="DIR", help="keep AWS data in DIR across restarts")
    dev.add_argument("--seed", action="store_true", help="load a demo catalogue through the API")
    dev.add_argument("--ready-file", type=Path, metavar="PATH", help="write config.json here once up")
    dev.add_argument(
        "--max-workers", type=int, default=4, help="warm workers per function at most (default 4)"
    )
    dev.add_argument("--no-watch", action="store_true", help="do not restart workers when code changes")
    dev.add_argument(
        "--verbose",
        action="store_true",
        help="also what is not emulated, functions' metrics lines and custom resources' own logs",
    )

    invoke = commands.add_parser("invoke", help="run one function of the template on an event (no Docker)")
    invoke.add_argument("function", help="logical id of the function, e.g. PetsFunction")
    invoke.add_argument("event", type=Path, help="event JSON file, e.g. events/pets-get.json ('-' for stdin)")
    _add_template_options(invoke)
    invoke.add_argument(
        "--config-url",
        default=None,
        help="config.json of the local cloud to use (default: the one `make dev` runs)",
    )
    invoke.add_argument(
        "--temporary",
        action="store_true",
        help="no running local cloud: a backend of its own with the template's resources, for this call",
    )
    invoke.add_argument(
        "--verbose", action="store_true", help="also the function's metrics lines (on stderr)"
    )

    transform = commands.add_parser(
        "transform",
        help="print the CloudFormation template the local cloud deploys (the SAM transform's output)",
    )
    _add_template_options(transform)

    token = commands.add_parser(
        "token", help="sign a user in (the demo staff member by default); print an access token"
    )
    token.add_argument("--customer", action="store_true", help="the demo customer instead of staff")
    token.add_argument("--email", default=None, help="another user to sign in (signed up if new)")
    token.add_argument("--password", default=None, help="that user's password (default: the demo customer's)")
    token.add_argument(
        "--code", default=None, help="confirmation code (deployed stacks without admin rights)"
    )
    token.add_argument("--id-token", action="store_true", help="print the ID token instead")
    token.add_argument(
        "--config-url",
        default=None,
        help="config.json of the stack (default: the local cloud `make dev` runs)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "dev":
        return _dev(args)
    if args.command == "invoke":
        return _invoke(args)
    if args.command == "transform":
        return _transform(args)
    return _token(args)


# ---------------------------------------------------------------------- dev
def _dev(args: argparse.Namespace) -> int:
    from localcloud.cloud import LocalCloud, Ports
    from localcloud.containers import TaskStartError
    from localcloud.seed import seed
    from localcloud.servers import PortInUseError
    from localcloud.stack import DeployError
    from localcloud.state import SAM_ENV_VARS_FILE, forget_stack, record_stack, state_dir

    started = time.monotonic()
    console = _Console(sys.stdout)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    template = template_of(args)
    if template is None:
        return 2
    cloud = LocalCloud(
        template,
        Ports(args.host, args.web_port, args.api_port, args.aws_port, args.edge_port),
        persist_dir=args.persist.resolve() if args.persist else None,
        max_workers=args.max_workers,
        watch=not args.no_watch,
        console=console,
        verbose=args.verbose,
    )
    try:
        try:
            config = cloud.start()
        except PortInUseError as error:
            print(f"localcloud: {error}", file=sys.stderr)
            return 2
        except DeployError as error:
            print(f"localcloud: cannot deploy {args.template}: {error}", file=sys.stderr)
            return 2
        except TaskStartError as error:
            print(f"localcloud: an ECS service's task did not start: {error}", file=sys.stderr)
            return 1
        assert cloud.stack is not None
        if args.verbose:
            for warning in cloud.stack.warnings:
                console(f"localcloud: not emulated: {warning}")
        elif cloud.stack.warnings:
            console(
                f"localcloud: {len(cloud.stack.warnings)} template features are not emulated locally "
                "(ARGS=--verbose lists them; docs/local-cloud.md says why)"
            )
        for failure in cloud.stack.failures:
            console(f"localcloud: WARNING: {failure}")
        if args.seed and config["apiUrl"] and not stop.is_set():
            main_api = cloud.stack.main_api
            route_keys = {route.route_key for route in main_api.routes} if main_api else set()
            try:
                count = seed(config, route_keys, console)
                console(f"localcloud: seeded {count} demo items")
            except Exception as error:  # a failed seed must not take the cloud down
                console(f"localcloud: seeding failed: {error}")
        _banner(
            console,
            config,
            cloud.web_url,
            time.monotonic() - started,
            args,
            cloud.edge_servers,
            _sam_example(list(cloud.stack.functions), template.base_dir),
        )
        record_stack(template.base_dir, f"{cloud.web_url}/config.json")
        env_vars = state_dir(template.base_dir) / SAM_ENV_VARS_FILE
        env_vars.write_text(json.dumps(cloud.sam_env_vars(), indent=2, sort_keys=True) + "\n")
        if args.ready_file:  # last: whoever waits for it can rely on everything above
            temporary = args.ready_file.with_name(args.ready_file.name + ".tmp")
            temporary.write_text(json.dumps(config, indent=2))
            os.replace(temporary, args.ready_file)
        while not stop.wait(0.5):
            pass
        console("localcloud: stopping...")
    finally:
        forget_stack(template.base_dir)
        cloud.stop()
    console("localcloud: stopped")
    return 0


def _sam_example(functions: list[str], base_dir: Path) -> str | None:
    """``<Function> -e events/<file>`` for the first function of the stack with a sample event
    named after it (``PetsFunction``: ``events/pets-*.json``, a GET first)."""
    for function in functions:
        prefix = function.removesuffix("Function").lower()
        events = sorted(
            (base_dir / "events").glob(f"{prefix}-*.json"),
            key=lambda e: (e.name != f"{prefix}-get.json", "-get" not in e.name, e.name),
        )
        if events:
            return f"{function} -e {events[0].relative_to(base_dir).as_posix()}"
    return None


def _banner(
    console: _Console,
    config: dict[str, Any],
    web_url: str,
    seconds: float,
    args: argparse.Namespace,
    edge_servers: dict[str, Any],
    sam_example: str | None,
) -> None:
    from localcloud.state import SAM_ENV_VARS_FILE, state_dir

    rows = [("web client", f"{web_url}/"), ("config.json", f"{web_url}/config.json")]
    rows += [(f"API {name}", url) for name, url in config["apis"].items()]
    rows += [(f"edge {name}", server.url) for name, server in edge_servers.items()]
    rows.append(
        ("AWS endpoint", f"{config['awsEndpointUrl']}  (moto; AWS_ENDPOINT_URL for boto3 and the aws CLI)")
    )
    if args.persist:
        rows.append(("data kept in", str(args.persist)))
    if args.seed:
        from localcloud.cognito_user import DEMO_CUSTOMER, DEMO_STAFF

        rows.append(("sign in as staff", f"{DEMO_STAFF.email} / {DEMO_STAFF.password}"))
        rows.append(("or as a customer", f"{DEMO_CUSTOMER.email} / {DEMO_CUSTOMER.password}"))
    rows.append(("a staff token", 'TOKEN=$(make token); curl -H "Authorization: Bearer $TOKEN" ...'))
    env_vars = os.path.relpath(state_dir(Path(args.template).resolve().parent) / SAM_ENV_VARS_FILE)
    if sam_example:
        rows.append(
            ("with Docker", f"sam local invoke {sam_example} --env-vars {env_vars} --docker-network host")
        )
    width = max(len(label) for label, _ in rows) + 2
    console(
        f"localcloud: up in {seconds:.1f} s ({args.template}, stack {args.stack_name}, no AWS account, no Docker)"
    )
    for label, value in rows:
        console(f"  {label:<{width}}{value}")
    console("Ctrl-C stops everything.")


# ---------------------------------------------------------------------- invoke
def _invoke(args: argparse.Namespace) -> int:
    from localcloud.invoke import invoke_function

    return invoke_function(args)


# ---------------------------------------------------------------------- transform
def _transform(args: argparse.Namespace) -> int:
    from localcloud.transform import dumps

    template = template_of(args)
    if template is None:
        return 2
    print(dumps(template.document))
    return 0


# ---------------------------------------------------------------------- token
def _token(args: argparse.Namespace) -> int:
    from localcloud.cognito_user import (
        DEMO_CUSTOMER,
        DEMO_STAFF,
        ConfigError,
        SignInError,
        fetch_config,
        sign_in,
        sign_in_demo,
    )
    from localcloud.state import NoLocalCloud, config_url

    try:
        config = fetch_config(config_url(args.config_url, Path.cwd()))
    except NoLocalCloud as error:
        print(f"localcloud: {error}", file=sys.stderr)
        return 2
    except ConfigError as error:
        print(f"localcloud: {error} (is `make dev` still running?)", file=sys.stderr)
        return 2
    try:
        if args.email:
            tokens = sign_in(config, args.email, args.password or DEMO_CUSTOMER.password, args.code)
        else:
            tokens = sign_in_demo(config, DEMO_CUSTOMER if args.customer else DEMO_STAFF)
    except SignInError as error:
        print(f"localcloud: {error}", file=sys.stderr)
        return 2
    print(tokens["IdToken"] if args.id_token else tokens["AccessToken"])
    return 0
