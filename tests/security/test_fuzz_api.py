"""Property-based fuzzing of the whole HTTP API from the committed openapi.json (schemathesis).

Why: the OpenAPI document is the contract clients are generated from, and hand-written tests only
try the inputs someone thought of. Schemathesis generates requests from the document -- valid ones
and deliberately invalid ones (wrong types, missing or extra fields, odd headers, path ids of any
characters) -- and each response must:

* never be a 5xx;
* have a status code the document lists for the operation, with a body that conforms to the
  schema documented for it (content type included);
* reject invalid input with a 4xx (never store it);
* if it is an error, be a JSON object with a ``message``.

It runs over HTTP against the stack under test (the local cloud, or ``E2E_CONFIG_URL``), once with
a valid access token, once without (so every write must be a 401), and once on the v1 stage. The
size is ``FUZZ_EXAMPLES`` requests per run: small and derandomized (the same cases every time) in
``make test``, large and random in ``make fuzz``. A failure prints the request to reproduce it;
each bug found this way is kept as a plain test in ``test_input_limits.py``.

Not checked, on purpose: a method the document does not list is a 404 ``{"message":"Not Found"}``
as API Gateway answers it, not a 405 (schemathesis' ``unsupported_method``); and valid input may
still be a documented 404/409/412 (``positive_data_acceptance`` would want a 2xx).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.stack_client import TIMEOUT, new_staff_tokens
from tests.support import ROOT

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
"""Requests per run (three runs). ``make fuzz`` raises it and turns derandomization off."""
RANDOM = os.environ.get("FUZZ_RANDOM") == "1"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
SCHEMA = schemathesis.openapi.from_path(ROOT / "openapi.json")


@dataclass
class Tally:
    """What a run sent and got back, printed at the end (``-s``) and checked."""

    requests: int = 0
    statuses: dict[int, int] = field(default_factory=dict)

    def add(self, status: int) -> None:
        self.requests += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1


def error_is_json_with_a_message(response: requests.Response) -> None:
    if response.status_code < 400:
        return
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"{response.status_code} without a JSON body: {response.text[:200]!r}") from None
    assert isinstance(body, dict) and isinstance(body.get("message"), str) and body["message"], body


def fuzz(base_url: str, headers: dict[str, str]) -> Tally:
    """Sends ``EXAMPLES`` generated requests (positive and negative) and checks every response."""
    tally = Tally()
    session = requests.Session()
    cases = st.one_of(
        SCHEMA.as_strategy(generation_mode=GenerationMode.POSITIVE),
        SCHEMA.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=not RANDOM,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
    @given(case=cases)
    def one_request(case: Any) -> None:
        response = case.call(base_url=base_url, session=session, headers=headers, timeout=TIMEOUT)
        tally.add(response.status_code)
        case.validate_response(response, checks=CHECKS, headers=headers)
        error_is_json_with_a_message(response)

    one_request()
    return tally


@pytest.fixture(scope="module")
def access_token(stack_config: dict[str, Any]) -> str:
    return str(new_staff_tokens(stack_config, "fuzz")["AccessToken"])  # staff: every write route


def v1_url(config: dict[str, Any]) -> str:
    return next(url for name, url in config["apis"].items() if name.endswith("/v1"))


@pytest.mark.parametrize("run", ["v2 with a token", "v2 without a token", "v1 with a token"])
def test_fuzzed_requests_conform_to_the_document(
    stack_config: dict[str, Any], access_token: str, run: str
) -> None:
    base_url = v1_url(stack_config) if run.startswith("v1") else str(stack_config["apiUrl"])
    headers = {} if "without" in run else {"Authorization": f"Bearer {access_token}"}
    tally = fuzz(base_url.rstrip("/"), headers)
    print(f"\nfuzz {run}: {tally.requests} requests, statuses {dict(sorted(tally.statuses.items()))}")
    assert tally.requests >= EXAMPLES
    if "without" in run:  # every write was refused before any function ran
        assert not {201, 204} & set(tally.statuses), tally.statuses
    else:  # the token worked: some writes went through
        assert {200, 201} & set(tally.statuses), tally.statuses
