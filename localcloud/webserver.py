"""The web server of ``make dev``: ``/config.json`` and the static web client.

``config.json`` is the one document a client needs to find everything: the API URLs, the Cognito
user pool and app client, and the AWS endpoint. A deployed stack publishes the same document
(built from its outputs), so the web client and the end-to-end tests run unchanged against
either. Static files come from ``web/`` next to the template, if that folder exists.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.middleware.shared_data import SharedDataMiddleware
from werkzeug.wrappers import Request, Response

__all__ = ["web_app"]

_PLACEHOLDER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Local cloud</title></head>
<body><h1>The local cloud is running</h1>
<p>There is no <code>web/</code> folder to serve yet. The endpoints are in
<a href="/config.json">config.json</a>; get a token with <code>make token</code>.</p></body></html>
"""


def web_app(config: dict[str, Any], web_dir: Path | None) -> Callable[..., Iterable[bytes]]:
    document = json.dumps(config, indent=2).encode()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        response: Response | HTTPException
        index = web_dir / "index.html" if web_dir is not None else None
        if request.path == "/config.json":
            response = Response(document, content_type="application/json")
            response.headers["cache-control"] = "no-store"
            response.headers["access-control-allow-origin"] = "*"
        elif request.path == "/" and index is not None and index.is_file():
            response = Response(index.read_bytes(), content_type="text/html; charset=utf-8")
        elif request.path == "/" and web_dir is None:
            response = Response(_PLACEHOLDER, content_type="text/html; charset=utf-8")
        else:
            response = NotFound()
        return response(environ, start_response)

    if web_dir is None:
        return app
    return SharedDataMiddleware(app, {"/": str(web_dir)}, cache=False)
