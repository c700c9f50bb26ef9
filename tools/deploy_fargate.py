"""``make deploy COMPUTE=fargate``: build and push the pets and foods images, then deploy the stack
with ``StoreCompute=fargate`` and each image pinned by its digest.

    python -m tools.deploy_fargate [--config-env ENV] [--dry-run] [--check-docker]

1. Docker must answer (``docker info``) and have ``buildx``; otherwise one line says so, exit 2,
   before anything else happens. This is the one step that needs Docker: the local cloud runs the
   same services without it.
2. The stack's ECR repositories (outputs ``PetsRepositoryUri``, ``FoodsRepositoryUri``) must exist
   to push to. A stack that has none yet -- a first deploy -- is deployed once as samconfig.toml
   says (the repositories are in the template whatever ``StoreCompute`` is), then the images follow.
3. Each image is built for arm64 from the repository root (``services/<name>/Dockerfile``, as the
   task definition's Metadata names it), tagged with the commit and ``latest``, pushed; its digest
   comes from buildx's metadata file.
4. ``sam deploy`` again, with samconfig.toml's ``parameter_overrides`` for that environment plus
   ``StoreCompute=fargate PetsImage=<repository>@<digest> FoodsImage=...``: a new image is a new
   task definition, so ECS rolls the service (the circuit breaker rolls a failed one back).

``--dry-run`` prints the commands instead of running them (Docker is still checked).
AWS credentials and region come from the usual places, as for ``sam deploy``.
"""

from __future__ import annotations

import argparse
import base64
import json
import shlex
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Sequence
from pathlib import Path

from tools.publish_web import PublishError, stack_name_from_samconfig

ROOT = Path(__file__).resolve().parents[1]
SAMCONFIG = ROOT / "samconfig.toml"
SAM = str(Path(sys.executable).with_name("sam"))
#: service -> (its Dockerfile, the stack output naming its repository, its template parameter)
IMAGES = {
    "pets": ("services/pets/Dockerfile", "PetsRepositoryUri", "PetsImage"),
    "foods": ("services/foods/Dockerfile", "FoodsRepositoryUri", "FoodsImage"),
}
NO_DOCKER = (
    "make deploy COMPUTE=fargate builds the pets and foods images and needs Docker with buildx, "
    "which {problem}; install Docker, or deploy without COMPUTE=fargate (Lambda)"
)


class DeployError(RuntimeError):
    """A step failed; the message says which."""


def docker_problem() -> str | None:
    """Why Docker cannot build here, or None."""
    docker = shutil.which("docker")
    if docker is None:
        return "is not installed (no docker on PATH)"
    checks = (
        ([docker, "info", "--format", "{{.ServerVersion}}"], "does not answer (is the daemon running?)"),
        ([docker, "buildx", "version"], "has no buildx plugin"),
    )
    for command, problem in checks:
        try:
            result = subprocess.run(command, capture_output=True, timeout=30, check=False)  # noqa: S603
        except (OSError, subprocess.TimeoutExpired):
            return problem
        if result.returncode != 0:
            return problem
    return None


def samconfig(config_env: str, path: Path = SAMCONFIG) -> tuple[str, list[str]]:
    """The stack name and the deploy ``parameter_overrides`` (as separate ``Name=Value`` words)."""
    try:
        stack = stack_name_from_samconfig(path, config_env)
    except PublishError as error:
        raise DeployError(str(error)) from None
    parameters = tomllib.loads(path.read_text()).get(config_env, {}).get("deploy", {}).get("parameters", {})
    overrides = parameters.get("parameter_overrides", "")
    words = shlex.split(overrides) if isinstance(overrides, str) else [str(word) for word in overrides]
    return stack, words


def with_overrides(base: list[str], extra: dict[str, str]) -> list[str]:
    """``base`` (Name=Value words) with ``extra`` set: a name given in both takes ``extra``'s value."""
    kept = [word for word in base if word.split("=", 1)[0] not in extra]
    return [*kept, *(f"{name}={value}" for name, value in extra.items())]


class Deployer:
    def __init__(self, config_env: str, dry_run: bool) -> None:
        self.config_env = config_env
        self.dry_run = dry_run
        self.stack, self.overrides = samconfig(config_env)

    def run(self, command: list[str], **kwargs: object) -> None:
        print("+ " + shlex.join(command), flush=True)
        if not self.dry_run and subprocess.run(command, cwd=ROOT, check=False, **kwargs).returncode != 0:  # type: ignore[call-overload]  # noqa: S603
            raise DeployError(f"{command[0]} {command[1]} failed")

    def repositories(self) -> dict[str, str] | None:
        """Service -> its repository URI, from the stack's outputs; None when the stack has none yet."""
        import boto3
        from botocore.exceptions import ClientError

        try:
            stacks = boto3.client("cloudformation").describe_stacks(StackName=self.stack)["Stacks"]
        except ClientError as error:
            if "does not exist" in str(error):
                return None
            raise DeployError(f"cannot describe stack {self.stack}: {error}") from None
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
        found = {name: outputs.get(output) for name, (_, output, _) in IMAGES.items()}
        return {name: uri for name, uri in found.items() if uri} if all(found.values()) else None

    def login(self, registry: str) -> None:
        import boto3

        if self.dry_run:
            print(f"+ docker login --username AWS --password-stdin {registry}")
            return
        token = boto3.client("ecr").get_authorization_token()["authorizationData"][0]["authorizationToken"]
        password = base64.b64decode(token).decode().split(":", 1)[1]
        self.run(
            ["docker", "login", "--username", "AWS", "--password-stdin", registry], input=password.encode()
        )

    def push(self, name: str, repository: str, tag: str) -> str:
        """Builds and pushes one image; its ``repository@sha256:...``."""
        dockerfile = IMAGES[name][0]
        with tempfile.TemporaryDirectory() as folder:
            metadata = Path(folder) / "metadata.json"
            self.run(
                [
                    "docker",
                    "buildx",
                    "build",
                    "--platform",
                    "linux/arm64",
                    "--provenance",
                    "false",
                    "--file",
                    dockerfile,
                    "--tag",
                    f"{repository}:{tag}",
                    "--tag",
                    f"{repository}:latest",
                    "--metadata-file",
                    str(metadata),
                    "--push",
                    ".",
                ]
            )
            digest = (
                json.loads(metadata.read_text())["containerimage.digest"]
                if not self.dry_run
                else "sha256:<digest>"
            )
        return f"{repository}@{digest}"

    def deploy(self, overrides: list[str] | None = None) -> None:
        command = [SAM, "deploy", "--config-env", self.config_env, "--no-fail-on-empty-changeset"]
        if overrides is not None:
            command += ["--parameter-overrides", *overrides]
        self.run(command)

    def main(self) -> None:
        repositories = self.repositories()
        if repositories is None:
            print(f"{self.stack} has no image repositories yet: deploying it once as samconfig.toml says")
            self.deploy()
            repositories = self.repositories() or {}
            if not repositories and not self.dry_run:
                raise DeployError(f"{self.stack} still has no PetsRepositoryUri/FoodsRepositoryUri outputs")
        tag = _commit()
        images = {}
        for name, (_, output, parameter) in IMAGES.items():
            repository = repositories.get(name, f"<{output}>")
            self.login(repository.split("/", 1)[0])
            images[parameter] = self.push(name, repository, tag)
        self.deploy(with_overrides(self.overrides, {"StoreCompute": "fargate", **images}))


def _commit() -> str:
    git = shutil.which("git") or "git"
    result = subprocess.run(  # noqa: S603 - git, to tag the images with the commit
        [git, "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return result.stdout.strip() or "local"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument(
        "--config-env", default="default", help="samconfig.toml environment (default: default)"
    )
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run none")
    parser.add_argument("--check-docker", action="store_true", help="only check that Docker can build")
    args = parser.parse_args(argv)
    problem = docker_problem()
    if problem is not None:
        print(NO_DOCKER.format(problem=problem), file=sys.stderr)
        return 2
    if args.check_docker:
        return 0
    try:
        Deployer(args.config_env, args.dry_run).main()
    except DeployError as error:
        print(f"deploy_fargate: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
