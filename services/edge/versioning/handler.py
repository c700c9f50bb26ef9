"""Header-based API versioning at the edge: a Lambda@Edge function on CloudFront's origin-request.

Why at the edge: clients name the API version in a header and never learn where each version is
served; CloudFront sends the request to that version's origin. Why a table: the version -> origin
mapping changes (a v3 appears, v1 retires) without redeploying this function, which would mean a
new version replicated to every edge location.

Which version a request asks for:

* ``Accept: application/vnd.petstore.<version>+json``: several comma-separated media ranges are
  allowed, compared case-insensitively; ``q=0`` means "not this one"; among several petstore
  versions the highest ``q`` wins, then the first listed. Other media ranges are ignored.
* ``APIVER: <version>``.

A version is ``v`` and 1 to 3 digits. If both headers name a version and they differ, the request
is refused (403) rather than guessed: either answer could hand the client a shape it cannot read.

Only the header decides, so that only the mapping table decides which versions exist: a path whose
first segment names a stage (``/v1/pets``, ``/v2``, any ``/v<digits>``, percent-encoded or not) is
refused (403). Forwarded, it would reach that stage of the API whatever the header said, including
a version the table has retired.
A CORS preflight (``OPTIONS`` with ``Access-Control-Request-Method``) cannot carry ``APIVER``, so
one that names no version goes to the newest version (every version shares the API's CORS rules).

Where it is sent: the mapping row of that version (see ``versioning.mapping``) replaces
``origin.custom`` (``domainName``, ``path``, ``port``, ``protocol``) and the ``Host`` header.

Configuration: Lambda@Edge has no environment variables. The table's name and region come from the
origin custom headers ``x-version-table`` and ``x-version-table-region`` that the distribution adds
(template.yaml), else from ``edge_config.json`` beside this file: ``{"tableName": "...",
"region": "us-east-1"}``, written into the build artifact by whoever runs a distribution that cannot
set the headers. The region defaults to us-east-1, where Lambda@Edge stacks live. Both headers are
removed before the request goes on: the API has no use for them. The same file may set
``"ttlSeconds"`` (more than 0, at most 3600; default ``TTL_SECONDS``): a shorter one makes a new
mapping row take effect sooner, for more reads of the table.

Cache: each container scans the table at most once per ``TTL_SECONDS`` and decides from memory in
between. A failed read keeps the last good map (and says so in the log) and is retried after
``RETRY_AFTER_SECONDS``, not on every request. A container that never read the map answers 503.
Lambda gives a container one request at a time, so the cache needs no lock.

Responses made here instead of forwarding: 403 for a missing, malformed, conflicting or unknown
version, or a stage in the path; 503 while the mapping cannot be read; 500 when the function is
misconfigured (no table, no custom origin, attached to viewer-request, where CloudFront has chosen
no origin yet) or fails. Each is JSON ``{"message": ...}`` with ``cache-control: no-store``.
"""

import json
import re
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote

import boto3
from botocore.config import Config

from versioning.mapping import VERSION_PATTERN, Route, parse_route, version_number

VENDOR: Final = "petstore"
TABLE_HEADER: Final = "x-version-table"
REGION_HEADER: Final = "x-version-table-region"
DEFAULT_TABLE_REGION: Final = "us-east-1"
CONFIG_FILE: Final = Path(__file__).with_name("edge_config.json")

TTL_SECONDS: Final = 300.0
MAX_TTL_SECONDS: Final = 3600.0
RETRY_AFTER_SECONDS: Final = 5.0
MAX_SCAN_PAGES: Final = 20  # a handful of rows fit in one page; this only bounds the loop
MAX_ROUTERS: Final = 4  # one per (table, region); a distribution names one

# Short timeouts: a slow read holds a viewer's request. Two attempts of at most 1 s + 1 s stay inside
# the function's 5 s timeout, so a dead endpoint ends as our 503, not as CloudFront's Lambda error.
_CLIENT_CONFIG: Final = Config(
    connect_timeout=1, read_timeout=1, retries={"max_attempts": 2, "mode": "standard"}
)
_MEDIA_PREFIX: Final = f"application/vnd.{VENDOR}."
_MEDIA_SUFFIX: Final = "+json"
_QVALUE: Final = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?")
_NO_VERSION: Final = "No API version in the request."
_MISCONFIGURED: Final = "API versioning is misconfigured at the edge."
_STAGE_SEGMENT: Final = re.compile(r"v[0-9]+", re.IGNORECASE)

# The clock of routers created from now on; tests replace it to move time.
clock: Callable[[], float] = time.monotonic

Rows = Callable[[], Iterable[Mapping[str, Any]]]


def log(level: str, message: str, **fields: Any) -> None:
    """One JSON line on stdout, which Lambda sends to CloudWatch Logs in the edge's region."""
    sys.stdout.write(json.dumps({"level": level, "message": message, **fields}, default=str) + "\n")


class MappingReadError(Exception):
    """The mapping table could not be read completely."""


class DynamoDBMapping:
    """Every row of the mapping table, read by one paginated Scan with the low-level client."""

    def __init__(self, table_name: str, region: str, client: Any | None = None) -> None:
        self.table_name = table_name
        self.region = region
        self._client = client

    @property
    def client(self) -> Any:
        """Created on first read, so that an error creating it counts as a failed read."""
        if self._client is None:
            self._client = boto3.client("dynamodb", region_name=self.region, config=_CLIENT_CONFIG)
        return self._client

    def __call__(self) -> list[dict[str, Any]]:
        request: dict[str, Any] = {"TableName": self.table_name}
        items: list[dict[str, Any]] = []
        for _ in range(MAX_SCAN_PAGES):
            page = self.client.scan(**request)
            items.extend(page.get("Items", []))
            if not page.get("LastEvaluatedKey"):
                return items
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        raise MappingReadError(f"{self.table_name} has more than {MAX_SCAN_PAGES} pages of versions")


class VersionRouter:
    """The version -> route map of one table, read at most once per TTL.

    ``routes()`` is what a request calls: one clock read and a comparison while the map is fresh.
    """

    def __init__(
        self,
        read_rows: Rows,
        *,
        ttl: float = TTL_SECONDS,
        retry_after: float = RETRY_AFTER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        name: str = "",
    ) -> None:
        self._read_rows = read_rows
        self.ttl = ttl
        self.retry_after = retry_after
        self._clock = clock
        self.name = name
        self._routes: dict[str, Route] | None = None
        self._next_read = float("-inf")
        self.reads = 0  # read attempts, successful or not
        self.failures = 0
        self.newest: str | None = None
        self.hint = ""
        self._install({})

    def routes(self) -> dict[str, Route] | None:
        """The current map; None while no read has ever succeeded."""
        if self._clock() >= self._next_read:
            self._refresh()
        return self._routes

    def _refresh(self) -> None:
        started = self._clock()
        self.reads += 1
        try:
            rows = list(self._read_rows())
        except Exception as error:  # any failure to read: keep what we have, try again later
            self.failures += 1
            self._next_read = started + self.retry_after
            log(
                "ERROR",
                "version mapping read failed",
                table=self.name,
                error=f"{type(error).__name__}: {error}",
                serving="last good mapping" if self._routes is not None else "503 until a read succeeds",
                retryInSeconds=self.retry_after,
            )
            return
        routes: dict[str, Route] = {}
        for row in rows:
            try:
                route = parse_route(row)
            except ValueError as problem:
                log("WARNING", "version mapping row ignored", table=self.name, problem=str(problem))
                continue
            routes[route.version] = route
        self._install(routes)
        self._routes = routes
        self._next_read = started + self.ttl
        log("INFO", "version mapping loaded", table=self.name, versions=list(routes))

    def _install(self, routes: Mapping[str, Route]) -> None:
        """Precompute what the 403 message says, so a refusal costs no sorting."""
        known = sorted(routes, key=version_number)
        self.newest = known[-1] if known else None
        example = self.newest or "v1"
        self.hint = (
            f"Send Accept: application/vnd.{VENDOR}.{example}+json (or APIVER: {example}); "
            f"known versions: {', '.join(known) or 'none'}."
        )


_routers: dict[tuple[str, str], VersionRouter] = {}
_file_config: dict[str, Any] | None = None


def router_for(table_name: str, region: str) -> VersionRouter:
    """The container's router for a table, created (with the module's ``clock``) on first use."""
    key = (table_name, region)
    router = _routers.get(key)
    if router is None:
        if len(_routers) >= MAX_ROUTERS:
            _routers.clear()
        ttl = float(_load_file_config().get("ttlSeconds", TTL_SECONDS))
        router = VersionRouter(DynamoDBMapping(table_name, region), ttl=ttl, clock=clock, name=table_name)
        _routers[key] = router
    return router


def _joined(entries: list[dict[str, str]]) -> str:
    """CloudFront lists a repeated header once per value; HTTP says they join with commas."""
    if len(entries) == 1:
        return entries[0]["value"]
    return ",".join(entry["value"] for entry in entries)


def _quality(parameters: str) -> float | None:
    """The ``q`` of a media range (1 when absent); None when it is not a valid qvalue."""
    if not parameters:
        return 1.0
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip() == "q":
            value = value.strip()
            return float(value) if _QVALUE.fullmatch(value) else None
    return 1.0


def version_from_accept(accept: str) -> tuple[str | None, bool]:
    """The preferred petstore version in an Accept value, and whether a petstore range was malformed."""
    lowered = accept.lower()
    if _MEDIA_PREFIX not in lowered:
        return None, False
    best: str | None = None
    best_quality = 0.0
    malformed = False
    for media_range in lowered.split(","):
        media_type, _, parameters = media_range.partition(";")
        media_type = media_type.strip()
        if not (media_type.startswith(_MEDIA_PREFIX) and media_type.endswith(_MEDIA_SUFFIX)):
            continue
        token = media_type[len(_MEDIA_PREFIX) : -len(_MEDIA_SUFFIX)]
        quality = _quality(parameters)
        if quality is None or not VERSION_PATTERN.fullmatch(token):
            malformed = True
        elif quality > best_quality:
            best, best_quality = token, quality
    return best, malformed


def requested_version(headers: Mapping[str, list[dict[str, str]]]) -> tuple[str | None, str]:
    """The version a request names, or None and the reason, as a sentence for the 403 body."""
    accept_version: str | None = None
    accept_malformed = False
    accept = headers.get("accept")
    if accept:
        accept_version, accept_malformed = version_from_accept(_joined(accept))
    apiver_entries = headers.get("apiver")
    apiver = _joined(apiver_entries).strip().lower() if apiver_entries else ""
    if apiver and not VERSION_PATTERN.fullmatch(apiver):
        return None, f"APIVER must be 'v' followed by 1 to 3 digits, not {apiver[:16]!r}."
    if accept_version and apiver and accept_version != apiver:
        return None, f"Accept asks for {accept_version} but APIVER asks for {apiver}."
    version = accept_version or apiver
    if version:
        return version, ""
    if accept_malformed:
        return None, f"Accept names an application/vnd.{VENDOR} media type with a malformed version or q."
    return None, _NO_VERSION


def _is_preflight(request: Mapping[str, Any]) -> bool:
    return request.get("method") == "OPTIONS" and "access-control-request-method" in request["headers"]


def _load_file_config() -> dict[str, Any]:
    """``edge_config.json``, read once per container; {} when absent or invalid (and logged)."""
    global _file_config
    if _file_config is None:
        _file_config = {}
        if CONFIG_FILE.is_file():
            try:
                loaded = json.loads(CONFIG_FILE.read_text(encoding="utf-8"))
                if not isinstance(loaded, dict):
                    raise ValueError("expected an object")
                for key in ("tableName", "region"):
                    if not isinstance(loaded.get(key, ""), str):
                        raise ValueError(f"{key} must be a string")
                ttl = loaded.get("ttlSeconds", TTL_SECONDS)
                number = isinstance(ttl, int | float) and not isinstance(ttl, bool)
                if not (number and 0 < ttl <= MAX_TTL_SECONDS):
                    raise ValueError(f"ttlSeconds must be a number above 0 and at most {MAX_TTL_SECONDS:.0f}")
                _file_config = {
                    key: loaded[key] for key in ("tableName", "region", "ttlSeconds") if loaded.get(key)
                }
            except (OSError, ValueError) as error:
                log("ERROR", "edge_config.json ignored", error=str(error))
    return _file_config


def _first_value(entries: list[dict[str, str]] | None) -> str:
    return entries[0]["value"].strip() if entries else ""


def table_location(custom_origin: dict[str, Any]) -> tuple[str, str]:
    """The mapping table's (name, region); removes the two configuration headers from the origin."""
    custom_headers = custom_origin.get("customHeaders") or {}
    table = _first_value(custom_headers.pop(TABLE_HEADER, None))
    region = _first_value(custom_headers.pop(REGION_HEADER, None))
    if not table:
        file_config = _load_file_config()
        table = file_config.get("tableName", "")
        region = file_config.get("region", "")
    return table, region or DEFAULT_TABLE_REGION


_STATUS_TEXT: Final = {"403": "Forbidden", "500": "Internal Server Error", "503": "Service Unavailable"}


def generated_response(status: str, message: str, **headers: str) -> dict[str, Any]:
    """A response CloudFront returns to the viewer without calling the origin."""
    all_headers = {
        "content-type": [{"key": "Content-Type", "value": "application/json"}],
        "cache-control": [{"key": "Cache-Control", "value": "no-store"}],
    }
    for name, value in headers.items():
        key = name.replace("_", "-").title()
        all_headers[key.lower()] = [{"key": key, "value": value}]
    return {
        "status": status,
        "statusDescription": _STATUS_TEXT[status],
        "headers": all_headers,
        "bodyEncoding": "text",
        "body": json.dumps({"message": message}),
    }


def stage_in_path(uri: str) -> str | None:
    """The first path segment when it names a stage (``v1``, ``V02``, ``%761``), else None."""
    segment = next((part for part in unquote(uri).split("/") if part), "")
    return segment if _STAGE_SEGMENT.fullmatch(segment) else None


def route_request(request: dict[str, Any], event_type: str | None = None) -> dict[str, Any]:
    """The decision: the request rewritten for its version's origin, or a generated response."""
    origin = request.get("origin")
    if not isinstance(origin, dict):  # a viewer-request event: CloudFront has chosen no origin yet
        log(
            "ERROR",
            "edge versioning runs on origin-request events only: the request names no origin",
            eventType=event_type,
        )
        return generated_response("500", _MISCONFIGURED)
    custom_origin = origin.get("custom")
    if custom_origin is None:
        log("ERROR", "edge versioning expects a custom origin", origin=list(origin))
        return generated_response("500", _MISCONFIGURED)
    table, region = table_location(custom_origin)
    if not table:
        log("ERROR", "no version table: set the x-version-table origin header or edge_config.json")
        return generated_response("500", _MISCONFIGURED)
    router = router_for(table, region)
    routes = router.routes()
    if routes is None:
        return generated_response(
            "503",
            "The API version mapping is unavailable; retry shortly.",
            retry_after=str(max(1, round(router.retry_after))),
        )
    stage = stage_in_path(str(request.get("uri", "")))
    if stage is not None:
        log(
            "INFO",
            "request refused",
            reason="stage in the path",
            method=request.get("method"),
            uri=request.get("uri"),
        )
        return generated_response(
            "403",
            f"The path names an API version (/{stage[:8]}): choose the version with a header, not the "
            f"path, and leave /{stage[:8]} out. {router.hint}",
        )
    headers = request["headers"]
    version, problem = requested_version(headers)
    if version is None and problem == _NO_VERSION and _is_preflight(request):
        version = router.newest
    route = routes.get(version) if version else None
    if route is None:
        if version:
            problem = f"Unknown API version {version}."
        log("INFO", "request refused", reason=problem, method=request.get("method"), uri=request.get("uri"))
        return generated_response("403", f"{problem} {router.hint}")
    custom_origin["domainName"] = route.domain_name
    custom_origin["path"] = route.origin_path
    custom_origin["port"] = route.port
    custom_origin["protocol"] = route.protocol
    headers["host"] = [{"key": "Host", "value": route.host}]
    return request


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Origin-request entry point; never lets an exception (or a stack trace) reach the viewer."""
    try:
        cloudfront = event["Records"][0]["cf"]
        return route_request(cloudfront["request"], (cloudfront.get("config") or {}).get("eventType"))
    except Exception as error:
        log(
            "ERROR",
            "edge versioning failed",
            error=f"{type(error).__name__}: {error}",
            trace=traceback.format_exc(limit=8),
        )
        return generated_response("500", "Internal error while choosing the API version.")
