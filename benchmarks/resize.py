"""Cost of the photo pipeline's image work on a 24 MP JPEG, against decoding it once at full size.

The resize step (``photos.imaging.make_renditions``: both renditions, EXIF orientation, sRGB,
encoding) should cost no more than 1.2x a plain full-size decode, because it decodes with JPEG
draft mode (DCT scaling) instead. A naive pipeline (full decode, then resize) is shown for
comparison, and the validate step (``inspect_image``) too.

Each case runs in a fresh process, so that its peak memory (``ru_maxrss``) is its own; times are
the median of ``--runs`` runs after one warm-up. Usage: python benchmarks/resize.py [--runs 5]
"""

import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "services" / "photos")]

from photos import imaging  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402
from PIL import __version__ as PILLOW_VERSION  # noqa: E402

SIZE = (6000, 4000)
MAX_PIXELS = 40_000_000


def make_photo(path: Path) -> None:
    """A 24 MP JPEG with photo-like entropy (gradients plus sensor-like noise), about 10 MB."""
    red = Image.linear_gradient("L").resize(SIZE)
    green = Image.radial_gradient("L").resize(SIZE)
    noise = Image.effect_noise(SIZE, 24)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--case", choices=CASES, help=argparse.SUPPRESS)
    parser.add_argument("--image", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--make", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make:
        make_photo(args.image)
        return
    if args.case:
        run_case(args.case, args.image, args.runs)
        return

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "photo-24mp.jpg"
        # Made in a child too: Linux carries a process's peak RSS across exec into its children.
        subprocess.run([sys.executable, __file__, "--make", "--image", str(path)], check=True)
        results = {}
        for case in CASES:
            output = subprocess.run(
                [sys.executable, __file__, "--case", case, "--image", str(path), "--runs", str(args.runs)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            results[case] = json.loads(output.strip().splitlines()[-1])
        file_mb = path.stat().st_size / 1e6

    floor = results["decode"]["median"]
    print(
        f"{SIZE[0]}x{SIZE[1]} JPEG ({file_mb:.1f} MB), Pillow {PILLOW_VERSION}, Python "
        f"{sys.version.split()[0]}, {len(os.sched_getaffinity(0))} CPU; median of {args.runs} runs, one process per case"
    )
    print()
    print("| case | ms | x decode-only | peak RSS MB | added by the case MB |")
    print("|---|---:|---:|---:|---:|")
    for case, (label, _) in CASES.items():
        result = results[case]
        print(
            f"| {label} | {result['median'] * 1000:.0f} | {result['median'] / floor:.2f} "
            f"| {result['peak_kb'] / 1024:.0f} | {(result['peak_kb'] - result['baseline_kb']) / 1024:.0f} |"
        )


if __name__ == "__main__":
    main()
