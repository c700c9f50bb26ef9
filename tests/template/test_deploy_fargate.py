"""``make deploy COMPUTE=fargate`` (tools/deploy_fargate.py): Docker checked first with one clear line,
samconfig.toml's parameters kept, a first deploy creating the repositories before the images are
pushed, and the second deploy pinning each image by digest.

This machine has no Docker daemon, so the build and push commands are checked as printed by
``--dry-run`` (with the Docker check and the stack's outputs stood in for); the real build is
``docker buildx build`` on a machine with Docker, as the README says."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tools import deploy_fargate
from tools.deploy_fargate import Deployer, samconfig, with_overrides

ROOT = Path(__file__).resolve().parents[2]


def test_without_docker_it_says_so_in_one_line_and_does_nothing(tmp_path: Path) -> None:
    (tmp_path / "docker").write_text("#!/bin/sh\nexit 1\n")  # a CLI whose daemon does not answer
    (tmp_path / "docker").chmod(0o755)
    for path in (str(tmp_path), "/nonexistent"):  # no daemon; no docker at all
        result = subprocess.run(
            [sys.executable, "-m", "tools.deploy_fargate"],
            cwd=ROOT,
            env={**os.environ, "PATH": path},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 2 and result.stdout == ""
        (line,) = result.stderr.splitlines()
        assert "needs Docker" in line and "COMPUTE=fargate" in line


def test_samconfig_parameters_are_kept_and_the_images_added() -> None:
    stack, overrides = samconfig("prod")
    assert stack == "petstore-prod"
    assert "Stage=prod" in overrides and "CorsAllowedOrigins=https://example.com" in overrides
    merged = with_overrides(
        [*overrides, "StoreCompute=lambda"], {"StoreCompute": "fargate", "PetsImage": "r@sha256:1"}
    )
    assert merged.count("StoreCompute=fargate") == 1 and "StoreCompute=lambda" not in merged
    assert "PetsImage=r@sha256:1" in merged and "SnapStart=true" in merged


def test_a_first_deploy_creates_the_repositories_then_pushes_then_deploys_fargate(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = iter(
        [
            None,
            {"pets": "1.dkr.ecr.eu-west-1.amazonaws.com/p", "foods": "1.dkr.ecr.eu-west-1.amazonaws.com/f"},
        ]
    )
    monkeypatch.setattr(deploy_fargate, "docker_problem", lambda: None)
    monkeypatch.setattr(Deployer, "repositories", lambda self: next(answers))
    assert deploy_fargate.main(["--dry-run"]) == 0
    commands = [line[2:] for line in capsys.readouterr().out.splitlines() if line.startswith("+ ")]
    assert commands[0].endswith("sam deploy --config-env default --no-fail-on-empty-changeset")
    builds = [c for c in commands if c.startswith("docker buildx build")]
    assert len(builds) == 2 and all("--platform linux/arm64" in c and "--push" in c for c in builds)
    assert "--file services/pets/Dockerfile --tag 1.dkr.ecr.eu-west-1.amazonaws.com/p:" in builds[0]
    last = shlex.split(commands[-1])
    assert last[last.index("--parameter-overrides") + 1 :] == [
        "Stage=dev",
        "StoreCompute=fargate",
        "PetsImage=1.dkr.ecr.eu-west-1.amazonaws.com/p@sha256:<digest>",
        "FoodsImage=1.dkr.ecr.eu-west-1.amazonaws.com/f@sha256:<digest>",
    ]


def test_the_dockerfiles_are_the_ones_the_task_definitions_name() -> None:
    from tests.support import RESOURCES

    for name, (dockerfile, _, _) in deploy_fargate.IMAGES.items():
        task = RESOURCES[f"{name.capitalize()}TaskDefinition"]
        assert task["Metadata"]["Dockerfile"] == dockerfile and (ROOT / dockerfile).is_file()
