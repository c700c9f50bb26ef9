"""The HTTP API payload format 2.0 in the local gateway: the event a Lambda receives, and how its
answer becomes HTTP.

The mapping itself is the layer's ``store_common/proxy_event.py`` -- one implementation, shared
with the container adapter that runs the same handlers on ECS (``store_common.container``). This
module feeds it what only the local gateway knows (the API, the stage, the matched route, the JWT
authorizer's claims) and keeps the names the rest of the local cloud imports.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from localcloud.routes import ApiSpec, RouteMatch, Stage

__all__ = [
    "GatewayResponse",
    "HttpRequest",
    "MalformedResponseError",
    "build_event",
    "claims_for_event",
    "is_text",
    "map_response",
    "query_parameters",
]

_CORE_NAME = "localcloud._proxy_event"
_CORE_PATH = Path(__file__).resolve().parents[1] / "shared" / "store_common" / "proxy_event.py"


def _load_core() -> ModuleType:
    """The layer's proxy_event.py, loaded by path as ``localcloud._proxy_event``.

    Why by path: the local cloud does not run with shared/ on ``sys.path`` -- the layer belongs to
    the functions' workers, each with its own code roots -- and importing the ``store_common``
    package would run its ``__init__``, which needs the layer's own requirements. This one file
    is standard library only. Registered in ``sys.modules`` before it runs, as an import would be
    (dataclasses look their module up there).
    """
    loaded = sys.modules.get(_CORE_NAME)
    if loaded is not None:
        return loaded
    spec = importlib.util.spec_from_file_location(_CORE_NAME, _CORE_PATH)
    if spec is None or spec.loader is None:  # pragma: no cover - the file is in the repository
        raise ImportError(f"cannot load {_CORE_PATH}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[_CORE_NAME] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[_CORE_NAME]
        raise
    return module


if TYPE_CHECKING:  # the type checker reads the same file by its name in the layer
    from store_common import proxy_event as _core
    from store_common.proxy_event import (
        GatewayResponse,
        HttpRequest,
        MalformedResponseError,
        claims_for_event,
        is_text,
        map_response,
        query_parameters,
    )
else:
    _core = _load_core()
    HttpRequest = _core.HttpRequest
    GatewayResponse = _core.GatewayResponse
    MalformedResponseError = _core.MalformedResponseError
    is_text = _core.is_text
    query_parameters = _core.query_parameters
    map_response = _core.map_response
    claims_for_event = _core.claims_for_event


def build_event(
    request: HttpRequest,
    api: ApiSpec,
    stage: Stage,
    match: RouteMatch,
    *,
    account_id: str,
    request_id: str,
    domain_name: str,
    now: float | None = None,
    jwt_claims: Mapping[str, Any] | None = None,
    jwt_scopes: list[str] | None = None,
) -> dict[str, Any]:
    """The event of ``request`` on ``api``'s ``stage``, routed to ``match``; claims as verified."""
    return _core.build_event(
        request,
        route_key=match.route.route_key,
        stage=stage.name,
        api_id=api.api_id,
        domain_name=domain_name,
        request_id=request_id,
        account_id=account_id,
        path_parameters=match.path_parameters,
        stage_variables=stage.variables,
        now=now,
        jwt_claims=None if jwt_claims is None else claims_for_event(jwt_claims),
        jwt_scopes=jwt_scopes,
    )
