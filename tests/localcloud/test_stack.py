"""Deploying templates into the local backend: resources, physical ids, what is reported."""

import json
from pathlib import Path

import pytest

from localcloud.stack import DeployError, deploy, deployment_order, support_of
from localcloud.template import load_template

from .conftest import ECHO_TEMPLATE, REPO, EchoCloud


def test_table_with_indexes_and_ttl(echo_cloud: EchoCloud) -> None:
    dynamodb = echo_cloud.client("dynamodb")
    name = echo_cloud.cloud.stack.physical["EchoTable"].ref  # type: ignore[union-attr]
    assert name == "echo-test-EchoTable"
    table = dynamodb.describe_table(TableName=name)["Table"]
    assert table["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert [index["IndexName"] for index in table["GlobalSecondaryIndexes"]] == ["owner"]
    assert [index["IndexName"] for index in table["LocalSecondaryIndexes"]] == ["local"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"}


def test_bucket(echo_cloud: EchoCloud) -> None:
    s3 = echo_cloud.client("s3")
    name = echo_cloud.cloud.stack.physical["EchoBucket"].ref  # type: ignore[union-attr]
    assert name == "echo-test-echobucket"
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    rules = s3.get_bucket_cors(Bucket=name)["CORSRules"]
    web = echo_cloud.cloud.web_url
    local_web = [web, web.replace("://127.0.0.1:", "://localhost:")]  # added as the deployed web origin is
    assert rules[0]["AllowedOrigins"] == ["http://allowed.example", *local_web]
    assert rules[0]["MaxAgeSeconds"] == 60


def test_user_pool_and_client(echo_cloud: EchoCloud) -> None:
    cognito = echo_cloud.client("cognito-idp")
    physical = echo_cloud.cloud.stack.physical  # type: ignore[union-attr]
    pool = cognito.describe_user_pool(UserPoolId=physical["Users"].ref)["UserPool"]
    assert pool["Name"] == "echo-test-users"
    assert pool["UsernameAttributes"] == ["email"]
    assert pool["Policies"]["PasswordPolicy"]["RequireSymbols"] is False
    client = cognito.describe_user_pool_client(UserPoolId=pool["Id"], ClientId=physical["WebClient"].ref)
    assert client["UserPoolClient"]["ExplicitAuthFlows"] == [
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    ]
    assert (
        physical["Users"].attributes["ProviderURL"]
        == f"https://cognito-idp.us-east-1.amazonaws.com/{pool['Id']}"
    )


def test_rule_and_state_machine(echo_cloud: EchoCloud) -> None:
    physical = echo_cloud.cloud.stack.physical  # type: ignore[union-attr]
    events = echo_cloud.client("events")
    rule = events.describe_rule(Name=physical["UploadsRule"].ref)
    assert json.loads(rule["EventPattern"])["detail"]["bucket"]["name"] == ["echo-test-echobucket"]
    targets = events.list_targets_by_rule(Rule=physical["UploadsRule"].ref)["Targets"]
    assert targets[0]["Arn"] == physical["EchoMachine"].ref
    machine = echo_cloud.client("stepfunctions").describe_state_machine(
        stateMachineArn=physical["EchoMachine"].ref
    )
    definition = json.loads(machine["definition"])
    assert (
        definition["States"]["Echo"]["Parameters"]["FunctionName"]
        == physical["EchoFunction"].attributes["Arn"]
    )
    assert definition["States"]["Done"]["Result"] == "hello from echo-test"


def test_no_op_resources_have_names(echo_cloud: EchoCloud) -> None:
    physical = echo_cloud.cloud.stack.physical  # type: ignore[union-attr]
    assert physical["EchoLogs"].ref == "/aws/lambda/echo-test-EchoFunction"
    (layer,) = echo_cloud.cloud.stack.template.of_type("AWS::Lambda::LayerVersion")  # type: ignore[union-attr]
    assert layer.logical_id.startswith("EchoLayer")  # the transform adds a hash of the content
    assert physical[layer.logical_id].ref == "arn:aws:lambda:us-east-1:123456789012:layer:EchoLayer:1"
    assert "ProdOnlyTable" not in physical


def test_function_spec(echo_cloud: EchoCloud) -> None:
    spec = echo_cloud.cloud.stack.functions["EchoFunction"]  # type: ignore[union-attr]
    assert spec.function_name == "echo-test-EchoFunction"
    assert spec.handler == "echo_app.handler.lambda_handler"
    assert spec.code_dir == ECHO_TEMPLATE.parent / "src"
    assert spec.layer_dirs == (ECHO_TEMPLATE.parent / "lib",)
    assert spec.memory_mb == 256 and spec.timeout_seconds == 3
    assert spec.environment["TABLE_NAME"] == "echo-test-EchoTable"
    assert (
        spec.environment["TABLE_ARN"] == "arn:aws:dynamodb:us-east-1:123456789012:table/echo-test-EchoTable"
    )
    assert spec.environment["MODE"] == "development"
    assert spec.environment["STAGE"] == "test"


def test_routes_and_stages(echo_cloud: EchoCloud) -> None:
    apis = echo_cloud.cloud.stack.apis  # type: ignore[union-attr]
    echo = apis["EchoApi"]
    assert {stage.name: stage.variables for stage in echo.stages} == {
        "$default": {"flavour": "vanilla"},
        "beta": {"flavour": "beta"},
    }
    routes = {route.route_key: route for route in echo.routes}
    assert set(routes) == {
        "ANY /echo/{action}",
        "GET /echo/fixed",
        "GET /private/{action}",
        "GET /scoped",
        "GET /files/{proxy+}",
    }
    assert routes["ANY /echo/{action}"].authorizer is None
    assert routes["GET /private/{action}"].authorizer == "Jwt"
    assert routes["GET /scoped"].scopes == ("echo/admin",)
    assert [route.route_key for route in apis["ServerlessHttpApi"].routes] == ["$default"]


def test_unsupported_features_are_reported_by_name(echo_cloud: EchoCloud) -> None:
    warnings = echo_cloud.cloud.stack.warnings  # type: ignore[union-attr]
    assert "Stream: resource type AWS::Kinesis::Stream is not emulated locally" in warnings
    # SAM turns the Schedule event into a rule: what is reported is what CloudFormation deploys
    assert "EchoFunctionNightly: schedules are not triggered locally" in warnings


def test_an_sqs_queue_is_a_real_queue(echo_cloud: EchoCloud) -> None:
    """Dead letters and failure events land in queues: they exist locally and can be read."""
    physical = echo_cloud.cloud.stack.physical["Queue"]  # type: ignore[union-attr]
    sqs = echo_cloud.client("sqs")
    assert sqs.get_queue_url(QueueName="echo-test-queue")["QueueUrl"] == physical.ref
    assert physical.attributes["Arn"] == "arn:aws:sqs:us-east-1:123456789012:echo-test-queue"
    sqs.send_message(QueueUrl=physical.ref, MessageBody="failed")
    assert sqs.receive_message(QueueUrl=physical.ref)["Messages"][0]["Body"] == "failed"


@pytest.mark.parametrize(
    ("template_path", "overrides"),
    [
        (REPO / "template.yaml", {}),
        # the edge: a CloudFront distribution, a Lambda@Edge function, a custom resource
        (REPO / "template.yaml", {"DeployEdge": "true"}),
        (ECHO_TEMPLATE, {}),
    ],
    ids=["project", "project-with-edge", "echo"],
)
def test_every_resource_type_is_handled_or_reported(
    template_path: Path, overrides: dict[str, str], echo_cloud: EchoCloud
) -> None:
    template = load_template(template_path, overrides, stack_name="coverage-check")
    assert echo_cloud.cloud.backend is not None
    stack = deploy(template, echo_cloud.cloud.backend.client, echo_cloud.cloud.backend.url)
    for logical_id, resource in template.resources.items():
        support = support_of(resource.type)
        if support == "unsupported":
            assert f"{logical_id}: resource type {resource.type} is not emulated locally" in stack.warnings
        else:
            assert logical_id in stack.physical


@pytest.mark.parametrize("deploy_edge", ["false", "true"])
def test_project_template_runs_whole(echo_cloud: EchoCloud, deploy_edge: str) -> None:
    template = load_template(REPO / "template.yaml", {"DeployEdge": deploy_edge}, stack_name="project-check")
    assert echo_cloud.cloud.backend is not None
    stack = deploy(template, echo_cloud.cloud.backend.client, echo_cloud.cloud.backend.url)
    assert [
        warning for warning in stack.warnings if "resource type" in warning or "left out" in warning
    ] == []
    assert set(stack.functions) == {r.logical_id for r in template.of_type("AWS::Lambda::Function")}


def test_unknown_property_is_reported(tmp_path: Path, echo_cloud: EchoCloud) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        """
Resources:
  T:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: reported-property-check
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      KinesisStreamSpecification: {StreamArn: arn:aws:kinesis:us-east-1:1:stream/x}
"""
    )
    assert echo_cloud.cloud.backend is not None
    stack = deploy(load_template(path), echo_cloud.cloud.backend.client, echo_cloud.cloud.backend.url)
    assert stack.warnings == [
        "T (AWS::DynamoDB::Table): property KinesisStreamSpecification is not emulated locally"
    ]


def test_redeploying_finds_the_same_resources(echo_cloud: EchoCloud) -> None:
    assert echo_cloud.cloud.backend is not None and echo_cloud.cloud.stack is not None
    again = deploy(echo_cloud.cloud.template, echo_cloud.cloud.backend.client, echo_cloud.cloud.backend.url)
    for name in ("Users", "WebClient", "EchoTable", "EchoBucket", "EchoMachine", "EchoApi"):
        assert again.physical[name].ref == echo_cloud.cloud.stack.physical[name].ref


def test_dependency_order() -> None:
    order = deployment_order(load_template(ECHO_TEMPLATE))
    assert order.index("Users") < order.index("WebClient") < order.index("EchoApi") < order.index("BetaStage")
    layer = next(name for name in order if name.startswith("EchoLayer"))
    assert order.index(layer) < order.index("EchoFunction") < order.index("EchoMachine")
    assert order.index("EchoMachine") < order.index("UploadsRule")


def test_circular_references_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        """
Resources:
  A: {Type: AWS::Logs::LogGroup, Properties: {LogGroupName: !Ref B}}
  B: {Type: AWS::Logs::LogGroup, Properties: {LogGroupName: !Ref A}}
"""
    )
    with pytest.raises(DeployError, match="circular references between resources: A, B"):
        deployment_order(load_template(path))
