"""The delivery pipeline (.github/workflows) and the role it deploys with (deploy/github-oidc.yaml).

What must hold whatever else changes: the test job runs the README's test command; the end-to-end
run gets the deployed stack's config.json; every action is pinned to a commit; AWS credentials
come only from OIDC, in the jobs that deploy; the bootstrap template passes cfn-lint and checkov
and grants nothing beyond the stack's names where a resource can be named; and the cleanup after
an end-to-end run deletes that run's users and no one else.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws

from tests.stack_client import RUN_ID_VARIABLE, unique
from tests.support import ROOT
from tests.template.test_security_posture import ACTIONS_WITHOUT_RESOURCES, CHECKOV, as_list
from tests.template.test_template_lint import BIN, run
from tools import delete_test_users

WORKFLOWS = ROOT / ".github" / "workflows"
BOOTSTRAP = "deploy/github-oidc.yaml"
CONFIGURE_AWS = "aws-actions/configure-aws-credentials"
#: besides ACTIONS_WITHOUT_RESOURCES (template.yaml's): the ones the deploy role needs that accept
#: no resource ARN either
BOOTSTRAP_ACTIONS_WITHOUT_RESOURCES = ACTIONS_WITHOUT_RESOURCES | {
    "cloudformation:ValidateTemplate",
    "cloudformation:GetTemplateSummary",
    "cloudformation:ListStacks",
    "s3:ListAllMyBuckets",
    "lambda:ListLayerVersions",
    "cognito-idp:CreateUserPool",
    "cognito-idp:ListUserPools",
    "cloudfront:ListDistributions",
}


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Sub, !Ref, !If...) read as plain values."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node, deep=True)}
    return {suffix: loader.construct_mapping(node, deep=True)}


_CfnLoader.add_multi_constructor("!", _any_tag)


def workflow_files() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml"))


def workflow(name: str) -> dict[str, Any]:
    document: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as True
    document["on"] = document.pop(True, document.get("on"))
    return document


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps", []))


def readme_test_command() -> str:
    """The README's test command: in "The two commands", the one whose comment promises the tests."""
    section = (ROOT / "README.md").read_text().split("## The two commands", 1)[1]
    block = section.split("```bash", 1)[1].split("```", 1)[0]
    (command,) = [line.split("#", 1)[0].strip() for line in block.splitlines() if "test suite" in line]
    return command


def bootstrap() -> dict[str, Any]:
    document: dict[str, Any] = yaml.load((ROOT / BOOTSTRAP).read_text(), Loader=_CfnLoader)  # noqa: S506
    return document


def checkov_report(path: str) -> dict[str, Any]:
    assert CHECKOV.is_file(), f"{CHECKOV} is missing: `make checkov` installs it (its own venv)"
    result = subprocess.run(
        [str(CHECKOV), "-f", path, "--framework", "cloudformation", "-o", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = json.loads(result.stdout)
    return dict(report[0] if isinstance(report, list) else report)


# ---------------------------------------------------------------------- (a), (b) the bootstrap template
def test_cfn_lint_finds_nothing_in_the_bootstrap_template() -> None:
    result = run(str(BIN / "cfn-lint"), BOOTSTRAP)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_checkov_fails_no_check_of_the_bootstrap_template_and_every_skip_says_why() -> None:
    report = checkov_report(BOOTSTRAP)
    failed = [(f["check_id"], f["resource"]) for f in report["results"]["failed_checks"]]
    assert failed == [], failed
    assert report["summary"]["passed"] > 0
    skipped = {(f["check_id"], f["resource"].rsplit(".", 1)[-1]) for f in report["results"]["skipped_checks"]}
    declared = {
        (skip["id"], name): skip.get("comment", "")
        for name, resource in bootstrap()["Resources"].items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    }
    for (check_id, name), comment in declared.items():
        assert len(comment) >= 40, f"{name}: skip of {check_id} needs a reason"
    assert set(declared) == skipped, set(declared) ^ skipped


def test_the_role_trusts_only_this_repositorys_main_tags_and_environments() -> None:
    resources = bootstrap()["Resources"]
    assert resources["GitHubOidcProvider"]["Properties"] == {
        "Url": "https://token.actions.githubusercontent.com",
        "ClientIdList": ["sts.amazonaws.com"],
    }
    assert resources["GitHubOidcProvider"]["Condition"] == "CreateOidcProvider"
    (trust,) = resources["DeployRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert trust["Condition"]["StringEquals"] == {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com"
    }
    subjects = [s["Sub"] for s in trust["Condition"]["StringLike"]["token.actions.githubusercontent.com:sub"]]
    assert subjects == [
        "repo:${GitHubRepository}:ref:refs/heads/main",
        "repo:${GitHubRepository}:ref:refs/tags/v*",
        "repo:${GitHubRepository}:environment:dev",
        "repo:${GitHubRepository}:environment:prod",
    ]


def test_the_role_grants_no_wildcard_action_and_star_resources_only_where_none_can_be_named() -> None:
    resources = bootstrap()["Resources"]
    policies = [
        r["Properties"]["PolicyDocument"]
        for r in resources.values()
        if r["Type"] == "AWS::IAM::ManagedPolicy"
    ]
    allows = [s for policy in policies for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert allows
    for statement in allows:
        actions = as_list(statement["Action"])
        for action in actions:
            assert action != "*" and not action.endswith(":*"), f"{statement['Sid']}: wildcard {action}"
        if "*" in as_list(statement["Resource"]):
            assert set(actions) <= BOOTSTRAP_ACTIONS_WITHOUT_RESOURCES, statement["Sid"]
    # never itself: its own stack and its own role are denied whatever the prefix grants
    (inline,) = resources["DeployRole"]["Properties"]["Policies"]
    denied = {s["Sid"]: s for s in inline["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"}
    assert set(denied) == {"NotThisStack", "NotThisRole"}
    assert "role/github-deploy-${StackNamePrefix}" in denied["NotThisRole"]["Resource"]["Sub"]
    assert not resources["DeployRole"]["Properties"]["RoleName"]["Sub"].startswith("${StackNamePrefix}")


# ---------------------------------------------------------------------- (c) the test job
def test_the_test_job_runs_exactly_the_readmes_test_command() -> None:
    command = readme_test_command()
    assert command == (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]  # the same as CI's
    pipeline = workflow("pipeline.yml")
    assert set(pipeline["on"]) >= {"pull_request", "push"}
    test = pipeline["jobs"]["test"]
    runs = [step["run"].strip() for step in steps(test) if "run" in step]
    assert runs.count(command) == 1, runs
    assert not [r for r in runs if r != command and "make" in r.split()], runs  # no other make target
    assert test["permissions"] == {"contents": "read"}


def test_the_uv_cache_is_keyed_on_every_requirements_and_lock_file() -> None:
    (cache,) = [
        s for s in steps(workflow("pipeline.yml")["jobs"]["test"]) if "actions/cache" in s.get("uses", "")
    ]
    assert "~/.cache/uv" in cache["with"]["path"]
    key = cache["with"]["key"]
    for pattern in (
        "requirements*.txt",
        "shared/requirements.txt",
        "services/*/requirements.txt",
        "uv.lock",
        ".lock",
    ):
        assert pattern in key, pattern
    assert key.count("hashFiles(") == 1  # one call: patterns that match nothing are skipped


# ---------------------------------------------------------------------- (d) the end-to-end run
def test_the_e2e_step_gets_the_deployed_stacks_config_json_and_cleans_up_after_itself() -> None:
    deploy = workflow("deploy.yml")
    (job,) = deploy["jobs"].values()
    (e2e,) = [s for s in steps(job) if "E2E_CONFIG_URL" in s.get("env", {}) and "pytest" in s.get("run", "")]
    assert e2e["env"]["E2E_CONFIG_URL"] == "${{ steps.stack.outputs.web-url }}/config.json"
    assert RUN_ID_VARIABLE in e2e["env"]
    (stack,) = [s for s in steps(job) if s.get("id") == "stack"]
    assert "OutputKey=='WebUrl'" in stack["run"]
    (cleanup,) = [s for s in steps(job) if "tools.delete_test_users" in s.get("run", "")]
    assert cleanup["if"].startswith("always()")
    assert cleanup["env"]["E2E_CONFIG_URL"] == e2e["env"]["E2E_CONFIG_URL"]
    assert cleanup["env"][RUN_ID_VARIABLE] == e2e["env"][RUN_ID_VARIABLE]
    # the suites named exist and drive a stack through its config.json
    paths = deploy["env"]["E2E_TESTS"].split()
    assert paths
    for path in paths:
        source = (ROOT / path).read_text()
        assert "stack_config" in source or "api: str" in source, path


def test_deploys_of_one_environment_never_overlap_and_wait_for_each_other() -> None:
    callers = {
        name: job
        for file in ("pipeline.yml", "release.yml")
        for name, job in workflow(file)["jobs"].items()
        if job.get("uses", "").endswith("/deploy.yml")
    }
    assert set(callers) == {"dev", "dev-edge", "prod", "prod-edge"}
    groups = [job["concurrency"]["group"] for job in callers.values()]
    assert len(set(groups)) == len(groups)
    for name, job in callers.items():
        assert job["concurrency"]["cancel-in-progress"] is False, name
        assert job["with"]["environment"] == name.split("-")[0], name
    for name in ("dev-edge", "prod-edge"):
        assert "vars.DEPLOY_EDGE == 'true'" in callers[name]["if"], name
        assert callers[name]["with"]["region"] == "us-east-1"
    assert callers["prod"]["needs"] == "proven-on-dev"


# ---------------------------------------------------------------------- (e) pinned actions
def test_every_action_is_pinned_to_a_full_commit_sha_with_its_version() -> None:
    uses = [
        (path.name, line.strip())
        for path in workflow_files()
        for line in path.read_text().splitlines()
        if re.match(r"\s*(- )?uses:", line)
    ]
    assert uses
    for name, line in uses:
        reference = line.split("uses:", 1)[1].strip()
        if reference.startswith("$/"):  # this repository at the running commit
            continue
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+", reference), (name, line)


def test_every_checkout_leaves_no_credentials_behind() -> None:
    for path in workflow_files():
        for job in workflow(path.name)["jobs"].values():
            for step in steps(job):
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False, path.name


# ---------------------------------------------------------------------- (f) OIDC only
def test_aws_credentials_come_only_from_oidc_in_the_jobs_that_deploy() -> None:
    for path in workflow_files():
        text = path.read_text()
        for forbidden in (
            "aws-access-key-id",
            "aws-secret-access-key",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_ACCESS_KEY_ID",
        ):
            assert forbidden not in text, f"{path.name}: {forbidden}"
        assert not re.search(r"\$\{\{[^}]*\bsecrets\b", text), f"{path.name} reads a secret"
        document = workflow(path.name)
        assert document["permissions"] == {}, path.name
        for name, job in document["jobs"].items():
            permissions = job.get("permissions", {})
            assumes = [s for s in steps(job) if s.get("uses", "").startswith(f"{CONFIGURE_AWS}@")]
            deploys = job.get("uses", "").endswith("/deploy.yml")
            if assumes or deploys:
                assert permissions.get("id-token") == "write", f"{path.name}: {name}"
            else:
                assert "id-token" not in permissions, f"{path.name}: {name}"
            for step in assumes:
                assert step["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}", name
                assert set(step["with"]) & {"aws-access-key-id", "aws-secret-access-key"} == set()


# ---------------------------------------------------------------------- the cleanup's own behaviour
@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch) -> Any:
    with mock_aws():
        cognito = boto3.client("cognito-idp", region_name="us-east-1")
        pool_id = cognito.create_user_pool(PoolName="e2e", UsernameAttributes=["email"])["UserPool"]["Id"]
        client_id = cognito.create_user_pool_client(UserPoolId=pool_id, ClientName="web")["UserPoolClient"][
            "ClientId"
        ]
        monkeypatch.setattr(delete_test_users, "cognito_client", lambda config: cognito)

        def add(email: str) -> None:
            cognito.sign_up(ClientId=client_id, Username=email, Password="Passw0rd!x")

        def emails() -> set[str]:
            users = cognito.list_users(UserPoolId=pool_id)["Users"]
            return {a["Value"] for u in users for a in u["Attributes"] if a["Name"] == "email"}

        yield {"cognito": {"userPoolId": pool_id, "region": "us-east-1"}}, add, emails


def test_the_cleanup_deletes_this_runs_users_and_no_one_elses(
    pool: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, add, emails = pool
    monkeypatch.setenv(RUN_ID_VARIABLE, "gh42-1")
    mine = f"{unique('victim')}@example.com"
    assert mine.startswith("gh42-1-victim-")
    monkeypatch.setenv(RUN_ID_VARIABLE, "gh41-1")
    other_run = f"{unique('victim')}@example.com"
    monkeypatch.delenv(RUN_ID_VARIABLE)
    before = "e2e-0123456789@example.com"  # an e2e address of an earlier run
    for email in (mine, other_run, before, "gh42-1-someone@example.com", "ada@example.com"):
        add(email)
    time.sleep(0.01)
    since = datetime.now(UTC)
    time.sleep(0.01)
    during = ["e2e-abcdef0123@example.com", "edge-abcdef0123@example.com"]
    for email in [*during, "someone-abcdef0123@example.org"]:
        add(email)
    said: list[str] = []
    deleted, failed = delete_test_users.delete_test_users(config, "gh42-1", since, say=said.append)
    assert (deleted, failed) == (3, 0), said
    assert emails() == {
        other_run,
        before,
        "gh42-1-someone@example.com",
        "ada@example.com",
        "someone-abcdef0123@example.org",
    }


def test_the_cleanup_without_a_time_deletes_only_by_run_id(pool: Any) -> None:
    config, add, emails = pool
    add("gh7-1-user-0123456789ab@example.com")
    add("e2e-0123456789@example.com")
    assert delete_test_users.delete_test_users(config, "gh7-1", None, say=lambda _: None) == (1, 0)
    assert emails() == {"e2e-0123456789@example.com"}
    in_an_hour = datetime.now(UTC) + timedelta(hours=1)
    assert delete_test_users.delete_test_users(config, "", in_an_hour, say=lambda _: None) == (0, 0)


def test_the_cleanup_refuses_to_guess(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("E2E_CONFIG_URL", raising=False)
    monkeypatch.delenv(RUN_ID_VARIABLE, raising=False)
    assert delete_test_users.main([]) == 2
    assert delete_test_users.main(["--config-url", "http://127.0.0.1:9/config.json"]) == 2
    assert "--run-id" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        delete_test_users.main(["--config-url", "x", "--run-id", "Not Valid"])
    with pytest.raises(SystemExit):
        delete_test_users.main(["--config-url", "x", "--since", "2026-11-22T07:47:00"])  # no time zone
