"""Everything that depends on moto's internals, in one place, pinned to one moto version.

The rest of the local cloud talks to moto only through AWS APIs over HTTP. These things cannot:

1. serving moto's WSGI application on a socket we bound ourselves -- ``ThreadedMotoServer`` binds
   inside its thread, where a port in use becomes a hang instead of an error we can report --
   without re-listing moto's package folder on every request;
2. ``--persist``: saving and restoring the in-memory state of moto's backends (pickled per
   service, account and region; RSA keys of Cognito pools need a pickle reducer);
3. running Lambda functions: moto runs them only in Docker, so ``LambdaFunction.invoke`` is
   replaced by a call into the local cloud's worker processes. Step Functions Task states and
   ``lambda.invoke`` from a handler then run the template's real handlers;
4. EventBridge rules with Step Functions or Lambda targets: moto raises ``NotImplementedError``
   for them (and, because one try/except wraps the whole delivery loop, stops delivering to the
   other rules too). ``Rule.send_to_targets`` hands those targets to us -- ``StartExecution``
   (always with a name) or the Lambda invoker, asynchronously as EventBridge is -- and leaves
   the others to moto.
5. Speed of DynamoDB responses: moto serializes every response by walking botocore's shape model
   with attribute-name aliasing, which costs more than the rest of a GetItem or Scan together;
   item attribute values (the bulk of any item response) are written directly instead, with the
   same result (see ``_DynamoDBJSONSerializer``). moto's parse of an UpdateExpression is kept per
   expression text (the validators work on a copy of it), and so is the list of a response
   class's methods that moto rebuilds with ``inspect.getmembers`` on every request. Signed
   DynamoDB calls skip Flask, whose request context and hooks cost about as much as a GetItem
   (``_DynamoDBDispatch``).
6. Only this machine's pages: moto answers CORS for any origin (flask-cors adds
   ``Access-Control-Allow-Origin: *`` to every response), so any web page open in the browser
   could read and write the local tables, users and buckets. flask-cors is switched off; the
   request handler (:func:`quiet_request_handler`) refuses a ``Host`` that is not the endpoint's
   own address and an ``Origin`` that is not the local web client's, and ``_WebClientCors``
   answers the web client's CORS as AWS does -- S3 by the bucket's CORS rules (which moto does not
   apply to a POST form upload), the JSON services (Cognito) for the page's origin.
7. Cognito's ``RevokeToken`` (sign-out), which moto lacks: ``_revoke_token`` retires the refresh
   token in moto's user pool, which then refuses it as Cognito does.

Importing this module fails loudly when the installed moto is not the version it was written for;
``tests/localcloud/test_moto_internals.py`` (and ``test_moto_dynamodb_speed.py`` for item 5)
exercises each piece against that version.
"""

from __future__ import annotations

import base64
import copy
import copyreg
import functools
import importlib
import json
import pickle
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import moto
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Response as FlaskResponse

__all__ = [
    "MOTO_VERSION",
    "backend_blobs",
    "install_fast_dynamodb",
    "install_local_integrations",
    "is_persisted",
    "load_state",
    "quiet_request_handler",
    "restore_backends",
    "save_state",
    "wsgi_app",
]

MOTO_VERSION = "5.2.5"
if moto.__version__ != MOTO_VERSION:
    raise RuntimeError(
        f"localcloud.moto_internals was written for moto {MOTO_VERSION}, found {moto.__version__}: "
        "check this module and tests/localcloud/test_moto_internals.py before changing the pin"
    )

from moto import backends as moto_backends  # noqa: E402 - after the version check
from moto.awslambda.models import LambdaFunction  # noqa: E402
from moto.cognitoidp.exceptions import NotAuthorizedError  # noqa: E402
from moto.cognitoidp.models import cognitoidp_backends  # noqa: E402
from moto.cognitoidp.responses import CognitoIdpResponse  # noqa: E402
from moto.core import responses as moto_responses  # noqa: E402
from moto.core import serialize as moto_serialize  # noqa: E402
from moto.core.base_backend import BackendDict  # noqa: E402
from moto.dynamodb import models as dynamodb_models  # noqa: E402
from moto.dynamodb import responses as dynamodb_responses  # noqa: E402
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]  # noqa: E402
from moto.dynamodb.responses import DynamoHandler  # noqa: E402
from moto.events.models import Rule  # noqa: E402
from moto.events.utils import EventTemplateParser  # noqa: E402
from moto.moto_api import recorder as moto_recorder  # noqa: E402
from moto.moto_server import werkzeug_app as moto_werkzeug_app  # noqa: E402
from moto.moto_server.werkzeug_app import (  # noqa: E402
    BackendRequest,
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.s3.models import s3_backends  # noqa: E402

from localcloud.servers import KeepAliveMixin  # noqa: E402

#: not persisted: moto's own API, IAM (only the placeholder role) and Lambda (placeholder
#: functions, unpicklable); the deployment recreates them from the template at every start
_NOT_PERSISTED = frozenset({"moto_api", "iam", "lambda"})


def wsgi_app() -> Any:
    """moto's server-mode WSGI application (what ``ThreadedMotoServer`` serves).

    moto lists its own package folder (``listdir`` plus a ``stat`` per service, ~0.6 ms) on
    every request to dispatch it; the list never changes in a running process, so it is
    computed once. DynamoDB requests and responses take the fast paths (item 5 above).
    """
    modules = tuple(moto_backends.list_of_moto_modules())
    moto_backends.list_of_moto_modules = lambda: modules
    install_fast_dynamodb()
    CognitoIdpResponse.revoke_token = _revoke_token  # type: ignore[attr-defined]
    moto_werkzeug_app.DISABLE_GLOBAL_CORS = True  # no flask-cors "*": see item 6 above
    return _DynamoDBDispatch(_WebClientCors(DomainDispatcherApplication(create_backend_app)))


#: the ``X-Amz-Target`` prefix of DynamoDB's current API (moto routes 2011-12-05 elsewhere)
_DYNAMODB_TARGET = "DynamoDB_20120810."


class _DynamoDBDispatch:
    """Signed DynamoDB API calls go straight to moto's ``DynamoHandler``; everything else to moto's
    dispatcher.

    For such a call moto's dispatcher picks the DynamoDB Flask application (from the credential
    scope of the signature), whose only route, ``/``, runs ``convert_to_flask_response(
    DynamoHandler.dispatch)``. Flask's request context, routing and response hooks cost about as
    much as the DynamoDB operation itself, so this does the same steps directly, for a ``POST /``
    without an ``Origin`` header (a browser's request still goes through ``_WebClientCors``).
    ``test_moto_dynamodb_speed.py`` checks that both paths answer the same.
    """

    def __init__(self, dispatcher: Callable[..., Any]) -> None:
        self.dispatcher = dispatcher

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if (
            str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith(_DYNAMODB_TARGET)
            and environ.get("REQUEST_METHOD") == "POST"
            and environ.get("PATH_INFO") == "/"
            and "HTTP_ORIGIN" not in environ
            and _signed_for(environ) == "dynamodb"
        ):
            return _dynamodb_response(environ)(environ, start_response)
        return self.dispatcher(environ, start_response)


def _signed_for(environ: dict[str, Any]) -> str | None:
    """The service of the SigV4 credential scope, as moto's dispatcher reads it."""
    try:
        _, _, _, service, _ = str(environ["HTTP_AUTHORIZATION"]).split(",")[0].split()[1].split("/")
    except (KeyError, IndexError, ValueError):
        return None
    return service.lower()


def _dynamodb_response(environ: dict[str, Any]) -> Any:
    """What moto's DynamoDB Flask application answers (see ``_DynamoDBDispatch``)."""
    request = BackendRequest(environ)
    moto_recorder._record_request(request)
    try:
        result = DynamoHandler.dispatch(request, request.raw_url, dict(request.headers))
    except ClientError as error:
        result = 400, {}, error.response["Error"]["Message"]
    status, headers, content = result if len(result) == 3 else (200, {}, result)
    return FlaskResponse(response=content, status=status, headers=headers)


#: where the request handler puts the request's ``Origin`` once it knows it is the web client's
_WEB_ORIGIN = "localcloud.web_origin"


def quiet_request_handler(web_origins: Iterable[str] = ()) -> type[MotoRequestHandler]:
    """moto's request handler without the access log line per AWS call, with keep-alive, for this
    machine's callers only.

    Refused with 403 and JSON ``{"message"}`` (moto's S3 would answer XML, its JSON services
    JSON; one plain form for both, as these refusals are the local cloud's own, not AWS's):

    * a ``Host`` other than the endpoint's address (``127.0.0.1:<port>``, and ``localhost:<port>``
      -- which moto's Step Functions executor calls, at ``localhost:$MOTO_PORT``): DNS rebinding,
      see :func:`localcloud.servers.host_is_local`. Handlers (``AWS_ENDPOINT_URL``), the local
      cloud's own clients and presigned S3 URLs all use the endpoint's own address;
    * an ``Origin`` that is not one of ``web_origins`` (the local web client's page), preflight or
      not: a browser sends ``Origin`` with every cross-origin call but a plain ``<img>`` or link,
      and moto checks no signature, so a form another page POSTs to a bucket would be stored.
      Local difference: Cognito answers CORS for any origin on AWS, and S3 takes a form POST from
      anywhere with a valid signed policy.
    """
    allowed = frozenset(web_origins)

    class QuietMotoRequestHandler(KeepAliveMixin, MotoRequestHandler):
        check_host = True

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            return None

        def refusal(self) -> tuple[int, str] | None:
            problem = super().refusal()
            if problem is not None:
                return problem
            origins = self.headers.get_all("Origin") or []
            if origins and (len(origins) > 1 or origins[0] not in allowed):
                return 403, (
                    f"Forbidden: Origin {', '.join(origins)!r} is not the local web client; the local "
                    f"AWS endpoint answers browsers only from {', '.join(sorted(allowed)) or 'none'}"
                )
            return None

        def make_environ(self) -> dict[str, Any]:
            environ = super().make_environ()
            origin = self.headers.get("Origin")
            if origin is not None and origin in allowed:
                environ[_WEB_ORIGIN] = origin
            return environ

    return QuietMotoRequestHandler


# ---------------------------------------------------------------------- CORS for the web client
_S3_CORS_REFUSED = (
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution of "
    "Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are "
    "not whitelisted by the resource's CORS spec."
)
#: JSON services (Cognito): how long a browser may keep a preflight's answer
_PREFLIGHT_MAX_AGE = "600"


class _WebClientCors:
    """CORS headers for the local web client only, as AWS answers them.

    The request handler sets ``_WEB_ORIGIN`` for a request from the web client's page and refuses
    any other ``Origin``; without ``_WEB_ORIGIN`` no response carries CORS headers. For the web
    client:

    * a JSON service (``/`` -- Cognito's SignUp, InitiateAuth...): its preflight is answered here
      (200, the method and headers asked for) and its responses carry the page's origin, as
      Cognito's do;
    * S3 (``/<bucket>/...``, path-style as boto3 presigns for this endpoint): the bucket's CORS
      rules decide, as on S3 -- a preflight is answered by the first rule that allows the origin,
      the method and every header asked for (otherwise 403), and a response (a POST form upload
      among them, which needs no preflight) carries the origin when a rule allows it and the method.
    """

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if "HTTP_ORIGIN" not in environ:
            return self.app(environ, start_response)  # no CORS without an Origin: moto adds none
        origin = environ.get(_WEB_ORIGIN)
        if origin is None:
            return self.app(environ, _cors_headers(start_response, []))
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        bucket = _bucket_of(environ)
        requested_method = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD")
        if method == "OPTIONS" and requested_method:
            requested_headers = [
                name.strip().lower()
                for name in str(environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "")).split(",")
                if name.strip()
            ]
            return _preflight(origin, bucket, str(requested_method).upper(), requested_headers)(
                environ, start_response
            )
        if bucket is None:
            headers = [("Access-Control-Allow-Origin", origin)]
        else:
            rule = _s3_cors_rule(bucket, origin, method, [])
            headers = [] if rule is None else _s3_rule_headers(rule, origin, preflight=False)
        return self.app(environ, _cors_headers(start_response, headers))


def _cors_headers(start_response: Callable[..., Any], cors: list[tuple[str, str]]) -> Callable[..., Any]:
    """``start_response`` with the application's CORS headers replaced by ``cors``."""

    def replaced(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        kept = [(name, value) for name, value in headers if not name.lower().startswith("access-control-")]
        vary = [("Vary", "Origin")] if not any(name.lower() == "vary" for name, _ in kept) else []
        return start_response(status, [*kept, *cors, *vary], exc_info)

    return replaced


def _bucket_of(environ: dict[str, Any]) -> str | None:
    """The bucket of a path-style S3 request; None for a JSON service's ``POST /``."""
    path = str(environ.get("PATH_INFO") or "/")
    if path == "/" or environ.get("HTTP_X_AMZ_TARGET") or path.startswith("/moto-api"):
        return None
    return path.lstrip("/").split("/", 1)[0] or None


def _wildcard(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """S3's CORS patterns: the whole value, ``*`` for any run of characters."""
    expression = "".join(".*" if part == "*" else re.escape(part) for part in re.split(r"(\*)", pattern))
    return re.fullmatch(expression, value, re.IGNORECASE if ignore_case else 0) is not None


def _s3_cors_rule(bucket_name: str, origin: str, method: str, headers: list[str]) -> Any:
    """The first CORS rule of the bucket that allows ``origin``, ``method`` and ``headers``."""
    for _account, _region, backend in list(s3_backends.iter_backends()):
        bucket = getattr(backend, "buckets", {}).get(bucket_name)
        if bucket is None:
            continue
        for rule in bucket.cors:
            if (
                any(_wildcard(allowed, origin) for allowed in rule.allowed_origins or [])
                and method in (rule.allowed_methods or [])
                and all(
                    any(
                        _wildcard(allowed, header, ignore_case=True) for allowed in rule.allowed_headers or []
                    )
                    for header in headers
                )
            ):
                return rule
        return None
    return None


def _s3_rule_headers(rule: Any, origin: str, preflight: bool) -> list[tuple[str, str]]:
    headers = [
        ("Access-Control-Allow-Origin", origin),
        ("Access-Control-Allow-Methods", ", ".join(rule.allowed_methods or [])),
    ]
    if rule.exposed_headers and not preflight:
        headers.append(("Access-Control-Expose-Headers", ", ".join(rule.exposed_headers)))
    if rule.max_age_seconds is not None and preflight:
        headers.append(("Access-Control-Max-Age", str(rule.max_age_seconds)))
    return headers


def _preflight(origin: str, bucket: str | None, method: str, headers: list[str]) -> FlaskResponse:
    if bucket is None:
        allowed = [
            ("Access-Control-Allow-Origin", origin),
            ("Access-Control-Allow-Methods", method),
            ("Access-Control-Max-Age", _PREFLIGHT_MAX_AGE),
        ]
        if headers:
            allowed.append(("Access-Control-Allow-Headers", ", ".join(headers)))
        return FlaskResponse(b"", status=200, headers=[*allowed, ("Vary", "Origin")])
    rule = _s3_cors_rule(bucket, origin, method, headers)
    if rule is None:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessForbidden</Code>'
            f"<Message>{_S3_CORS_REFUSED}</Message><Method>{method}</Method>"
            "<ResourceType>OBJECT</ResourceType></Error>"
        )
        return FlaskResponse(body, status=403, headers=[("Vary", "Origin")], content_type="application/xml")
    allowed = _s3_rule_headers(rule, origin, preflight=True)
    if headers:
        allowed.append(("Access-Control-Allow-Headers", ", ".join(headers)))
    return FlaskResponse(b"", status=200, headers=[*allowed, ("Vary", "Origin")])


# ---------------------------------------------------------------------- Cognito RevokeToken
def _revoke_token(self: CognitoIdpResponse) -> Any:
    """Cognito's RevokeToken, which moto lacks (the web client's sign-out calls it): the refresh
    token, issued to this app client, no longer refreshes (moto then answers REFRESH_TOKEN_AUTH with
    "Refresh Token has been revoked", as Cognito does). Revoking it again is accepted, as on Cognito.
    Access tokens already issued stay valid at the API until they expire: API Gateway checks them
    offline, as it does on AWS."""
    token, client_id = self._get_param("Token"), self._get_param("ClientId")
    for pool in cognitoidp_backends[self.current_account][self.region].user_pools.values():
        if token in pool.refresh_tokens:
            issued = pool.refresh_tokens[token]
            if issued is not None and issued[0] != client_id:
                raise NotAuthorizedError("The token was not issued to this client")
            pool.refresh_tokens[token] = None
            return "{}"
    raise NotAuthorizedError("Invalid refresh token")


# ---------------------------------------------------------------------- DynamoDB speed
def _attribute_value(value: dict[str, Any], base64_of: Callable[[Any], str]) -> dict[str, Any]:
    """An ``AttributeValue`` as moto's JSON serializer writes it, without the shape walk.

    The serializer keeps the members of the shape (S, N, B, SS, NS, BS, M, L, NULL, BOOL) whose
    value is not None, writes strings with ``str``, blobs as base64, and recurses into M and L.
    """
    result: dict[str, Any] = {}
    for kind, raw in value.items():
        if raw is None:
            continue
        if kind in ("S", "N"):
            result[kind] = raw if isinstance(raw, str) or raw in ({}, []) else str(raw)
        elif kind in ("SS", "NS"):
            result[kind] = [item if isinstance(item, str) else str(item) for item in raw]
        elif kind == "B":
            result[kind] = base64_of(raw)
        elif kind == "BS":
            result[kind] = [base64_of(item) for item in raw]
        elif kind == "M":
            result[kind] = {
                name: _attribute_value(item, base64_of) if isinstance(item, dict) else item
                for name, item in raw.items()
            }
        elif kind == "L":
            result[kind] = [
                _attribute_value(item, base64_of) if isinstance(item, dict) else item for item in raw
            ]
        elif kind in ("NULL", "BOOL"):
            result[kind] = raw
    return result


class _DynamoDBJSONSerializer(moto_serialize.JSONSerializer):
    """moto's JSON serializer; ``AttributeValue`` structures are written by ``_attribute_value``."""

    def _serialize_type_structure(self, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if key and shape.name == "AttributeValue" and isinstance(value, dict):
            self._default_serialize(serialized, _attribute_value(value, self._base64), shape, key)
            return
        super()._serialize_type_structure(serialized, value, shape, key)


class _CachedUpdateExpressionParser(UpdateExpressionParser):
    """moto's parser, once per expression text: an expression's tree never changes once parsed."""

    @classmethod
    def make(cls, expression_str: str) -> Any:
        return _parse_update_expression(expression_str)


@functools.lru_cache(maxsize=256)
def _parse_update_expression(expression_str: str) -> Any:
    return UpdateExpressionParser.make(expression_str)


def install_fast_dynamodb() -> None:
    """Idempotent; the results are those of moto's own code (tests compare them).

    The method list is cached for every service: a class's methods do not change while it runs.
    """
    moto_serialize.SERVICE_SPECIFIC_SERIALIZERS.setdefault("dynamodb", {})["json"] = _DynamoDBJSONSerializer
    dynamodb_models.UpdateExpressionParser = _CachedUpdateExpressionParser
    dynamodb_responses.UpdateExpressionParser = _CachedUpdateExpressionParser  # it reads clauses only
    if not hasattr(moto_responses.method_names_from_class, "cache_info"):
        moto_responses.method_names_from_class = functools.cache(moto_responses.method_names_from_class)


# ---------------------------------------------------------------------- persistence
def _load_private_key(pem: bytes) -> Any:
    return serialization.load_pem_private_key(pem, password=None)


def _load_public_key(pem: bytes) -> Any:
    return serialization.load_pem_public_key(pem)


def _reduce_private_key(key: Any) -> tuple[Any, tuple[bytes]]:
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return _load_private_key, (pem,)


def _reduce_public_key(key: Any) -> tuple[Any, tuple[bytes]]:
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return _load_public_key, (pem,)


_reducers_registered = False


def _new_rlock() -> Any:
    return threading.RLock()


def _new_lock() -> Any:
    return threading.Lock()


def _register_key_reducers() -> None:
    """What pickle cannot handle by itself: the RSA key of Cognito pools, and the locks Step
    Functions executions hold (saved as new, unlocked locks: snapshots are taken between requests)."""
    global _reducers_registered
    if not _reducers_registered:
        sample = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - for its type
        copyreg.pickle(type(sample), _reduce_private_key)
        copyreg.pickle(type(sample.public_key()), _reduce_public_key)
        copyreg.pickle(type(threading.RLock()), lambda _lock: (_new_rlock, ()))
        copyreg.pickle(type(threading.Lock()), lambda _lock: (_new_lock, ()))
        _reducers_registered = True


BackendKey = tuple[str, str, str]
"""(backend class, account id, region): one pickled backend."""


def backend_blobs(
    services: frozenset[str] | None = None, exclude: frozenset[str] = frozenset()
) -> tuple[dict[BackendKey, bytes], list[str]]:
    """Pickles the backends of ``services`` (moto service names; None = every one in use) that are
    not in ``exclude``.

    Returns the blobs and the services that could not be saved. The caller must make sure no
    request is being served meanwhile (see ``aws_backend``). Backends are keyed by their class,
    not by service name: one service can have two backend dicts (Step Functions has a second
    one, for executing state machines).
    """
    _register_key_reducers()
    state: dict[BackendKey, bytes] = {}
    failed: list[str] = []
    for backend_dict in list(BackendDict._instances):  # type: ignore[misc]
        service = str(backend_dict.service_name)
        if (
            service in _NOT_PERSISTED
            or service in exclude
            or (services is not None and service not in services)
        ):
            continue
        backend_class = f"{backend_dict.backend.__module__}:{backend_dict.backend.__qualname__}"
        for account_id, region, backend in list(backend_dict.iter_backends()):
            try:
                state[(backend_class, account_id, region)] = pickle.dumps(backend)
            except Exception as error:  # any unpicklable member: report, keep the others
                failed.append(f"{service} ({region}): {error}")
    return state, failed


def is_persisted(service: str) -> bool:
    """Whether backends of this moto service name are saved at all (lambda, iam: never)."""
    return service not in _NOT_PERSISTED


def save_state() -> tuple[bytes, list[str]]:
    """Pickles every backend in use; returns the blob and the services that could not be saved."""
    state, failed = backend_blobs()
    return pickle.dumps(state), failed


def _backend_dict_of(backend_class: str) -> BackendDict[Any]:
    module_name, _, class_name = backend_class.partition(":")
    module = importlib.import_module(module_name)
    for value in vars(module).values():
        if isinstance(value, BackendDict) and value.backend.__qualname__ == class_name:
            return value
    raise LookupError(f"no backend dict for {backend_class}")


def load_state(blob: bytes) -> list[str]:
    """Restores what :func:`save_state` saved; returns the services that could not be restored.

    Only call with files this tool wrote (pickle runs code on load).
    """
    return restore_backends(pickle.loads(blob))  # noqa: S301 - our own file


def restore_backends(state: dict[BackendKey, bytes]) -> list[str]:
    """Puts back what :func:`backend_blobs` pickled; returns what could not be restored."""
    _register_key_reducers()
    failed: list[str] = []
    for (backend_class, account_id, region), backend_blob in state.items():
        try:
            backend = pickle.loads(backend_blob)  # noqa: S301
            _backend_dict_of(backend_class)[account_id][region] = backend
        except Exception as error:
            failed.append(f"{backend_class} ({region}): {error}")
    return failed


# ---------------------------------------------------------------------- Lambda, EventBridge
#: answers an invocation: (function name, event) -> (ok, payload-or-error document)
LambdaInvoker = Callable[[str, Any], tuple[bool, Any]]
#: runs an asynchronous invocation to its end (retries, dead-letter queue): (function name, event)
AsyncLambdaInvoker = Callable[[str, Any], None]
_original_invoke = LambdaFunction.invoke
_original_send_to_targets = Rule.send_to_targets
_LOCAL_TARGET_SERVICES = frozenset({"states", "lambda"})
_patch_lock = threading.Lock()


def install_local_integrations(
    invoker: LambdaInvoker | None,
    async_invoker: AsyncLambdaInvoker | None = None,
    aws_endpoint_url: str = "",
    report: Callable[[str], None] = print,
) -> None:
    """Routes moto's Lambda invocations and Lambda/Step Functions rule targets to us.

    Synchronous invocations return the handler's JSON, or its error document with the
    ``x-amz-function-error: Unhandled`` header (what Step Functions' Retry/Catch look at).
    ``InvocationType: Event`` and EventBridge's deliveries to a function are asynchronous
    invocations, as on AWS: ``async_invoker`` runs them in the background (with Lambda's retries
    and dead-letter queue) and they are answered at once. ``None`` restores moto's own behaviour.
    """
    with _patch_lock:
        if invoker is None:
            LambdaFunction.invoke = _original_invoke  # type: ignore[method-assign]
            Rule.send_to_targets = _original_send_to_targets  # type: ignore[method-assign]
            return
        active_invoker = invoker
        active_async_invoker: AsyncLambdaInvoker = async_invoker or (lambda name, event: None)

        def invoke(
            self: LambdaFunction, body: str, request_headers: Any, response_headers: Any
        ) -> str | bytes:
            event = json.loads(body) if body else {}
            invocation_type = request_headers.get("x-amz-invocation-type", "RequestResponse")
            if invocation_type == "Event":
                threading.Thread(
                    target=active_async_invoker, args=(self.function_name, event), daemon=True
                ).start()
                return ""
            if invocation_type == "DryRun":
                return ""
            ok, document = active_invoker(self.function_name, event)
            if not ok:
                response_headers["x-amz-function-error"] = "Unhandled"
            response_headers["x-amz-log-result"] = base64.b64encode(b"").decode()
            return json.dumps(document).encode("utf-8")

        def send_to_targets(self: Rule, original_event: Any, transform_input: bool = True) -> None:
            ours = [t for t in self.targets if t["Arn"].split(":")[2] in _LOCAL_TARGET_SERVICES]
            if ours and self.event_pattern.matches_event(original_event):
                for target in ours:
                    event = _target_input(target, original_event, transform_input)
                    threading.Thread(
                        target=_deliver,
                        args=(target["Arn"], event, active_async_invoker, aws_endpoint_url, report),
                        daemon=True,
                    ).start()
            if len(ours) < len(self.targets):
                others = copy.copy(self)
                others.targets = [t for t in self.targets if t not in ours]
                _original_send_to_targets(others, original_event, transform_input)

        LambdaFunction.invoke = invoke  # type: ignore[method-assign]
        Rule.send_to_targets = send_to_targets  # type: ignore[method-assign]


def _target_input(target: dict[str, Any], event: Any, transform_input: bool) -> Any:
    """What a target receives: ``Input``, ``InputPath``, ``InputTransformer`` or the event."""
    event = dict(event)
    if isinstance(event.get("time"), int | float):
        event["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(event["time"]))
    if "Input" in target:
        return json.loads(target["Input"])
    if "InputPath" in target:
        value: Any = event
        for part in str(target["InputPath"]).lstrip("$").strip(".").split("."):
            value = value.get(part) if part and isinstance(value, dict) else value
        return value
    if transform_input and "InputTransformer" in target:
        transformer = target["InputTransformer"]
        return EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event=event,
        )
    return event


def _deliver(
    arn: str, event: Any, invoker: AsyncLambdaInvoker, aws_endpoint_url: str, report: Callable[[str], None]
) -> None:
    """One target delivery, on its own thread (EventBridge delivers asynchronously)."""
    service, region = arn.split(":")[2], arn.split(":")[3]
    try:
        if service == "lambda":
            invoker(arn.split(":")[6], event)
            return
        client = _stepfunctions_client(aws_endpoint_url, region)
        # moto names every unnamed execution "None": always pass a name
        client.start_execution(stateMachineArn=arn, name=uuid.uuid4().hex, input=json.dumps(event))
    except Exception as error:  # a failed delivery must be visible, as in EventBridge's metrics
        report(f"localcloud: EventBridge delivery to {arn} failed: {error}")


_clients_lock = threading.Lock()


@functools.cache
def _cached_stepfunctions_client(aws_endpoint_url: str, region: str) -> Any:
    import boto3

    return boto3.client(
        "stepfunctions",
        endpoint_url=aws_endpoint_url,
        region_name=region,
        aws_access_key_id="localcloud",
        aws_secret_access_key="localcloud",  # noqa: S106 - dummy for the local backend
    )


def _stepfunctions_client(aws_endpoint_url: str, region: str) -> Any:
    """One client per endpoint and region (creating one costs tens of ms; clients are thread-safe,
    their creation from boto3's default session is not)."""
    with _clients_lock:
        return _cached_stepfunctions_client(aws_endpoint_url, region)
