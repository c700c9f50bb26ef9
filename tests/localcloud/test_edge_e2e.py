"""API versions at the edge, end to end, through config.json's ``edgeUrl``.

The versioning function (services/edge) runs on every request exactly as Lambda@Edge runs it: on a
CloudFront origin-request event, reading the version map that the template's custom resource
seeded at deploy time, and the request then goes on to the API version it chose. Against a
deployed stack (``E2E_CONFIG_URL``) the same tests run through its CloudFront distribution.

"A new mapping row takes effect after the TTL" needs a TTL a test can wait for: the function reads
an optional ``ttlSeconds`` from ``edge_config.json`` in its code folder (Lambda@Edge has no
environment variables), so that test runs its own ``localcloud dev`` whose edge function's code
folder is a copy of services/edge with a 3-second TTL -- the same code, configured as an operator
could.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
import yaml

from localcloud.child import DevChild, stop_dev
from localcloud.cognito_user import sign_in
from tests.stack_client import new_pet
from tests.support import E2E_CONFIG_URL, start_dev

from .conftest import REPO, relocatable_project_template

pytestmark = pytest.mark.slow

TIMEOUT = 15
V1 = {"Accept": "application/vnd.petstore.v1+json"}
V2 = {"Accept": "application/vnd.petstore.v2+json"}
PET: dict[str, Any] = {"name": "Edgy", "species": "cat", "priceCents": 1200}
SHORT_TTL_SECONDS = 3
ALLOWED_ORIGIN = os.environ.get("E2E_ALLOWED_ORIGIN", "http://127.0.0.1:3000")


@pytest.fixture(scope="module")
def edge(stack_config: dict[str, Any]) -> str:
    if not stack_config.get("edgeUrl"):
        pytest.skip("this stack has no edge (DeployEdge=false, or a region other than us-east-1)")
    return str(stack_config["edgeUrl"]).rstrip("/")


@pytest.fixture(scope="module")
def auth(stack_config: dict[str, Any]) -> dict[str, str]:
    tokens = sign_in(  # staff: it writes pets through the edge
        stack_config, f"edge-{uuid.uuid4().hex[:10]}@example.com", "Edge-passw0rd-1", groups=("staff",)
    )
    return {"Authorization": f"Bearer {tokens['AccessToken']}"}


def aws(config: dict[str, Any], service: str) -> Any:
    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=config["awsEndpointUrl"],
        region_name=config["region"],
        aws_access_key_id="e2e",
        aws_secret_access_key="e2e",
    )


def mapping_table(config: dict[str, Any]) -> str:
    names = aws(config, "dynamodb").list_tables()["TableNames"]
    return next(name for name in names if name.endswith("-VersionMappingTable"))


@pytest.fixture(scope="module")
def page(stack_config: dict[str, Any], auth: dict[str, str]) -> str:
    """A comments page with two comments, posted straight to the API: a list of known length."""
    page_id = new_pet(stack_config["apiUrl"], auth, "edge")  # a comment's page is a pet
    for message in ("first", "second"):
        posted = requests.post(
            f"{stack_config['apiUrl']}/comments",
            json={"pageId": page_id, "message": message},
            headers=auth,
            timeout=TIMEOUT,
        )
        assert posted.status_code == 201, posted.text
    return page_id


def test_v1_and_v2_shapes_through_the_edge(edge: str, page: str) -> None:
    v1 = requests.get(f"{edge}/comments/{page}", headers=V1, timeout=TIMEOUT)
    assert v1.status_code == 200, v1.text
    assert [comment["message"] for comment in v1.json()] == ["second", "first"]  # a bare array
    v2 = requests.get(f"{edge}/comments/{page}", headers=V2, timeout=TIMEOUT)
    assert v2.status_code == 200, v2.text
    body = v2.json()
    assert set(body) == {"items", "nextToken"} and body["nextToken"] is None
    assert [comment["message"] for comment in body["items"]] == ["second", "first"]


def test_apiver_header_names_the_version(edge: str, page: str) -> None:
    v1 = requests.get(f"{edge}/comments/{page}", headers={"APIVER": "v1"}, timeout=TIMEOUT)
    assert v1.status_code == 200 and isinstance(v1.json(), list)
    v2 = requests.get(f"{edge}/comments/{page}", headers={"APIVER": "v2"}, timeout=TIMEOUT)
    assert v2.status_code == 200 and isinstance(v2.json(), dict)
    both = {"APIVER": "v2", "Accept": "application/vnd.petstore.v2+json"}
    assert requests.get(f"{edge}/comments/{page}", headers=both, timeout=TIMEOUT).status_code == 200


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "No API version in the request."),
        ({"Accept": "application/json"}, "No API version in the request."),
        ({"APIVER": "v9"}, "Unknown API version v9."),
        ({"Accept": "application/vnd.petstore.v42+json"}, "Unknown API version v42."),
        ({"APIVER": "latest"}, "APIVER must be"),
    ],
)
def test_no_or_an_unknown_version_is_a_403_with_a_json_message(
    edge: str, headers: dict[str, str], reason: str
) -> None:
    response = requests.get(f"{edge}/pets", headers=headers, timeout=TIMEOUT)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/json"
    message = response.json()["message"]
    assert message.startswith(reason) and "known versions: v1, v2" in message


def test_authenticated_put_through_the_edge(
    edge: str, auth: dict[str, str], stack_config: dict[str, Any]
) -> None:
    pet_id = f"edge-{uuid.uuid4().hex[:8]}"
    url = f"{edge}/pets/{pet_id}"
    created = requests.put(url, json=PET, headers={**auth, **V2}, timeout=TIMEOUT)
    assert created.status_code == 201, created.text
    assert created.json()["id"] == pet_id and created.headers["etag"] == '"1"'
    one = requests.get(url, headers=V1, timeout=TIMEOUT)
    assert one.status_code == 200 and one.json()["name"] == "Edgy"
    stored = requests.get(f"{stack_config['apiUrl']}/pets/{pet_id}", timeout=TIMEOUT)
    assert stored.status_code == 200 and stored.json()["name"] == "Edgy"
    anonymous = requests.put(url, json=PET, headers=V2, timeout=TIMEOUT)
    assert anonymous.status_code == 401  # the API's JWT authorizer, behind the edge
    deleted = requests.delete(url, headers={**auth, **V1, "If-Match": '"1"'}, timeout=TIMEOUT)
    assert deleted.status_code == 204


def test_a_cors_preflight_without_a_version_goes_to_the_newest(edge: str) -> None:
    """A browser's preflight cannot carry APIVER; the API's own CORS rules answer it."""
    headers = {
        "Origin": ALLOWED_ORIGIN,
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    response = requests.options(f"{edge}/pets/x", headers=headers, timeout=TIMEOUT)
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    listed = requests.get(f"{edge}/pets", headers={**V2, "Origin": ALLOWED_ORIGIN}, timeout=TIMEOUT)
    assert listed.headers["access-control-allow-origin"] == ALLOWED_ORIGIN


def test_the_custom_resource_seeded_the_version_map(stack_config: dict[str, Any], edge: str) -> None:
    if E2E_CONFIG_URL:
        pytest.skip("reads the local backend's table")
    items = aws(stack_config, "dynamodb").scan(TableName=mapping_table(stack_config))["Items"]
    rows = {item["version"]["S"]: item for item in items}
    assert {"v1", "v2"} <= set(rows)
    # the API's AWS domain, as on AWS: the local edge resolves it to the local API server
    domain = rows["v2"]["domainName"]["S"]
    assert domain.endswith(".execute-api.us-east-1.amazonaws.com")
    assert rows["v1"]["domainName"]["S"] == domain
    assert (rows["v1"]["originPath"]["S"], rows["v2"]["originPath"]["S"]) == ("/v1", "")


# ---------------------------------------------------------------------- a new row, after the TTL
def copy_with_short_ttl(tmp: Path) -> Path:
    """The project's template, its edge function's code folder a copy configured with a short TTL."""
    code = tmp / "edge"
    shutil.copytree(REPO / "services" / "edge", code, ignore=shutil.ignore_patterns("__pycache__"))
    (code / "versioning" / "edge_config.json").write_text(json.dumps({"ttlSeconds": SHORT_TTL_SECONDS}))
    raw = relocatable_project_template()
    raw["Resources"]["EdgeVersioningFunction"]["Properties"]["CodeUri"] = str(code)
    path = tmp / "template.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def short_ttl_dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevChild]:
    """``python -m localcloud dev`` on that copy, a process of its own like the session's."""
    if E2E_CONFIG_URL:
        pytest.skip("runs its own local cloud")
    tmp = tmp_path_factory.mktemp("edge-ttl")
    dev = start_dev(tmp, "--parameter-overrides", "DeployEdge=true", template=copy_with_short_ttl(tmp))
    try:
        yield dev
    finally:
        stop_dev(dev.process)


def test_a_new_mapping_row_takes_effect_after_the_ttl(short_ttl_dev: DevChild) -> None:
    config = short_ttl_dev.config
    edge = config["edgeUrl"]
    v3 = {"APIVER": "v3"}
    loaded = time.monotonic()
    assert requests.get(f"{edge}/pets", headers=v3, timeout=TIMEOUT).status_code == 403  # map read now
    dynamodb = aws(config, "dynamodb")
    table = mapping_table(config)
    v2_row = dynamodb.get_item(TableName=table, Key={"version": {"S": "v2"}})["Item"]
    dynamodb.put_item(TableName=table, Item={**v2_row, "version": {"S": "v3"}})  # v3 -> the v2 origin
    try:
        cached = requests.get(f"{edge}/pets", headers=v3, timeout=TIMEOUT)
        assert time.monotonic() - loaded < SHORT_TTL_SECONDS, "too slow to see the cached map"
        assert cached.status_code == 403, "the row must not be seen before the TTL"
        deadline = loaded + SHORT_TTL_SECONDS + 15
        response = cached
        while time.monotonic() < deadline:  # bounded
            response = requests.get(f"{edge}/pets", headers=v3, timeout=TIMEOUT)
            if response.status_code != 403:
                break
            time.sleep(0.25)
        assert response.status_code == 200, response.text
        assert time.monotonic() - loaded >= SHORT_TTL_SECONDS
        assert set(response.json()) == {"items", "nextToken"}  # served by the v2 origin
    finally:
        dynamodb.delete_item(TableName=table, Key={"version": {"S": "v3"}})
    # one warm container throughout: the row was read by the TTL refresh, not by a cold start
    edge_lines = [
        line for line in short_ttl_dev.output().splitlines() if line.startswith("[EdgeDistribution]")
    ]
    assert sum("cold start" in line for line in edge_lines) == 1
