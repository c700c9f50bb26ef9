"""``make staff EMAIL=...``: make a user of the stack's user pool a member of the staff group.

Staff edit the catalogue, upload photos and moderate (template.yaml's StaffGroup). The user must
have signed up; their next sign-in (or token refresh) carries the group. Against the running local
cloud by default (its config.json); with ``--stack`` or ``--config-env`` against a deployed stack,
found through its CloudFormation outputs with your AWS credentials (``cognito-idp:AdminAddUserToGroup``
on its pool).

    python -m tools.staff ada@example.com
    python -m tools.staff ada@example.com --config-env prod
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from localcloud.cognito_user import (
    STAFF_GROUP,
    ConfigError,
    SignInError,
    add_to_group,
    fetch_config,
)
from localcloud.state import NoLocalCloud, config_url
from tools.publish_web import ROOT, PublishError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.staff", description=__doc__.split("\n")[0])
    parser.add_argument("email", help="the user's email (their username)")
    parser.add_argument(
        "--config-url", help="config.json of a stack (default: the local cloud `make dev` runs)"
    )
    parser.add_argument("--stack", help="a deployed stack's name")
    parser.add_argument("--config-env", help="samconfig.toml environment of a deployed stack (default, prod)")
    parser.add_argument("--region", help="the deployed stack's region (default: your AWS configuration's)")
    args = parser.parse_args(argv)
    try:
        if args.stack or args.config_env:
            import boto3

            from tools.publish_web import SAMCONFIG, build_config, stack_name_from_samconfig, stack_outputs

            stack = args.stack or stack_name_from_samconfig(SAMCONFIG, args.config_env)
            config = build_config(
                stack_outputs(boto3.client("cloudformation", region_name=args.region), stack)
            )
        else:
            config = fetch_config(config_url(args.config_url, ROOT))
        add_to_group(config, args.email, STAFF_GROUP)
    except (ConfigError, SignInError, PublishError, NoLocalCloud) as error:
        print(f"staff: {error}", file=sys.stderr)
        return 2
    print(f"{args.email} is now staff; their next sign-in carries the group")
    return 0


if __name__ == "__main__":
    sys.exit(main())
