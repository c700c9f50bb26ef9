"""S3's checks of browser-based uploads (POST Object) in the local AWS backend.

Unit tests of ``localcloud.s3_post_policy`` (the form, the policy, the signature, the answers),
then HTTP tests against a real :class:`AwsBackend`: forms made by boto3's ``generate_presigned_post``
-- the photos service's own form code among them -- posted with ``requests`` as a browser would.
A valid form is stored by moto as before; each tampered one gets S3's answer and stores nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from urllib3.filepost import encode_multipart_formdata

from localcloud.aws_backend import DUMMY_CREDENTIALS, AwsBackend
from localcloud.s3_post_policy import (
    MAX_PRE_DATA_BYTES,
    PostPolicyError,
    check_form,
    enforce_post_policies,
    parse_form,
)

ACCESS_KEY = DUMMY_CREDENTIALS["aws_access_key_id"]
SECRET_KEY = DUMMY_CREDENTIALS["aws_secret_access_key"]
KNOWN = {ACCESS_KEY: SECRET_KEY}
REGION = "us-east-1"
BUCKET = "post-policy-unit"
MAX_BYTES = 10 * 1024 * 1024
BOUNDARY = "d6b2a0a1c5e94f0f9b7e1f2a3c4d5e6f"

Fields = Sequence[tuple[str, Any]]


def presigned(
    bucket: str = BUCKET,
    key: str = "uploads/rex/photo",
    *,
    content_type: str = "image/jpeg",
    max_bytes: int = MAX_BYTES,
    expires_in: int = 300,
    endpoint: str = "http://127.0.0.1:9",
    access_key: str = ACCESS_KEY,
    region: str = REGION,
    signature_version: str = "s3v4",
) -> dict[str, Any]:
    """The photos service's form (services/photos/photos/dal.py ``upload_form``), made by boto3
    with the worker's credentials (a session token, as Lambda has)."""
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key=SECRET_KEY,
        aws_session_token="localcloud" if signature_version == "s3v4" else None,
        config=Config(signature_version=signature_version),
    )
    form: dict[str, Any] = client.generate_presigned_post(
        Bucket=bucket,
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
        ExpiresIn=expires_in,
    )
    return form


def multipart(fields: Fields) -> tuple[bytes, str]:
    body, content_type = encode_multipart_formdata(list(fields), boundary=BOUNDARY)
    return body, content_type


def with_file(
    form_fields: dict[str, str] | Fields, data: bytes = b"\xff\xd8jpeg", filename: str = "rex.jpg"
) -> Fields:
    """The fields (a form's dict or pairs in order), then the file."""
    pairs = form_fields.items() if isinstance(form_fields, dict) else form_fields
    return [*pairs, ("file", (filename, data, "image/jpeg"))]


def check(fields: Fields, bucket: str = BUCKET, now: float | None = None) -> list[tuple[str, str]]:
    body, _ = multipart(fields)
    return check_form(parse_form(body, BOUNDARY.encode()), bucket, KNOWN, now or time.time(), REGION)


def refused(fields: Fields, bucket: str = BUCKET, now: float | None = None) -> PostPolicyError:
    with pytest.raises(PostPolicyError) as caught:
        check(fields, bucket, now)
    return caught.value


def signed(
    document: dict[str, Any] | str, extra: Fields = (), *, day: str = "20261201"
) -> list[tuple[str, Any]]:
    """SigV4 fields for a policy written by hand (an independent signer: RFC 2104 HMACs by hand)."""
    text = document if isinstance(document, str) else json.dumps(document)
    policy = base64.b64encode(text.encode()).decode()
    key = f"AWS4{SECRET_KEY}".encode()
    for scope in (day, REGION, "s3", "aws4_request"):
        key = hmac.new(key, scope.encode(), hashlib.sha256).digest()
    return [
        *extra,
        ("x-amz-algorithm", "AWS4-HMAC-SHA256"),
        ("x-amz-credential", f"{ACCESS_KEY}/{day}/{REGION}/s3/aws4_request"),
        ("x-amz-date", f"{day}T000000Z"),
        ("policy", policy),
        ("x-amz-signature", hmac.new(key, policy.encode(), hashlib.sha256).hexdigest()),
    ]


def v4_conditions(day: str = "20261201") -> list[Any]:
    return [
        {"x-amz-algorithm": "AWS4-HMAC-SHA256"},
        {"x-amz-credential": f"{ACCESS_KEY}/{day}/{REGION}/s3/aws4_request"},
        {"x-amz-date": f"{day}T000000Z"},
    ]


def policy(*conditions: Any, expiration: str = "2099-01-01T00:00:00Z") -> dict[str, Any]:
    """A policy for BUCKET, any key, with ``conditions`` and the SigV4 ones."""
    head = [{"bucket": BUCKET}, ["starts-with", "$key", ""]]
    return {"expiration": expiration, "conditions": [*head, *conditions, *v4_conditions()]}


def assert_error(error: PostPolicyError, status: int, code: str, message: str | None = None) -> None:
    assert (error.status, error.code) == (status, code), error
    if message is not None:
        assert error.message == message


# ---------------------------------------------------------------------- the form


def test_form_fields_in_order_and_the_file_by_offset() -> None:
    body, _ = multipart(
        [("key", "k"), ("Content-Type", "image/png"), ("file", ("a.png", b"PNGDATA", "image/png"))]
    )
    form = parse_form(body, BOUNDARY.encode())
    assert form.fields == (("key", "k"), ("Content-Type", "image/png"))
    assert form.file is not None and form.file.filename == "a.png" and form.file.content_type == "image/png"
    assert body[form.file.start : form.file.end] == b"PNGDATA" and form.file.size == 7
    assert not form.trailing


def test_parts_after_the_file_are_ignored_but_noticed() -> None:
    body, _ = multipart([("key", "k"), ("file", ("a", b"x" * 200_000)), ("x-amz-meta-late", "v")])
    form = parse_form(body, BOUNDARY.encode())
    assert form.fields == (("key", "k"),) and form.file is not None and form.file.size == 200_000
    assert form.trailing


def test_no_file_part_is_an_empty_file_slot() -> None:
    body, _ = multipart([("key", "k"), ("upload", ("a", b"x"))])
    assert parse_form(body, BOUNDARY.encode()).file is None


def test_fields_before_the_file_are_limited_to_20_kib() -> None:
    body, _ = multipart([("key", "k"), ("x-amz-meta-big", "v" * MAX_PRE_DATA_BYTES), ("file", ("a", b"x"))])
    with pytest.raises(PostPolicyError) as caught:
        parse_form(body, BOUNDARY.encode())
    assert_error(caught.value, 400, "MaxPostPreDataLengthExceeded")
    assert caught.value.details == (("MaxPostPreDataLengthBytes", "20480"),)
    # a large file is not pre-data
    body, _ = multipart([("key", "k"), ("file", ("a", b"x" * (MAX_PRE_DATA_BYTES * 4)))])
    assert parse_form(body, BOUNDARY.encode()).file is not None


def test_a_body_that_is_not_multipart_is_malformed() -> None:
    with pytest.raises(PostPolicyError) as caught:
        parse_form(
            b"--" + BOUNDARY.encode() + b'\r\nContent-Disposition: form-data; name="key"\r\n\r\nk', b"other"
        )
    assert_error(caught.value, 400, "MalformedPOSTRequest")


# ---------------------------------------------------------------------- signature and policy


def test_the_photos_form_passes_with_the_fields_as_s3_uses_them() -> None:
    form = presigned()
    fields = check(with_file(form["fields"]))
    assert ("key", "uploads/rex/photo") in fields and ("x-amz-security-token", "localcloud") in fields


def test_aws_documented_sigv4_example_verifies() -> None:
    """AWS's "Example: Browser-Based Upload using HTTP POST (Using AWS Signature Version 4)"."""
    document = (
        '{ "expiration": "2015-12-30T12:00:00.000Z",\r\n  "conditions": [\r\n'
        '    {"bucket": "sigv4examplebucket"},\r\n    ["starts-with", "$key", "user/user1/"],\r\n'
        '    {"acl": "public-read"},\r\n'
        '    {"success_action_redirect": "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html"},\r\n'
        '    ["starts-with", "$Content-Type", "image/"],\r\n    {"x-amz-meta-uuid": "14365123651274"},\r\n'
        '    {"x-amz-server-side-encryption": "AES256"},\r\n    ["starts-with", "$x-amz-meta-tag", ""],\r\n\r\n'
        '    {"x-amz-credential": "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"},\r\n'
        '    {"x-amz-algorithm": "AWS4-HMAC-SHA256"},\r\n    {"x-amz-date": "20151229T000000Z" }\r\n  ]\r\n}'
    )
    fields = [
        ("key", "user/user1/${filename}"),
        ("acl", "public-read"),
        ("success_action_redirect", "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html"),
        ("Content-Type", "image/jpeg"),
        ("x-amz-meta-uuid", "14365123651274"),
        ("x-amz-server-side-encryption", "AES256"),
        ("X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"),
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
        ("X-Amz-Date", "20151229T000000Z"),
        ("x-amz-meta-tag", ""),
        ("Policy", base64.b64encode(document.encode()).decode()),
        ("X-Amz-Signature", "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e"),
        ("file", ("MyPicture.jpg", b"jpeg", "image/jpeg")),
    ]
    body, _ = multipart(fields)
    secret = {"AKIAIOSFODNN7EXAMPLE": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
    now = 1451390400.0  # 2015-12-29T12:00:00Z, before the policy's expiration
    used = check_form(parse_form(body, BOUNDARY.encode()), "sigv4examplebucket", secret, now, "us-east-1")
    assert ("key", "user/user1/MyPicture.jpg") in used


def test_a_forged_signature_is_signature_does_not_match() -> None:
    fields = presigned()["fields"]
    error = refused(with_file({**fields, "x-amz-signature": "0" * 64}))
    assert_error(error, 403, "SignatureDoesNotMatch")
    details = dict(error.details)
    assert details["StringToSign"] == fields["policy"] and details["SignatureProvided"] == "0" * 64
    assert details["AWSAccessKeyId"] == ACCESS_KEY
    assert bytes.fromhex(details["StringToSignBytes"].replace(" ", "")) == fields["policy"].encode()


def test_a_changed_policy_no_longer_matches_its_signature() -> None:
    fields = presigned()["fields"]
    document = json.loads(base64.b64decode(fields["policy"]))
    document["conditions"] = [
        c for c in document["conditions"] if not (isinstance(c, list) and c[0] == "content-length-range")
    ]
    tampered = {**fields, "policy": base64.b64encode(json.dumps(document).encode()).decode()}
    assert_error(refused(with_file(tampered)), 403, "SignatureDoesNotMatch")


def test_a_missing_signature_field_is_invalid_argument_naming_it() -> None:
    fields = {k: v for k, v in presigned()["fields"].items() if k != "x-amz-signature"}
    error = refused(with_file(fields))
    assert_error(
        error,
        400,
        "InvalidArgument",
        "Bucket POST must contain a field named 'X-Amz-Signature'.  If it is specified, please check the order of the fields.",
    )
    assert error.details == (("ArgumentName", "X-Amz-Signature"), ("ArgumentValue", ""))
    fields = {
        k: v for k, v in presigned()["fields"].items() if k not in ("x-amz-algorithm", "x-amz-credential")
    }
    assert dict(refused(with_file(fields)).details)["ArgumentName"] == "X-Amz-Algorithm"


def test_a_form_with_no_signature_fields_is_anonymous_and_refused() -> None:
    fields = presigned()["fields"]
    kept = {k: fields[k] for k in ("key", "policy", "Content-Type")}
    assert_error(refused(with_file(kept)), 403, "AccessDenied", "Access Denied")


def test_an_unknown_access_key_is_invalid_access_key_id() -> None:
    error = refused(with_file(presigned(access_key="AKIASOMEONEELSE")["fields"]))
    assert_error(
        error, 403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."
    )
    assert error.details == (("AWSAccessKeyId", "AKIASOMEONEELSE"),)


def test_a_credential_for_another_region_is_refused() -> None:
    error = refused(with_file(presigned(region="eu-west-1")["fields"]))
    assert_error(error, 400, "InvalidArgument", "the region 'eu-west-1' is wrong; expecting 'us-east-1'")
    assert ("Region", "us-east-1") in error.details


def test_sigv2_forms_are_checked_too() -> None:
    fields = presigned(signature_version="s3")["fields"]
    assert "AWSAccessKeyId" in fields
    check(with_file(fields))
    assert_error(refused(with_file({**fields, "signature": "forged"})), 403, "SignatureDoesNotMatch")
    assert_error(refused(with_file({**fields, "key": "evil.html"})), 403, "AccessDenied")


def test_an_expired_policy_is_access_denied() -> None:
    error = refused(with_file(presigned(expires_in=-1)["fields"]))
    assert_error(error, 403, "AccessDenied", "Invalid according to Policy: Policy expired.")
    # and a valid one expires: 300 s later it is refused
    later = time.time() + 301
    assert refused(with_file(presigned()["fields"]), now=later).message.endswith("Policy expired.")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("not json", "Invalid Policy: Invalid JSON."),
        ({"conditions": []}, "Invalid Policy: Policy missing expiration."),
        ({"expiration": "2099-01-01T00:00:00Z"}, "Invalid Policy: Policy missing conditions."),
        (
            {"expiration": "2099-01-01T00:00:00Z", "CONDITIONS": []},
            "Invalid Policy: Unexpected: 'conditions'",
        ),
        (
            {"expiration": "2099-01-01 00:00:00+00:00", "conditions": []},
            "Invalid Policy: Invalid 'expiration' value: '2099-01-01 00:00:00+00:00'",
        ),
        (
            {"expiration": "2099-01-01T00:00:00Z", "conditions": {}},
            "Invalid Policy: Invalid 'conditions' value: must be a List.",
        ),
        (
            policy({"bucket": BUCKET, "key": "k"}),
            "Invalid Policy: Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.",
        ),
        (
            policy({}),
            "Invalid Policy: Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.",
        ),
        (policy({"Content-Length": 5}), "Invalid Policy: Invalid Simple-Condition: value must be a string."),
        (policy(["content-length-range", 0, 512.0]), "Invalid Policy: Invalid JSON."),
        (
            policy(["content-length-range", 0]),
            "Invalid Policy: Invalid content-length-range: wrong number of arguments.",
        ),
        (
            policy(["ends-with", "$key", "x"]),
            "Invalid Policy: Invalid Condition: unknown operation 'ends-with'.",
        ),
        (policy([]), "Invalid Policy: Invalid Condition: missing operation identifier."),
        (policy("key"), "Invalid Policy: Invalid condition test: must be a List or Object."),
    ],
)
def test_a_malformed_policy_is_invalid_policy_document(document: dict[str, Any] | str, message: str) -> None:
    assert_error(refused(with_file(signed(document, [("key", "k")]))), 400, "InvalidPolicyDocument", message)


def test_a_negative_length_bound_is_invalid() -> None:
    error = refused(with_file(signed(policy(["content-length-range", -1, 0]), [("key", "k")])))
    assert_error(error, 400, "InvalidPolicyDocument")


# ---------------------------------------------------------------------- conditions


def test_another_content_type_fails_its_condition() -> None:
    error = refused(with_file({**presigned()["fields"], "Content-Type": "text/html"}))
    assert_error(
        error,
        403,
        "AccessDenied",
        'Invalid according to Policy: Policy Condition failed: ["eq", "$Content-Type", "image/jpeg"]',
    )


def test_another_key_fails_its_condition() -> None:
    error = refused(with_file({**presigned()["fields"], "key": "evil.html"}))
    assert (
        error.message
        == 'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "uploads/rex/photo"]'
    )


def test_a_form_for_another_bucket_fails_the_bucket_condition() -> None:
    error = refused(with_file(presigned()["fields"]), bucket="someone-elses-bucket")
    assert (
        error.message
        == f'Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "{BUCKET}"]'
    )
    # a "bucket" field naming the policy's bucket does not help: the bucket posted to counts
    assert (
        refused(with_file({"bucket": BUCKET, **presigned()["fields"]}), bucket="someone-elses-bucket").status
        == 403
    )


def test_starts_with_matches_prefixes_and_empty_matches_any_present_value() -> None:
    document = policy(["starts-with", "$key", "uploads/"], ["starts-with", "$x-amz-meta-tag", ""])
    check(with_file(signed(document, [("key", "uploads/a"), ("x-amz-meta-tag", "anything")])))
    error = refused(with_file(signed(document, [("key", "other/a"), ("x-amz-meta-tag", "")])))
    assert error.message.endswith('["starts-with", "$key", "uploads/"]')
    # a condition on a field the form lacks fails, even starts-with "" (S3 does the same)
    error = refused(with_file(signed(document, [("key", "uploads/a")])))
    assert error.message.endswith('["starts-with", "$x-amz-meta-tag", ""]')


def test_names_and_operators_are_case_insensitive_values_are_not() -> None:
    document = policy(
        ["StArTs-WiTh", "$KeY", "foo"], {"AcL": "private"}, ["eq", "$CoNtEnT-TyPe", "text/plain"]
    )
    fields = signed(document, [("kEy", "foo.txt"), ("aCl", "private"), ("Content-Type", "text/plain")])
    fields = [("pOLICy", value) if name == "policy" else (name, value) for name, value in fields]
    check(with_file(fields))
    document = policy(["eq", "$acl", "Private"])
    assert refused(with_file(signed(document, [("key", "k"), ("acl", "private")]))).status == 403


def test_a_comma_separated_content_type_matches_item_by_item() -> None:
    document = policy(["starts-with", "$Content-Type", "image/"])
    check(with_file(signed(document, [("key", "k"), ("Content-Type", "image/jpg,image/png")])))
    assert (
        refused(with_file(signed(document, [("key", "k"), ("Content-Type", "image/jpg,text/html")]))).status
        == 403
    )


def test_repeated_fields_are_joined_with_commas() -> None:
    document = policy({"x-amz-meta-tag": "Ninja,Stallman"})
    check(
        with_file(
            signed(document, [("key", "k"), ("x-amz-meta-tag", "Ninja"), ("x-amz-meta-tag", "Stallman")])
        )
    )


def test_an_extra_field_not_in_the_policy_is_refused() -> None:
    error = refused(with_file({**presigned()["fields"], "X-Amz-Meta-Evil": "1"}))
    assert_error(
        error, 403, "AccessDenied", "Invalid according to Policy: Extra input fields: x-amz-meta-evil"
    )
    # x-ignore-* needs no condition
    check(with_file({**presigned()["fields"], "x-ignore-submit": "Upload"}))


def test_the_bucket_must_be_covered_by_a_condition() -> None:
    document = {"expiration": "2099-01-01T00:00:00Z", "conditions": [{"key": "k"}, *v4_conditions()]}
    error = refused(with_file(signed(document, [("key", "k")])))
    assert error.message == "Invalid according to Policy: Extra input fields: bucket"


def test_over_the_size_limit_is_entity_too_large() -> None:
    fields = presigned(max_bytes=10)["fields"]
    check(with_file(fields, b"x" * 10))  # inclusive
    error = refused(with_file(fields, b"x" * 11))
    assert_error(error, 400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
    assert error.details == (("ProposedSize", "11"), ("MaxSizeAllowed", "10"))


def test_under_the_minimum_is_entity_too_small() -> None:
    error = refused(with_file(presigned()["fields"], b""))
    assert_error(
        error, 400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size"
    )
    assert error.details == (("ProposedSize", "0"), ("MinSizeAllowed", "1"))


def test_length_bounds_may_be_strings_and_a_word_fails_the_condition() -> None:
    check(with_file(signed(policy(["content-length-range", "1", "10"]), [("key", "k")]), b"x"))
    error = refused(with_file(signed(policy(["content-length-range", "test", "10"]), [("key", "k")])))
    assert error.message.endswith('Policy Condition failed: ["content-length-range", "test", "10"]')


def test_filename_is_expanded_after_the_last_slash_or_backslash() -> None:
    document = policy(["starts-with", "$key", "uploads/"])
    fields = check(
        with_file(signed(document, [("key", "uploads/${filename}")]), filename="C:\\photos\\rex.jpg")
    )
    assert ("key", "uploads/rex.jpg") in fields
    fields = check(with_file(signed(document, [("key", "uploads/${filename}")]), filename="../../evil.html"))
    assert ("key", "uploads/evil.html") in fields


def test_the_key_and_the_file_are_required() -> None:
    fields = presigned()["fields"]
    error = refused(with_file({k: v for k, v in fields.items() if k != "key"}))
    assert_error(error, 400, "InvalidArgument")
    assert error.details == (("ArgumentName", "key"), ("ArgumentValue", ""))
    error = refused(list(fields.items()))
    assert_error(error, 400, "InvalidArgument", "POST requires exactly one file upload per request.")
    assert error.details == (("ArgumentName", "file"), ("ArgumentValue", "0"))
    # a key after the file is not read: S3 ignores what follows the file
    late = [*((k, v) for k, v in fields.items() if k != "key"), ("file", ("a", b"x")), ("key", fields["key"])]
    assert dict(refused(late).details)["ArgumentName"] == "key"


# ---------------------------------------------------------------------- the middleware


class Untouchable(io.RawIOBase):
    def read(self, size: int = -1) -> bytes:
        raise AssertionError("the body was read")


def call(app: Any, environ: dict[str, Any]) -> tuple[str, dict[str, str], bytes]:
    started: list[Any] = []
    body = b"".join(
        app(environ, lambda status, headers, exc_info=None: started.extend([status, dict(headers)]))
    )
    return started[0], started[1], body


def downstream(seen: list[dict[str, Any]]) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append({"body": environ["wsgi.input"].read(), "length": environ.get("CONTENT_LENGTH")})
        start_response("204 No Content", [])
        return []

    return app


def moto(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [])
    return [b"moto"]


def test_other_requests_pass_through_unread() -> None:
    app = enforce_post_policies(moto, KNOWN)
    dynamodb = "AWS4-HMAC-SHA256 Credential=localcloud/20261201/us-east-1/dynamodb/aws4_request, Signature=x"
    apigateway = dynamodb.replace("dynamodb", "apigateway")
    for method, content_type, path, extra in [
        ("POST", "application/x-amz-json-1.0", "/", {"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.GetItem"}),
        ("PUT", "multipart/form-data; boundary=x", f"/{BUCKET}", {}),
        ("GET", "", f"/{BUCKET}", {}),
        ("POST", "multipart/form-data; boundary=x", f"/{BUCKET}/some/key", {}),  # not a bucket URL
        ("POST", "multipart/form-data; boundary=x", "/", {}),  # no bucket in the URL or the Host
        ("POST", "application/x-www-form-urlencoded", "/", {"HTTP_AUTHORIZATION": dynamodb}),  # query API
        ("POST", "application/xml", f"/{BUCKET}", {"QUERY_STRING": "delete"}),  # DeleteObjects
        ("POST", "application/json", "/restapis", {"HTTP_AUTHORIZATION": apigateway}),  # another service
        ("POST", "application/json", "/moto-api", {}),
    ]:
        environ = {
            "REQUEST_METHOD": method,
            "CONTENT_TYPE": content_type,
            "PATH_INFO": path,
            "HTTP_HOST": "127.0.0.1:4566",
            "wsgi.input": Untouchable(),
            **extra,
        }
        assert call(app, environ)[2] == b"moto", (method, content_type, path)


@pytest.mark.parametrize(
    ("content_type", "query", "body"),
    [
        ("application/x-www-form-urlencoded", "", b"key=evil.html&file=%3Cscript%3E"),
        ("text/html", "key=evil.html", b"<script>"),
        ("", "", b""),
    ],
)
def test_a_bucket_post_that_is_not_a_form_is_precondition_failed(
    content_type: str, query: str, body: bytes
) -> None:
    """moto would store each of these; S3 answers 412."""
    seen: list[dict[str, Any]] = []
    app = enforce_post_policies(downstream(seen), KNOWN)
    environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "PATH_INFO": f"/{BUCKET}",
        "QUERY_STRING": query,
        "wsgi.input": io.BytesIO(body),
    }
    status, _, document = call(app, environ)
    assert status == "412 Precondition Failed" and seen == []
    error = ET.fromstring(document)  # noqa: S314 - our own answer
    assert error.findtext("Code") == "PreconditionFailed"
    assert error.findtext("Condition") == "Bucket POST must be of the enclosure-type multipart/form-data"


def test_virtual_hosted_posts_are_checked_against_the_host_bucket() -> None:
    seen: list[dict[str, Any]] = []
    app = enforce_post_policies(downstream(seen), KNOWN, region=REGION)
    body, content_type = multipart(with_file(presigned()["fields"]))
    environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "PATH_INFO": "/",
        "HTTP_HOST": f"{BUCKET}.localhost:4566",
        "wsgi.input": io.BytesIO(body),
    }
    assert call(app, environ)[0].startswith("204") and seen[0]["body"] == body  # unchanged
    environ.update({"HTTP_HOST": "another.localhost:4566", "wsgi.input": io.BytesIO(body)})
    status, _, document = call(app, environ)
    assert status == "403 Forbidden" and b"$bucket" in document and len(seen) == 1


def test_bodies_over_the_bound_are_refused_unread_and_a_length_is_required() -> None:
    app = enforce_post_policies(downstream([]), KNOWN, max_body_bytes=1000)
    environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
        "CONTENT_LENGTH": "1001",
        "PATH_INFO": f"/{BUCKET}",
        "wsgi.input": Untouchable(),
    }
    status, headers, document = call(app, environ)
    assert status == "400 Bad Request" and headers["Content-Type"] == "application/xml"
    error = ET.fromstring(document)  # noqa: S314 - our own answer
    assert error.findtext("Code") == "EntityTooLarge" and error.findtext("MaxSizeAllowed") == "1000"
    assert error.findtext("RequestId") == headers["x-amz-request-id"] and error.findtext("HostId")
    del environ["CONTENT_LENGTH"]
    status, _, document = call(app, environ)
    assert status == "411 Length Required" and b"<Code>MissingContentLength</Code>" in document
    environ.update(CONTENT_LENGTH="5", CONTENT_TYPE="multipart/form-data")  # no boundary
    assert b"<Code>MalformedPOSTRequest</Code>" in call(app, environ)[2]


def test_what_moto_receives_is_what_s3_reads() -> None:
    """Fields after the file are cut (moto would apply them); ``${filename}`` is expanded as S3
    does (moto would keep the path before a backslash)."""
    seen: list[dict[str, Any]] = []
    app = enforce_post_policies(downstream(seen), KNOWN, region=REGION)
    document = policy(["starts-with", "$key", "uploads/"])
    fields = [
        *signed(document, [("key", "uploads/${filename}")]),
        ("file", ("C:\\photos\\rex.jpg", b"JPEG", "image/jpeg")),
        ("x-amz-meta-smuggled", "1"),
        ("acl", "public-read"),
    ]
    body, content_type = multipart(fields)
    environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "PATH_INFO": f"/{BUCKET}/",
        "wsgi.input": io.BytesIO(body),
    }
    assert call(app, environ)[0].startswith("204")
    forwarded = seen[0]["body"]
    assert seen[0]["length"] == str(len(forwarded))
    again = parse_form(forwarded, BOUNDARY.encode())
    assert not again.trailing and ("key", "uploads/rex.jpg") in again.fields
    assert again.file is not None and forwarded[again.file.start : again.file.end] == b"JPEG"
    assert b"smuggled" not in forwarded and b"public-read" not in forwarded


def test_a_browser_can_read_the_error() -> None:
    """moto's answers to a browser carry its origin; so do the refusals (S3 sends the bucket's
    CORS headers on an error too). Which origins reach the backend at all is the endpoint's
    request handler's decision, before this middleware."""
    app = enforce_post_policies(downstream([]), KNOWN, region=REGION)
    body, content_type = multipart(with_file({**presigned()["fields"], "Content-Type": "text/html"}))
    environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "PATH_INFO": f"/{BUCKET}",
        "HTTP_ORIGIN": "http://localhost:3000",
        "wsgi.input": io.BytesIO(body),
    }
    status, headers, _ = call(app, environ)
    assert status == "403 Forbidden"
    assert headers["Access-Control-Allow-Origin"] == "http://localhost:3000" and headers["Vary"] == "Origin"
    del environ["HTTP_ORIGIN"]
    environ["wsgi.input"] = io.BytesIO(body)
    assert "Access-Control-Allow-Origin" not in call(app, environ)[1]


# ---------------------------------------------------------------------- over HTTP


@pytest.fixture(scope="module")
def backend() -> Iterator[AwsBackend]:
    with pytest.MonkeyPatch.context() as patch:
        import os

        patch.setenv("MOTO_PORT", os.environ.get("MOTO_PORT", "5000"))  # start() sets it; restored after
        started = AwsBackend(port=0, console=lambda line: None).start()
        try:
            yield started
        finally:
            started.stop()


@pytest.fixture(scope="module")
def bucket(backend: AwsBackend) -> str:
    name = f"post-policy-{uuid.uuid4().hex[:12]}"
    backend.client("s3").create_bucket(Bucket=name)
    return name


@pytest.fixture
def photos_form(backend: AwsBackend, bucket: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The photos service's form, made by its own code with a Lambda worker's environment."""
    from photos.dal import S3PhotoStorage

    for name, value in {
        "AWS_ENDPOINT_URL": backend.url,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_SESSION_TOKEN": "localcloud",
        "AWS_REGION": backend.region,
        "AWS_DEFAULT_REGION": backend.region,
    }.items():
        monkeypatch.setenv(name, value)

    def make(
        key: str, content_type: str = "image/jpeg", max_bytes: int = MAX_BYTES, expires_in: int = 300
    ) -> Any:
        return S3PhotoStorage(bucket, "unused").upload_form(key, content_type, max_bytes, expires_in)

    return make


def post(
    form: dict[str, Any], data: bytes = b"\xff\xd8\xff jpeg", **changes: str | None
) -> requests.Response:
    fields = {k: v for k, v in {**form["fields"], **changes}.items() if v is not None}
    return requests.post(
        form["url"], data=fields, files={"file": ("rex.jpg", data, "image/jpeg")}, timeout=30
    )


def stored(backend: AwsBackend, bucket: str, key: str) -> bytes | None:
    try:
        body: bytes = backend.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        assert error.response["Error"]["Code"] == "NoSuchKey"
        return None
    return body


def s3_error(response: requests.Response) -> tuple[int, str, str]:
    assert response.headers["Content-Type"] == "application/xml", response.text
    error = ET.fromstring(response.content)  # noqa: S314 - the local backend's answer
    return response.status_code, str(error.findtext("Code")), str(error.findtext("Message"))


def test_http_a_valid_photos_form_is_stored_by_moto(
    backend: AwsBackend, bucket: str, photos_form: Any
) -> None:
    key = f"uploads/rex/{uuid.uuid4().hex}"
    form = photos_form(key)
    assert form["url"] == f"{backend.url}/{bucket}"
    response = post(form, b"\xff\xd8 a small jpeg")
    assert response.status_code == 204, response.text
    assert stored(backend, bucket, key) == b"\xff\xd8 a small jpeg"
    head = backend.client("s3").head_object(Bucket=bucket, Key=key)
    assert head["ContentType"] == "image/jpeg"


def test_http_a_sigv2_form_is_stored(backend: AwsBackend, bucket: str) -> None:
    key = f"v2/{uuid.uuid4().hex}"
    form = backend.client("s3").generate_presigned_post(bucket, key)  # boto3's default: SigV2
    assert "signature" in form["fields"]
    assert (
        requests.post(form["url"], data=form["fields"], files={"file": b"v2"}, timeout=30).status_code == 204
    )
    assert stored(backend, bucket, key) == b"v2"


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("over the size limit", (400, "EntityTooLarge")),
        ("another Content-Type", (403, "AccessDenied")),
        ("evil.html at the bucket root", (403, "AccessDenied")),
        ("forged signature", (403, "SignatureDoesNotMatch")),
        ("missing signature", (400, "InvalidArgument")),
        ("unknown access key", (403, "InvalidAccessKeyId")),
        ("expired policy", (403, "AccessDenied")),
        ("extra field", (403, "AccessDenied")),
        ("form for another bucket", (403, "AccessDenied")),
    ],
)
def test_http_a_tampered_form_gets_s3s_answer_and_stores_nothing(
    backend: AwsBackend, bucket: str, photos_form: Any, case: str, expected: tuple[int, str]
) -> None:
    key = f"uploads/rex/{uuid.uuid4().hex}"
    form = photos_form(key, max_bytes=64)
    data = b"\xff\xd8 small"
    changes: dict[str, str | None] = {}
    written = key
    if case == "over the size limit":
        data = b"x" * 65
    elif case == "another Content-Type":
        changes["Content-Type"] = "text/html"
    elif case == "evil.html at the bucket root":
        changes["key"] = written = "evil.html"
    elif case == "forged signature":
        changes["x-amz-signature"] = hmac.new(
            b"guess", form["fields"]["policy"].encode(), hashlib.sha256
        ).hexdigest()
    elif case == "missing signature":
        changes["x-amz-signature"] = None
    elif case == "unknown access key":
        changes["x-amz-credential"] = form["fields"]["x-amz-credential"].replace(ACCESS_KEY, "AKIAUNKNOWN", 1)
    elif case == "expired policy":
        form = photos_form(key, max_bytes=64, expires_in=-1)
    elif case == "extra field":
        changes["x-amz-meta-owner"] = "mallory"
    elif case == "form for another bucket":
        other = f"post-policy-other-{uuid.uuid4().hex[:8]}"
        backend.client("s3").create_bucket(Bucket=other)
        form = {**form, "url": f"{backend.url}/{other}"}
    response = post(form, data, **changes)
    status, code, message = s3_error(response)
    assert (status, code) == expected, message
    if case == "expired policy":
        assert message == "Invalid according to Policy: Policy expired."
    if case == "extra field":
        assert message == "Invalid according to Policy: Extra input fields: x-amz-meta-owner"
    assert stored(backend, bucket, written) is None
    if case == "form for another bucket":
        assert backend.client("s3").list_objects_v2(Bucket=other).get("KeyCount", 0) == 0
    listed = backend.client("s3").list_objects_v2(Bucket=bucket, Prefix=written)
    assert listed.get("KeyCount", 0) == 0


def test_http_a_post_that_is_not_a_form_stores_nothing(backend: AwsBackend, bucket: str) -> None:
    key = f"evil-{uuid.uuid4().hex}.html"
    urlencoded = requests.post(f"{backend.url}/{bucket}", data={"key": key, "file": "<script>"}, timeout=30)
    assert s3_error(urlencoded)[:2] == (412, "PreconditionFailed")
    raw = requests.post(f"{backend.url}/{bucket}", params={"key": key}, data=b"<script>", timeout=30)
    assert s3_error(raw)[:2] == (412, "PreconditionFailed")
    assert stored(backend, bucket, key) is None


def test_http_fields_after_the_file_are_not_applied(
    backend: AwsBackend, bucket: str, photos_form: Any
) -> None:
    key = f"uploads/rex/{uuid.uuid4().hex}"
    form = photos_form(key)
    body, content_type = encode_multipart_formdata(
        [
            *form["fields"].items(),
            ("file", ("rex.jpg", b"jpeg", "image/jpeg")),
            ("x-amz-meta-smuggled", "yes"),
        ]
    )
    response = requests.post(form["url"], data=body, headers={"Content-Type": content_type}, timeout=30)
    assert response.status_code == 204, response.text
    head = backend.client("s3").head_object(Bucket=bucket, Key=key)
    assert head["Metadata"] == {}


def test_http_other_s3_and_dynamodb_calls_are_unaffected(backend: AwsBackend, bucket: str) -> None:
    s3 = backend.client("s3")
    s3.put_object(Bucket=bucket, Key="plain/put", Body=b"put")  # a PUT, even unsigned locally
    assert stored(backend, bucket, "plain/put") == b"put"
    assert "TableNames" in backend.client("dynamodb").list_tables()
