"""The REST routes of a catalogue (pets, foods): list, get, put, delete.

One definition serves every catalogue; a service calls ``add_catalogue_routes`` with its models.
Which routes need a token is declared in template.yaml (the JWT authorizer); that writes are for
staff only is declared here, once, with ``store_common.auth.staff_only_route``.
"""

import functools
import inspect
from collections.abc import Callable
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel

from store_common.auth import staff_only_route
from store_common.catalogue import Catalogue
from store_common.http import (
    error_responses,
    etag,
    list_responses,
    metrics,
    ok_response,
    parse_if_match,
    parse_preconditions,
    versioned_list,
)
from store_common.models import Page
from store_common.params import IdParam, IfMatch, IfNoneMatch, Limit, NextToken


def add_catalogue_routes(
    app: APIGatewayHttpResolver,
    catalogue: Catalogue,
    *,
    path: str,
    id_param: str,
    item_in: type[BaseModel],
    item_out: type[BaseModel],
) -> None:
    """Register GET/PUT/DELETE routes of one catalogue at ``path`` and ``path/{id_param}``."""
    noun = catalogue.noun
    tag = [path.strip("/").capitalize()]
    item_path = f"{path}/<{id_param}>"

    @app.get(
        path,
        summary=f"List {noun}s",
        operation_id=f"list{noun.capitalize()}s",
        tags=tag,
        responses=list_responses(item_out),
    )
    def list_items(limit: Limit = 20, next_token: NextToken = None) -> Page[item_out] | list[item_out]:  # type: ignore[valid-type]
        return versioned_list(app, catalogue.list(limit, next_token))

    @app.get(
        item_path,
        summary=f"Get a {noun}",
        operation_id=f"get{noun.capitalize()}",
        tags=tag,
        responses={**ok_response(item_out), **error_responses(400, 404)},
    )
    @_path_param_named(id_param)
    def get_item(item_id: IdParam) -> item_out:  # type: ignore[valid-type]
        return catalogue.get(item_id)

    @app.put(
        item_path,
        summary=f"Create or replace a {noun}",
        operation_id=f"put{noun.capitalize()}",
        description=(
            "201 when created, 200 when replaced. Without a precondition a PUT only creates: replacing "
            "an existing item needs `If-Match: <version>` (its ETag; 428 without it, 412 when stale). "
            "`If-None-Match: *` makes the PUT create-only (412 when the item exists)."
        ),
        tags=tag,
        **staff_only_route(
            {
                **ok_response(item_out, "Replaced"),
                **ok_response(item_out, "Created", status=201),
                **error_responses(400, 412, 413, 415, 428),
            }
        ),
    )
    @_path_param_named(id_param)
    def put_item(
        item_id: IdParam,
        body: Annotated[item_in, Body()],  # type: ignore[valid-type]
        if_match: IfMatch = None,
        if_none_match: IfNoneMatch = None,
    ) -> Response[item_out]:  # type: ignore[valid-type]
        expected, create_only = parse_preconditions(if_match, if_none_match)
        item, created = catalogue.put(item_id, body, expected, create_only=create_only)
        metrics.add_metric(
            name=f"{noun.capitalize()}{'Created' if created else 'Replaced'}", unit="Count", value=1
        )
        return Response(
            status_code=HTTPStatus.CREATED if created else HTTPStatus.OK,
            content_type=content_types.APPLICATION_JSON,
            body=item,
            headers=etag(item.version),
        )

    @app.delete(
        item_path,
        summary=f"Delete a {noun}",
        operation_id=f"delete{noun.capitalize()}",
        description="Needs `If-Match: <version>` (its ETag, or `*`): 428 without it, 412 when stale.",
        tags=tag,
        **staff_only_route({204: {"description": "Deleted"}, **error_responses(400, 404, 412, 428)}),
    )
    @_path_param_named(id_param)
    def delete_item(item_id: IdParam, if_match: IfMatch = None) -> Response[None]:
        catalogue.delete(item_id, parse_if_match(if_match))
        return Response(status_code=HTTPStatus.NO_CONTENT)


def _path_param_named(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Expose a route function's ``item_id`` parameter as ``name`` (``petId``, ``foodId``).

    Powertools binds path parameters by name from the function signature, and the API contract
    names them per resource; this keeps one function body for every catalogue.
    """

    def rename(func: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(func)
        parameters = [
            p.replace(name=name) if p.name == "item_id" else p for p in signature.parameters.values()
        ]

        @functools.wraps(func)
        def route(**kwargs: Any) -> Any:
            kwargs["item_id"] = kwargs.pop(name)
            return func(**kwargs)

        route.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        return route

    return rename
