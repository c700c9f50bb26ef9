"""The template's code roots: the folders Lambda puts on ``sys.path``, read from ``template.yaml``.

Each layer's ``ContentUri`` (``AWS::Serverless::LayerVersion``) and each function's ``CodeUri``
(``AWS::Serverless::Function``, or the ``Globals`` default), in template order, layers first, each
once: what pytest puts on ``sys.path`` (``tests/conftest.py``) and mypy on ``MYPYPATH`` (``make
lint``), so a new service needs no list of its own anywhere. Inline code and S3 locations have no
local folder and are left out.

Usage: python -m tools.code_roots [--template template.yaml] [--separator :]
prints the folders relative to the template's folder, joined by the separator (default ``:``).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from localcloud.template import load_yaml

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
LAYER_TYPES = {"AWS::Serverless::LayerVersion": "ContentUri"}
FUNCTION_TYPES = {"AWS::Serverless::Function": "CodeUri"}


def code_roots(template: Path = TEMPLATE) -> list[Path]:
    """The local code folders of the template's layers, then of its functions (absolute)."""
    document: dict[str, Any] = load_yaml(template) or {}
    default_code = ((document.get("Globals") or {}).get("Function") or {}).get("CodeUri")
    resources: dict[str, Any] = document.get("Resources") or {}
    uris: list[Any] = []
    for types in (LAYER_TYPES, FUNCTION_TYPES):
        for resource in resources.values():
            key = types.get(str(resource.get("Type")))
            if key is None:
                continue
            properties = resource.get("Properties") or {}
            if key == "CodeUri" and "InlineCode" in properties:
                continue
            uris.append(properties.get(key, default_code))
    roots: list[Path] = []
    for uri in uris:
        if not isinstance(uri, str) or uri.startswith("s3://"):
            continue  # S3 object, intrinsic function, or none
        folder = (template.parent / uri).resolve()
        if folder.is_dir() and folder not in roots:
            roots.append(folder)
    return roots


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Print the template's code roots (for MYPYPATH).")
    parser.add_argument("--template", type=Path, default=TEMPLATE)
    parser.add_argument("--separator", default=":")
    options = parser.parse_args(argv)
    base = options.template.resolve().parent
    print(
        options.separator.join(os.path.relpath(root, base) for root in code_roots(options.template.resolve()))
    )


if __name__ == "__main__":
    main()
