"""``StoreCompute=fargate`` as the local cloud deploys it: the ECS services' tasks from the
Dockerfiles, the same routes and rules as the Lambda functions, and the VPC-link integrations'
parameter mapping (what the container adapter trusts)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from moto import mock_aws

from localcloud.resources.ecs import image_layout
from localcloud.stack import LocalStack, deploy_in_memory
from localcloud.template import load_yaml
from tests.support import ROOT, TEMPLATE_PATH

SERVICES = {"PetsService": "PetsFunction", "FoodsService": "FoodsFunction"}
#: what the container adapter reads besides the function's own variables (store_common.container)
ADAPTER_VARIABLES = {"HANDLER"}
#: Lambda sets these itself; a container has no X-Ray daemon beside it, so it says so
FARGATE_ONLY = {"POWERTOOLS_TRACE_DISABLED"}


@cache
def deployed(compute: str, tasks: str = "2") -> LocalStack:
    with mock_aws():
        return deploy_in_memory(TEMPLATE_PATH, {"StoreCompute": compute, "TasksPerService": tasks})


def test_an_image_runs_from_the_folders_its_dockerfile_copies() -> None:
    layout = image_layout(ROOT / "services/pets/Dockerfile", ROOT)
    assert layout.workdir == "/app"
    assert [(local.relative_to(ROOT).as_posix(), target) for local, target in layout.copies] == [
        ("shared", "/app/"),
        ("services/pets", "/app/"),
    ]
    assert layout.cmd[0] == "gunicorn"


def test_each_service_runs_its_desired_count_of_tasks_from_its_image() -> None:
    stack = deployed("fargate", "3")
    assert set(stack.ecs_services) == set(SERVICES)
    for name, service in stack.ecs_services.items():
        folder = name.removesuffix("Service").lower()
        assert service.desired_count == 3
        task = service.task
        # the later COPY wins on sys.path, as it overwrites the earlier one's files in the image
        assert task.code_roots == (ROOT / "services" / folder, ROOT / "shared")
        assert task.working_dir == ROOT / "services" / folder
        assert task.command[0] == "gunicorn" and "store_common.container:app" in task.command
        assert task.port == 8080
        assert task.environment["HANDLER"] == f"{folder}.handler.lambda_handler"
        assert task.health_check[0] == "python" and "/_health" in task.health_check[-1]
        assert len(service.registries) == 1 and ":servicediscovery:" in service.registries[0]


def test_the_tasks_get_their_functions_variables_with_the_same_values() -> None:
    lambda_stack, fargate_stack = deployed("lambda"), deployed("fargate")
    for service, function in SERVICES.items():
        task = fargate_stack.ecs_services[service].task.environment
        declared = lambda_stack.functions[function].environment
        assert set(task) - set(declared) <= ADAPTER_VARIABLES | FARGATE_ONLY, service
        for name, value in declared.items():
            if name.startswith(
                "AWS_"
            ):  # AWS_ENDPOINT_URL: set by the runtime, locally and in the image alike
                continue
            assert task.get(name) == value, (service, name)


def _routes(stack: LocalStack) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Each catalogue route: who may call it (public, or the stack's own user pool and app client
    through a JWT authorizer) and with which scopes."""
    api = stack.apis["StoreApi"]
    pool, client = stack.physical["UserPool"].ref, stack.physical["UserPoolClient"].ref
    found = {}
    for route in api.routes:
        if (
            "/photos" in route.path
            or "/comments" in route.path
            or not route.path.startswith(("/pets", "/foods"))
        ):
            continue
        caller = "public"
        if route.authorizer:
            authorizer = api.authorizers[route.authorizer]
            assert authorizer.issuer.endswith(f"/{pool}") and authorizer.audience == (client,), (
                route.route_key
            )
            caller = "the stack's users"
        found[route.route_key] = (caller, route.scopes)
    return found


def test_the_api_has_the_same_catalogue_routes_and_rules_either_way() -> None:
    on_lambda, on_fargate = _routes(deployed("lambda")), _routes(deployed("fargate"))
    assert set(on_lambda) == {
        "GET /pets",
        "GET /pets/{petId}",
        "PUT /pets/{petId}",
        "DELETE /pets/{petId}",
        "GET /foods",
        "GET /foods/{foodId}",
        "PUT /foods/{foodId}",
        "DELETE /foods/{foodId}",
    }
    assert on_fargate == on_lambda
    for route in deployed("fargate").apis["StoreApi"].routes:
        if route.route_key in on_lambda:
            assert route.integration is not None and route.integration.is_http_proxy, route.route_key


def test_every_route_sets_or_removes_each_header_the_container_trusts() -> None:
    """A client's own ``x-apigw-*`` headers never reach the container: each integration overwrites
    or removes every one the adapter reads (store_common.container)."""
    from store_common import container

    trusted = {
        container.VERIFIED_SUB_HEADER,
        *container.STAGE_VARIABLE_HEADERS.values(),
        container.REQUEST_ID_HEADER,
        container.SOURCE_IP_HEADER,
    }
    api = deployed("fargate").apis["StoreApi"]
    for route in api.routes:
        if route.integration is None or not route.integration.is_http_proxy:
            continue
        mapped = {key.split(".", 1)[1] for key, _ in route.integration.request_parameters if "header." in key}
        assert mapped == trusted, route.route_key
        (sub,) = [(key, value) for key, value in route.integration.request_parameters if "claim-sub" in key]
        verified = ("overwrite:header.x-apigw-claim-sub", "$context.authorizer.claims.sub")
        assert sub == (verified if route.authorizer else ("remove:header.x-apigw-claim-sub", "''")), (
            route.route_key
        )


def test_fargate_leaves_out_the_pets_and_foods_functions() -> None:
    stack = deployed("fargate")
    assert not set(SERVICES.values()) & set(stack.functions)
    assert {"CommentsFunction", "PhotosFunction"} <= set(stack.functions)


def test_a_task_definition_without_an_image_source_is_reported(tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(
        """
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Task:
    Type: AWS::ECS::TaskDefinition
    Properties:
      ContainerDefinitions:
        - Name: app
          Image: public.ecr.aws/example/app:1
"""
    )
    with mock_aws():
        stack = deploy_in_memory(template)
    assert any("Task" in warning and "Metadata.Dockerfile" in warning for warning in stack.warnings)


def _statements(policies: list[dict[str, Any]]) -> list[tuple[frozenset[str], str]]:
    found = []
    for policy in policies:
        for statement in (policy.get("PolicyDocument") or policy)["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert statement["Effect"] == "Allow"
            found.append((frozenset(actions), json.dumps(statement["Resource"], sort_keys=True)))
    return sorted(found, key=repr)


def test_each_task_role_grants_exactly_what_its_function_may_do() -> None:
    """The same code makes the same calls: tests/template/test_least_privilege.py proves the
    function's policy is exactly what the code calls, so the task role must equal it."""
    resources = load_yaml(TEMPLATE_PATH)["Resources"]
    for service, function in SERVICES.items():
        role = resources[service.replace("Service", "TaskRole")]["Properties"]
        assert _statements(role["Policies"]) == _statements(resources[function]["Properties"]["Policies"]), (
            service
        )
        assert "ManagedPolicyArns" not in role
