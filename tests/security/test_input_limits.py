"""Hostile input over HTTP, through the gateway: refused with a 4xx JSON ``message``, nothing stored.

Why over HTTP: the handlers' own tests (``tests/services``) call the functions with events, which
skips the part that decides what an event even looks like -- the gateway's payload limit, path
decoding and route matching, and how a body is handed to the function (text or base64). These go
through all of it, against the stack under test. Each case also checks that no data changed.

The cases found by fuzzing (``test_fuzz_api.py``) are kept here as plain tests, named ``found_*``.
"""

from __future__ import annotations

import http.client
import json
import socket
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.stack_client import PET, TIMEOUT, new_pet, new_staff_tokens, unique

pytestmark = pytest.mark.slow

HANDLER_LIMIT = 64 * 1024  # store_common.http.MAX_BODY_BYTES
GATEWAY_LIMIT = 10 * 1024 * 1024  # HTTP API's payload limit (localcloud.gateway.MAX_PAYLOAD_BYTES)


@pytest.fixture(scope="module")
def auth(stack_config: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {new_staff_tokens(stack_config, 'limits')['AccessToken']}"}


@pytest.fixture
def pet(api: str, auth: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """A stored pet that every refused request must leave exactly as it is."""
    url = f"{api}/pets/{unique('limits')}"
    created = requests.put(url, json=PET, headers=auth, timeout=TIMEOUT)
    assert created.status_code == 201
    return url, created.json()


def refused(response: requests.Response, status: int | tuple[int, ...]) -> str:
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, (response.status_code, response.text[:300])
    body = response.json()
    assert isinstance(body, dict) and body.get("message"), body
    return str(body["message"])


def unchanged(pet: tuple[str, dict[str, Any]]) -> None:
    url, stored = pet
    assert requests.get(url, timeout=TIMEOUT).json() == stored


def raw_request(api: str, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> Any:
    """A request exactly as written (``requests`` would normalise the path or refuse it)."""
    parts = urlsplit(api)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT)  # type: ignore[arg-type]
    try:
        connection.putrequest(method, path, skip_host=False, skip_accept_encoding=True)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


# ---------------------------------------------------------------------- size
def test_a_body_over_the_handlers_64_kib_is_413(api: str, auth: dict[str, str], pet: Any) -> None:
    body = {**PET, "breed": "x" * (HANDLER_LIMIT + 1)}
    message = refused(requests.put(pet[0], json=body, headers=auth, timeout=TIMEOUT), 413)
    assert str(HANDLER_LIMIT) in message
    unchanged(pet)


def test_a_body_over_the_gateways_10_mb_is_413_before_any_function(
    api: str, auth: dict[str, str], pet: Any
) -> None:
    body = b'{"name": "' + b"x" * GATEWAY_LIMIT + b'"}'
    response = requests.put(
        pet[0], data=body, headers={**auth, "Content-Type": "application/json"}, timeout=60
    )
    assert refused(response, 413) == "Request Entity Too Large"  # the gateway's own answer
    unchanged(pet)


# ---------------------------------------------------------------------- ids in the path
@pytest.mark.parametrize(
    "raw_id",
    [
        "a" * 65,  # one over the limit
        "a" * 5000,  # far over it
        "%C3%A9t%C3%A9",  # unicode (été)
        "%F0%9F%90%B6",  # an emoji
        "%00abc",  # NUL
        "a%0Ab",  # newline
        "a%09b",  # tab
        "%FF%FE",  # not UTF-8 at all
        "%zz",  # not even percent-encoding
        "-starts-with-dash",
        "a%2Fb",  # an encoded slash: one segment, still not an id
        "a%252Fb",  # double encoded
    ],
)
def test_hostile_path_ids_are_4xx_and_change_nothing(
    api: str, auth: dict[str, str], pet: Any, raw_id: str
) -> None:
    headers = {**auth, "Content-Type": "application/json"}
    status, body = raw_request(api, "PUT", f"/pets/{raw_id}", headers, json.dumps(PET).encode())
    assert status == 400 and body.get("message"), (status, body)
    status, body = raw_request(api, "GET", f"/pets/{raw_id}", {})
    assert status == 400 and body.get("message"), (status, body)
    status, body = raw_request(api, "DELETE", f"/pets/{raw_id}", auth)
    assert status == 400 and body.get("message"), (status, body)
    unchanged(pet)


def test_a_path_that_cannot_be_a_route_is_a_json_404(api: str, auth: dict[str, str]) -> None:
    for path in ("/pets/a/b/c", "/pets/../foods", "/nothing", "/v1"):
        status, body = raw_request(api, "GET", path, auth)
        assert status == 404 and body.get("message"), (path, status, body)


# ---------------------------------------------------------------------- JSON bodies
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"name": "Rex", "name": "Max", "species": "dog", "priceCents": 1}', "duplicate keys"),
        (b'{"a":' * 5000 + b"1" + b"}" * 5000, "nested too deeply"),
        (b"[" * 20000 + b"]" * 20000, "nested too deeply"),
        (b'{"name": "Rex", "species": "dog", "priceCents": 1e400}', "priceCents"),
        (b'{"name": "Rex", "species": "dog", "priceCents": NaN}', "priceCents"),
        (b'{"name": "\\ud800", "species": "dog", "priceCents": 1}', "name"),
        (b'{"name": "Re\\u0000x", "species": "dog", "priceCents": 1}', "control characters"),
        (b'{"name": "Rex", "species": "dog\\nfish", "priceCents": 1}', "control characters"),
        (b'{"name": "Rex", "species": "dog", "breed": "\\u001b[31m", "priceCents": 1}', "breed"),
        (b'\xff\xfe{"name": 1}', "body"),
        # issue 17: strict input
        (b'{"name": "Rex", "species": "dog", "priceCents": ' + b"1" * 4301 + b"}", "body.priceCents"),
        (b'{"name": "Rex", "species": "dog", "priceCents": ' + b"1" * 21 + b"}", "body.priceCents"),
        (b'{"name": "Rex", "species": "dog", "priceCents": "100"}', "body.priceCents"),
        (b'{"name": "Rex", "species": "dog", "priceCents": true}', "body.priceCents"),
        (b'{"name": "Rex", "species": "dog", "priceCents": 100.0}', "body.priceCents"),
        (b'{"name": "Rex", "species": "dog", "priceCents": 1e2}', "body.priceCents"),
        (b'{"name": "Re\\u202ex", "species": "dog", "priceCents": 1}', "body.name"),
        (b'{"name": "Re\xe2\x80\xaex", "species": "dog", "priceCents": 1}', "body.name"),  # U+202E as UTF-8
        (b'{"name": "\\u200b", "species": "dog", "priceCents": 1}', "body.name"),
        (b'{"name": "\\u2060 \\ufeff", "species": "dog", "priceCents": 1}', "body.name"),
        (b'{"name": "Rex", "species": "dog\\u2028fish", "priceCents": 1}', "body.species"),
        (b'{"name": "R\xffx", "species": "dog", "priceCents": 1}', "not valid UTF-8"),
        (b'{"name": "R\xc3x", "species": "dog", "priceCents": 1}', "not valid UTF-8"),
        (b'"a string"', "body"),
        (b"null", "body"),
        (b"", "body"),
    ],
)
def test_hostile_json_is_400_and_changes_nothing(
    api: str, auth: dict[str, str], pet: Any, body: bytes, expected: str
) -> None:
    headers = {**auth, "Content-Type": "application/json", "If-Match": str(pet[1]["version"])}
    response = requests.put(pet[0], data=body, headers=headers, timeout=TIMEOUT)
    assert expected in refused(response, 400)
    unchanged(pet)


def test_a_body_that_is_not_utf8_is_400_however_the_gateway_hands_it_over(
    api: str, auth: dict[str, str], pet: Any
) -> None:
    """With a JSON type the gateway passes text (bytes that are not UTF-8 become U+FFFD); without
    one, base64. Either way: a 400 naming the body, never a 500 and never a stored U+FFFD."""
    body = b'{"name": "R\xffx", "species": "dog", "priceCents": 1}'
    path = urlsplit(pet[0]).path
    for headers in ({"Content-Type": "application/json"}, {}):
        status, answer = raw_request(api, "PUT", path, {**auth, **headers, "If-Match": "1"}, body)
        assert status == 400 and "not valid UTF-8" in answer["message"], (headers, status, answer)
    new = f"/pets/{unique('utf8')}"
    status, answer = raw_request(api, "PUT", new, auth, body)
    assert status == 400, answer
    assert requests.get(f"{api}{new}", timeout=TIMEOUT).status_code == 404
    unchanged(pet)


@pytest.mark.parametrize("if_match", ['"1', '1"', 'W/"1', '"1", "2"', "latest"])
def test_if_match_is_exactly_a_version_or_star(
    api: str, auth: dict[str, str], pet: Any, if_match: str
) -> None:
    """``"1`` and ``1"`` used to pass as version 1."""
    headers = {**auth, "If-Match": if_match}
    assert "If-Match" in refused(requests.put(pet[0], json=PET, headers=headers, timeout=TIMEOUT), 400)
    assert "If-Match" in refused(requests.delete(pet[0], headers=headers, timeout=TIMEOUT), 400)
    unchanged(pet)


def test_a_comment_keeps_line_breaks_but_not_other_control_characters(api: str, auth: dict[str, str]) -> None:
    page = new_pet(api, auth, "control")  # a comment's page is a pet
    refused_post = requests.post(
        f"{api}/comments", json={"pageId": page, "message": "bell\u0007"}, headers=auth, timeout=TIMEOUT
    )
    assert "control characters" in refused(refused_post, 400)
    assert requests.get(f"{api}/comments/{page}", timeout=TIMEOUT).json()["items"] == []
    kept = requests.post(
        f"{api}/comments",
        json={"pageId": page, "message": "line one\n\tline two"},
        headers=auth,
        timeout=TIMEOUT,
    )
    assert kept.status_code == 201, kept.text
    assert kept.json()["message"] == "line one\n\tline two"


# ---------------------------------------------------------------------- found by fuzzing
@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "multipart/form-data", "application/x-www-form-urlencoded", "application/jsonx"],
)
def test_found_a_body_that_is_not_json_is_415_not_500(
    api: str, auth: dict[str, str], pet: Any, content_type: str
) -> None:
    """Found: ``Content-Type: text/plain`` with a JSON body was a 500 (Powertools raised an
    unsupported-type error into the catch-all handler), a multipart type without a boundary too."""
    headers = {**auth, "Content-Type": content_type}
    body = json.dumps(PET)
    assert "application/json" in refused(
        requests.put(pet[0], data=body, headers=headers, timeout=TIMEOUT), 415
    )
    comment = json.dumps({"pageId": "p", "message": "m"})
    refused(requests.post(f"{api}/comments", data=comment, headers=headers, timeout=TIMEOUT), 415)
    photo = json.dumps({"contentType": "image/png"})
    refused(requests.post(f"{pet[0]}/photos", data=photo, headers=headers, timeout=TIMEOUT), 415)
    refused(requests.put(pet[0], data="", headers=headers, timeout=TIMEOUT), 415)  # no body either
    unchanged(pet)


def test_found_a_form_cannot_write_an_item(api: str, auth: dict[str, str]) -> None:
    """Powertools parses form bodies too: a browser form (no preflight) could have created a pet."""
    url = f"{api}/pets/{unique('form')}"
    form = "name=Rex&species=dog&priceCents=1"
    headers = {**auth, "Content-Type": "application/x-www-form-urlencoded"}
    refused(requests.put(url, data=form, headers=headers, timeout=TIMEOUT), 415)
    assert requests.get(url, timeout=TIMEOUT).status_code == 404


def test_found_json_in_any_letter_case_is_json(api: str, auth: dict[str, str], pet: Any) -> None:
    headers = {**auth, "Content-Type": "Application/JSON; charset=UTF-8", "If-Match": "1"}
    response = requests.put(
        pet[0], data=json.dumps({**PET, "priceCents": 2}), headers=headers, timeout=TIMEOUT
    )
    assert response.status_code == 200 and response.json()["priceCents"] == 2


def test_found_a_body_without_content_type_gets_the_same_checks(
    api: str, auth: dict[str, str], pet: Any
) -> None:
    """Without a content type API Gateway hands the body over base64-encoded; the duplicate-key
    check used to skip such bodies, so the ambiguous JSON went through."""
    body = b'{"name": "Rex", "name": "Max", "species": "dog", "priceCents": 1}'
    status, answer = raw_request(api, "PUT", urlsplit(pet[0]).path, auth, body)
    assert status == 400 and "duplicate keys" in answer["message"], answer
    unchanged(pet)
    fine = raw_request(
        api,
        "PUT",
        urlsplit(pet[0]).path,
        {**auth, "If-Match": "1"},
        json.dumps({**PET, "priceCents": 3}).encode(),
    )
    assert fine[0] == 200 and fine[1]["priceCents"] == 3


def test_found_204_documents_no_body() -> None:
    """The document said a DELETE's 204 has a JSON ``null`` body; it has none (no content type)."""
    from tests.support import ROOT

    document = json.loads((ROOT / "openapi.json").read_text())
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if "204" in operation["responses"]:
                assert "content" not in operation["responses"]["204"], f"{method} {path}"


@pytest.mark.parametrize("length", ["abc", "-5", "1e3"])
def test_found_a_content_length_that_is_not_a_length_is_400_not_500(api: str, length: str) -> None:
    """Found by probing the gateway with raw requests: ``int()`` of the header raised, and the web
    server answered its own HTML 500."""
    parts = urlsplit(api)
    request = (
        f"PUT /pets/x HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Length: {length}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((str(parts.hostname), int(parts.port or 80)), timeout=TIMEOUT) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0].startswith(b"HTTP/1.1 400"), head
    assert json.loads(body) == {"message": "Bad Request"}
