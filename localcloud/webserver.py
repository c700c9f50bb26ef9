"""The web server of ``make dev``: ``/config.json``, the static web client, and a local confirm action.

``config.json`` is the one document a client needs to find everything: the API URLs, the Cognito
user pool and app client, and the AWS endpoint. A deployed stack publishes the same document
(built from its outputs), so the web client and the end-to-end tests run unchanged against
either. Static files come from ``web/`` next to the template, if that folder exists; its
``index.html`` (at ``/`` and ``/index.html``) is served with its Content-Security-Policy filled in
from config.json (:func:`localcloud.webpage.render_index`, as ``make publish-web`` publishes it).

Locally no email is sent, so nobody receives a confirmation code: ``POST /local/confirm-sign-up``
with ``{"email": ...}`` confirms a signed-up user with Cognito's ``AdminConfirmSignUp`` (what an
administrator would do on AWS). It exists only here; the local ``config.json`` advertises it as
``localConfirmUrl`` and a deployed one never does.

The server (:class:`WebRequestHandler`) answers only requests for its own address (``Host``
``127.0.0.1:<port>`` or ``localhost:<port>``; see :func:`localcloud.servers.host_is_local`): a
page elsewhere that rebinds its DNS name to 127.0.0.1 gets a 403, not config.json or the confirm
action.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.middleware.shared_data import SharedDataMiddleware
from werkzeug.wrappers import Request, Response

from localcloud.servers import QuietRequestHandler
from localcloud.webpage import render_index

__all__ = ["LOCAL_CONFIRM_PATH", "ConfirmSignUp", "WebRequestHandler", "web_app"]

LOCAL_CONFIRM_PATH = "/local/confirm-sign-up"
#: confirms the user with this email (Cognito AdminConfirmSignUp); raises botocore's ClientError
ConfirmSignUp = Callable[[str], None]
_MAX_CONFIRM_BODY = 4096

_PLACEHOLDER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Local cloud</title></head>
<body><h1>The local cloud is running</h1>
<p>There is no <code>web/</code> folder to serve yet. The endpoints are in
<a href="/config.json">config.json</a>; get a token with <code>make token</code>.</p></body></html>
"""


class WebRequestHandler(QuietRequestHandler):
    """Only requests for the web server's own address (DNS rebinding); JSON 403 otherwise."""

    check_host = True


def _json(status: int, document: dict[str, Any]) -> Response:
    return Response(json.dumps(document), status=status, content_type="application/json")


def _confirm(request: Request, confirm_sign_up: ConfirmSignUp) -> Response:
    """``POST {"email"}`` -> 200 ``{"email", "confirmed": true}``; 4xx with a ``message``."""
    if request.method != "POST":
        response = _json(405, {"message": 'Use POST with a JSON body {"email": ...}'})
        response.headers["allow"] = "POST"
        return response
    if request.mimetype != "application/json":
        # a cross-site form or text/plain POST would need no preflight; JSON does, and gets no CORS
        return _json(415, {"message": "Send the body as application/json"})
    if (request.content_length or 0) > _MAX_CONFIRM_BODY:
        return _json(413, {"message": "The body is too large"})
    try:
        body = json.loads(request.get_data(cache=False) or b"null")
    except ValueError:
        return _json(400, {"message": "The body is not JSON"})
    email = body.get("email") if isinstance(body, dict) else None
    if not isinstance(email, str) or not email.strip():
        return _json(400, {"message": "email is required"})
    try:
        confirm_sign_up(email.strip())
    except ClientError as error:
        details = error.response.get("Error", {})
        status = 404 if details.get("Code") == "UserNotFoundException" else 400
        return _json(status, {"message": str(details.get("Message") or details.get("Code") or error)})
    return _json(200, {"email": email.strip(), "confirmed": True})


def web_app(
    config: dict[str, Any], web_dir: Path | None, confirm_sign_up: ConfirmSignUp | None = None
) -> Callable[..., Iterable[bytes]]:
    document = json.dumps(config, indent=2).encode()
    index_paths = ("/", "/index.html")

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        response: Response | HTTPException
        index = web_dir / "index.html" if web_dir is not None else None
        if request.path == "/config.json":
            response = Response(document, content_type="application/json")
            response.headers["cache-control"] = "no-store"
            response.headers["access-control-allow-origin"] = "*"
        elif request.path == LOCAL_CONFIRM_PATH and confirm_sign_up is not None:
            # same origin as the page only: no CORS headers, so other sites cannot call it
            response = _confirm(request, confirm_sign_up)
        elif request.path in index_paths and index is not None and index.is_file():
            # read on every request: an edit of web/index.html shows on reload, as the other files do
            page = render_index(index.read_text(encoding="utf-8"), config)
            response = Response(page, content_type="text/html; charset=utf-8")
            response.headers["cache-control"] = "no-store"
        elif request.path == "/" and web_dir is None:
            response = Response(_PLACEHOLDER, content_type="text/html; charset=utf-8")
        else:
            response = NotFound()
        return response(environ, start_response)

    if web_dir is None:
        return app
    static = SharedDataMiddleware(app, {"/": str(web_dir)}, cache=False)

    def site(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        # the page itself is rendered, never sent as the static file
        if environ.get("PATH_INFO", "") in index_paths:
            return app(environ, start_response)
        return static(environ, start_response)

    return site
