"""The pure parts of the edge decision: Accept parsing, header precedence and mapping rows."""

from typing import Any

import pytest
from versioning.handler import requested_version, version_from_accept
from versioning.mapping import Route, parse_route


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("application/vnd.petstore.v1+json", ("v1", False)),
        ("APPLICATION/VND.PETSTORE.V2+JSON", ("v2", False)),
        ("text/html, application/vnd.petstore.v2+json;q=0.9, */*;q=0.1", ("v2", False)),
        ("application/vnd.petstore.v1+json;q=0.5, application/vnd.petstore.v2+json", ("v2", False)),
        ("application/vnd.petstore.v1+json, application/vnd.petstore.v2+json", ("v1", False)),  # tie: first
        ("application/vnd.petstore.v2+json ; Q=0.8 , application/vnd.petstore.v1+json;q=0.75", ("v2", False)),
        ("application/vnd.petstore.v1+json; charset=utf-8; q=1.000", ("v1", False)),
        ("application/vnd.petstore.v123+json", ("v123", False)),
        ("application/vnd.petstore.v1+json;q=0, application/vnd.petstore.v2+json;q=0.001", ("v2", False)),
        ("application/vnd.petstore.v1+json;q=0.0", (None, False)),  # q=0: explicitly not acceptable
        ("application/json, */*", (None, False)),
        ("application/vnd.petstore+json", (None, False)),  # no version named
        ("application/vnd.other.v1+json", (None, False)),
        ("application/vnd.petstore.v1+xml", (None, False)),
        ("", (None, False)),
        ("application/vnd.petstore.v1000+json", (None, True)),
        ("application/vnd.petstore.1+json", (None, True)),
        ("application/vnd.petstore.+json", (None, True)),
        ("application/vnd.petstore.v1+json;q=1.5", (None, True)),
        ("application/vnd.petstore.v1+json;q=abc", (None, True)),
        ("application/vnd.petstore.v1+json;q=0.1234", (None, True)),
        ("application/vnd.petstore.bad+json, application/vnd.petstore.v2+json;q=0.2", ("v2", True)),
    ],
)
def test_accept_parsing(accept: str, expected: tuple[str | None, bool]) -> None:
    assert version_from_accept(accept) == expected


def headers(**values: str) -> dict[str, list[dict[str, str]]]:
    return {name: [{"key": name.title(), "value": value}] for name, value in values.items()}


@pytest.mark.parametrize(
    ("given", "version"),
    [
        ({"accept": "application/vnd.petstore.v1+json"}, "v1"),
        ({"apiver": "v2"}, "v2"),
        ({"accept": "*/*", "apiver": "v2"}, "v2"),
        ({"accept": "application/vnd.petstore.v2+json", "apiver": "V2"}, "v2"),
        # Accept has v1 and v2, APIVER says v2: Accept's choice (v1, first) differs, so it is refused
        (
            {"accept": "application/vnd.petstore.v1+json, application/vnd.petstore.v2+json", "apiver": "v2"},
            None,
        ),
        ({"accept": "application/vnd.petstore.v1+json", "apiver": "v2"}, None),
        ({"accept": "application/vnd.petstore.v1+json", "apiver": "one"}, None),
        ({"apiver": "v1,v2"}, None),
        ({}, None),
    ],
)
def test_header_precedence(given: dict[str, str], version: str | None) -> None:
    found, problem = requested_version(headers(**given))
    assert found == version
    assert (problem == "") == (version is not None)


def row(**attributes: Any) -> dict[str, Any]:
    return {name: value if isinstance(value, dict) else {"S": value} for name, value in attributes.items()}


@pytest.mark.parametrize(
    ("item", "route"),
    [
        (
            row(version="v1", domainName="abc.execute-api.us-east-1.amazonaws.com", originPath="/v1"),
            Route(
                "v1",
                "abc.execute-api.us-east-1.amazonaws.com",
                443,
                "https",
                "/v1",
                "abc.execute-api.us-east-1.amazonaws.com",
            ),
        ),
        (
            row(version="v2", domainName="api.example.com"),
            Route("v2", "api.example.com", 443, "https", "", "api.example.com"),
        ),
        (
            row(version="v2", domainName="127.0.0.1:3002", protocol="http"),
            Route("v2", "127.0.0.1", 3002, "http", "", "127.0.0.1:3002"),
        ),
        (
            row(version="v3", domainName="api.example.com", port={"N": "8443"}, originPath="/a/b"),
            Route("v3", "api.example.com", 8443, "https", "/a/b", "api.example.com:8443"),
        ),
        (
            row(version="v4", domainName="api.example.com:80", protocol="HTTP", port={"N": "80"}),
            Route("v4", "api.example.com", 80, "http", "", "api.example.com"),
        ),
        (
            row(version="v5", domainName="x.example", originPath={"NULL": True}),
            Route("v5", "x.example", 443, "https", "", "x.example"),
        ),
    ],
)
def test_valid_rows(item: dict[str, Any], route: Route) -> None:
    assert parse_route(item) == route


@pytest.mark.parametrize(
    ("item", "problem"),
    [
        (row(domainName="api.example.com"), "version must be"),
        (row(version="V1", domainName="api.example.com"), "version must be"),
        (row(version={"N": "1"}, domainName="api.example.com"), "version must be of DynamoDB type S"),
        (row(version="v1"), "domainName is required"),
        (row(version="v1", domainName=""), "domainName is required"),
        (row(version="v1", domainName="https://api.example.com"), "domainName must be"),
        (row(version="v1", domainName="api.example.com/v1"), "domainName must be"),
        (row(version="v1", domainName="-bad.example.com"), "domainName must be"),
        (row(version="v1", domainName="[::1]:80"), "domainName must be"),
        (row(version="v1", domainName="api.example.com:0"), "port must be"),
        (row(version="v1", domainName="api.example.com:99999"), "port must be"),
        (row(version="v1", domainName="api.example.com:http"), "domainName must be"),
        (row(version="v1", domainName="api.example.com:81", port={"N": "82"}), "differ"),
        (row(version="v1", domainName="api.example.com", protocol="ftp"), "protocol must be"),
        (row(version="v1", domainName="api.example.com", originPath="v1"), "originPath must be"),
        (row(version="v1", domainName="api.example.com", originPath="/v1/"), "originPath must be"),
        (row(version="v1", domainName="api.example.com", originPath="/v1?x=1"), "originPath must be"),
        (row(version="v1", domainName="api.example.com", originPath="/" + "a" * 255), "originPath must be"),
        (
            row(version="v1", domainName="api.example.com", protocol={"SS": ["http"]}),
            "protocol must be of DynamoDB type S",
        ),
        ({"version": "v1", "domainName": {"S": "api.example.com"}}, "not a DynamoDB attribute value"),
    ],
)
def test_invalid_rows(item: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_route(item)
