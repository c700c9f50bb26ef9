"""Intrinsic functions, evaluated as CloudFormation does."""

import base64
from typing import Any

import pytest

from localcloud.intrinsics import IntrinsicError, Resolver, references

PHYSICAL = {"Table": ("petstore-Table", {"Arn": "arn:table", "StreamArn": "arn:stream"})}


def resolver(**conditions: bool) -> Resolver:
    def ref(name: str) -> Any:
        return PHYSICAL[name][0]

    def attribute(name: str, attribute: str) -> Any:
        if attribute not in PHYSICAL[name][1]:
            raise KeyError(f"no attribute {attribute}")
        return PHYSICAL[name][1][attribute]

    return Resolver(
        parameters={"Stage": "dev", "Origins": ["a", "b"], "Count": "3"},
        pseudo_parameters={"AWS::Region": "us-east-1", "AWS::StackName": "stack", "AWS::AccountId": "1"},
        conditions={"IsProd": False, **conditions},
        mappings={"Sizes": {"dev": {"memory": 128}}},
        resource_ref=ref,
        resource_attribute=attribute,
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Ref": "Stage"}, "dev"),
        ({"Ref": "Origins"}, ["a", "b"]),
        ({"Ref": "AWS::Region"}, "us-east-1"),
        ({"Ref": "Table"}, "petstore-Table"),
        ({"Fn::GetAtt": ["Table", "Arn"]}, "arn:table"),
        ({"Fn::GetAtt": "Table.StreamArn"}, "arn:stream"),
        ({"Fn::Sub": "${AWS::StackName}-${Stage}-${Table}"}, "stack-dev-petstore-Table"),
        ({"Fn::Sub": "${Table.Arn}/index"}, "arn:table/index"),
        ({"Fn::Sub": "${!Literal}-${Stage}"}, "${Literal}-dev"),
        ({"Fn::Sub": ["${x}-${Stage}", {"x": {"Ref": "Table"}}]}, "petstore-Table-dev"),
        ({"Fn::Join": ["-", ["a", {"Ref": "Stage"}, 3]]}, "a-dev-3"),
        ({"Fn::Join": [",", {"Ref": "Origins"}]}, "a,b"),
        ({"Fn::Select": [1, {"Ref": "Origins"}]}, "b"),
        ({"Fn::Split": [",", "x,y"]}, ["x", "y"]),
        ({"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "memory"]}, 128),
        ({"Fn::FindInMap": ["Sizes", "prod", "memory", {"DefaultValue": 64}]}, 64),
        ({"Fn::Base64": "hi"}, base64.b64encode(b"hi").decode()),
        ({"Fn::GetAZs": ""}, ["us-east-1a", "us-east-1b", "us-east-1c"]),
        ({"Fn::If": ["IsProd", "p", "d"]}, "d"),
        ({"Fn::Equals": [{"Ref": "Count"}, 3]}, True),
        ({"Fn::And": [{"Fn::Equals": ["a", "a"]}, {"Condition": "IsProd"}]}, False),
        ({"Fn::Or": [{"Fn::Equals": ["a", "b"]}, {"Fn::Not": [{"Condition": "IsProd"}]}]}, True),
        ({"Fn::Sub": "${Flag}"}, "true"),
    ],
)
def test_functions(value: Any, expected: Any) -> None:
    r = resolver()
    r.parameters = {**r.parameters, "Flag": True}
    assert r.resolve(value) == expected


def test_no_value_removes_properties_and_list_items() -> None:
    value = {
        "Keep": 1,
        "Drop": {"Fn::If": ["IsProd", "x", {"Ref": "AWS::NoValue"}]},
        "List": ["a", {"Fn::If": ["IsProd", "b", {"Ref": "AWS::NoValue"}]}],
    }
    assert resolver().resolve(value) == {"Keep": 1, "List": ["a"]}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"Fn::ImportValue": "x"}, "Fn::ImportValue is not supported"),
        ({"Ref": "Missing"}, "unknown .*resource 'Missing'"),
        ({"Fn::GetAtt": ["Table", "Nope"]}, "Table.Nope"),
        ({"Fn::If": ["Unknown", 1, 2]}, "unknown condition"),
        ({"Fn::Select": [5, ["a"]]}, "out of range"),
        ({"Ref": "AWS::NotificationARNs"}, "not supported"),
    ],
)
def test_errors_name_the_problem(value: Any, message: str) -> None:
    with pytest.raises(IntrinsicError, match=message):
        resolver().resolve(value, "Resources.X.Properties")


def test_errors_say_where() -> None:
    with pytest.raises(IntrinsicError, match=r"^Resources\.Fn\.Properties\.Environment/Ref"):
        resolver().resolve({"Environment": {"Ref": "Missing"}}, "Resources.Fn.Properties")


def test_references_for_dependency_order() -> None:
    value = {
        "A": {"Ref": "Table"},
        "B": {"Fn::GetAtt": ["Bucket", "Arn"]},
        "C": {"Fn::Sub": "${Queue.Arn}/${AWS::Region}/${!Escaped}"},
        "D": {"Fn::Sub": ["${local}", {"local": {"Ref": "Topic"}}]},
        "E": {"Fn::GetAtt": "Api.ApiEndpoint"},
    }
    assert set(references(value)) == {"Table", "Bucket", "Queue", "AWS::Region", "Topic", "Api"}
