"""The cache on its own: when the router reads, what it serves when reads fail, and the Scan loop."""

from collections.abc import Iterable, Mapping
from typing import Any

import pytest
from versioning.handler import MAX_SCAN_PAGES, DynamoDBMapping, MappingReadError, VersionRouter

from tests.edge.conftest import TABLE_NAME, FakeClock, create_mapping_table


class Rows:
    """A stand-in for the table read: returns the rows it holds, or raises when told to fail."""

    def __init__(self, *versions: str) -> None:
        self.versions = list(versions)
        self.failing = False
        self.calls = 0

    def __call__(self) -> Iterable[Mapping[str, Any]]:
        self.calls += 1
        if self.failing:
            raise ConnectionError("endpoint unreachable")
        return [{"version": {"S": v}, "domainName": {"S": f"{v}.example.com"}} for v in self.versions]


def make(rows: Rows, clock: FakeClock) -> VersionRouter:
    return VersionRouter(rows, ttl=300, retry_after=5, clock=clock, name="t")


def test_reads_once_per_ttl() -> None:
    clock, rows = FakeClock(), Rows("v1")
    router = make(rows, clock)
    for _ in range(10_000):
        assert router.routes() is not None
    assert (rows.calls, router.reads) == (1, 1)
    clock.advance(299.999)
    router.routes()
    assert rows.calls == 1
    clock.advance(0.001)
    router.routes()
    assert rows.calls == 2


def test_serves_the_last_good_map_while_reads_fail_and_retries_after_the_back_off() -> None:
    clock, rows = FakeClock(), Rows("v1", "v2")
    router = make(rows, clock)
    good = router.routes()
    rows.failing = True
    clock.advance(300)
    for _ in range(128):  # 4 s
        assert router.routes() is good
        clock.advance(0.03125)
    assert (rows.calls, router.failures) == (2, 1)
    clock.advance(1)  # 5 s after the failure
    assert router.routes() is good
    assert (rows.calls, router.failures) == (3, 2)
    rows.failing = False
    rows.versions = ["v2"]
    clock.advance(5)
    routes = router.routes()
    assert routes is not None
    assert list(routes) == ["v2"]
    assert rows.calls == 4
    clock.advance(299)
    router.routes()
    assert rows.calls == 4  # a good read restores the full TTL


def test_none_until_a_read_succeeds() -> None:
    clock, rows = FakeClock(), Rows("v1")
    rows.failing = True
    router = make(rows, clock)
    assert router.routes() is None
    clock.advance(4.9)
    assert router.routes() is None
    assert rows.calls == 1
    rows.failing = False
    clock.advance(0.1)
    assert router.routes() is not None
    assert rows.calls == 2


def test_the_hint_names_the_newest_version_and_all_known_ones() -> None:
    router = make(Rows("v2", "v10", "v1"), FakeClock())
    router.routes()
    assert router.newest == "v10"
    assert router.hint == (
        "Send Accept: application/vnd.petstore.v10+json (or APIVER: v10); known versions: v1, v2, v10."
    )


class PagedClient:
    """Answers Scan like DynamoDB does past 1 MB: a page and a LastEvaluatedKey."""

    def __init__(self, pages: int) -> None:
        self.pages = pages
        self.requests: list[dict[str, Any]] = []

    def scan(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        number = len(self.requests)
        page: dict[str, Any] = {"Items": [{"version": {"S": f"v{number}"}}]}
        if number < self.pages:
            page["LastEvaluatedKey"] = {"version": {"S": f"v{number}"}}
        return page


def test_the_scan_follows_pages() -> None:
    client = PagedClient(pages=3)
    items = DynamoDBMapping("t", "us-east-1", client)()
    assert [item["version"]["S"] for item in items] == ["v1", "v2", "v3"]
    assert client.requests[1] == {"TableName": "t", "ExclusiveStartKey": {"version": {"S": "v1"}}}


def test_the_scan_loop_is_bounded() -> None:
    client = PagedClient(pages=MAX_SCAN_PAGES + 1)
    with pytest.raises(MappingReadError, match="more than"):
        DynamoDBMapping("t", "us-east-1", client)()
    assert len(client.requests) == MAX_SCAN_PAGES


def test_the_scan_reads_the_real_table(aws: None) -> None:
    create_mapping_table().put_item(
        TableName=TABLE_NAME, Item={"version": {"S": "v1"}, "domainName": {"S": "a.example.com"}}
    )
    assert DynamoDBMapping(TABLE_NAME, "us-east-1")() == [
        {"version": {"S": "v1"}, "domainName": {"S": "a.example.com"}}
    ]
