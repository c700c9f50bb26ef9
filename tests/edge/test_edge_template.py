"""The edge resources of template.yaml keep the rules Lambda@Edge and this design impose."""

from pathlib import Path
from typing import Any

from tests.support import RESOURCES, ROOT, TEMPLATE

EDGE_RESOURCES = {
    "VersionMappingTable",
    "EdgeVersioningFunction",
    "EdgeVersioningFunctionRole",
    "EdgeDistribution",
    "VersionMappingSeedFunction",
    "VersionMappingSeedFunctionLogs",
    "VersionMappingSeed",
}


def test_edge_resources_exist_only_with_deploy_edge_in_us_east_1() -> None:
    assert TEMPLATE["Parameters"]["DeployEdge"]["Default"] == "false"
    assert TEMPLATE["Conditions"]["CreateEdge"] == {
        "Fn::And": [
            {"Fn::Equals": [{"Ref": "DeployEdge"}, "true"]},
            {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]},
        ]
    }
    conditional = {name for name, resource in RESOURCES.items() if resource.get("Condition") == "CreateEdge"}
    assert conditional == EDGE_RESOURCES
    outputs = TEMPLATE["Outputs"]
    assert outputs["EdgeUrl"]["Condition"] == outputs["VersionMappingTableName"]["Condition"] == "CreateEdge"


def test_the_edge_function_fits_lambda_at_edge() -> None:
    function = RESOURCES["EdgeVersioningFunction"]
    assert function["IgnoreGlobals"] == "*"  # no environment, layer, arm64 or tracing from Globals
    props = function["Properties"]
    assert props["Runtime"] == "python3.13"
    assert props["Architectures"] == ["x86_64"]
    assert props["MemorySize"] == 128
    assert props["Timeout"] <= 30  # origin-request limit
    assert props["AutoPublishAlias"] == "live"  # CloudFront needs a numbered version
    for forbidden in ("Environment", "Layers", "Tracing", "VpcConfig", "DeadLetterQueue"):
        assert forbidden not in props
    module, _, function_name = props["Handler"].rpartition(".")
    assert (ROOT / props["CodeUri"] / Path(*module.split("."))).with_suffix(".py").is_file()
    assert function_name == "lambda_handler"


def test_the_edge_role_is_assumable_at_the_edge_and_only_scans_the_mapping_table() -> None:
    role = RESOURCES["EdgeVersioningFunctionRole"]["Properties"]
    assert RESOURCES["EdgeVersioningFunction"]["Properties"]["Role"] == {
        "Fn::GetAtt": ["EdgeVersioningFunctionRole", "Arn"]
    }
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert sorted(trust["Principal"]["Service"]) == ["edgelambda.amazonaws.com", "lambda.amazonaws.com"]
    assert trust["Action"] == "sts:AssumeRole"
    statements = [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]
    assert statements == [
        {
            "Effect": "Allow",
            "Action": "dynamodb:Scan",
            "Resource": {"Fn::GetAtt": ["VersionMappingTable", "Arn"]},
        }
    ]
    assert role["ManagedPolicyArns"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}
    ]


def test_the_mapping_table_is_keyed_by_version_and_ready_to_become_global() -> None:
    props = RESOURCES["VersionMappingTable"]["Properties"]
    assert props["KeySchema"] == [{"AttributeName": "version", "KeyType": "HASH"}]
    assert props["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}


def behaviour_and_origin() -> tuple[dict[str, Any], dict[str, Any]]:
    config = RESOURCES["EdgeDistribution"]["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    return config["DefaultCacheBehavior"], origin


def test_the_distribution_sends_everything_uncached_through_the_function() -> None:
    behaviour, origin = behaviour_and_origin()
    assert origin["DomainName"] == {"Fn::Sub": "${StoreApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert behaviour["TargetOriginId"] == origin["Id"]
    assert behaviour["ViewerProtocolPolicy"] in ("https-only", "redirect-to-https")
    assert sorted(behaviour["AllowedMethods"]) == ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
    assert behaviour["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled
    assert (
        behaviour["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"
    )  # AllViewerExceptHostHeader
    assert behaviour["LambdaFunctionAssociations"] == [
        {
            "EventType": "origin-request",
            "LambdaFunctionARN": {"Ref": "EdgeVersioningFunction.Version"},
            "IncludeBody": True,
        }
    ]


def test_the_origin_headers_name_the_table_the_function_reads() -> None:
    from versioning.handler import REGION_HEADER, TABLE_HEADER

    _, origin = behaviour_and_origin()
    headers = {h["HeaderName"]: h["HeaderValue"] for h in origin["OriginCustomHeaders"]}
    assert headers == {TABLE_HEADER: {"Ref": "VersionMappingTable"}, REGION_HEADER: {"Ref": "AWS::Region"}}


def test_the_seed_is_served_by_its_function_and_writes_the_mapping_table() -> None:
    seed = RESOURCES["VersionMappingSeed"]["Properties"]
    assert seed["ServiceToken"] == {"Fn::GetAtt": ["VersionMappingSeedFunction", "Arn"]}
    assert seed["TableName"] == {"Ref": "VersionMappingTable"}
    function = RESOURCES["VersionMappingSeedFunction"]
    assert function["IgnoreGlobals"] == "*"
    assert function["Properties"]["Handler"] == "seed.handler.lambda_handler"
    (policy,) = function["Properties"]["Policies"]
    assert policy["Statement"] == [
        {
            "Effect": "Allow",
            "Action": ["dynamodb:PutItem", "dynamodb:DeleteItem"],
            "Resource": {"Fn::GetAtt": ["VersionMappingTable", "Arn"]},
        }
    ]
