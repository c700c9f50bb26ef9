"""Cost of the photo pipeline's image work on a 24 MP JPEG, against decoding it once at full size.

The resize step (``photos.imaging.make_renditions``: both renditions, EXIF orientation, sRGB,
encoding) should cost no more than 1.2x a plain full-size decode, because it decodes with JPEG
draft mode (DCT scaling) instead. A naive pipeline (full decode, then resize) is shown for
comparison, and the validate step (``inspect_image``) too.

Each case runs in a fresh process, so that its peak memory (``ru_maxrss``) is its own; times are
the median of ``--runs`` runs after one warm-up.

Then the whole pipeline through the local cloud (started here, or ``--config-url``): a presigned
POST of the photo to the uploads bucket, and the time until the API lists it READY -- S3,
EventBridge, Step Functions, and the validate, resize and publish functions in their workers.

Usage: python benchmarks/resize.py [--runs 5] [--upload-runs 3] [--config-url URL] [--json PATH]
"""

import argparse
import io
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "services" / "photos"), str(ROOT)]

from photos import imaging  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402
from PIL import __version__ as PILLOW_VERSION  # noqa: E402

from benchmarks.common import Figure, Report, local_cloud, ratio, table  # noqa: E402

SIZE = (6000, 4000)
MAX_PIXELS = 40_000_000
POLL_SECONDS = 0.025
UPLOAD_TIMEOUT_SECONDS = 120.0


def make_photo(path: Path, size: tuple[int, int] = SIZE) -> None:
    """A JPEG with photo-like entropy (gradients plus sensor-like noise); at 24 MP about 7 MB."""
    red = Image.linear_gradient("L").resize(size)
    green = Image.radial_gradient("L").resize(size)
    noise = Image.effect_noise(size, 24)
    blue = Image.blend(red.transpose(Image.Transpose.ROTATE_180), noise, 0.5)
    photo = Image.merge("RGB", (Image.blend(red, noise, 0.25), Image.blend(green, noise, 0.25), blue))
    photo.save(path, "JPEG", quality=90)


def decode_only(data: bytes) -> None:
    image = Image.open(io.BytesIO(data))
    image.load()


def naive_resize(data: bytes) -> None:
    """What the resize step would cost without draft mode: full decode, then the same work."""
    decoded = Image.open(io.BytesIO(data))
    decoded.load()
    image = ImageOps.exif_transpose(decoded)
    current: Image.Image = image
    for width in imaging.RENDITION_WIDTHS:
        current = current.resize((width, round(image.height * width / image.width)), Image.Resampling.LANCZOS)
        current.save(io.BytesIO(), "JPEG", quality=imaging.JPEG_QUALITY, progressive=True, optimize=True)


def resize_step(data: bytes) -> None:
    imaging.make_renditions(data, max_pixels=MAX_PIXELS)


def validate_step(data: bytes) -> None:
    imaging.inspect_image(data, declared_type="image/jpeg", max_pixels=MAX_PIXELS)


CASES: dict[str, tuple[str, Callable[[bytes], None]]] = {
    "decode": ("decode only (Image.open + load, full size)", decode_only),
    "naive": ("naive resize step (full decode, then resize)", naive_resize),
    "resize": ("resize step: make_renditions (draft decode)", resize_step),
    "validate": ("validate step: inspect_image", validate_step),
}


def run_case(case: str, path: Path, runs: int) -> None:
    """In a child process: time one case; print its times and peak memory as JSON."""
    data = path.read_bytes()
    function = CASES[case][1]
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # interpreter, Pillow, the file
    function(data)  # warm-up: plugin registration, allocator
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function(data)
        times.append(time.perf_counter() - started)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"median": statistics.median(times), "peak_kb": peak, "baseline_kb": baseline}))


def upload_to_ready(api: str, token: str, content: bytes, pet_id: str) -> tuple[float, str]:
    """ms from the start of the presigned POST to the first GET that lists the photo READY (or FAILED)."""
    import requests

    auth = {"Authorization": f"Bearer {token}"}
    ticket = requests.post(
        f"{api}/pets/{pet_id}/photos", json={"contentType": "image/jpeg"}, headers=auth, timeout=30
    )
    if ticket.status_code != 201:
        raise SystemExit(f"POST /pets/{pet_id}/photos -> {ticket.status_code} {ticket.text}")
    photo_id, form = ticket.json()["photoId"], ticket.json()["upload"]
    started = time.perf_counter()
    uploaded = requests.post(
        form["url"], data=form["fields"], files={"file": ("photo.jpg", content, "image/jpeg")}, timeout=60
    )
    if uploaded.status_code not in (200, 201, 204):
        raise SystemExit(f"presigned POST -> {uploaded.status_code} {uploaded.text[:300]}")
    session = requests.Session()
    while time.perf_counter() - started < UPLOAD_TIMEOUT_SECONDS:
        listed = session.get(f"{api}/pets/{pet_id}/photos", timeout=30).json()
        photo = next((p for p in listed["items"] if p["photoId"] == photo_id), None)
        if photo is not None and photo["status"] != "PENDING":
            return (time.perf_counter() - started) * 1000, str(photo["status"])
        time.sleep(POLL_SECONDS)
    return float("nan"), "PENDING (timed out)"


def measure_uploads(
    config_url: str | None, photos: dict[str, bytes], runs: int
) -> dict[str, tuple[float, str]]:
    """Median upload-to-READY per photo, through a local cloud (started here unless ``config_url``)."""
    from localcloud.cognito_user import fetch_config, sign_in_demo

    results: dict[str, tuple[float, str]] = {}
    with local_cloud(config_url) as dev:
        config = dev.config if dev else fetch_config(str(config_url))
        api = config["apiUrl"]
        token = sign_in_demo(config)["AccessToken"]
        import requests

        pet: dict[str, Any] = {"name": "Photogenic", "species": "cat", "priceCents": 100}
        created = requests.put(  # create-only: 412 when an earlier run (--config-url) created it
            f"{api}/pets/bench-photos",
            json=pet,
            headers={"Authorization": f"Bearer {token}", "If-None-Match": "*"},
            timeout=30,
        )
        if created.status_code not in (201, 412):
            raise SystemExit(f"PUT /pets/bench-photos -> {created.status_code} {created.text}")
        upload_to_ready(api, token, photos[min(photos, key=lambda name: len(photos[name]))], "bench-photos")
        for name, content in photos.items():
            timings = [upload_to_ready(api, token, content, "bench-photos") for _ in range(runs)]
            statuses = {status for _, status in timings}
            results[name] = (statistics.median(ms for ms, _ in timings), ", ".join(sorted(statuses)))
    return results


def small_photo() -> bytes:
    """A 1600x1200 (2 MP) JPEG with some texture, about what a phone sends after resizing."""
    size = (1600, 1200)
    noise = Image.effect_noise(size, 32)
    photo = Image.merge(
        "RGB", (Image.linear_gradient("L").resize(size), noise, Image.radial_gradient("L").resize(size))
    )
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


def parse_size(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    try:
        size = (int(width), int(height))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not WxH, e.g. 6000x4000") from None
    if not (16 <= size[0] <= 12_000 and 16 <= size[1] <= 12_000):
        raise argparse.ArgumentTypeError("each side must be 16 to 12000 pixels")
    return size


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5, help="timed runs per image case (default 5)")
    parser.add_argument("--upload-runs", type=int, default=3, help="uploads per photo (default 3; 0: none)")
    parser.add_argument("--config-url", help="config.json of a running local cloud (default: start one)")
    parser.add_argument("--json", type=Path, help="write the headline figures here (for run.py)")
    parser.add_argument(
        "--size", type=parse_size, default=SIZE, help="of the generated photo, WxH (default 6000x4000)"
    )
    parser.add_argument("--case", choices=CASES, help=argparse.SUPPRESS)
    parser.add_argument("--image", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--make", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.make:
        make_photo(args.image, args.size)
        return
    runs = max(1, args.runs)
    if args.case:
        run_case(args.case, args.image, runs)
        return

    uploads: dict[str, tuple[float, str]] = {}
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "photo-24mp.jpg"
        # Made in a child too: Linux carries a process's peak RSS across exec into its children.
        size_text = f"{args.size[0]}x{args.size[1]}"
        subprocess.run(
            [sys.executable, __file__, "--make", "--image", str(path), "--size", size_text], check=True
        )
        results = {}
        for case in CASES:
            output = subprocess.run(
                [sys.executable, __file__, "--case", case, "--image", str(path), "--runs", str(runs)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            results[case] = json.loads(output.strip().splitlines()[-1])
        file_mb = path.stat().st_size / 1e6
        if args.upload_runs > 0:
            photos = {
                f"{size_text} JPEG ({file_mb:.1f} MB)": path.read_bytes(),
                "1600x1200 JPEG": small_photo(),
            }
            uploads = measure_uploads(args.config_url, photos, args.upload_runs)

    result = report(results, uploads, args.size, file_mb, runs, args.upload_runs)
    print(result.markdown)
    result.write_json(args.json)


def report(
    results: dict[str, dict[str, float]],
    uploads: dict[str, tuple[float, str]],
    size: tuple[int, int],
    file_mb: float,
    runs: int,
    upload_runs: int,
) -> Report:
    floor = results["decode"]["median"]
    rows = []
    for case, (label, _) in CASES.items():
        result = results[case]
        rows.append(
            [
                label,
                f"{result['median'] * 1000:.0f}",
                ratio(result["median"], floor),
                f"{result['peak_kb'] / 1024:.0f}",
                f"{(result['peak_kb'] - result['baseline_kb']) / 1024:.0f}",
            ]
        )
    megapixels = f"{size[0] * size[1] / 1e6:.0f} MP" if size[0] * size[1] >= 1e6 else f"{size[0]}x{size[1]}"
    lines = [
        f"### Photo pipeline: image work on a {megapixels} JPEG, and upload to READY",
        "",
        f"{size[0]}x{size[1]} JPEG ({file_mb:.1f} MB), Pillow {PILLOW_VERSION}; median of {runs} runs after "
        "a warm-up, one process per case (so that its peak RSS is its own); the floor is decoding the "
        "file once at full size.",
        "",
        table(
            ["case", "ms", "x decode-only", "peak RSS MB", "added by the case MB"], rows, right=[1, 2, 3, 4]
        ),
        "",
    ]
    work_ms = (results["validate"]["median"] + results["resize"]["median"]) * 1000
    resize = results["resize"]["median"]
    figures = [
        Figure(
            f"resize step of a {megapixels} JPEG (both renditions)",
            round(resize * 1000),
            "ms",
            round(floor * 1000),
            "decode only, full size",
            "<= 1.2x the floor",
            resize <= 1.2 * floor,
        )
    ]
    if uploads:
        upload_rows = [
            [name, f"{ms:.0f}", status, ratio(ms, work_ms) if name.startswith(f"{size[0]}x") else ""]
            for name, (ms, status) in uploads.items()
        ]
        lines += [
            f"Upload to READY through the local cloud (median of {upload_runs}): from the start of the "
            "presigned POST to S3 until `GET /pets/{petId}/photos` lists the photo READY -- S3, "
            "EventBridge, Step Functions and the validate, resize and publish functions, polled every "
            f"{POLL_SECONDS * 1000:.0f} ms. The floor is the image work alone (validate + resize steps "
            f"above: {work_ms:.0f} ms).",
            "",
            table(["photo", "upload to READY ms", "status", "x image work"], upload_rows, right=[1, 3]),
            "",
        ]
        big = next(iter(uploads.values()))
        figures.append(
            Figure(
                f"upload to READY of a {megapixels} JPEG, local cloud",
                round(big[0]),
                "ms",
                round(work_ms),
                "validate + resize work",
            )
        )
    return Report("Photo pipeline", "\n".join(lines), figures)


if __name__ == "__main__":
    main()
