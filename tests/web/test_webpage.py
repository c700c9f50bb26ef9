"""The page as served and published: its Content-Security-Policy, and its forms against the API.

- ``localcloud/webpage.py`` fills index.html's CSP meta tag from config.json: the page's policy
  must be the CloudFront header's (template.yaml ``WebResponseHeaders``) narrowed to the stack's
  own origins: the same directives (less ``frame-ancestors``, which a meta tag cannot set) with the
  same keywords, and every origin one the header allows.
- The local web server serves that page at ``/`` and ``/index.html``.
- The forms' constraints (``required``, ``maxlength``, ``min``/``max``/``step``, ``pattern``) are
  openapi.json's schemas, so the browser refuses what the API would.
"""

from __future__ import annotations

import json
import re
from fnmatch import fnmatchcase
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from localcloud.webpage import content_security_policy, page_origins, render_index
from localcloud.webserver import web_app
from tests.support import TEMPLATE
from tools.publish_web import build_config

REPO = Path(__file__).resolve().parents[2]
INDEX = REPO / "web" / "index.html"
OPENAPI = json.loads((REPO / "openapi.json").read_text())
REGION = "eu-west-1"
API = "https://abc123.execute-api.eu-west-1.amazonaws.com"

LOCAL_CONFIG: dict[str, Any] = {
    "region": "us-east-1",
    "apiUrl": "http://127.0.0.1:3001",
    "apis": {"StoreApi": "http://127.0.0.1:3001", "StoreApi/v1": "http://127.0.0.1:3001/v1"},
    "edgeUrl": "http://127.0.0.1:3002",
    "cognito": {
        "region": "us-east-1",
        "userPoolId": "us-east-1_abc",
        "userPoolClientId": "client",
        "endpointUrl": "http://127.0.0.1:4566",
    },
    "awsEndpointUrl": "http://127.0.0.1:4566",
    "localConfirmUrl": "http://127.0.0.1:3000/local/confirm-sign-up",
}


def aws_config(edge: bool = True) -> dict[str, Any]:
    values = {
        "ApiUrl": API,
        "ApiV1Url": f"{API}/v1",
        "Region": REGION,
        "UserPoolId": "eu-west-1_AbCdEf123",
        "UserPoolClientId": "1example23456789",
        "WebUrl": "https://d111111abcdef8.cloudfront.net",
        "WebBucketName": "petstore-dev-webbucket-1a2b3c",
        "UploadsBucketName": "petstore-dev-uploadsbucket-4d5e6f",
        "DistributionBucketName": "petstore-dev-distributionbucket-7a8b9c",
        **({"EdgeUrl": "https://d222222abcdef8.cloudfront.net"} if edge else {}),
    }
    return build_config([{"OutputKey": key, "OutputValue": value} for key, value in values.items()])


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        if part.strip():
            name, *sources = part.split()
            parsed[name] = sources
    return parsed


def is_keyword(source: str) -> bool:
    """'self', 'none', ... and scheme sources (data:): everything but host sources."""
    return source.startswith("'") or re.fullmatch(r"[a-z][a-z0-9+.-]*:", source) is not None


def header_policy(region: str = REGION) -> dict[str, list[str]]:
    """The CloudFront header's policy (template.yaml), as the stack in ``region`` sends it."""
    config = TEMPLATE["Resources"]["WebResponseHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]
    text = config["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    return directives(text.replace("${AWS::Region}", region).replace("${AWS::URLSuffix}", "amazonaws.com"))


def allowed_by(origin: str, sources: list[str]) -> bool:
    """Whether a host source of the header (``https://*.s3.<region>.amazonaws.com``) allows ``origin``."""
    return any(not is_keyword(source) and fnmatchcase(origin, source) for source in sources)


# ---------------------------------------------------------------------- the policy
def test_the_local_policy_names_the_local_endpoints_only() -> None:
    assert content_security_policy(LOCAL_CONFIG) == (
        "default-src 'none'; script-src 'self'; style-src 'self'; manifest-src 'self'; "
        "img-src 'self' data: http://127.0.0.1:4566; "
        "connect-src 'self' http://127.0.0.1:3001 http://127.0.0.1:3002 http://127.0.0.1:4566; "
        "base-uri 'none'; form-action 'none'; object-src 'none'"
    )


def test_the_deployed_policy_names_the_stacks_endpoints_only() -> None:
    origins = page_origins(aws_config())
    assert origins == {
        "connect-src": [
            API,
            "https://d222222abcdef8.cloudfront.net",
            f"https://cognito-idp.{REGION}.amazonaws.com",
            "https://petstore-dev-uploadsbucket-4d5e6f.s3.eu-west-1.amazonaws.com",
        ],
        "img-src": ["https://petstore-dev-distributionbucket-7a8b9c.s3.eu-west-1.amazonaws.com"],
    }
    assert page_origins(aws_config(edge=False))["connect-src"][1].startswith("https://cognito-idp.")


@pytest.mark.parametrize("edge", [True, False])
def test_the_page_policy_narrows_the_cloudfront_header(edge: bool) -> None:
    page = directives(content_security_policy(aws_config(edge)))
    header = header_policy()
    assert set(page) == set(header) - {"frame-ancestors"}  # a meta tag cannot set frame-ancestors
    assert header["frame-ancestors"] == ["'none'"]
    for name, sources in page.items():
        keywords = [source for source in sources if is_keyword(source)]
        assert keywords == [source for source in header[name] if is_keyword(source)], name
        for origin in (source for source in sources if not is_keyword(source)):
            assert allowed_by(origin, header[name]), (
                f"{name}: {origin} is outside the header's {header[name]}"
            )


def test_render_index_fills_the_one_meta_tag_and_changes_nothing_else() -> None:
    page = INDEX.read_text()
    rendered = render_index(page, LOCAL_CONFIG)
    policy = content_security_policy(LOCAL_CONFIG)
    assert f'<meta http-equiv="Content-Security-Policy" content="{policy}">' in rendered
    before, after = re.split(r"<meta http-equiv=\"Content-Security-Policy\"[^>]*>", page)
    assert rendered.startswith(before) and rendered.endswith(after)
    with pytest.raises(ValueError, match="one Content-Security-Policy meta tag"):
        render_index("<!doctype html><title>none</title>", LOCAL_CONFIG)
    with pytest.raises(ValueError, match="it has 2"):
        render_index(page.replace("<title>", rendered[rendered.index("<meta http-equiv") :]), LOCAL_CONFIG)


def test_origins_in_config_cannot_break_out_of_the_attribute() -> None:
    hostile = {**LOCAL_CONFIG, "edgeUrl": 'https://x.example/"><script>alert(1)</script>'}
    rendered = render_index(INDEX.read_text(), hostile)
    assert "<script>alert" not in rendered
    assert "https://x.example" in rendered  # only its origin is used


def test_the_local_web_server_serves_the_rendered_page() -> None:
    client = Client(web_app(LOCAL_CONFIG, REPO / "web"))
    policy = content_security_policy(LOCAL_CONFIG)
    for path in ("/", "/index.html"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert f'content="{policy}"' in response.get_data(as_text=True), path
    assert client.get("/app.js").status_code == 200
    icon = client.get("/favicon.svg")
    assert (icon.status_code, icon.headers["content-type"]) == (200, "image/svg+xml; charset=utf-8")


# ---------------------------------------------------------------------- the forms against openapi.json
class Forms(HTMLParser):
    """The named inputs of each form of index.html, with their attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, list[dict[str, str | None]]] = {}
        self.current: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.current = attributes.get("id")
            self.forms[str(self.current)] = []
        elif tag in ("input", "textarea", "select") and self.current and attributes.get("name"):
            self.forms[self.current].append(attributes)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None


def page_forms() -> dict[str, list[dict[str, str | None]]]:
    parser = Forms()
    parser.feed(INDEX.read_text())
    return parser.forms


#: form id -> (schema, properties the page fills itself, not from an input)
FORM_SCHEMAS = {
    "pet-form": ("PetIn", {"version", "createdAt", "updatedAt"}),
    "food-form": ("FoodIn", {"version", "createdAt", "updatedAt"}),
    "profile-form": ("ProfileIn", set()),
    "comment-form": ("CommentIn", {"pageId"}),
}


def schema_of(name: str) -> dict[str, Any]:
    return dict(OPENAPI["components"]["schemas"][name])


def constraint_of(schema: dict[str, Any]) -> dict[str, Any]:
    """A property's constraints (of its non-null type when it is optional)."""
    options = [option for option in schema.get("anyOf", [schema]) if option.get("type") != "null"]
    assert len(options) == 1, schema
    return dict(options[0])


def html_pattern(pattern: str) -> str:
    """An API pattern as an HTML pattern attribute: anchored by the browser, compiled with the
    ``v`` flag (where a ``-`` in a class must be escaped)."""
    return pattern.removeprefix("^").removesuffix("$").replace("_-]", r"_\-]")


@pytest.mark.parametrize("form_id", list(FORM_SCHEMAS))
def test_the_form_constraints_are_the_api_schemas(form_id: str) -> None:
    schema_name, not_inputs = FORM_SCHEMAS[form_id]
    schema = schema_of(schema_name)
    inputs = {str(attrs.get("data-field") or attrs["name"]): attrs for attrs in page_forms()[form_id]}
    assert set(inputs) == set(schema["properties"]) - not_inputs
    for key, attrs in inputs.items():
        where = f"{form_id} {key}"
        rule = constraint_of(schema["properties"][key])
        assert ("required" in attrs) == (key in schema.get("required", [])), where
        if rule.get("minLength", 0) > 1:
            assert int(str(attrs.get("minlength"))) == rule["minLength"], where
        if "maxLength" in rule:
            assert int(str(attrs.get("maxlength"))) == rule["maxLength"], where
        if "pattern" in rule:
            assert attrs.get("pattern") == html_pattern(rule["pattern"]), where
        if rule["type"] == "integer":
            scale = int(attrs.get("data-scale") or 1)  # a decimal price in the form, integer cents sent
            assert attrs.get("type") == "number", where
            assert float(str(attrs.get("step"))) == 1 / scale, where
            for bound, attribute in (("minimum", "min"), ("maximum", "max")):
                if bound in rule:
                    assert float(str(attrs.get(attribute))) == rule[bound] / scale, where


def test_the_photo_form_accepts_the_types_the_api_takes() -> None:
    (file,) = page_forms()["photo-form"]
    allowed = schema_of("UploadRequest")["properties"]["contentType"]["enum"]
    assert str(file.get("accept")).split(",") == allowed
    assert "required" in file


def test_the_price_scale_is_the_one_of_ui_js() -> None:
    """The forms' data-scale and the client's CENTS constant (the one place of the currency)."""
    ui = (REPO / "web" / "ui.js").read_text()
    cents = re.search(r"export const CENTS = (\d+);", ui)
    currency = re.search(r'export const CURRENCY = "([A-Z]{3})";', ui)
    assert cents and currency
    scales = {
        attrs.get("data-scale")
        for inputs in page_forms().values()
        for attrs in inputs
        if "data-scale" in attrs
    }
    assert scales == {cents.group(1)}
