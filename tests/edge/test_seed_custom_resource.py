"""The deploy-time seed: rows written and removed in moto's DynamoDB, answers PUT to a real HTTP server."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from seed import handler as seed

from tests.edge.conftest import API_DOMAIN, SEEDED, TABLE_NAME, create_mapping_table


class Answers:
    """What CloudFormation would receive at the pre-signed ResponseURL."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.content_types: list[str | None] = []


@pytest.fixture
def response_url() -> Iterator[tuple[str, Answers]]:
    answers = Answers()

    class Receiver(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            length = int(self.headers["Content-Length"])
            answers.received.append(json.loads(self.rfile.read(length)))
            answers.content_types.append(self.headers.get("Content-Type"))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/cfn-response?X-Amz-Signature=abc", answers
    server.shutdown()
    server.server_close()


class Context:
    log_stream_name = "2026/01/01/[$LATEST]0123456789abcdef"

    def __init__(self, seconds_left: float = 60.0) -> None:
        self.seconds_left = seconds_left

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds_left * 1000)


MAPPINGS = [
    {"version": "v1", "domainName": API_DOMAIN, "originPath": "/v1"},
    {"version": "v2", "domainName": API_DOMAIN, "originPath": ""},
]


def cfn_event(request_type: str, url: str, mappings: Any = MAPPINGS, **extra: Any) -> dict[str, Any]:
    event = {
        "RequestType": request_type,
        "ResponseURL": url,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/petstore-dev/1a2b3c4d",
        "RequestId": "5f0e9c1a-0000-4000-8000-000000000001",
        "ResourceType": "Custom::VersionMappingSeed",
        "LogicalResourceId": "VersionMappingSeed",
        "ResourceProperties": {
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:seed",
            "TableName": TABLE_NAME,
            "Mappings": mappings,
        },
    }
    event.update(extra)
    return event


def rows(client: Any) -> dict[str, dict[str, Any]]:
    return {item["version"]["S"]: item for item in client.scan(TableName=TABLE_NAME)["Items"]}


@pytest.fixture
def empty_table(aws: None) -> Any:
    return create_mapping_table()


def test_create_writes_the_rows_and_answers_success(
    empty_table: Any, response_url: tuple[str, Answers]
) -> None:
    url, answers = response_url
    seed.lambda_handler(cfn_event("Create", url), Context())
    assert rows(empty_table) == SEEDED
    (answer,) = answers.received
    assert answer == {
        "Status": "SUCCESS",
        "Reason": f"See CloudWatch log stream {Context.log_stream_name}",
        "PhysicalResourceId": f"{TABLE_NAME}/version-mapping-seed",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/petstore-dev/1a2b3c4d",
        "RequestId": "5f0e9c1a-0000-4000-8000-000000000001",
        "LogicalResourceId": "VersionMappingSeed",
        "NoEcho": False,
        "Data": {},
    }
    assert answers.content_types == [""]  # what the pre-signed URL was signed for


def test_an_omitted_origin_path_is_written_as_empty(
    empty_table: Any, response_url: tuple[str, Answers]
) -> None:
    url, answers = response_url
    seed.lambda_handler(cfn_event("Create", url, [{"version": "v2", "domainName": API_DOMAIN}]), Context())
    assert rows(empty_table)["v2"] == SEEDED["v2"]
    assert answers.received[0]["Status"] == "SUCCESS"


def test_update_rewrites_rows_and_removes_versions_no_longer_listed(
    empty_table: Any, response_url: tuple[str, Answers]
) -> None:
    url, answers = response_url
    seed.lambda_handler(cfn_event("Create", url), Context())
    new = [{"version": "v2", "domainName": "new.example.com", "originPath": ""}]
    update = cfn_event(
        "Update",
        url,
        new,
        PhysicalResourceId=f"{TABLE_NAME}/version-mapping-seed",
        OldResourceProperties=cfn_event("Create", url)["ResourceProperties"],
    )
    seed.lambda_handler(update, Context())
    assert set(rows(empty_table)) == {"v2"}
    assert rows(empty_table)["v2"]["domainName"] == {"S": "new.example.com"}
    assert [answer["Status"] for answer in answers.received] == ["SUCCESS", "SUCCESS"]


def test_delete_removes_only_the_unchanged_rows_it_wrote(
    empty_table: Any, response_url: tuple[str, Answers]
) -> None:
    url, answers = response_url
    seed.lambda_handler(cfn_event("Create", url), Context())
    hand_made = {"version": {"S": "v3"}, "domainName": {"S": "v3.example.com"}, "originPath": {"S": ""}}
    empty_table.put_item(TableName=TABLE_NAME, Item=hand_made)
    changed = {**SEEDED["v2"], "domainName": {"S": "moved.example.com"}}
    empty_table.put_item(TableName=TABLE_NAME, Item=changed)
    seed.lambda_handler(
        cfn_event("Delete", url, PhysicalResourceId=f"{TABLE_NAME}/version-mapping-seed"), Context()
    )
    assert rows(empty_table) == {"v2": changed, "v3": hand_made}
    assert answers.received[-1]["Status"] == "SUCCESS"


def test_delete_succeeds_when_the_table_is_gone(aws: None, response_url: tuple[str, Answers]) -> None:
    url, answers = response_url
    seed.lambda_handler(cfn_event("Delete", url, PhysicalResourceId="x/version-mapping-seed"), Context())
    assert answers.received[0]["Status"] == "SUCCESS"
    assert answers.received[0]["PhysicalResourceId"] == "x/version-mapping-seed"  # the id it was sent


def test_delete_after_a_failed_create_with_bad_properties_succeeds(
    aws: None, response_url: tuple[str, Answers]
) -> None:
    url, answers = response_url
    seed.lambda_handler(
        cfn_event("Delete", url, "nonsense", PhysicalResourceId="VersionMappingSeed-not-created"), Context()
    )
    assert answers.received[0]["Status"] == "SUCCESS"
    assert answers.received[0]["PhysicalResourceId"] == "VersionMappingSeed-not-created"


@pytest.mark.parametrize(
    ("mappings", "reason"),
    [
        ([], "Mappings must be a list of 1 to 25 rows"),
        ("v1", "Mappings must be a list"),
        ([{"version": "v1", "domainName": "api.example.com", "colour": "red"}], "each mapping is an object"),
        ([{"version": "one", "domainName": "api.example.com"}], "version must be"),
        ([{"version": "v1", "domainName": "https://api.example.com"}], "domainName must be"),
        (
            [
                {"version": "v1", "domainName": "a.example.com"},
                {"version": "v1", "domainName": "b.example.com"},
            ],
            "twice",
        ),
    ],
)
def test_invalid_properties_answer_failed_and_write_nothing(
    empty_table: Any, response_url: tuple[str, Answers], mappings: Any, reason: str
) -> None:
    url, answers = response_url
    seed.lambda_handler(cfn_event("Create", url, mappings), Context())
    (answer,) = answers.received
    assert answer["Status"] == "FAILED"
    assert reason in answer["Reason"]
    assert answer["PhysicalResourceId"] == "VersionMappingSeed-not-created"
    assert rows(empty_table) == {}


def test_a_missing_table_answers_failed(aws: None, response_url: tuple[str, Answers]) -> None:
    url, answers = response_url
    seed.lambda_handler(cfn_event("Create", url), Context())
    assert answers.received[0]["Status"] == "FAILED"
    assert "ResourceNotFoundException" in answers.received[0]["Reason"]


def test_an_unknown_request_type_answers_failed(empty_table: Any, response_url: tuple[str, Answers]) -> None:
    url, answers = response_url
    seed.lambda_handler(cfn_event("Replace", url), Context())
    assert answers.received[0]["Status"] == "FAILED"


def test_a_hang_still_answers_failed_before_the_timeout_and_only_once(
    empty_table: Any, response_url: tuple[str, Answers], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, answers = response_url
    release = threading.Event()

    def stuck(event: Any, client: Any = None) -> str:
        release.wait(timeout=10)
        return "late"

    monkeypatch.setattr(seed, "handle", stuck)
    worker = threading.Thread(target=seed.lambda_handler, args=(cfn_event("Create", url), Context(3.3)))
    worker.start()
    for _ in range(100):  # the timer fires 0.3 s in (3.3 s left minus the 3 s kept for answering)
        if answers.received:
            break
        threading.Event().wait(0.05)
    release.set()
    worker.join(timeout=10)
    (answer,) = answers.received
    assert answer["Status"] == "FAILED"
    assert answer["Reason"] == "Timed out seeding the table"


def test_a_response_url_that_is_not_http_is_refused() -> None:
    responder = seed.Responder(cfn_event("Create", "file:///etc/passwd"), "stream")
    with pytest.raises(ValueError, match="http"):
        responder.send("SUCCESS", "id")


def test_the_template_mappings_pass_the_edge_validation() -> None:
    """The rows the stack seeds, with the API's domain and the v1 stage's name filled in."""
    from tests.support import RESOURCES

    properties = RESOURCES["VersionMappingSeed"]["Properties"]
    mappings = [
        {
            "version": m["version"],
            "domainName": API_DOMAIN,
            "originPath": "/v1" if isinstance(m["originPath"], dict) else m["originPath"],
        }
        for m in properties["Mappings"]
    ]
    assert properties["Mappings"][0]["originPath"] == {"Fn::Sub": "/${StoreApiV1Stage}"}
    assert RESOURCES["StoreApiV1Stage"]["Properties"]["StageName"] == "v1"
    assert seed.rows_from({"Mappings": mappings}) == list(SEEDED.values())
