"""Fixtures for the photo service: moto in-process with the template's tables and the two buckets,
each function invoked with the environment template.yaml gives it, and images made with Pillow.

Buckets get the physical names the local cloud gives them (``petstore-local-<logicalid>``), so the
``events/photos-*.json`` files work unchanged both here and with ``make invoke``.
"""

import copy
import importlib
import io
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from PIL import Image, ImageDraw

from tests.services.conftest import RESOURCES, LambdaContext, function_environment

BUCKETS = {
    "UploadsBucket": "petstore-local-uploadsbucket",
    "DistributionBucket": "petstore-local-distributionbucket",
}
TABLES = ("PhotosTable", "PetsTable")
"""The tables the photo functions use (created from their template definitions; only these, for speed)."""
UPLOADS = BUCKETS["UploadsBucket"]
DISTRIBUTION = BUCKETS["DistributionBucket"]

Invoke = Callable[[str, dict[str, Any]], dict[str, Any]]


def photo_environment(logical_id: str) -> dict[str, str]:
    """The function's environment from template.yaml, bucket references resolved to their names."""
    return {name: BUCKETS.get(value, value) for name, value in function_environment(logical_id).items()}


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        for table in TABLES:
            props = RESOURCES[table]["Properties"]
            keys = ("AttributeDefinitions", "KeySchema", "LocalSecondaryIndexes", "GlobalSecondaryIndexes")
            dynamodb.create_table(
                TableName=table,
                BillingMode="PAY_PER_REQUEST",
                **{key: copy.deepcopy(props[key]) for key in keys if key in props},
            )
        s3 = boto3.client("s3")
        for name in BUCKETS.values():
            s3.create_bucket(Bucket=name)
        yield


@pytest.fixture
def invoke(aws: None, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Invoke a template function's handler in-process, as Lambda would; exceptions propagate."""

    def call(logical_id: str, event: dict[str, Any]) -> dict[str, Any]:
        for name, value in photo_environment(logical_id).items():
            monkeypatch.setenv(name, value)
        module_name, function_name = RESOURCES[logical_id]["Properties"]["Handler"].rsplit(".", 1)
        handler = getattr(importlib.import_module(module_name), function_name)
        result: dict[str, Any] = handler(copy.deepcopy(event), LambdaContext())
        return result

    return call


@pytest.fixture
def s3(aws: None) -> Any:
    return boto3.client("s3")


# ---------------------------------------------------------------------- images


def picture(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """A small image with structure (so a resize can be told apart from a blank), fast to make."""
    width, height = size
    image = Image.linear_gradient("L").resize(size).convert(mode)
    draw = ImageDraw.Draw(image)
    draw.rectangle((width // 8, height // 8, width // 3, height // 3), fill="red" if mode != "L" else 80)
    return image


def encode(image: Image.Image, image_format: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def jpeg(size: tuple[int, int] = (1600, 1200), **options: Any) -> bytes:
    return encode(picture(size), "JPEG", quality=90, **options)
