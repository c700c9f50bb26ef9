"""The web client's page as served: ``index.html`` with a Content-Security-Policy made from config.json.

CloudFront sends an outer bound (template.yaml's ``WebResponseHeaders``: any API Gateway, S3 bucket
and distribution of the region); the page narrows it with a ``<meta http-equiv>`` policy that names
this stack's endpoints only. ``index.html`` is a static file, so its policy is filled in when it is
served, from the same config.json the page reads: by the local web server
(:mod:`localcloud.webserver`) and by ``make publish-web`` (:mod:`tools.publish_web`), both through
:func:`render_index`. Standard library only: the publishing tool imports it too.

What the page talks to, and so what the policy lists:

- ``connect-src``: the page's own origin (config.json, the local confirm action), every API URL
  (``apiUrl``, ``apis``), the edge (``edgeUrl``), Cognito (``cognito.endpointUrl`` locally, else
  ``https://cognito-idp.<region>.amazonaws.com``) and the uploads bucket, where the photo form is
  POSTed (``uploadsOrigin``; locally the AWS endpoint ``awsEndpointUrl``, which serves S3);
- ``img-src``: the page's own files and ``data:``, and the host of the photo renditions' presigned
  URLs (``photosOrigin``; locally ``awsEndpointUrl``).

Everything else is as the outer bound: nothing by default, scripts, styles and manifest from the
page's origin only, no ``<base>``, no form submissions, no plugins. ``frame-ancestors`` cannot be
set by a meta tag (browsers ignore it there); the CloudFront header sets it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

__all__ = ["CSP_META", "content_security_policy", "origin_of", "page_origins", "render_index"]

#: the one meta tag of index.html that :func:`render_index` fills in
CSP_META = re.compile(
    r"""<meta\s+http-equiv="Content-Security-Policy"\s+content="[^"]*"\s*/?>""",
    re.IGNORECASE,
)

#: directives that do not depend on the stack, in the order they are written
FIXED_DIRECTIVES = (
    ("default-src", ("'none'",)),
    ("script-src", ("'self'",)),
    ("style-src", ("'self'",)),
    ("manifest-src", ("'self'",)),
)
CLOSING_DIRECTIVES = (
    ("base-uri", ("'none'",)),
    ("form-action", ("'none'",)),
    ("object-src", ("'none'",)),
)


def origin_of(url: str | None) -> str | None:
    """``scheme://host[:port]`` of a URL (lower case, default ports dropped); None when it has none."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default_port = {"http": 80, "https": 443}[parts.scheme]
    port = f":{parts.port}" if parts.port and parts.port != default_port else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"


def _unique(origins: Iterable[str | None]) -> list[str]:
    seen: list[str] = []
    for origin in origins:
        if origin and origin not in seen:
            seen.append(origin)
    return seen


def cognito_url(config: Mapping[str, Any]) -> str:
    """Where the page calls Cognito: the local endpoint, else the region's service."""
    cognito = config.get("cognito") or {}
    region = cognito.get("region") or config.get("region")
    return str(cognito.get("endpointUrl") or f"https://cognito-idp.{region}.amazonaws.com")


def page_origins(config: Mapping[str, Any]) -> dict[str, list[str]]:
    """The origins of ``connect-src`` and ``img-src`` (besides the page's own), from config.json."""
    aws_endpoint = config.get("awsEndpointUrl")
    apis = config.get("apis") or {}
    connect = _unique(
        [
            origin_of(config.get("apiUrl")),
            *(origin_of(str(url)) for url in apis.values()),
            origin_of(config.get("edgeUrl")),
            origin_of(cognito_url(config)),
            origin_of(config.get("uploadsOrigin") or aws_endpoint),
        ]
    )
    images = _unique([origin_of(config.get("photosOrigin") or aws_endpoint)])
    return {"connect-src": connect, "img-src": images}


def content_security_policy(config: Mapping[str, Any]) -> str:
    """The page's policy for this config.json (see the module doc)."""
    origins = page_origins(config)
    directives = [
        *FIXED_DIRECTIVES,
        ("img-src", ("'self'", "data:", *origins["img-src"])),
        ("connect-src", ("'self'", *origins["connect-src"])),
        *CLOSING_DIRECTIVES,
    ]
    return "; ".join(" ".join((name, *sources)) for name, sources in directives)


def render_index(page: str, config: Mapping[str, Any]) -> str:
    """index.html with its Content-Security-Policy meta tag set to this config's policy.

    Raises ValueError unless the page has exactly one such tag (a page without it would run with
    the outer bound only, which is wider than this stack).
    """
    tags = CSP_META.findall(page)
    if len(tags) != 1:
        raise ValueError(f"index.html must have one Content-Security-Policy meta tag, it has {len(tags)}")
    policy = html.escape(content_security_policy(config), quote=False).replace('"', "&quot;")
    tag = f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
    return CSP_META.sub(lambda _match: tag, page, count=1)
