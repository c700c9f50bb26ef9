"""Strict input (issue 17, item 1): what used to be coerced, stored as garbage or a 500 is a 400.

Each refusal is a 400 with a JSON ``message`` naming the field (``errors`` lists it where the field
is known), nothing is stored, and nothing is logged at ERROR (no stack trace for a client's input).
"""

import base64
import json
from typing import Any

import pytest

from tests.services.conftest import Invoke
from tests.services.test_catalogue_handlers import FOODS, PETS, Catalogue, http_event, put, stored
from tests.services.test_comments_handler import all_comments, post
from tests.support import add_pet, body_of, load_event

MAX_NUMBER_DIGITS = 20  # store_common.http.MAX_NUMBER_DIGITS


@pytest.fixture(params=[PETS, FOODS], ids=lambda c: c.prefix)
def cat(request: pytest.FixtureRequest) -> Catalogue:
    return request.param


def refused(response: dict[str, Any], field: str, capsys: pytest.CaptureFixture[str] | None = None) -> str:
    """The 400's message, after checking it names ``field`` and that no error was logged."""
    assert response["statusCode"] == 400, response
    assert response["headers"]["Content-Type"] == "application/json"
    body = body_of(response)
    assert isinstance(body["message"], str) and field in body["message"], body
    if "errors" in body:
        assert field in {error["field"] for error in body["errors"]}, body
    if capsys is not None:
        logged = capsys.readouterr().out
        assert '"level":"ERROR"' not in logged and "Traceback" not in logged, logged[:2000]
    return str(body["message"])


def with_price(cat: Catalogue, literal: str) -> str:
    """The catalogue's valid body as JSON text, with ``priceCents`` written exactly as ``literal``."""
    fields = {k: v for k, v in cat.valid.items() if k != "priceCents"}
    return json.dumps(fields)[:-1] + f', "priceCents": {literal}}}'


# ---------------------------------------------------------------------- numbers


def test_a_number_with_too_many_digits_is_a_400_naming_the_field_not_a_500(
    invoke: Invoke, cat: Catalogue, capsys: pytest.CaptureFixture[str]
) -> None:
    """4,301 digits used to pass Python's int-conversion limit: a 500 and a stack trace at ERROR."""
    capsys.readouterr()
    for digits in (4301, 5000, MAX_NUMBER_DIGITS + 1):
        for literal in ("1" * digits, "-" + "1" * digits, "0." + "1" * digits, "1" * digits + "e2"):
            message = refused(put(invoke, cat, "item-1", with_price(cat, literal)), "body.priceCents", capsys)
            assert f"more than {MAX_NUMBER_DIGITS} digits" in message
    assert stored(invoke, cat, "item-1") is None


def test_the_long_number_is_found_wherever_it_is(invoke: Invoke, capsys: pytest.CaptureFixture[str]) -> None:
    long = "9" * 4301
    nested = f'{{"name": "Rex", "species": "dog", "priceCents": 1, "extra": {{"a": [1, {long}]}}}}'
    refused(put(invoke, PETS, "rex", nested), "body.extra.a.1", capsys)
    refused(put(invoke, PETS, "rex", f"[{long}]"), "body.0", capsys)
    refused(put(invoke, PETS, "rex", long), "body", capsys)
    # JSON that breaks after the number: the parser behind validation would have raised on it
    refused(put(invoke, PETS, "rex", f'{{"priceCents": {long}, '), "body", capsys)
    assert stored(invoke, PETS, "rex") is None


def test_every_write_body_is_screened(invoke: Invoke, capsys: pytest.CaptureFixture[str]) -> None:
    long = "7" * 4301
    refused(post(invoke, f'{{"pageId": "rex", "message": "hi", "n": {long}}}'), "body.n", capsys)
    assert all_comments(invoke, "rex") == []
    event = load_event("photos-request-upload")
    event["body"] = f'{{"contentType": "image/png", "size": {long}}}'
    refused(invoke("PhotosFunction", event), "body.size", capsys)


def test_twenty_digits_pass_the_screen_and_meet_the_fields_bounds(invoke: Invoke, cat: Catalogue) -> None:
    message = refused(put(invoke, cat, "item-1", with_price(cat, "9" * MAX_NUMBER_DIGITS)), "body.priceCents")
    assert "less than or equal to 100000000" in message


def test_integers_are_strict(invoke: Invoke, cat: Catalogue) -> None:
    """``true`` used to be stored as 1 cent, ``"100"``, ``100.0`` and ``1e2`` as 100."""
    for literal in ('"100"', "true", "false", "100.0", "1e2", "1E2", '"1e2"', "null", "[100]", '{"c": 1}'):
        refused(put(invoke, cat, "item-1", with_price(cat, literal)), "body.priceCents")
    assert stored(invoke, cat, "item-1") is None


def test_a_json_integer_still_passes(invoke: Invoke, cat: Catalogue) -> None:
    created = put(invoke, cat, "item-1", with_price(cat, "100"))
    assert created["statusCode"] == 201 and body_of(created)["priceCents"] == 100
    replaced = put(invoke, cat, "item-1", with_price(cat, "0"), **{"if-match": "1"})
    assert replaced["statusCode"] == 200 and body_of(replaced)["priceCents"] == 0


def test_every_integer_field_is_strict(invoke: Invoke) -> None:
    for field, value in (("ageMonths", "18"), ("ageMonths", True), ("version", 1.0)):
        refused(put(invoke, PETS, "rex", {**PETS.valid, field: value}), f"body.{field}")
    for value in ("500", 500.0, False):
        refused(put(invoke, FOODS, "kibble", {**FOODS.valid, "weightGrams": value}), "body.weightGrams")


# ---------------------------------------------------------------------- text

BIDI_CONTROLS = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]
INVISIBLE_ONLY = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", " \u200b ", "\u200b\u200b\u2060", "   "]


def test_names_refuse_bidirectional_controls(invoke: Invoke, cat: Catalogue) -> None:
    """``Re<U+202E>x`` displays reversed text after it: a name that lies about itself."""
    for character in BIDI_CONTROLS:
        message = refused(put(invoke, cat, "item-1", {**cat.valid, "name": f"Re{character}x"}), "body.name")
        assert "bidirectional" in message, f"U+{ord(character):04X}"
    assert stored(invoke, cat, "item-1") is None


def test_names_refuse_nothing_visible(invoke: Invoke, cat: Catalogue) -> None:
    for value in INVISIBLE_ONLY:
        refused(put(invoke, cat, "item-1", {**cat.valid, "name": value}), "body.name")
    assert stored(invoke, cat, "item-1") is None


def test_one_line_fields_refuse_every_line_break(invoke: Invoke) -> None:
    """U+2028/U+2029 and NEL (U+0085) break lines too; a break at either end is not stripped away."""
    for value in ("Re\u2028x", "Rex\u2029", "\u2028Rex", "Re\x85x", "Rex\n"):
        for field in ("name", "species", "breed"):
            refused(put(invoke, PETS, "rex", {**PETS.valid, field: value}), f"body.{field}")
    assert stored(invoke, PETS, "rex") is None


def test_text_that_was_not_utf8_is_refused_in_any_field(invoke: Invoke, cat: Catalogue) -> None:
    message = refused(put(invoke, cat, "item-1", {**cat.valid, "species": "d\ufffdg"}), "body.species")
    assert "U+FFFD" in message


def test_ordinary_names_in_any_script_still_pass(invoke: Invoke) -> None:
    names = ["Zoë", "Łucja", "Мурка", "ميمي", "ポチ", "Rex 🐶", "👨\u200d👩\u200d👧 family", "Rex\u200bby"]
    for number, name in enumerate(names):
        created = put(invoke, PETS, f"pet-{number}", {**PETS.valid, "name": name})
        assert created["statusCode"] == 201, created
        assert body_of(created)["name"] == name


def test_comments_refuse_bidi_controls_but_keep_line_breaks(invoke: Invoke) -> None:
    add_pet("rex")  # a comment's page is a pet
    for character in ("\u202e", "\u2067", "\ufffd"):
        refused(post(invoke, {"pageId": "rex", "message": f"nice {character}dog"}), "body.message")
    refused(post(invoke, {"pageId": "rex", "message": "\u200b\n\u200b"}), "body.message")
    assert all_comments(invoke, "rex") == []
    kept = post(invoke, {"pageId": "rex", "message": "line one\nline two\u2028three"})
    assert kept["statusCode"] == 201, kept


# ---------------------------------------------------------------------- If-Match


def test_if_match_accepts_exactly_n_quoted_n_weak_n_or_star(invoke: Invoke, cat: Catalogue) -> None:
    """``"1`` and ``1"`` used to pass as version 1."""
    put(invoke, cat, "item-1", cat.valid)
    for value in (
        '"1',
        '1"',
        'W/"1',
        "W/1",
        'w/"1"',
        '"1", "2"',
        "1 2",
        "01",
        "+1",
        "-1",
        "1.0",
        '""',
        "",
        "**",
    ):
        response = put(invoke, cat, "item-1", {**cat.valid, "name": "Changed"}, **{"if-match": value})
        refused(response, "If-Match")
        deleted = invoke(cat.function, http_event(cat, "DELETE", "item-1", headers={"if-match": value}))
        refused(deleted, "If-Match")
    assert stored(invoke, cat, "item-1")["version"] == 1


# ---------------------------------------------------------------------- bodies that are not UTF-8

NOT_UTF8 = b'{"name": "R\xffx", "species": "dog", "priceCents": 1}'


@pytest.mark.parametrize("content_type", ["application/json", None])
def test_a_base64_body_that_is_not_utf8_is_a_400(
    invoke: Invoke, capsys: pytest.CaptureFixture[str], content_type: str | None
) -> None:
    """API Gateway hands over a body base64-encoded when it does not treat it as text (no content
    type, or a binary one); Powertools' own decode of it raised a UnicodeDecodeError: a 500."""
    capsys.readouterr()
    event = http_event(PETS, "PUT", "rex", "x")
    event["body"] = base64.b64encode(NOT_UTF8).decode()
    event["isBase64Encoded"] = True
    if content_type is None:
        del event["headers"]["content-type"]
    assert "not valid UTF-8" in refused(invoke("PetsFunction", event), "body", capsys)
    event["body"] = "not base64!"
    refused(invoke("PetsFunction", event), "body", capsys)
    assert stored(invoke, PETS, "rex") is None


@pytest.mark.parametrize(
    "body",
    [
        NOT_UTF8.decode("utf-8", errors="replace"),  # what the local gateway (and a text proxy) delivers
        NOT_UTF8.decode("utf-8", errors="surrogateescape"),  # bytes kept as lone surrogates
        '{"name": "Rex", "spe\ufffdcies": "dog", "priceCents": 1}',  # in a key, too
    ],
    ids=["replacement-character", "lone-surrogate", "in-a-key"],
)
def test_a_text_body_that_was_not_utf8_is_a_400(
    invoke: Invoke, capsys: pytest.CaptureFixture[str], body: str
) -> None:
    """U+FFFD is what gateways put in place of bytes that are not UTF-8: it used to be stored."""
    capsys.readouterr()
    assert "not valid UTF-8" in refused(put(invoke, PETS, "rex", body), "body", capsys)
    refused(post(invoke, body.replace('"name"', '"pageId": "rex", "message"')), "body", capsys)
    assert stored(invoke, PETS, "rex") is None
    assert all_comments(invoke, "rex") == []
