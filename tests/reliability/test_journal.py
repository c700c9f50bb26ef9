"""The pieces of ``--persist``'s journal that decide what is written and what is read back.

Why separately from the kill-and-restart tests: those show the whole works for the requests this
project makes; these pin the two decisions underneath -- which AWS requests change state (a
mutating request left out would be lost on a crash) and which journal bytes are trusted (a torn
or corrupt record must end the replay, never be half-applied).
"""

from __future__ import annotations

import pickle
import struct
import zlib
from pathlib import Path

import pytest

from localcloud.aws_backend import AwsCall, classify, read_journal

SCOPE = "Credential=AKID/20260101/us-east-1/{}/aws4_request, SignedHeaders=host, Signature=x"


def environ(
    method: str = "POST", service: str | None = None, target: str | None = None, **extra: str
) -> dict[str, str]:
    values = {"REQUEST_METHOD": method, "PATH_INFO": "/", "QUERY_STRING": "", **extra}
    if service:
        values["HTTP_AUTHORIZATION"] = "AWS4-HMAC-SHA256 " + SCOPE.format(service)
    if target:
        values["HTTP_X_AMZ_TARGET"] = target
    return values


@pytest.mark.parametrize(
    ("request_environ", "expected"),
    [
        (environ(service="dynamodb", target="DynamoDB_20120810.UpdateItem"), AwsCall("dynamodb", True)),
        (
            environ(service="dynamodb", target="DynamoDB_20120810.TransactWriteItems"),
            AwsCall("dynamodb", True),
        ),
        (environ(service="dynamodb", target="DynamoDB_20120810.GetItem"), AwsCall("dynamodb", False)),
        (environ(service="dynamodb", target="DynamoDB_20120810.Query"), AwsCall("dynamodb", False)),
        (environ(service="dynamodb", target="DynamoDB_20120810.BatchGetItem"), AwsCall("dynamodb", False)),
        (
            environ(service="cognito-idp", target="AWSCognitoIdentityProviderService.InitiateAuth"),
            AwsCall("cognito-idp", True),  # it stores the refresh token it hands out
        ),
        (environ(service="states", target="AWSStepFunctions.StartExecution"), AwsCall("stepfunctions", True)),
        (environ("PUT", service="s3"), AwsCall("s3", True)),
        (environ("DELETE", service="s3"), AwsCall("s3", True)),
        (environ("GET", service="s3"), AwsCall("s3", False)),
        (environ("HEAD", service="s3"), AwsCall("s3", False)),
        (  # a presigned URL: the credential is in the query string
            environ("PUT", QUERY_STRING="X-Amz-Credential=AKID%2F20260101%2Fus-east-1%2Fs3%2Faws4_request"),
            AwsCall("s3", True),
        ),
        (  # a presigned POST form from a browser: the credential is a form field
            environ(CONTENT_TYPE="multipart/form-data; boundary=x"),
            AwsCall("s3", True),
        ),
        (environ(service="lambda"), AwsCall("lambda", True)),
        (environ(PATH_INFO="/moto-api/config"), AwsCall("moto_api", False)),
        (environ(), AwsCall(None, True)),  # unknown: assume it changes something
    ],
)
def test_what_a_request_is(request_environ: dict[str, str], expected: AwsCall) -> None:
    assert classify(request_environ) == expected


def record(sequence: int, kind: str, content: object) -> bytes:
    payload = pickle.dumps((sequence, kind, content))
    return struct.pack(">II", len(payload), zlib.crc32(payload)) + payload


def test_complete_records_are_read_in_order(tmp_path: Path) -> None:
    journal = tmp_path / "aws-state.journal"
    journal.write_bytes(record(1, "request", ("/", "", {}, b"{}")) + record(2, "backends", {}))
    assert read_journal(journal) == ([(1, "request", ("/", "", {}, b"{}")), (2, "backends", {})], False)


def test_a_missing_journal_is_empty(tmp_path: Path) -> None:
    assert read_journal(tmp_path / "none.journal") == ([], False)


@pytest.mark.parametrize("cut", [1, 5, 9, 20])
def test_a_torn_last_record_is_dropped_and_reported(tmp_path: Path, cut: int) -> None:
    journal = tmp_path / "aws-state.journal"
    second = record(2, "backends", {"k": b"v" * 50})
    journal.write_bytes(record(1, "backends", {}) + second[:cut])
    assert read_journal(journal) == ([(1, "backends", {})], True)


def test_a_record_whose_checksum_does_not_match_ends_the_replay(tmp_path: Path) -> None:
    journal = tmp_path / "aws-state.journal"
    corrupt = bytearray(record(2, "backends", {"k": b"v"}))
    corrupt[-1] ^= 0xFF
    journal.write_bytes(record(1, "backends", {}) + bytes(corrupt) + record(3, "backends", {}))
    assert read_journal(journal) == ([(1, "backends", {})], True)
