"""``make loadtest``: Cognito-authenticated load on a stack, by Locust, headless, bounded in time.

1. reads the target's config.json (``--config-url``, or ``CONFIG_URL``; default the running
   ``make dev``, wherever its ports are: the stack it recorded in ``.localcloud/stack.json``) and refuses a target that is not on this
   machine unless ``--allow-remote`` (or ``ALLOW_REMOTE=1``) is given;
2. creates ``--users`` Cognito users in its user pool: ``SignUp``, ``AdminConfirmSignUp`` and
   ``AdminAddUserToGroup`` (staff: they edit the catalogue)
   (with boto3 against ``cognito.endpointUrl``; on AWS that needs credentials allowed to call
   ``cognito-idp:AdminConfirmSignUp``, ``AdminAddUserToGroup`` and ``AdminDeleteUser`` on the pool);
3. runs ``locustfile.py`` headless for ``--run-time`` seconds: each user signs in
   (``USER_PASSWORD_AUTH``) and browses, reads, writes pets with ``If-Match`` and posts comments;
4. prints p50/p95/p99 and the failures per route, and the error count;
5. deletes its users (``AdminDeleteUser``), whatever happened.

Exit code: 0 when no request failed, 1 when some did, 2 for a refused or unreachable target.
Usage: python benchmarks/loadtest/run.py [--users 20] [--run-time 60] [--config-url URL]
                                         [--spawn-rate N] [--wait MIN,MAX] [--allow-remote]
"""

from __future__ import annotations

import argparse
import csv
import ipaddress
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import table  # noqa: E402

LOCUSTFILE = Path(__file__).resolve().with_name("locustfile.py")
MAX_USERS = 1000
MAX_RUN_SECONDS = 3600


class RefusedTarget(Exception):
    """The target is not on this machine and remote targets were not allowed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def is_loopback(url: str | None) -> bool:
    host = urlsplit(url or "").hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_target(config_url: str, config: dict[str, Any] | None, allow_remote: bool) -> None:
    """Every endpoint the load goes to must be on this machine, unless remote targets are allowed.

    Called with ``config=None`` before config.json is fetched (its own URL), then with it.
    """
    endpoints: dict[str, str | None] = {"config.json": config_url}
    if config is not None:
        endpoints["apiUrl"] = config.get("apiUrl")
        endpoints["cognito.endpointUrl"] = (config.get("cognito") or {}).get("endpointUrl")
    remote = [f"{name} = {url or '(AWS)'}" for name, url in endpoints.items() if not is_loopback(url)]
    if remote and not allow_remote:
        raise RefusedTarget(
            "refusing to load a remote target (" + "; ".join(remote) + "): pass --allow-remote "
            "(or ALLOW_REMOTE=1) if you mean it, with credentials allowed to AdminConfirmSignUp, AdminAddUserToGroup and "
            "AdminDeleteUser on its user pool"
        )


def password() -> str:
    """Meets the pool's policy (upper, lower, digit, 8+); random per run."""
    return f"Lt-{secrets.token_urlsafe(12)}-9a"


def create_users(config: dict[str, Any], count: int, run_id: str) -> list[dict[str, str]]:
    from localcloud.cognito_user import STAFF_GROUP, cognito_client

    client = cognito_client(config)
    pool_id = config["cognito"]["userPoolId"]
    client_id = config["cognito"]["userPoolClientId"]
    users: list[dict[str, str]] = []
    try:
        for number in range(count):
            email = f"loadtest-{run_id}-{number}@example.com"
            secret = password()
            client.sign_up(
                ClientId=client_id,
                Username=email,
                Password=secret,
                UserAttributes=[{"Name": "email", "Value": email}],
            )
            users.append({"email": email, "password": secret})
            client.admin_confirm_sign_up(UserPoolId=pool_id, Username=email)
            # they edit the catalogue, which is for staff (template.yaml's StaffGroup)
            client.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName=STAFF_GROUP)
    except BaseException:
        delete_users(config, users)
        raise
    return users


def delete_users(config: dict[str, Any], users: Iterable[dict[str, str]]) -> int:
    """AdminDeleteUser for each; returns how many could not be deleted (and says why)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from localcloud.cognito_user import cognito_client

    client = cognito_client(config)
    failed = 0
    for user in users:
        try:
            client.admin_delete_user(UserPoolId=config["cognito"]["userPoolId"], Username=user["email"])
        except (ClientError, BotoCoreError) as error:
            failed += 1
            print(f"loadtest: could not delete {user['email']}: {error}", file=sys.stderr)
    return failed


def run_locust(
    config: dict[str, Any],
    users: list[dict[str, str]],
    workdir: Path,
    run_time: int,
    spawn_rate: float,
    wait: str,
) -> tuple[int, Path]:
    (workdir / "config.json").write_text(json.dumps(config))
    (workdir / "users.json").write_text(json.dumps(users))
    prefix = workdir / "loadtest"
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        "LOADTEST_CONFIG_FILE": str(workdir / "config.json"),
        "LOADTEST_USERS_FILE": str(workdir / "users.json"),
        "LOADTEST_WAIT": wait,
    }
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--users",
        str(len(users)),
        "--spawn-rate",
        f"{spawn_rate:g}",
        "--run-time",
        f"{run_time}s",
        "--stop-timeout",
        "10",
        "--host",
        str(config["apiUrl"]).rstrip("/"),
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    # Locust's own output goes to a file (our summary is printed instead), shown if it went wrong.
    with open(workdir / "locust.log", "wb") as log:
        completed = subprocess.run(
            command, env=environment, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, timeout=run_time + 120
        )
    if completed.returncode not in (0, 1):  # 1: some requests failed, which the summary shows
        print((workdir / "locust.log").read_text(errors="replace"), file=sys.stderr)
    return completed.returncode, prefix


def summarize(prefix: Path) -> tuple[str, int]:
    """Markdown table per route from Locust's CSV, and the total failure count."""
    rows = []
    failures = 0
    aggregated: list[str] | None = None
    with open(f"{prefix}_stats.csv", newline="", encoding="utf-8") as file:
        for record in csv.DictReader(file):
            row = [
                f"{record['Type']} {record['Name']}".strip(),
                record["Request Count"],
                record["Failure Count"],
                record["50%"],
                record["95%"],
                record["99%"],
                f"{float(record['Requests/s']):.1f}",
            ]
            if record["Name"] == "Aggregated":
                aggregated = ["**all routes**", *row[1:]]
                failures = int(record["Failure Count"])
            else:
                rows.append(row)
    if aggregated:
        rows.append(aggregated)
    headers = ["route", "requests", "failures", "p50 ms", "p95 ms", "p99 ms", "req/s"]
    lines = [table(headers, rows, right=range(1, 7))]
    failure_file = Path(f"{prefix}_failures.csv")
    if failure_file.exists():
        with open(failure_file, newline="", encoding="utf-8") as file:
            reasons = [
                f"- {r['Occurrences']}x {r['Method']} {r['Name']}: {r['Error']}" for r in csv.DictReader(file)
            ]
        if reasons:
            lines += ["", "Failures:", *reasons[:20]]
    return "\n".join(lines), failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--config-url",
        default=os.environ.get("CONFIG_URL"),
        help="config.json of the target (default: the local cloud `make dev` runs)",
    )
    parser.add_argument("--users", type=int, default=int(os.environ.get("USERS", "20")))
    parser.add_argument("--run-time", type=int, default=int(os.environ.get("RUN_TIME", "60")), help="seconds")
    parser.add_argument(
        "--spawn-rate", type=float, default=None, help="users started per second (default: all in 2 s)"
    )
    parser.add_argument(
        "--wait", default=os.environ.get("WAIT", "0.5,2"), help="pause between tasks, MIN,MAX s"
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        default=os.environ.get("ALLOW_REMOTE", "") in ("1", "true", "yes"),
        help="allow a target that is not on this machine",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.users <= MAX_USERS:
        parser.error(f"--users must be 1 to {MAX_USERS}")
    if not 1 <= args.run_time <= MAX_RUN_SECONDS:
        parser.error(f"--run-time must be 1 to {MAX_RUN_SECONDS} seconds")
    low, _, high = args.wait.partition(",")
    try:
        if not 0 <= float(low) <= float(high or low) <= 60:
            raise ValueError
    except ValueError:
        parser.error("--wait wants MIN,MAX seconds, e.g. 0.5,2")

    from localcloud.cognito_user import ConfigError, fetch_config
    from localcloud.state import NoLocalCloud, config_url

    try:
        args.config_url = config_url(args.config_url, ROOT)
    except NoLocalCloud as error:
        print(f"loadtest: {error}", file=sys.stderr)
        return 2
    try:
        check_target(args.config_url, None, args.allow_remote)
        config = fetch_config(args.config_url, timeout=5)
        check_target(args.config_url, config, args.allow_remote)
    except ConfigError as error:
        print(f"loadtest: {error} (is `make dev` running?)", file=sys.stderr)
        return 2
    except RefusedTarget as refused:
        print(f"loadtest: {refused.message}", file=sys.stderr)
        return 2

    run_id = f"{time.strftime('%H%M%S')}{secrets.token_hex(2)}"
    spawn_rate = args.spawn_rate or max(1.0, args.users / 2)
    print(
        f"loadtest: {args.users} users for {args.run_time} s against {config['apiUrl']} "
        f"(pause {args.wait} s between tasks)",
        flush=True,
    )
    started = time.perf_counter()
    users = create_users(config, args.users, run_id)
    print(
        f"loadtest: created {len(users)} Cognito users in {time.perf_counter() - started:.1f} s", flush=True
    )
    try:
        with tempfile.TemporaryDirectory(prefix="loadtest-") as directory:
            code, prefix = run_locust(config, users, Path(directory), args.run_time, spawn_rate, args.wait)
            if not Path(f"{prefix}_stats.csv").exists():
                print(f"loadtest: Locust ended without statistics (exit {code})", file=sys.stderr)
                return 1
            markdown, failures = summarize(prefix)
    finally:
        undeleted = delete_users(config, users)
        print(f"loadtest: deleted {len(users) - undeleted} of {len(users)} Cognito users", flush=True)
    print()
    print(markdown)
    print()
    print(f"errors: {failures}")
    return 1 if failures or undeleted else 0


if __name__ == "__main__":
    raise SystemExit(main())
