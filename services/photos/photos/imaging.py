"""Checking uploaded images and making their renditions: pure Pillow code on bytes, no AWS.

What is accepted: JPEG, PNG and WebP files up to ``max_pixels`` pixels that decode completely.
What is refused raises ``InvalidImage``, whose message is shown to the user as the photo's reason.

Decisions, and why:

- Only the JPEG, PNG and WebP decoders are ever tried (``Image.open(..., formats=...)``), so a file
  renamed ``.jpg`` never reaches Pillow's other, less exercised parsers.
- The pixel limit is checked from the header, before any pixel is decoded, and
  ``Image.MAX_IMAGE_PIXELS`` is set to it too: a 100k x 100k PNG of a few hundred bytes (a
  decompression bomb) is refused without allocating anything.
- ``verify()`` checks a file's structure (PNG chunk checksums) but not every format's pixel data: a
  JPEG cut in half passes it. So the check also decodes, JPEGs at 1/8 scale (DCT scaling), which
  still reads the whole compressed stream for a fraction of the cost of a full decode.
- Renditions are decoded with JPEG draft mode (``Image.draft``) at the smallest DCT scale that is
  still at least as large as the biggest rendition: a 24 MP photo is decoded at 1/4 scale, which
  bounds memory and time (see ``benchmarks/resize.py``).
- EXIF orientation is applied, then all metadata is dropped (EXIF with its GPS position, XMP,
  comments). An embedded ICC profile is converted to sRGB first, so colours survive the stripping
  (phone photos often carry Display P3).
- Opaque images become progressive JPEGs (quality 85); images that really use transparency become
  WebP with alpha (quality 85), which every current browser shows. Images are never upscaled.
"""

import contextlib
import io
import math
import struct
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

CONTENT_TYPES: Final[dict[str, str]] = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
"""Accepted Pillow formats and the content type each must be uploaded as."""

RENDITION_WIDTHS: Final[tuple[int, ...]] = (1024, 256)
JPEG_QUALITY: Final = 85
WEBP_QUALITY: Final = 85

_FORMAT_ALIASES: Final = {"MPO": "JPEG"}
"""Many cameras write MPO: a JPEG followed by more pictures. Pillow names it MPO; it is a JPEG."""

_ORIENTATION_TAG: Final = 0x0112
_SWAPPED_ORIENTATIONS: Final = frozenset({5, 6, 7, 8})

_DECODE_ERRORS: Final = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    IndexError,
    KeyError,
    TypeError,
)
"""What Pillow raises on malformed input (``UnidentifiedImageError`` is an ``OSError``)."""

_SRGB: Final = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


class InvalidImage(Exception):
    """The upload is not an image the store accepts. Permanent: retrying cannot help.

    The message is written for the user: it becomes the photo's ``reason``.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ImageFacts:
    format: str
    """JPEG, PNG or WEBP."""
    content_type: str
    width: int
    """As displayed: EXIF orientation applied."""
    height: int


@dataclass(frozen=True)
class Rendition:
    width: int
    height: int
    content_type: str
    extension: str
    data: bytes


def inspect_image(data: bytes, *, declared_type: str | None, max_pixels: int) -> ImageFacts:
    """Prove ``data`` is a complete JPEG, PNG or WebP within the limits; raise ``InvalidImage``.

    ``declared_type`` is the content type the file was uploaded with; it must match the format.
    """
    image = _open(data, max_pixels)
    content_type = _content_type(image)
    if declared_type is not None:
        declared = declared_type.split(";", 1)[0].strip().lower()
        if declared != content_type:
            raise InvalidImage(
                f"The file is a {_format(image)} image but was uploaded as {declared or 'no type'}"
            )
    try:
        image.verify()
    except _DECODE_ERRORS:
        raise _damaged() from None
    image = _open(data, max_pixels)  # verify() leaves the image unusable
    return _decode(image, largest_width=None)


def make_renditions(
    data: bytes, *, max_pixels: int, widths: Sequence[int] = RENDITION_WIDTHS
) -> tuple[ImageFacts, list[Rendition]]:
    """The image's renditions, largest first, each at most one of ``widths`` wide (never upscaled).

    Raises ``InvalidImage`` for anything ``inspect_image`` would refuse.
    """
    if not widths or min(widths) < 1:
        raise ValueError("rendition widths must be positive")
    image = _open(data, max_pixels)
    facts = _decode(image, largest_width=max(widths))
    targets = sorted({min(width, facts.width) for width in widths}, reverse=True)

    icc_profile = image.info.get("icc_profile")
    image = _upright(image)
    if icc_profile:
        image = _to_srgb(image, icc_profile)
    image = _normalise_mode(image)

    renditions: list[Rendition] = []
    current = image
    for target in targets:
        size = (target, max(1, round(facts.height * target / facts.width)))
        if current.size != size:
            # Each rendition is made from the previous, larger one: fewer pixels to filter.
            current = current.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        if not renditions:
            current = _drop_unused_alpha(current)  # decided once, so all sizes share a format
        renditions.append(_encode(current))
    return facts, renditions


# ---------------------------------------------------------------------- internals


def _open(data: bytes, max_pixels: int) -> Image.Image:
    Image.MAX_IMAGE_PIXELS = max_pixels  # Pillow refuses more than twice this while opening
    try:
        with warnings.catch_warnings():
            # Between one and two times the limit Pillow only warns; the exact check follows.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(CONTENT_TYPES))
    except UnidentifiedImageError:
        raise InvalidImage("The file is not a JPEG, PNG or WebP image") from None
    except Image.DecompressionBombError:
        raise InvalidImage(f"The image is larger than the limit of {_megapixels(max_pixels)}") from None
    except _DECODE_ERRORS:
        raise _damaged() from None
    width, height = image.size
    if width < 1 or height < 1:
        raise _damaged()
    if width * height > max_pixels:
        raise InvalidImage(
            f"The image is {width}x{height} pixels ({_megapixels(width * height)}); "
            f"the limit is {_megapixels(max_pixels)}"
        )
    return image


def _format(image: Image.Image) -> str:
    return _FORMAT_ALIASES.get(image.format or "", image.format or "")


def _content_type(image: Image.Image) -> str:
    content_type = CONTENT_TYPES.get(_format(image))
    if content_type is None:  # pragma: no cover - Image.open only tried the accepted formats
        raise InvalidImage("The file is not a JPEG, PNG or WebP image")
    return content_type


def _decode(image: Image.Image, largest_width: int | None) -> ImageFacts:
    """Decode the pixel data and describe the image as displayed (its size before any draft).

    JPEGs are decoded at the smallest DCT scale that still gives ``largest_width`` pixels across
    once upright; ``None`` means only proving the data decodes, at 1/8 scale. Their EXIF sits in
    the header, so the orientation is known before decoding. A PNG's EXIF chunk may follow the
    pixel data, so other formats are described after decoding.
    """
    stored_width, stored_height = image.size
    if _format(image) == "JPEG":
        facts = _describe(image, stored_width, stored_height)
        if largest_width is None:
            draft = (max(1, stored_width // 8), max(1, stored_height // 8))
        else:
            scale = min(largest_width, facts.width) / facts.width
            draft = (math.ceil(stored_width * scale), math.ceil(stored_height * scale))
        image.draft("RGB", draft)
        _load(image)
    else:
        _load(image)
        facts = _describe(image, stored_width, stored_height)
    return facts


def _describe(image: Image.Image, stored_width: int, stored_height: int) -> ImageFacts:
    width, height = stored_width, stored_height
    if _orientation(image) in _SWAPPED_ORIENTATIONS:
        width, height = height, width
    return ImageFacts(_format(image), _content_type(image), width, height)


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(_ORIENTATION_TAG, 1)
    except _DECODE_ERRORS:
        return 1  # unreadable EXIF: show the pixels as stored
    return value if isinstance(value, int) else 1


def _load(image: Image.Image) -> None:
    try:
        image.load()
    except Image.DecompressionBombError:
        raise InvalidImage("The image is larger than the limit") from None
    except _DECODE_ERRORS:
        raise _damaged() from None


def _upright(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation; a broken EXIF block leaves the pixels as stored."""
    with contextlib.suppress(*_DECODE_ERRORS):
        ImageOps.exif_transpose(image, in_place=True)
    return image


def _to_srgb(image: Image.Image, icc_profile: bytes) -> Image.Image:
    """Convert from the embedded profile to sRGB; an unusable profile is ignored (pixels taken as sRGB)."""
    if image.mode not in ("RGB", "RGBA", "CMYK", "L"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        converted = ImageCms.profileToProfile(
            image, source, _SRGB, outputMode="RGBA" if image.mode == "RGBA" else "RGB"
        )
    except (ImageCms.PyCMSError, *_DECODE_ERRORS):
        return image
    return converted if converted is not None else image


def _normalise_mode(image: Image.Image) -> Image.Image:
    """L (grey), RGB or RGBA: the modes the encoders below take."""
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I"):
        # 16-bit grey (PNG): scale to 8 bits; a plain convert("L") would clip it to white.
        return image.convert("I").point(lambda value: value / 256).convert("L")
    if "transparency" in image.info and mode in ("P", "L", "RGB"):
        return image.convert("RGBA")
    if mode in ("RGBA", "LA", "La", "PA", "RGBa"):
        return image.convert("RGBA") if mode != "RGBA" else image
    if mode in ("1", "L"):
        return image.convert("L") if mode != "L" else image
    return image.convert("RGB") if mode != "RGB" else image


def _drop_unused_alpha(image: Image.Image) -> Image.Image:
    """An alpha channel that is opaque everywhere (common in PNG screenshots) is no reason for WebP."""
    if image.mode == "RGBA":
        lowest_alpha = image.getchannel("A").getextrema()[0]
        if isinstance(lowest_alpha, (int, float)) and lowest_alpha >= 255:
            return image.convert("RGB")
    return image


def _encode(image: Image.Image) -> Rendition:
    image.info = {}  # nothing from the upload (EXIF, XMP, ICC, comments) is written out
    buffer = io.BytesIO()
    if image.mode == "RGBA":
        image.save(buffer, "WEBP", quality=WEBP_QUALITY, method=4)
        content_type, extension = "image/webp", "webp"
    else:
        image.save(buffer, "JPEG", quality=JPEG_QUALITY, progressive=True, optimize=True)
        content_type, extension = "image/jpeg", "jpg"
    return Rendition(image.width, image.height, content_type, extension, buffer.getvalue())


def _damaged() -> InvalidImage:
    return InvalidImage("The image file is damaged or incomplete")


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:.3g} megapixels"
