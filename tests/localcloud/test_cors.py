"""CORS as an HTTP API applies its CorsConfiguration."""

from localcloud.cors import CorsSpec

SPEC = CorsSpec.from_configuration(
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


def test_from_configuration() -> None:
    assert SPEC is not None
    assert SPEC.allow_methods == ("GET", "PUT")
    assert SPEC.allow_headers == ("authorization", "content-type")
    assert SPEC.expose_headers == ("etag",)
    assert CorsSpec.from_configuration(None) is None


def test_openapi_cors_reads_like_the_cloudformation_property() -> None:
    """x-amazon-apigateway-cors has the same keys in lower camel case."""
    openapi = CorsSpec.from_configuration(
        {
            "allowOrigins": ["http://127.0.0.1:3000", "https://*.example.com"],
            "allowMethods": ["GET", "put"],
            "allowHeaders": ["Authorization", "content-type"],
            "exposeHeaders": ["ETag"],
            "maxAge": 600,
        }
    )
    assert openapi == SPEC


def test_a_cors_value_that_is_not_an_object_is_no_cors() -> None:
    """What the SAM transform wrote for an intrinsic AllowOrigins: a list where API Gateway wants an
    object. Locally, as on AWS, the API then has no CORS."""
    assert CorsSpec.from_configuration(["http://127.0.0.1:3000"]) is None


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
    star = CorsSpec.from_configuration({"AllowOrigins": ["*"]})
    assert star is not None
    assert dict(star.response_headers({"origin": "http://x"})) == {"access-control-allow-origin": "*"}
    with_credentials = CorsSpec.from_configuration({"AllowOrigins": ["http://x"], "AllowCredentials": True})
    assert with_credentials is not None
    assert dict(with_credentials.response_headers({"origin": "http://x"})) == {
        "access-control-allow-origin": "http://x",
        "access-control-allow-credentials": "true",
    }
