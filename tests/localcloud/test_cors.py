"""CORS as an HTTP API applies its CorsConfiguration."""

from localcloud.cors import CorsSpec

SPEC = CorsSpec.from_template(
    {
        "AllowOrigins": ["http://127.0.0.1:3000", "https://*.example.com"],
        "AllowMethods": ["GET", "put"],
        "AllowHeaders": ["Authorization", "content-type"],
        "ExposeHeaders": ["ETag"],
        "MaxAge": 600,
    }
)
PREFLIGHT = {
    "origin": "http://127.0.0.1:3000",
    "access-control-request-method": "PUT",
    "access-control-request-headers": "authorization, content-type",
}


def test_from_template() -> None:
    assert SPEC is not None
    assert SPEC.allow_methods == ("GET", "PUT")
    assert SPEC.allow_headers == ("authorization", "content-type")
    assert SPEC.expose_headers == ("etag",)
    assert CorsSpec.from_template(None) is None
    assert CorsSpec.from_template(True) == CorsSpec(allow_origins=("*",))


def test_preflight_allowed() -> None:
    assert SPEC is not None
    assert CorsSpec.is_preflight("OPTIONS", PREFLIGHT)
    assert not CorsSpec.is_preflight("OPTIONS", {"origin": "x"})
    assert dict(SPEC.preflight_headers(PREFLIGHT)) == {
        "access-control-allow-origin": "http://127.0.0.1:3000",
        "access-control-allow-methods": "GET,PUT",
        "access-control-allow-headers": "authorization,content-type",
        "access-control-max-age": "600",
    }


def test_preflight_refused() -> None:
    assert SPEC is not None
    assert SPEC.preflight_headers({**PREFLIGHT, "origin": "http://evil.example"}) == []
    assert SPEC.preflight_headers({**PREFLIGHT, "access-control-request-method": "DELETE"}) == []
    assert SPEC.preflight_headers({**PREFLIGHT, "access-control-request-headers": "x-secret"}) == []


def test_wildcard_subdomains() -> None:
    assert SPEC is not None
    assert SPEC.origin_allowed("https://app.example.com")
    assert not SPEC.origin_allowed("https://example.com.evil.org")
    assert not SPEC.origin_allowed("http://app.example.com")
    assert not SPEC.origin_allowed(None)


def test_actual_response_headers() -> None:
    assert SPEC is not None
    assert dict(SPEC.response_headers({"origin": "https://a.example.com"})) == {
        "access-control-allow-origin": "https://a.example.com",
        "access-control-expose-headers": "etag",
    }
    assert SPEC.response_headers({"origin": "http://evil.example"}) == []
    assert SPEC.response_headers({}) == []


def test_any_origin_and_credentials() -> None:
    star = CorsSpec.from_template({"AllowOrigins": ["*"]})
    assert star is not None
    assert dict(star.response_headers({"origin": "http://x"})) == {"access-control-allow-origin": "*"}
    with_credentials = CorsSpec.from_template({"AllowOrigins": ["http://x"], "AllowCredentials": True})
    assert with_credentials is not None
    assert dict(with_credentials.response_headers({"origin": "http://x"})) == {
        "access-control-allow-origin": "http://x",
        "access-control-allow-credentials": "true",
    }
