"""Fixtures for the photo service: moto in-process with the template's tables and buckets (made by
``tests.support`` as the local cloud makes them), each function invoked with the environment
template.yaml gives it, and images made with Pillow.

Buckets have the physical names the local cloud gives them, so the ``events/photos-*.json`` files
work unchanged both here and with ``make invoke``.
"""

import io
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from PIL import Image, ImageDraw

from tests.support import Invoke, create_data_stores, invoker, physical_name, stack

UPLOADS = physical_name("UploadsBucket")
DISTRIBUTION = physical_name("DistributionBucket")


@pytest.fixture
def aws() -> Iterator[None]:
    stack()  # deployed in a moto of its own: the whole stack's rules and functions stay out of this one
    with mock_aws():
        create_data_stores(("PhotosTable", "PetsTable", "UploadsBucket", "DistributionBucket"))
        yield


@pytest.fixture
def invoke(aws: None, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Invoke a template function's handler in-process, as Lambda would; exceptions propagate."""
    return invoker(monkeypatch)


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
