"""The edge function on CloudFront origin-request events (events/edge-*.json) against moto's DynamoDB."""

import json
from typing import Any

import pytest
from versioning import handler

from tests.edge.conftest import (
    API_DOMAIN,
    TABLE_NAME,
    FakeClock,
    Invoke,
    body_of,
    create_mapping_table,
    header,
    load_event,
    request_of,
)


def forwarded(result: dict[str, Any]) -> dict[str, Any]:
    """The request CloudFront forwards; fails if the function answered by itself."""
    assert "status" not in result, result
    return result


def refused(result: dict[str, Any], status: str = "403") -> str:
    """The message of a generated response, after checking its shape."""
    assert result["status"] == status, result
    assert header(result, "content-type") == "application/json"
    assert header(result, "cache-control") == "no-store"
    body = body_of(result)
    assert set(body) == {"message"}
    return str(body["message"])


def with_headers(name: str, **headers: str) -> dict[str, Any]:
    """A sample event with some viewer headers replaced (None-like empty string removes one)."""
    event = load_event(name)
    request = request_of(event)
    for key, value in headers.items():
        request["headers"].pop(key, None)
        if value:
            request["headers"][key] = [{"key": key.title(), "value": value}]
    return event


# ---------------------------------------------------------------- the sample events


def test_accept_v1_goes_to_the_v1_stage(invoke: Invoke) -> None:
    event = load_event("edge-v1")
    request = forwarded(invoke(event))
    origin = request["origin"]["custom"]
    assert (origin["domainName"], origin["path"], origin["port"], origin["protocol"]) == (
        API_DOMAIN,
        "/v1",
        443,
        "https",
    )
    assert request["headers"]["host"] == [{"key": "Host", "value": API_DOMAIN}]
    # the table's coordinates are not passed on to the API ...
    assert origin["customHeaders"] == {}
    # ... and nothing else changes
    original = request_of(event)
    assert {k: v for k, v in request.items() if k != "origin"} == {
        k: v for k, v in original.items() if k != "origin"
    }
    assert {k: v for k, v in origin.items() if k not in ("path", "customHeaders")} == {
        k: v for k, v in original["origin"]["custom"].items() if k not in ("path", "customHeaders")
    }


def test_accept_v2_goes_to_the_default_stage_with_body_and_token_untouched(invoke: Invoke) -> None:
    event = load_event("edge-v2")
    request = forwarded(invoke(event))
    assert request["origin"]["custom"]["path"] == ""
    assert request["origin"]["custom"]["domainName"] == API_DOMAIN
    original = request_of(event)
    assert request["method"] == "PUT"
    assert request["body"] == original["body"]
    assert request["headers"]["authorization"] == original["headers"]["authorization"]
    assert request["headers"]["if-match"] == original["headers"]["if-match"]


def test_apiver_header_selects_the_version(invoke: Invoke) -> None:
    request = forwarded(invoke(load_event("edge-apiver-header")))
    assert request["origin"]["custom"]["path"] == "/v1"
    assert request["uri"] == "/pets/rex"


def test_missing_version_is_a_403_naming_the_headers_and_versions(invoke: Invoke) -> None:
    message = refused(invoke(load_event("edge-missing-header")))
    assert message == (
        "No API version in the request. Send Accept: application/vnd.petstore.v2+json "
        "(or APIVER: v2); known versions: v1, v2."
    )


def test_unknown_version_is_a_403_naming_the_known_ones(invoke: Invoke) -> None:
    message = refused(invoke(load_event("edge-unknown-version")))
    assert message.startswith("Unknown API version v9. ")
    assert "known versions: v1, v2." in message


# ---------------------------------------------------------------- header rules


@pytest.mark.parametrize(
    ("headers", "path"),
    [
        ({"accept": "application/vnd.petstore.v2+json", "apiver": "v2"}, ""),  # both, agreeing
        ({"accept": "*/*", "apiver": "V1"}, "/v1"),  # APIVER is case-insensitive
        ({"accept": "", "apiver": " v1 "}, "/v1"),  # surrounding blanks are not part of the value
        ({"accept": "application/vnd.petstore.v1+json", "apiver": ""}, "/v1"),
    ],
)
def test_version_headers_that_route(invoke: Invoke, headers: dict[str, str], path: str) -> None:
    request = forwarded(invoke(with_headers("edge-missing-header", **headers)))
    assert request["origin"]["custom"]["path"] == path


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        (
            {"accept": "application/vnd.petstore.v1+json", "apiver": "v2"},
            "Accept asks for v1 but APIVER asks for v2.",
        ),
        ({"accept": "*/*", "apiver": "2"}, "APIVER must be 'v' followed by 1 to 3 digits, not '2'."),
        ({"accept": "application/vnd.petstore.v1+json", "apiver": "v1000"}, "APIVER must be"),
        ({"accept": "application/vnd.petstore.version1+json"}, "malformed version"),
        ({"accept": "application/vnd.petstore.v1+json;q=2"}, "malformed version or q"),
        ({"accept": "application/vnd.petstore.v1+json;q=0"}, "No API version in the request."),
        ({"accept": "application/vnd.petstore+json"}, "No API version in the request."),
        ({"accept": "application/json", "apiver": ""}, "No API version in the request."),
    ],
)
def test_version_headers_that_are_refused(invoke: Invoke, headers: dict[str, str], reason: str) -> None:
    message = refused(invoke(with_headers("edge-missing-header", **headers)))
    assert reason in message
    assert "Send Accept: application/vnd.petstore.v2+json (or APIVER: v2)" in message


def test_a_repeated_accept_header_is_read_as_one_list(invoke: Invoke) -> None:
    event = load_event("edge-missing-header")
    request_of(event)["headers"]["accept"] = [
        {"key": "Accept", "value": "text/html"},
        {"key": "Accept", "value": "application/vnd.petstore.v1+json"},
    ]
    assert forwarded(invoke(event))["origin"]["custom"]["path"] == "/v1"


def test_a_cors_preflight_without_a_version_goes_to_the_newest_version(invoke: Invoke) -> None:
    event = with_headers(
        "edge-missing-header",
        accept="*/*",
        origin="http://127.0.0.1:3000",
        **{"access-control-request-method": "PUT", "access-control-request-headers": "apiver,authorization"},
    )
    request_of(event)["method"] = "OPTIONS"
    assert forwarded(invoke(event))["origin"]["custom"]["path"] == ""


def test_an_options_request_that_is_not_a_preflight_still_needs_a_version(invoke: Invoke) -> None:
    event = load_event("edge-missing-header")
    request_of(event)["method"] = "OPTIONS"
    refused(invoke(event))


# ---------------------------------------------------------------- mapping rows


def test_a_local_row_with_port_and_http_rewrites_port_protocol_and_host(table: Any, invoke: Invoke) -> None:
    table.put_item(
        TableName=TABLE_NAME,
        Item={"version": {"S": "v1"}, "domainName": {"S": "127.0.0.1:8081"}, "protocol": {"S": "http"}},
    )
    origin_request = forwarded(invoke(load_event("edge-v1")))
    origin = origin_request["origin"]["custom"]
    assert (origin["domainName"], origin["port"], origin["protocol"], origin["path"]) == (
        "127.0.0.1",
        8081,
        "http",
        "",
    )
    assert header(origin_request, "host") == "127.0.0.1:8081"


def test_invalid_rows_are_ignored_and_logged_valid_ones_still_route(
    table: Any, invoke: Invoke, capsys: pytest.CaptureFixture[str]
) -> None:
    for item in (
        {"version": {"S": "v3"}, "domainName": {"S": "bad host"}},
        {"version": {"S": "v4"}, "domainName": {"S": "api.example.com"}, "originPath": {"S": "/v4/"}},
        {"version": {"S": "latest"}, "domainName": {"S": "api.example.com"}},
    ):
        table.put_item(TableName=TABLE_NAME, Item=item)
    message = refused(invoke(with_headers("edge-missing-header", apiver="v3")))
    assert message.startswith("Unknown API version v3.")
    assert "known versions: v1, v2." in message
    assert capsys.readouterr().out.count('"version mapping row ignored"') == 3
    assert forwarded(invoke(load_event("edge-v1")))["origin"]["custom"]["path"] == "/v1"


def test_versions_sort_by_number_in_the_message(table: Any, invoke: Invoke) -> None:
    table.put_item(
        TableName=TABLE_NAME, Item={"version": {"S": "v10"}, "domainName": {"S": "api.example.com"}}
    )
    message = refused(invoke(load_event("edge-unknown-version")))
    assert message.endswith(
        "Send Accept: application/vnd.petstore.v10+json (or APIVER: v10); known versions: v1, v2, v10."
    )


def test_an_empty_table_refuses_every_version(aws: None, clock: FakeClock) -> None:
    create_mapping_table()
    message = refused(handler.lambda_handler(load_event("edge-v1"), None))
    assert message == (
        "Unknown API version v1. Send Accept: application/vnd.petstore.v1+json (or APIVER: v1); "
        "known versions: none."
    )


# ---------------------------------------------------------------- the cache


def test_one_table_read_serves_every_request_within_the_ttl(
    invoke: Invoke, clock: FakeClock, scans: list[str]
) -> None:
    events = [load_event(name) for name in ("edge-v1", "edge-v2", "edge-missing-header")]
    for i in range(300):
        invoke(events[i % 3])
        clock.advance(299.0 / 300)
    assert scans == [TABLE_NAME]
    clock.advance(1.0)  # now 300 s after the first read
    invoke(events[0])
    assert scans == [TABLE_NAME, TABLE_NAME]


def test_a_new_row_takes_effect_after_the_ttl_without_a_redeploy(
    table: Any, invoke: Invoke, clock: FakeClock
) -> None:
    v3 = with_headers("edge-missing-header", accept="application/vnd.petstore.v3+json")
    refused(invoke(v3))
    table.put_item(
        TableName=TABLE_NAME,
        Item={
            "version": {"S": "v3"},
            "domainName": {"S": "v3.api.example.com"},
            "originPath": {"S": "/beta"},
        },
    )
    clock.advance(handler.TTL_SECONDS - 1)
    refused(invoke(v3))  # still the cached map
    clock.advance(1)
    origin = forwarded(invoke(v3))["origin"]["custom"]
    assert (origin["domainName"], origin["path"]) == ("v3.api.example.com", "/beta")


def test_the_config_file_may_shorten_the_ttl(table: Any, invoke: Invoke, clock: FakeClock) -> None:
    handler.CONFIG_FILE.write_text(json.dumps({"ttlSeconds": 2}))
    v3 = with_headers("edge-missing-header", accept="application/vnd.petstore.v3+json")
    refused(invoke(v3))
    table.put_item(
        TableName=TABLE_NAME, Item={"version": {"S": "v3"}, "domainName": {"S": "v3.api.example.com"}}
    )
    clock.advance(1.5)
    refused(invoke(v3))
    clock.advance(0.5)
    assert forwarded(invoke(v3))["origin"]["custom"]["domainName"] == "v3.api.example.com"


@pytest.mark.parametrize("ttl", [0, -1, 3601, "10", True])
def test_an_invalid_ttl_in_the_config_file_is_ignored(
    table: Any, invoke: Invoke, clock: FakeClock, ttl: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    handler.CONFIG_FILE.write_text(json.dumps({"ttlSeconds": ttl}))
    forwarded(invoke(load_event("edge-v1")))
    assert handler.router_for(TABLE_NAME, "us-east-1").ttl == handler.TTL_SECONDS
    assert "edge_config.json ignored" in capsys.readouterr().out


def test_a_failed_read_serves_the_last_good_map_and_backs_off(
    table: Any, invoke: Invoke, clock: FakeClock, scans: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    forwarded(invoke(load_event("edge-v1")))
    table.delete_table(TableName=TABLE_NAME)  # every read fails from now on
    clock.advance(handler.TTL_SECONDS)
    assert handler.RETRY_AFTER_SECONDS == 5.0
    for _ in range(64):  # 4 s, within the back-off: one failed read, then the stale map from memory
        assert forwarded(invoke(load_event("edge-v1")))["origin"]["custom"]["path"] == "/v1"
        clock.advance(0.0625)
    assert len(scans) == 2
    logged = capsys.readouterr().out
    assert '"version mapping read failed"' in logged
    assert '"serving": "last good mapping"' in logged
    assert "ResourceNotFoundException" in logged
    clock.advance(1.0)
    forwarded(invoke(load_event("edge-v2")))
    assert len(scans) == 3  # retried after the back-off, failed again, still serving
    create_mapping_table()  # the table is back, with only v2
    table.put_item(TableName=TABLE_NAME, Item={"version": {"S": "v2"}, "domainName": {"S": API_DOMAIN}})
    clock.advance(handler.RETRY_AFTER_SECONDS)
    refused(invoke(load_event("edge-v1")))  # the fresh map replaced the stale one
    assert len(scans) == 4


def test_never_read_and_failing_is_a_503_and_retries_only_after_the_back_off(
    aws: None, clock: FakeClock, scans: list[str]
) -> None:
    result = handler.lambda_handler(load_event("edge-v1"), None)
    assert refused(result, "503") == "The API version mapping is unavailable; retry shortly."
    assert header(result, "retry-after") == "5"
    refused(handler.lambda_handler(load_event("edge-v2"), None), "503")
    assert len(scans) == 1
    create_mapping_table()
    clock.advance(handler.RETRY_AFTER_SECONDS)
    refused(handler.lambda_handler(load_event("edge-v1"), None))  # read now; the table is empty
    assert len(scans) == 2


# ---------------------------------------------------------------- configuration


def test_without_origin_headers_the_config_file_names_the_table(
    table: Any, clock: FakeClock, scans: list[str]
) -> None:
    handler.CONFIG_FILE.write_text(json.dumps({"tableName": TABLE_NAME, "region": "us-east-1"}))
    event = load_event("edge-v1")
    request_of(event)["origin"]["custom"]["customHeaders"] = {}
    assert forwarded(handler.lambda_handler(event, None))["origin"]["custom"]["path"] == "/v1"
    assert scans == [TABLE_NAME]


def test_the_origin_headers_win_over_the_config_file(table: Any, clock: FakeClock, scans: list[str]) -> None:
    handler.CONFIG_FILE.write_text('{"tableName": "some-other-table"}')
    forwarded(handler.lambda_handler(load_event("edge-v1"), None))
    assert scans == [TABLE_NAME]


def test_the_table_region_comes_from_its_header(aws: None, clock: FakeClock) -> None:
    create_mapping_table(region="eu-west-1").put_item(
        TableName=TABLE_NAME, Item={"version": {"S": "v1"}, "domainName": {"S": "eu.example.com"}}
    )
    event = load_event("edge-v1")
    request_of(event)["origin"]["custom"]["customHeaders"]["x-version-table-region"][0]["value"] = "eu-west-1"
    assert (
        forwarded(handler.lambda_handler(event, None))["origin"]["custom"]["domainName"] == "eu.example.com"
    )


@pytest.mark.parametrize("file_text", [None, "not json", '{"region": "us-east-1"}', '["x"]'])
def test_no_table_anywhere_is_a_500(
    aws: None, clock: FakeClock, file_text: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    if file_text is not None:
        handler.CONFIG_FILE.write_text(file_text)
    event = load_event("edge-v1")
    request_of(event)["origin"]["custom"]["customHeaders"] = {}
    assert (
        refused(handler.lambda_handler(event, None), "500") == "API versioning is misconfigured at the edge."
    )
    assert "x-version-table" in capsys.readouterr().out


def test_an_unexpected_event_is_a_500_without_a_stack_trace(clock: FakeClock) -> None:
    result = handler.lambda_handler({"Records": []}, None)
    assert refused(result, "500") == "Internal error while choosing the API version."


# ---------------------------------------------------------------- the header decides, not the path


@pytest.mark.parametrize(
    "uri",
    ["/v1/pets", "/v2/pets", "/v1", "/v1/", "/v9/pets", "/V1/pets", "/v01/pets", "/%76%31/pets", "//v1/pets"],
)
def test_a_stage_in_the_path_is_refused_whatever_the_header(invoke: Invoke, uri: str) -> None:
    """``GET /v1/pets`` with ``APIVER: v2`` used to reach stage v1: the path, not the table, decided."""
    for version in ("v1", "v2"):
        event = with_headers("edge-missing-header", apiver=version)
        request_of(event)["uri"] = uri
        message = refused(invoke(event))
        assert message.startswith("The path names an API version"), message
        assert "known versions: v1, v2." in message


@pytest.mark.parametrize("uri", ["/pets/v1", "/pets", "/v1x/pets", "/version/v2"])
def test_a_version_elsewhere_in_the_path_is_an_ordinary_path(invoke: Invoke, uri: str) -> None:
    event = with_headers("edge-missing-header", apiver="v1")
    request_of(event)["uri"] = uri
    request = forwarded(invoke(event))
    assert request["uri"] == uri and request["origin"]["custom"]["path"] == "/v1"


def test_a_viewer_request_event_is_the_misconfigured_answer(
    table: Any, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """Attached to viewer-request, the function gets no ``origin``: say so, not a generic 500."""
    event = load_event("edge-v1")
    event["Records"][0]["cf"]["config"]["eventType"] = "viewer-request"
    del request_of(event)["origin"]
    assert (
        refused(handler.lambda_handler(event, None), "500") == "API versioning is misconfigured at the edge."
    )
    logged = capsys.readouterr().out
    assert "origin-request events only" in logged and '"eventType": "viewer-request"' in logged
    assert "edge versioning failed" not in logged  # an answer, not a caught exception
