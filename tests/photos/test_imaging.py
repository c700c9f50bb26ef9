"""photos.imaging: what is accepted, what is refused and why, and what the renditions look like."""

import io
import struct
import time
import zlib
from typing import Any

import pytest
from photos.imaging import InvalidImage, inspect_image, make_renditions
from PIL import ExifTags, Image, ImageCms, JpegImagePlugin

from tests.photos.conftest import encode, jpeg, picture

LIMIT = 40_000_000


def reopen(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def refused(data: bytes, declared: str | None = "image/jpeg", max_pixels: int = LIMIT) -> str:
    """The reason both entry points give for refusing ``data`` (they must agree)."""
    with pytest.raises(InvalidImage) as inspected:
        inspect_image(data, declared_type=declared, max_pixels=max_pixels)
    if inspected.value.message.startswith("The file is a "):  # a type mismatch only inspect_image sees
        return inspected.value.message
    with pytest.raises(InvalidImage) as resized:
        make_renditions(data, max_pixels=max_pixels)
    assert resized.value.message == inspected.value.message
    return inspected.value.message


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_claiming(width: int, height: int) -> bytes:
    """A valid-looking PNG of a few dozen bytes whose header claims ``width`` x ``height`` pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + png_chunk(b"IEND", b"")
    )


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small real JPEG with its frame header (SOF) rewritten to claim ``width`` x ``height``."""
    data = bytearray(jpeg((64, 48)))
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def with_exif(orientation: int, size: tuple[int, int] = (1200, 800)) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "PetCam"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (48.0, 51.0, 24.0)
    return encode(picture(size), "JPEG", exif=exif.tobytes(), quality=90)


# ---------------------------------------------------------------------- accepted


@pytest.mark.parametrize(
    ("image_format", "content_type"),
    [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")],
)
def test_accepts_each_format_declared_as_its_type(image_format: str, content_type: str) -> None:
    data = encode(picture((300, 200)), image_format)
    facts = inspect_image(data, declared_type=content_type, max_pixels=LIMIT)
    assert (facts.format, facts.content_type, facts.width, facts.height) == (
        image_format,
        content_type,
        300,
        200,
    )


def test_a_content_type_with_parameters_or_capitals_still_matches() -> None:
    assert inspect_image(jpeg((64, 48)), declared_type="Image/JPEG; q=1", max_pixels=LIMIT).format == "JPEG"


def test_a_multi_picture_jpeg_from_a_camera_is_a_jpeg() -> None:
    first, second = Image.new("RGB", (640, 480), "blue"), Image.new("RGB", (640, 480), "red")
    data = encode(first, "MPO", save_all=True, append_images=[second])
    assert Image.open(io.BytesIO(data)).format == "MPO"
    assert inspect_image(data, declared_type="image/jpeg", max_pixels=LIMIT).format == "JPEG"
    _, renditions = make_renditions(data, max_pixels=LIMIT)
    red, _, blue = reopen(renditions[0].data).getpixel((5, 5))  # type: ignore[misc]
    assert blue > 200 and red < 50  # the first picture


def test_renditions_of_a_photo_are_1024_and_256_wide_progressive_jpegs() -> None:
    facts, renditions = make_renditions(jpeg((1600, 1200)), max_pixels=LIMIT)
    assert (facts.width, facts.height) == (1600, 1200)
    assert [(r.width, r.height, r.content_type, r.extension) for r in renditions] == [
        (1024, 768, "image/jpeg", "jpg"),
        (256, 192, "image/jpeg", "jpg"),
    ]
    for rendition in renditions:
        image = reopen(rendition.data)
        assert image.format == "JPEG" and image.size == (rendition.width, rendition.height)
        assert image.info.get("progressive") == 1
        # the red marker of picture() survived the resize, where it should be
        red, green, blue = image.getpixel((image.width * 11 // 48, image.height * 11 // 48))  # type: ignore[misc]
        assert red > 180 and green < 80 and blue < 80


def test_images_are_never_upscaled() -> None:
    _, renditions = make_renditions(jpeg((600, 400)), max_pixels=LIMIT)
    assert [(r.width, r.height) for r in renditions] == [(600, 400), (256, 171)]
    _, renditions = make_renditions(jpeg((200, 100)), max_pixels=LIMIT)
    assert [(r.width, r.height) for r in renditions] == [(200, 100)]


def test_large_jpegs_are_decoded_at_a_reduced_dct_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    drafted: list[tuple[int, int]] = []
    original = JpegImagePlugin.JpegImageFile.draft

    def spy(self: JpegImagePlugin.JpegImageFile, mode: Any, size: Any) -> Any:
        result = original(self, mode, size)
        drafted.append(self.size)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    _, renditions = make_renditions(jpeg((2400, 1600)), max_pixels=LIMIT)
    assert drafted == [(1200, 800)]  # 1/2 scale still covers 1024 px
    assert (renditions[0].width, renditions[0].height) == (1024, 683)


def test_exif_orientation_is_applied() -> None:
    data = with_exif(orientation=6)  # stored landscape, displayed rotated 90 degrees clockwise
    facts = inspect_image(data, declared_type="image/jpeg", max_pixels=LIMIT)
    assert (facts.width, facts.height) == (800, 1200)
    facts, renditions = make_renditions(data, max_pixels=LIMIT)
    assert (facts.width, facts.height) == (800, 1200)
    assert [(r.width, r.height) for r in renditions] == [(800, 1200), (256, 384)]
    image = reopen(renditions[0].data)
    # The marker near the stored top-left corner is near the top-right corner once upright.
    red, green, _ = image.getpixel((image.width - 1 - image.width * 11 // 48, image.height * 11 // 72))  # type: ignore[misc]
    assert red > 180 and green < 80


def test_metadata_is_stripped() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source = with_exif(orientation=3)
    image = Image.open(io.BytesIO(source))
    exif = image.getexif()
    data = encode(
        image, "JPEG", exif=exif.tobytes(), icc_profile=srgb, comment=b"shot at home", xmp=b"<x:xmpmeta/>"
    )
    assert {"exif", "icc_profile", "comment", "xmp"} <= set(Image.open(io.BytesIO(data)).info)
    _, renditions = make_renditions(data, max_pixels=LIMIT)
    for rendition in renditions:
        out = reopen(rendition.data)
        assert not set(out.info) & {"exif", "icc_profile", "comment", "xmp", "XML:com.adobe.xmp"}
        assert not dict(out.getexif())


def test_png_with_alpha_becomes_webp_that_keeps_its_transparency() -> None:
    image = Image.new("RGBA", (1200, 600), (0, 0, 0, 0))
    image.paste((0, 200, 0, 255), (0, 0, 600, 600))
    facts, renditions = make_renditions(encode(image, "PNG"), max_pixels=LIMIT)
    assert facts.format == "PNG"
    assert [(r.width, r.height, r.content_type, r.extension) for r in renditions] == [
        (1024, 512, "image/webp", "webp"),
        (256, 128, "image/webp", "webp"),
    ]
    out = reopen(renditions[0].data)
    assert out.format == "WEBP" and out.mode == "RGBA"
    assert out.getpixel((900, 256))[3] == 0  # type: ignore[index]
    assert out.getpixel((100, 256))[3] == 255  # type: ignore[index]


def test_palette_png_with_a_transparent_colour_becomes_webp() -> None:
    image = picture((300, 200)).convert("P")
    data = encode(image, "PNG", transparency=0)
    _, renditions = make_renditions(data, max_pixels=LIMIT)
    assert {r.content_type for r in renditions} == {"image/webp"}


def test_an_alpha_channel_that_is_opaque_everywhere_gives_a_jpeg() -> None:
    data = encode(picture((300, 200)).convert("RGBA"), "PNG")
    _, renditions = make_renditions(data, max_pixels=LIMIT)
    assert {r.content_type for r in renditions} == {"image/jpeg"}


def test_sixteen_bit_grey_png_is_scaled_not_clipped() -> None:
    image = Image.new("I;16", (300, 200), 0x8000)  # mid grey
    _, renditions = make_renditions(encode(image, "PNG"), max_pixels=LIMIT)
    value = reopen(renditions[0].data).convert("L").getpixel((10, 10))
    assert isinstance(value, int) and 120 <= value <= 136


def test_cmyk_jpeg_gives_an_rgb_jpeg() -> None:
    _, renditions = make_renditions(encode(picture((300, 200)).convert("CMYK"), "JPEG"), max_pixels=LIMIT)
    assert reopen(renditions[0].data).mode == "RGB"


def test_an_unusable_icc_profile_is_ignored() -> None:
    data = encode(picture((300, 200)), "JPEG", icc_profile=b"not a profile at all")
    _, renditions = make_renditions(data, max_pixels=LIMIT)
    assert "icc_profile" not in reopen(renditions[0].data).info


def test_webp_input_gives_jpeg_renditions() -> None:
    _, renditions = make_renditions(encode(picture((1100, 700)), "WEBP", quality=80), max_pixels=LIMIT)
    assert [(r.width, r.content_type) for r in renditions] == [(1024, "image/jpeg"), (256, "image/jpeg")]


# ---------------------------------------------------------------------- refused


def test_a_text_file_renamed_jpg_is_refused() -> None:
    assert refused(b"Dear diary, today the dog ate my homework.\n" * 20) == (
        "The file is not a JPEG, PNG or WebP image"
    )


@pytest.mark.parametrize("data", [b"", b"\xff\xd8\xff"], ids=["empty", "three bytes of JPEG"])
def test_nothing_or_almost_nothing_is_refused(data: bytes) -> None:
    assert refused(data)


@pytest.mark.parametrize("image_format", ["GIF", "BMP", "TIFF"])
def test_other_image_formats_are_refused(image_format: str) -> None:
    assert refused(encode(picture((40, 30)), image_format)) == "The file is not a JPEG, PNG or WebP image"


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
def test_a_truncated_file_is_refused(image_format: str) -> None:
    data = encode(picture((800, 600)), image_format)
    content_type = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}[image_format]
    assert (
        refused(data[: len(data) * 2 // 3], declared=content_type)
        == "The image file is damaged or incomplete"
    )


def test_a_png_with_a_corrupt_chunk_is_refused() -> None:
    data = bytearray(encode(picture((200, 100)), "PNG"))
    data[len(data) // 2] ^= 0xFF  # inside the image data: the chunk's CRC no longer matches
    assert refused(bytes(data), declared="image/png") == "The image file is damaged or incomplete"


def test_a_declared_type_that_does_not_match_is_refused() -> None:
    message = refused(encode(picture((40, 30)), "PNG"), declared="image/jpeg")
    assert message == "The file is a PNG image but was uploaded as image/jpeg"


def test_a_decompression_bomb_png_is_refused_from_its_header_quickly() -> None:
    bomb = png_claiming(100_000, 100_000)
    assert len(bomb) < 200
    started = time.perf_counter()
    message = refused(bomb, declared="image/png")
    assert time.perf_counter() - started < 0.5
    assert "larger than the limit of 40 megapixels" in message


def test_a_tiny_jpeg_claiming_huge_dimensions_is_refused() -> None:
    message = refused(jpeg_claiming(9000, 6000))  # 54 MP: over the limit, under Pillow's 2x bomb error
    assert message == "The image is 9000x6000 pixels (54 megapixels); the limit is 40 megapixels"


def test_the_pixel_limit_is_exact() -> None:
    inspect_image(jpeg((1000, 1000)), declared_type="image/jpeg", max_pixels=1_000_000)
    message = refused(jpeg((1001, 1000)), max_pixels=1_000_000)
    assert message == "The image is 1001x1000 pixels (1 megapixels); the limit is 1 megapixels"


def test_a_real_decompression_bomb_is_refused_before_decoding() -> None:
    """A 2 MP PNG of zeros compresses to a few kB; with a 1 MP limit it is refused unopened."""
    data = encode(Image.new("L", (2000, 1000)), "PNG")
    assert len(data) < 10_000
    assert "limit is 1 megapixels" in refused(data, declared="image/png", max_pixels=1_000_000)
