"""S3's checks of browser-based uploads (POST Object with a POST policy), in front of moto.

moto stores whatever a ``multipart/form-data`` POST to a bucket carries: no signature, policy or
limit is checked, so a local test of an upload form proved nothing about the form. S3 stores such
an upload only when the form's signed policy allows it. :func:`enforce_post_policies` wraps the
local AWS backend's WSGI application and checks each POST Object request as S3 does; a request
that passes goes on to moto, which stores it and answers as before. moto takes every POST to a
bucket's URL but DeleteObjects (``?delete``) as an upload, whatever its body (urlencoded, or a
``?key=`` and raw bytes); S3 refuses one that is not ``multipart/form-data`` with 412
PreconditionFailed, and so does this. Anything else -- what is not a POST, every JSON API call
(DynamoDB's included), a request signed for another service -- passes straight through.

What is checked, in S3's order, with S3's status, code and message:

1. the form: ``multipart/form-data`` with a boundary, a ``Content-Length`` (64 MiB at most here,
   :data:`MAX_FORM_BODY_BYTES`, refused before the body is read), at most 20 KiB before the
   file's content (:data:`MAX_PRE_DATA_BYTES`), exactly one ``file`` and a ``key``. Field names
   are case-insensitive; the ``file`` field ends the form and anything after it is ignored, as
   S3 ignores it (it is also cut from what moto receives).
2. authentication: a form with no signature field is anonymous, refused (local buckets are
   private); SigV4 (``x-amz-algorithm``, ``x-amz-credential``, ``x-amz-date``,
   ``x-amz-signature``: the HMAC-SHA256 of the base64 ``policy`` under the key derived from the
   credential's date, region and ``s3``) or SigV2 (``AWSAccessKeyId``, ``signature``: the base64
   HMAC-SHA1 of the ``policy``), with the backend's known credentials.
3. the policy document (``expiration`` and ``conditions``, each condition well formed);
4. ``expiration`` not past;
5. every condition: exact match (``{"field": "value"}``, ``["eq", "$field", "value"]``),
   ``["starts-with", "$field", "prefix"]`` (``""`` allows any value, but the field must be
   there; a comma-separated ``Content-Type`` must match item by item), condition names
   case-insensitive, values case-sensitive, against the fields with ``${filename}`` expanded and
   ``bucket`` the bucket posted to;
6. every field covered by a condition, except ``x-amz-signature``/``signature``,
   ``AWSAccessKeyId`` (SigV2), ``file``, ``policy`` and ``x-ignore-*``; ``bucket`` always counts;
7. ``["content-length-range", min, max]`` (inclusive) against the file's size.

Sources: AWS's pages "Authenticating Requests in Browser-Based Uploads Using POST (AWS Signature
Version 4)", "Creating an HTML Form", "POST Policy" and "POST Object"; where they are silent or
wrong (their error table gives codes S3 does not send), S3's own answers as recorded by
LocalStack's AWS-validated tests, ceph s3-tests and error documents quoted in issue trackers.
Messages of malformed-policy errors that no recording shows follow the same phrasing.

Known differences from S3: anonymous uploads are refused even to a bucket whose ACL or policy
would allow them; the credential scope must name the local cloud's one region (S3: the bucket's);
``x-amz-security-token`` must be covered by a condition but its value is not checked; a body over
64 MiB is refused (S3 takes 5 GB); ``Content-MD5`` and checksum fields are left to moto; a refusal
carries the request's ``Origin`` as ``Access-Control-Allow-Origin`` so a page can read the error
(S3 sends the matching bucket CORS rule's headers).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import json
import posixpath
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData, State

__all__ = [
    "MAX_FORM_BODY_BYTES",
    "MAX_PRE_DATA_BYTES",
    "FilePart",
    "ParsedForm",
    "PostPolicyError",
    "PostPolicyMiddleware",
    "check_form",
    "enforce_post_policies",
    "expand_filename",
    "parse_form",
]

#: the largest form read (the photos form allows 10 MiB; S3 takes 5 GB, which no local upload
#: needs): a larger body is refused before it is read, so memory stays bounded.
MAX_FORM_BODY_BYTES = 64 * 1024 * 1024
#: S3: "The form data and boundaries (excluding the contents of the file) cannot exceed 20KB"
MAX_PRE_DATA_BYTES = 20 * 1024
_CHUNK_BYTES = 64 * 1024
_V4_ALGORITHM = "AWS4-HMAC-SHA256"
_V4_FIELDS = ("x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature")
_V2_FIELDS = ("awsaccesskeyid", "signature")
#: fields no condition needs to cover, by signature version (x-ignore-* for both)
_V4_UNCOVERED = frozenset({"x-amz-signature", "file", "policy"})
_V2_UNCOVERED = frozenset({"awsaccesskeyid", "signature", "file", "policy"})
_AMZ_DATE = re.compile(r"\d{8}T\d{6}Z")
_EXPIRATION = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z")
_BUCKET_PATH = re.compile(r"/([^/]+)/?")
_IPV4_HOST = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_SCOPE_SERVICE = re.compile(r"Credential=[^/,\s]*/\d{8}/[^/]*/([^/]+)/aws4_request")
_FILENAME = re.compile(r';\s*filename\s*=\s*(?:"([^"]*)"|([^;]*))', re.IGNORECASE)
_INVALID_JSON = "Invalid Policy: Invalid JSON."
_SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method."
)

App = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class PostPolicyError(Exception):
    """An S3 error answer: HTTP status, code, message and the extra elements S3 adds."""

    def __init__(self, status: int, code: str, message: str, *details: tuple[str, str]) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def document(self, request_id: str, host_id: str) -> bytes:
        elements = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in self.details)
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{self.code}</Code><Message>{escape(self.message)}</Message>{elements}"
            f"<RequestId>{request_id}</RequestId><HostId>{host_id}</HostId></Error>"
        ).encode()


def _invalid_argument(message: str, name: str, value: str = "", *more: tuple[str, str]) -> PostPolicyError:
    return PostPolicyError(
        400, "InvalidArgument", message, ("ArgumentName", name), ("ArgumentValue", value), *more
    )


def _missing_field(name: str) -> PostPolicyError:
    return _invalid_argument(
        f"Bucket POST must contain a field named '{name}'.  If it is specified, please check the order of the fields.",
        name,
    )


def _malformed() -> PostPolicyError:
    return PostPolicyError(
        400, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data."
    )


def _invalid_policy(message: str) -> PostPolicyError:
    return PostPolicyError(400, "InvalidPolicyDocument", message)


def _denied(message: str) -> PostPolicyError:
    return PostPolicyError(403, "AccessDenied", message)


# ---------------------------------------------------------------------- the form


@dataclass(frozen=True)
class FilePart:
    """The ``file`` part: where its content lies in the body, and its part headers."""

    name: str
    #: the ``filename`` parameter, None when the part has none (a text "file")
    filename: str | None
    content_type: str | None
    start: int
    end: int

    @property
    def size(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class ParsedForm:
    #: (name as sent, value), in order, up to the file
    fields: tuple[tuple[str, str], ...]
    file: FilePart | None
    #: parts follow the file: S3 ignores them
    trailing: bool = False


def parse_form(body: bytes, boundary: bytes, max_pre_data: int = MAX_PRE_DATA_BYTES) -> ParsedForm:
    """The fields and the file of a ``multipart/form-data`` body, up to the end of the file part.

    Fed to werkzeug's decoder in chunks, so the file's content is never copied; field values are
    at most ``max_pre_data`` bytes together (S3's MaxPostPreDataLengthExceeded beyond).
    """
    decoder = MultipartDecoder(boundary)
    view = memoryview(body)
    fed = 0
    fields: list[tuple[str, str]] = []
    name = ""
    filename: str | None = None
    content_type: str | None = None
    data_start = 0
    in_file = False
    size = 0
    chunks: list[bytes] = []
    while True:
        try:
            event = decoder.next_event()
        except ValueError:
            raise _malformed() from None
        consumed = fed - len(decoder.buffer)
        if isinstance(event, NeedData):
            if not in_file and (
                consumed > max_pre_data
                or (decoder.state in (State.PREAMBLE, State.PART) and len(decoder.buffer) > max_pre_data)
            ):
                raise _pre_data_too_large()
            if fed < len(body):
                decoder.receive_data(bytes(view[fed : fed + _CHUNK_BYTES]))
                fed = min(fed + _CHUNK_BYTES, len(body))
            else:
                decoder.receive_data(None)
        elif isinstance(event, (Field, File)):
            if not event.name:
                raise _malformed()
            # the decoder has just dropped the part's headers; the content follows one line break
            data_start = consumed + (2 if body[consumed : consumed + 2] == b"\r\n" else 1)
            disposition = parse_options_header(event.headers.get("content-disposition"))[0]
            name = event.name
            in_file = name.lower() == "file" and disposition.lower() == "form-data"
            filename = _raw_filename(event.headers, event.filename) if isinstance(event, File) else None
            content_type = event.headers.get("content-type")
            size = 0
            if data_start > max_pre_data:
                raise _pre_data_too_large()
        elif isinstance(event, Data):
            if in_file:
                size += len(event.data)
            else:
                chunks.append(event.data)
            if not event.more_data:
                if in_file:
                    part = FilePart(name, filename, content_type, data_start, data_start + size)
                    return ParsedForm(tuple(fields), part, trailing=decoder.state is State.PART)
                fields.append((name, b"".join(chunks).decode("utf-8", "replace")))
                chunks = []
                if consumed > max_pre_data:
                    raise _pre_data_too_large()
        elif isinstance(event, Epilogue):
            return ParsedForm(tuple(fields), None)


def _raw_filename(headers: Any, parsed: str) -> str:
    """The ``filename`` parameter as a browser writes it (HTML: ``"``, CR and LF %-escaped, nothing
    else), so a Windows path keeps its backslashes; werkzeug reads them as escapes instead."""
    match = _FILENAME.search(str(headers.get("content-disposition", "")))
    if match is None:
        return parsed
    return match.group(1) if match.group(1) is not None else match.group(2).strip()


def _pre_data_too_large() -> PostPolicyError:
    return PostPolicyError(
        400,
        "MaxPostPreDataLengthExceeded",
        "Your POST request fields preceeding the upload file was too large.",  # sic, as S3 writes it
        ("MaxPostPreDataLengthBytes", str(MAX_PRE_DATA_BYTES)),
    )


def expand_filename(value: str, filename: str | None) -> str:
    """S3's ``${filename}``: the text after the last ``/`` or ``\\`` of the file's name; kept as
    written when the file part has no ``filename`` parameter (S3 does so)."""
    if filename is None or "${filename}" not in value:
        return value
    return value.replace("${filename}", re.split(r"[/\\]", filename)[-1])


# ---------------------------------------------------------------------- the policy


@dataclass(frozen=True)
class _Condition:
    operation: str  # eq, starts-with or content-length-range
    #: the field tested, lowercase without its "$"; None when the "$" is missing (never matches)
    field: str | None
    value: str
    low: int = 0
    high: int = 0
    #: as S3 prints it in "Policy Condition failed: [...]"
    text: str = ""


def _condition_text(*items: Any) -> str:
    return json.dumps(list(items), ensure_ascii=False)


def _parse_policy(policy: str) -> tuple[datetime, list[_Condition]]:
    try:
        text = base64.b64decode("".join(policy.split()), validate=True)
    except (binascii.Error, ValueError):
        raise _invalid_policy("Invalid Policy: Invalid Base64 encoding.") from None
    try:
        document = json.loads(text.decode("utf-8"), parse_constant=_no_constant)
    except ValueError:
        raise _invalid_policy(_INVALID_JSON) from None
    if not isinstance(document, dict):
        raise _invalid_policy(_INVALID_JSON)
    for key in document:  # the element names are case-sensitive (s3-tests: "EXPIRATION" is 400)
        if key not in ("expiration", "conditions"):
            raise _invalid_policy(f"Invalid Policy: Unexpected: '{str(key).lower()}'")
    if "expiration" not in document:
        raise _invalid_policy("Invalid Policy: Policy missing expiration.")
    if "conditions" not in document:
        raise _invalid_policy("Invalid Policy: Policy missing conditions.")
    expiration = _parse_expiration(document["expiration"])
    if not isinstance(document["conditions"], list):
        raise _invalid_policy("Invalid Policy: Invalid 'conditions' value: must be a List.")
    return expiration, [_parse_condition(item) for item in document["conditions"]]


def _no_constant(name: str) -> Any:
    raise ValueError(name)


def _parse_expiration(value: Any) -> datetime:
    """ISO 8601 in UTC with a ``Z``, milliseconds optional; S3 refuses an offset or a space."""
    match = _EXPIRATION.fullmatch(value) if isinstance(value, str) else None
    try:
        if match is None:
            raise ValueError(value)
        year, month, day, hour, minute, second, fraction = match.groups()
        micro = int((fraction or "0")[:6].ljust(6, "0"))
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro, UTC)
    except ValueError:
        raise _invalid_policy(f"Invalid Policy: Invalid 'expiration' value: '{value}'") from None


def _parse_condition(item: Any) -> _Condition:
    if isinstance(item, dict):
        if len(item) != 1:
            raise _invalid_policy(
                "Invalid Policy: Invalid Simple-Condition: Simple-Conditions must have exactly one property specified."
            )
        ((name, value),) = item.items()
        if value is None:
            raise _invalid_policy(_INVALID_JSON)
        if not isinstance(value, str):
            raise _invalid_policy("Invalid Policy: Invalid Simple-Condition: value must be a string.")
        return _Condition("eq", name.lower(), value, text=_condition_text("eq", f"${name}", value))
    if not isinstance(item, list):
        raise _invalid_policy("Invalid Policy: Invalid condition test: must be a List or Object.")
    if not item or not isinstance(item[0], str):
        raise _invalid_policy("Invalid Policy: Invalid Condition: missing operation identifier.")
    operation = item[0].lower()
    if operation not in ("eq", "starts-with", "content-length-range"):
        raise _invalid_policy(f"Invalid Policy: Invalid Condition: unknown operation '{item[0]}'.")
    if len(item) != 3:
        raise _invalid_policy(f"Invalid Policy: Invalid {item[0]}: wrong number of arguments.")
    text = _condition_text(*item)
    if operation == "content-length-range":
        return _length_range(item[1], item[2], text)
    field, value = item[1], item[2]
    if not isinstance(field, str) or not isinstance(value, str):
        raise _invalid_policy(_INVALID_JSON)
    return _Condition(operation, field[1:].lower() if field.startswith("$") else None, value, text=text)


def _length_range(low: Any, high: Any, text: str) -> _Condition:
    """Bounds are integers or strings of digits (S3 takes ``"5"``); a float is invalid JSON to
    S3, and a string that is not a number makes the condition fail (403), as S3 answers."""
    bounds: list[int] = []
    for bound in (low, high):
        if isinstance(bound, bool) or not isinstance(bound, int | str):
            raise _invalid_policy(_INVALID_JSON)
        if isinstance(bound, str):
            if not bound.strip().isdigit():
                return _Condition("content-length-range", None, "", text=text)  # never met
            bound = int(bound)
        if bound < 0:
            raise _invalid_policy("Invalid Policy: Invalid content-length-range: value must be non-negative.")
        bounds.append(bound)
    return _Condition("content-length-range", "", "", bounds[0], bounds[1], text)


def _matches(condition: _Condition, inputs: Mapping[str, str]) -> bool:
    if condition.field is None or condition.field not in inputs:
        return False  # S3: a condition on a field the form lacks fails, even starts-with ""
    value = inputs[condition.field]
    if condition.operation == "eq":
        return value == condition.value
    if condition.field == "content-type" and "," in value:  # a list: each item must match
        return all(item.startswith(condition.value) for item in value.split(","))
    return value.startswith(condition.value)


# ---------------------------------------------------------------------- the checks


def check_form(
    form: ParsedForm,
    bucket: str,
    credentials: Mapping[str, str],
    now: float,
    region: str | None = None,
) -> list[tuple[str, str]]:
    """Raises S3's :class:`PostPolicyError` unless S3 would store this upload; returns the
    fields as S3 uses them (``${filename}`` expanded)."""
    if form.file is None:
        raise _invalid_argument("POST requires exactly one file upload per request.", "file", "0")
    filename = form.file.filename
    fields = [(name, expand_filename(value, filename)) for name, value in form.fields]
    inputs: dict[str, str] = {}
    for name, value in fields:  # repeated fields: "the values must be separated by commas"
        key = name.lower()
        inputs[key] = f"{inputs[key]},{value}" if key in inputs else value
    if "key" not in inputs:
        raise _missing_field("key")
    if any(name in inputs for name in _V4_FIELDS):
        uncovered = _V4_UNCOVERED
        policy = _verify_v4(inputs, credentials, region)
    elif any(name in inputs for name in _V2_FIELDS):
        uncovered = _V2_UNCOVERED
        policy = _verify_v2(inputs, credentials)
    else:  # anonymous: S3 allows it only on a publicly writable bucket; local buckets are private
        raise _denied("Access Denied")
    expiration, conditions = _parse_policy(policy)
    if datetime.fromtimestamp(now, UTC) > expiration:
        raise _denied("Invalid according to Policy: Policy expired.")
    inputs["bucket"] = bucket  # the bucket posted to, whatever a "bucket" field says
    ranges = []
    for condition in conditions:
        if condition.operation == "content-length-range" and condition.field == "":
            ranges.append(condition)
        elif not _matches(condition, inputs):
            raise _denied(f"Invalid according to Policy: Policy Condition failed: {condition.text}")
    covered = {condition.field for condition in conditions}
    for name in ["bucket", *(name for name, _ in fields)]:
        lowered = name.lower()
        if lowered not in covered and lowered not in uncovered and not lowered.startswith("x-ignore-"):
            raise _denied(f"Invalid according to Policy: Extra input fields: {lowered}")
    size = form.file.size
    for condition in ranges:
        if size > condition.high:
            raise PostPolicyError(
                400,
                "EntityTooLarge",
                "Your proposed upload exceeds the maximum allowed size",
                ("ProposedSize", str(size)),
                ("MaxSizeAllowed", str(condition.high)),
            )
        if size < condition.low:
            raise PostPolicyError(
                400,
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed size",
                ("ProposedSize", str(size)),
                ("MinSizeAllowed", str(condition.low)),
            )
    return fields


def _required(inputs: Mapping[str, str], names: Sequence[str]) -> None:
    for name in names:
        if name.lower() not in inputs:
            raise _missing_field(name)


def _verify_v4(inputs: Mapping[str, str], credentials: Mapping[str, str], region: str | None) -> str:
    """The policy text, once its SigV4 signature is checked."""
    _required(inputs, ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Signature", "Policy"))
    algorithm = inputs["x-amz-algorithm"]
    if algorithm != _V4_ALGORITHM:
        raise _invalid_argument(
            f'X-Amz-Algorithm only supports "{_V4_ALGORITHM}"', "X-Amz-Algorithm", algorithm
        )
    credential = inputs["x-amz-credential"]
    parts = credential.split("/")
    if len(parts) != 5:
        raise _invalid_argument(
            'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
            "X-Amz-Credential",
            credential,
        )
    access_key, day, scope_region, service, terminal = parts
    problem = None
    if not access_key:
        problem = "a non-empty Access Key (AKID) must be provided in the credential."
    elif not (len(day) == 8 and day.isdigit()):
        problem = (
            f'incorrect date format "{day}". This date in the credential must be in the format "yyyyMMdd".'
        )
    elif service != "s3":
        problem = f'incorrect service "{service}". This endpoint belongs to "s3".'
    elif terminal != "aws4_request":
        problem = f'incorrect terminal "{terminal}". This endpoint uses "aws4_request".'
    if problem:
        raise _invalid_argument(problem, "X-Amz-Credential", credential)
    if region is not None and scope_region != region:
        raise _invalid_argument(
            f"the region '{scope_region}' is wrong; expecting '{region}'",
            "X-Amz-Credential",
            credential,
            ("Region", region),
        )
    date = inputs["x-amz-date"]
    if not _AMZ_DATE.fullmatch(date):
        raise _invalid_argument("X-Amz-Date must be formated via ISO8601 Long format", "X-Amz-Date", date)
    secret = _secret(credentials, access_key)
    policy = inputs["policy"]
    key = f"AWS4{secret}".encode()
    for scope in (day, scope_region, service, terminal):
        key = hmac.new(key, scope.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, policy.encode(), hashlib.sha256).hexdigest()
    _compare(expected, inputs["x-amz-signature"], access_key, policy)
    return policy


def _verify_v2(inputs: Mapping[str, str], credentials: Mapping[str, str]) -> str:
    _required(inputs, ("AWSAccessKeyId", "Signature", "Policy"))
    access_key = inputs["awsaccesskeyid"]
    secret = _secret(credentials, access_key)
    policy = inputs["policy"]
    expected = base64.b64encode(hmac.new(secret.encode(), policy.encode(), hashlib.sha1).digest()).decode()
    _compare(expected, inputs["signature"], access_key, policy)
    return policy


def _secret(credentials: Mapping[str, str], access_key: str) -> str:
    secret = credentials.get(access_key)
    if secret is None:
        raise PostPolicyError(
            403,
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
            ("AWSAccessKeyId", access_key),
        )
    return secret


def _compare(expected: str, provided: str, access_key: str, policy: str) -> None:
    if not hmac.compare_digest(expected.encode(), provided.encode()):
        raise PostPolicyError(
            403,
            "SignatureDoesNotMatch",
            _SIGNATURE_MISMATCH,
            ("AWSAccessKeyId", access_key),
            ("StringToSign", policy),
            ("SignatureProvided", provided),
            ("StringToSignBytes", " ".join(f"{byte:02x}" for byte in policy.encode())),
        )


# ---------------------------------------------------------------------- the middleware


class PostPolicyMiddleware:
    """WSGI middleware: POST Object requests are checked (see the module), the rest pass through."""

    def __init__(
        self,
        app: App,
        credentials: Mapping[str, str],
        *,
        region: str | None = None,
        clock: Callable[[], float] = time.time,
        max_body_bytes: int = MAX_FORM_BODY_BYTES,
    ) -> None:
        self.app = app
        self.credentials = dict(credentials)
        self.region = region
        self.clock = clock
        self.max_body_bytes = max_body_bytes

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """S3's answer to a POST to a bucket's URL (moto stores every one but ``?delete``); any
        other request goes on untouched. No fast path here: see :func:`enforce_post_policies`."""
        if environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        bucket = _posted_bucket(environ)
        if bucket is None or _signed_for_another_service(environ) or _deletes_objects(environ):
            return self.app(environ, start_response)
        mimetype, options = parse_options_header(str(environ.get("CONTENT_TYPE") or ""))
        try:
            if mimetype.lower() != "multipart/form-data":  # moto would store it all the same
                raise PostPolicyError(
                    412,
                    "PreconditionFailed",
                    "At least one of the pre-conditions you specified did not hold",
                    ("Condition", "Bucket POST must be of the enclosure-type multipart/form-data"),
                )
            body = self._checked_body(environ, options.get("boundary"), bucket)
        except PostPolicyError as error:
            return self._refuse(error, environ, start_response)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)

    def _checked_body(self, environ: dict[str, Any], boundary: str | None, bucket: str) -> bytes:
        """The body moto is to receive, once S3 would accept the upload."""
        if not boundary:
            raise _malformed()
        declared = str(environ.get("CONTENT_LENGTH") or "").strip()
        if not declared.isdigit():
            raise PostPolicyError(
                411, "MissingContentLength", "You must provide the Content-Length HTTP header."
            )
        length = int(declared)
        if length > self.max_body_bytes:  # refused unread
            raise PostPolicyError(
                400,
                "EntityTooLarge",
                "Your proposed upload exceeds the maximum allowed size",
                ("ProposedSize", str(length)),
                ("MaxSizeAllowed", str(self.max_body_bytes)),
            )
        body = _read(environ["wsgi.input"], length)
        if len(body) < length:
            raise PostPolicyError(
                400,
                "IncompleteBody",
                "You did not provide the number of bytes specified by the Content-Length HTTP header",
            )
        form = parse_form(body, boundary.encode("latin-1"))
        fields = check_form(form, bucket, self.credentials, self.clock(), self.region)
        return _as_moto_reads_it(body, boundary.encode("latin-1"), form, fields)

    def _refuse(
        self, error: PostPolicyError, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request_id = secrets.token_hex(8).upper()
        document = error.document(request_id, base64.b64encode(secrets.token_bytes(48)).decode())
        headers = [
            ("Content-Type", "application/xml"),
            ("Content-Length", str(len(document))),
            ("x-amz-request-id", request_id),
        ]
        origin = environ.get("HTTP_ORIGIN")
        if origin:  # as moto answers a browser (flask-cors), so the page can read the error
            headers += [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
        start_response(f"{error.status} {HTTPStatus(error.status).phrase}", headers)
        return [document]


def enforce_post_policies(
    app: App,
    credentials: Mapping[str, str],
    *,
    region: str | None = None,
    clock: Callable[[], float] = time.time,
    max_body_bytes: int = MAX_FORM_BODY_BYTES,
) -> App:
    """``app`` behind S3's checks of POST Object. ``credentials``: access key id -> secret key of
    the keys a form may be signed with; ``region``: the one a credential scope must name.

    What is not a POST, and every JSON API call (``POST /`` with ``X-Amz-Target``: DynamoDB,
    Cognito, Step Functions...), goes straight on after three ``environ`` look-ups -- a plain
    function, as calling an object's ``__call__`` would cost several times more on that path.
    """
    checks = PostPolicyMiddleware(app, credentials, region=region, clock=clock, max_body_bytes=max_body_bytes)

    def post_policies(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST" or (
            "HTTP_X_AMZ_TARGET" in environ and environ.get("PATH_INFO") == "/"
        ):
            return app(environ, start_response)
        return checks(environ, start_response)

    return post_policies


def _posted_bucket(environ: Mapping[str, Any]) -> str | None:
    """The bucket a POST is to, when its URL is a bucket's: ``/<bucket>`` (path style) or ``/``
    on ``<bucket>.<host>`` (virtual-hosted style).

    A one-segment path is always taken as the bucket, as moto takes it for path-style hosts;
    where moto would read it as a key instead, moto does not store a form POST to it.
    """
    path = str(environ.get("PATH_INFO") or "/")
    match = _BUCKET_PATH.fullmatch(path)
    if match:
        return None if match.group(1) == "moto-api" else match.group(1)
    if path != "/":
        return None
    host = str(environ.get("HTTP_HOST") or "").rsplit(":", 1)[0].lower()
    label, dot, _ = host.partition(".")
    if not dot or host.startswith("[") or _IPV4_HOST.fullmatch(host):
        return None
    if host == "s3.amazonaws.com" or (re.match(r"s3[.-]", host) and host.endswith(".amazonaws.com")):
        return None  # path-style endpoint, no bucket in the URL
    return label


def _signed_for_another_service(environ: Mapping[str, Any]) -> bool:
    """A request signed (SigV4 header) for a service other than S3: moto sends it there."""
    match = _SCOPE_SERVICE.search(str(environ.get("HTTP_AUTHORIZATION") or ""))
    return match is not None and match.group(1) != "s3"


def _deletes_objects(environ: Mapping[str, Any]) -> bool:
    """DeleteObjects (``POST /<bucket>?delete``): the only bucket POST moto does not store."""
    return "delete" in parse_qs(str(environ.get("QUERY_STRING") or ""), keep_blank_values=True)


def _read(stream: Any, length: int) -> bytes:
    chunks: list[bytes] = []
    remaining = length
    while remaining > 0:
        chunk = stream.read(min(remaining, 1024 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _as_moto_reads_it(
    body: bytes, boundary: bytes, form: ParsedForm, fields: Sequence[tuple[str, str]]
) -> bytes:
    """The body unchanged, unless moto would read it differently from S3: parts after the file
    (S3 ignores them, moto would apply them), ``${filename}`` (moto expands it in ``key`` only,
    after the last ``/`` only) or names moto reads case-sensitively (``key``, ``file``). Then
    the form is written again as S3 reads it: its fields with their values expanded, the file."""
    file = form.file
    assert file is not None
    moto_name = posixpath.basename(file.filename) if file.filename is not None else None
    same = not form.trailing and file.name == "file"
    for (name, sent), (_, value) in zip(form.fields, fields, strict=True):
        moto_value = (
            sent.replace("${filename}", moto_name) if name == "key" and moto_name is not None else sent
        )
        same = same and moto_value == value and (name == "key" or name.lower() != "key")
    if same:
        return body
    delimiter = b"--" + boundary + b"\r\n"
    filename = None if file.filename is None else expand_filename("${filename}", file.filename)
    out: list[bytes | memoryview] = []
    for name, value in fields:
        out += [delimiter, _disposition("key" if name.lower() == "key" else name, None), b"\r\n\r\n"]
        out += [value.encode(), b"\r\n"]
    out += [delimiter, _disposition("file", filename), b"\r\n"]
    if file.content_type:
        out.append(f"Content-Type: {file.content_type}\r\n".encode("latin-1", "replace"))
    out += [b"\r\n", memoryview(body)[file.start : file.end], b"\r\n--", boundary, b"--\r\n"]
    return b"".join(out)


def _disposition(name: str, filename: str | None) -> bytes:
    def quoted(value: str) -> str:
        cleaned = value.replace("\r", "").replace("\n", "").replace("\\", "\\\\").replace('"', '\\"')
        return f'"{cleaned}"'

    header = f"Content-Disposition: form-data; name={quoted(name)}"
    if filename is not None:
        header += f"; filename={quoted(filename)}"
    return header.encode()
