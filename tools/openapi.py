"""Generate the OpenAPI document of the whole HTTP API from the code and the template.

Each function's Powertools resolver documents its own routes from the pydantic models; this merges
them into one document and adds what only the template knows: which routes need the JWT
authorizer (security, and the 401 the gateway answers). Validation errors are answered 400 with
``ErrorResponse`` by ``store_common.http``, so the 422 that Powertools documents by default is
dropped. The template is read the way the local cloud reads it (deployed into an in-process moto),
so routes and environments come from one reading. ``python -m tools.openapi > openapi.json``;
a test fails when the committed file drifts.
"""

import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from moto import mock_aws

from localcloud.functions import FunctionSpec
from localcloud.stack import deploy_in_memory

ROOT = Path(__file__).resolve().parents[1]
TITLE = "Pet store API"
VERSION = "2.0.0"
SECURITY_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": "A Cognito access token of the stack's user pool (app client as audience).",
}
UNAUTHORIZED = {
    "description": "Missing or invalid token (answered by the JWT authorizer)",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
}
_POWERTOOLS_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError", "ResponseValidationError")


def import_resolver(spec: FunctionSpec) -> Any:
    """The function's resolver: the ``app`` of its handler module, imported with its environment."""
    os.environ.update(spec.environment)
    for directory in (spec.code_dir, *spec.layer_dirs):
        if str(directory) not in sys.path:
            sys.path.insert(0, str(directory))
    return importlib.import_module(spec.handler.rsplit(".", 1)[0]).app


def build_document(template_path: Path = ROOT / "template.yaml") -> dict[str, Any]:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ["POWERTOOLS_TRACE_DISABLED"] = "true"
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION},
        "paths": {},
        "components": {"schemas": {}, "securitySchemes": {}},
    }
    with mock_aws():
        stack = deploy_in_memory(template_path)
        routes = [route for api in stack.apis.values() for route in api.routes]
        if not routes:
            raise SystemExit(f"{template_path} declares no HTTP API route: {stack.warnings}")
        for function_id in sorted({route.function for route in routes if route.function}):
            part = json.loads(
                import_resolver(stack.functions[function_id]).get_openapi_json_schema(title=TITLE)
            )
            for path, operations in part.get("paths", {}).items():
                document["paths"].setdefault(path, {}).update(operations)
            document["components"]["schemas"].update(part.get("components", {}).get("schemas", {}))

    for route in routes:
        operation = document["paths"].get(route.path, {}).get(route.method.lower())
        if operation is None:
            raise SystemExit(f"{route.route_key} is in the template but no handler documents it")
        operation["responses"].pop("422", None)
        if "204" in operation["responses"]:  # Powertools documents Response[None] as a JSON null
            operation["responses"]["204"].pop("content", None)
        if route.authorizer:
            document["components"]["securitySchemes"][route.authorizer] = SECURITY_SCHEME
            operation["security"] = [{route.authorizer: list(route.scopes)}]
            operation["responses"]["401"] = UNAUTHORIZED
    for name in _POWERTOOLS_VALIDATION_SCHEMAS:
        document["components"]["schemas"].pop(name, None)
    return document


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def main() -> None:
    sys.stdout.write(render(build_document()))


if __name__ == "__main__":
    main()
