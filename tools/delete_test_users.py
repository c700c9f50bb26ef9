"""Delete the users that one end-to-end run created in the user pool of the stack it tested.

    python -m tools.delete_test_users [--config-url URL] [--run-id ID] [--since TIME] [--dry-run]

The stack is found as the tests find it, through its config.json (``--config-url``, default
``E2E_CONFIG_URL``). A user is deleted only when its email is an end-to-end test address
(``<name>-<hex>@example.com``) and the user is this run's:

* its email starts with ``<run id>-`` (``--run-id``, default ``E2E_RUN_ID``): tests/stack_client.py
  puts the run id in front of every name it makes when that variable is set;
* or, for the two suites that make their own address without it (``e2e-<hex>`` in
  tests/localcloud/test_e2e.py, ``edge-<hex>`` in tests/localcloud/test_edge_e2e.py), it was
  created at or after ``--since`` (the time the run's tests started). The pipeline never runs two
  end-to-end runs of one stack at once (one concurrency group per environment), so such a user is
  this run's.

Every other user of the pool is left alone, whatever its email. The exit code is 1 when a deletion
failed, 2 when the stack or the pool cannot be read, 0 otherwise (nothing to delete included).
AWS credentials need ``cognito-idp:ListUsers`` and ``cognito-idp:AdminDeleteUser`` on the pool.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import requests
from botocore.exceptions import BotoCoreError, ClientError

from tests.stack_client import RUN_ID_PATTERN, RUN_ID_VARIABLE, cognito_client

#: what tests/stack_client.py and the suites make: ``<name>-<10 or 12 hex digits>@example.com``
TEST_EMAIL = re.compile(r"[a-z0-9][a-z0-9-]*-[0-9a-f]{10,12}@example\.com")
#: the suites that make their own address, without the run id: found by creation time instead
SUITES_WITHOUT_RUN_ID = ("e2e-", "edge-")


def _email(user: dict[str, Any]) -> str:
    return next((a["Value"] for a in user.get("Attributes", []) if a["Name"] == "email"), "")


def _users_whose_email_starts_with(cognito: Any, pool_id: str, prefix: str) -> Iterator[dict[str, Any]]:
    paginator = cognito.get_paginator("list_users")
    for page in paginator.paginate(UserPoolId=pool_id, Filter=f'email ^= "{prefix}"'):
        yield from page.get("Users", [])


def users_of_this_run(
    cognito: Any, pool_id: str, run_id: str, since: datetime | None
) -> list[dict[str, Any]]:
    """The pool's users that this run created (see the module's docstring), each listed once."""
    found: dict[str, dict[str, Any]] = {}
    if run_id:
        for user in _users_whose_email_starts_with(cognito, pool_id, f"{run_id}-"):
            if TEST_EMAIL.fullmatch(_email(user)):
                found[user["Username"]] = user
    if since is not None:
        for prefix in SUITES_WITHOUT_RUN_ID:
            for user in _users_whose_email_starts_with(cognito, pool_id, prefix):
                if TEST_EMAIL.fullmatch(_email(user)) and user["UserCreateDate"] >= since:
                    found[user["Username"]] = user
    return sorted(found.values(), key=_email)


def delete_test_users(
    config: dict[str, Any], run_id: str, since: datetime | None, *, dry_run: bool = False, say: Any = print
) -> tuple[int, int]:
    """Deletes this run's users from the pool of ``config`` (a stack's config.json).

    Returns (deleted, failed); with ``dry_run`` the users are listed and nothing is deleted.
    """
    pool_id = config["cognito"]["userPoolId"]
    cognito = cognito_client(config)
    users = users_of_this_run(cognito, pool_id, run_id, since)
    if dry_run:
        for user in users:
            say(f"would delete {_email(user)}")
        say(f"would delete {len(users)} test user(s) of this run from {pool_id}")
        return 0, 0
    deleted = failed = 0
    for user in users:
        try:
            cognito.admin_delete_user(UserPoolId=pool_id, Username=user["Username"])
            deleted += 1
        except cognito.exceptions.UserNotFoundException:
            pass  # deleted meanwhile (the token attack suite deletes one itself)
        except ClientError as error:
            failed += 1
            say(f"cannot delete {_email(user)}: {error}")
    say(
        f"deleted {deleted} test user(s) of this run from {pool_id}"
        + (f", {failed} failed" if failed else "")
    )
    return deleted, failed


def _time(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{value!r} has no time zone (e.g. 2026-11-22T07:47:00Z)")
    return moment


def _run_id(value: str) -> str:
    if value and not RUN_ID_PATTERN.fullmatch(value):
        raise argparse.ArgumentTypeError(f"{value!r}: 1-24 lower-case letters, digits and '-'")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.delete_test_users", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument(
        "--config-url",
        default=os.environ.get("E2E_CONFIG_URL"),
        help="the stack's config.json (default: E2E_CONFIG_URL)",
    )
    parser.add_argument(
        "--run-id",
        type=_run_id,
        default=os.environ.get(RUN_ID_VARIABLE, ""),
        help=f"the run whose users to delete (default: {RUN_ID_VARIABLE})",
    )
    parser.add_argument(
        "--since",
        type=_time,
        help="also delete e2e-*/edge-* test users created at or after this ISO 8601 time",
    )
    parser.add_argument("--dry-run", action="store_true", help="list the users, delete nothing")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not args.config_url:
        print("delete-test-users: no --config-url (or E2E_CONFIG_URL)", file=sys.stderr)
        return 2
    if not args.run_id and args.since is None:
        print("delete-test-users: give --run-id (or E2E_RUN_ID) and/or --since", file=sys.stderr)
        return 2
    try:
        response = requests.get(args.config_url, timeout=15)
        response.raise_for_status()
        _deleted, failed = delete_test_users(response.json(), args.run_id, args.since, dry_run=args.dry_run)
    except (requests.RequestException, ValueError, KeyError, ClientError, BotoCoreError) as error:
        print(f"delete-test-users: {error!r}", file=sys.stderr)
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
