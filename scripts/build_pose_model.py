"""Rebuild ``src/valgus/models/pose_landmarker_full.task`` offline from the
``mediapipe==0.10.21`` wheel.

Why this exists: mediapipe 1.x only has the Tasks API, whose ``PoseLandmarker`` needs a
``.task`` bundle that is normally downloaded from Google's storage, which we cannot reach.
The last mediapipe wheel on PyPI that still ships the BlazePose GHUM weights is 0.10.21
(``pose_detection.tflite`` and ``pose_landmark_full.tflite``, Apache-2.0). Those raw float
models lack the TFLite metadata the Tasks API insists on (input normalization), so we add it
and pack both models into the zip layout the Tasks API expects.

Steps:

1. ``pip download --no-deps --only-binary=:all: mediapipe==0.10.21`` (the cp311 manylinux
   x86_64 wheel, pinned by platform flags so the input never drifts) and read the two
   ``.tflite`` files out of it (a wheel is a zip). Their sha256 are checked against pinned
   values.
2. Write TFLite metadata: an RGB image input normalized as the original graphs do (detector
   mean 127.5 / std 127.5 -> [-1, 1]; landmarks mean 0 / std 255 -> [0, 1]) and one plain
   feature output per output tensor, in model order.
3. Bundle both as an uncompressed, 4-byte-aligned zip with the entry names the Tasks API
   looks up: ``pose_detector.tflite`` and ``pose_landmarks_detector.tflite``.

Step 2 needs ``mediapipe.tasks.python.metadata.metadata_writers`` from mediapipe 0.10.21
(the copy in 1.x fails to import), so this script is a driver: run with any Python >= 3.11,
it creates a throwaway venv (default ``/tmp/mp021venv``, Python 3.11 because the wheel is
cp311), installs mediapipe==0.10.21 there and re-runs itself inside it for steps 2-3::

    python scripts/build_pose_model.py    # -> src/valgus/models/pose_landmarker_full.task
    python scripts/build_pose_model.py --out /tmp/x.task --venv /tmp/other-venv

Needs network access to PyPI only, about 1 GB of disk for the venv and ~1 minute.
The output is byte-for-byte reproducible (fixed zip timestamps and attributes).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import venv
import zipfile
from pathlib import Path

MEDIAPIPE_VERSION = "0.10.21"
# Pin the exact wheel (CPython 3.11, manylinux_2_28 x86_64) so `pip download` fetches the
# same file on any host; the venv that runs the metadata writer must match it (cp311).
WHEEL_PLATFORM = "manylinux_2_28_x86_64"
WHEEL_PYTHON = "3.11"

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "src" / "valgus" / "models" / "pose_landmarker_full.task"
DEFAULT_VENV = Path(tempfile.gettempdir()) / "mp021venv"

DETECTOR_SRC = "mediapipe/modules/pose_detection/pose_detection.tflite"
LANDMARKS_SRC = "mediapipe/modules/pose_landmark/pose_landmark_full.tflite"
# sha256 of the two files inside mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl;
# checked so a changed upstream file can never slip silently into the bundle.
SOURCE_SHA256 = {
    DETECTOR_SRC: "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
    LANDMARKS_SRC: "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
}

# Entry names the Tasks PoseLandmarker graph looks for inside the bundle.
DETECTOR_ENTRY = "pose_detector.tflite"
LANDMARKS_ENTRY = "pose_landmarks_detector.tflite"

# Output tensors in model order (Identity .. Identity_4 / Identity, Identity_1). The Tasks
# graphs consume outputs by index, so the names are only documentation, but the count must
# match the model or the metadata populator rejects it.
DETECTOR_OUTPUTS = ("box_and_keypoint_regressors", "box_scores")
LANDMARKS_OUTPUTS = (
    "landmarks",  # 1x195: 39 points x (x, y, z, visibility, presence)
    "pose_presence",  # 1x1
    "segmentation_mask",  # 1x256x256x1
    "heatmap",  # 1x64x64x39
    "world_landmarks",  # 1x117: 39 points x (x, y, z) in metres
)

# Zip details that keep the bundle reproducible and mmap-friendly.
ZIP_ALIGNMENT = 4  # the Tasks runtime mmaps entries; TFLite flatbuffers need 4-byte alignment
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)  # earliest zip date: no build-time timestamp leaks in
ZIP_FILE_MODE = 0o644 << 16  # plain rw-r--r-- file in the external attributes

INNER_FLAG = "--inner"  # marks the re-invocation inside the mediapipe 0.10.21 venv


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------------------
# Driver side: runs with any Python, never imports mediapipe.
# --------------------------------------------------------------------------------------


def venv_python(venv_dir: Path) -> Path:
    return venv_dir / "bin" / "python"


def installed_mediapipe_version(python: Path) -> str | None:
    if not python.exists():
        return None
    probe = subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.metadata as m; print(m.version('mediapipe'))",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return probe.stdout.strip() if probe.returncode == 0 else None


def find_python311() -> str:
    # The wheel is cp311, so the throwaway venv must be CPython 3.11 whatever runs the driver.
    if sys.version_info[:2] == (3, 11):
        return sys.executable
    return "python3.11"


def ensure_venv(venv_dir: Path, wheel: Path) -> Path:
    """Create (or reuse) a venv with mediapipe==0.10.21 and its own pinned dependencies."""
    python = venv_python(venv_dir)
    if installed_mediapipe_version(python) == MEDIAPIPE_VERSION:
        return python
    print(f"creating throwaway venv {venv_dir} with mediapipe=={MEDIAPIPE_VERSION}")
    base = find_python311()
    if base == sys.executable and sys.prefix == sys.base_prefix:
        venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir)
    else:
        # From inside another venv (or a different interpreter) let that Python build it;
        # `venv` then bases the new env on the real interpreter, not on our venv.
        subprocess.run([base, "-m", "venv", "--clear", str(venv_dir)], check=True)
    # Install from the wheel we already downloaded so the weights we read and the writer we
    # run come from the very same file; its dependencies (numpy<2, protobuf<5, ...) come
    # from PyPI within the ranges mediapipe 0.10.21 declares.
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(wheel)],
        check=True,
    )
    return python


def download_wheel(dest: Path) -> Path:
    """`pip download` the pinned mediapipe 0.10.21 wheel into dest and return its path."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "--platform",
            WHEEL_PLATFORM,
            "--python-version",
            WHEEL_PYTHON,
            "--implementation",
            "cp",
            "--abi",
            "cp311",
            "--dest",
            str(dest),
            f"mediapipe=={MEDIAPIPE_VERSION}",
        ],
        check=True,
    )
    wheels = sorted(dest.glob(f"mediapipe-{MEDIAPIPE_VERSION}-cp311-cp311-*x86_64.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one mediapipe {MEDIAPIPE_VERSION} wheel in {dest}: {wheels}")
    return wheels[0]


def drive(args: argparse.Namespace) -> None:
    out: Path = args.out.resolve()
    with tempfile.TemporaryDirectory(prefix="mp021wheel-") as tmp:
        wheel = args.wheel.resolve() if args.wheel else download_wheel(Path(tmp))
        print(f"wheel: {wheel.name} sha256={sha256_hex(wheel.read_bytes())}")
        python = ensure_venv(args.venv, wheel)
        subprocess.run(
            [
                str(python),
                str(Path(__file__).resolve()),
                INNER_FLAG,
                "--wheel",
                str(wheel),
                "--out",
                str(out),
            ],
            check=True,
        )
    print(f"wrote {out} ({out.stat().st_size} bytes) sha256={sha256_hex(out.read_bytes())}")


# --------------------------------------------------------------------------------------
# Inner side: runs inside the mediapipe 0.10.21 venv.
# --------------------------------------------------------------------------------------


def read_sources(wheel: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as zf:
        sources = {name: zf.read(name) for name in (DETECTOR_SRC, LANDMARKS_SRC)}
    for name, data in sources.items():
        got = sha256_hex(data)
        if got != SOURCE_SHA256[name]:
            raise SystemExit(f"{name}: sha256 {got} != pinned {SOURCE_SHA256[name]}")
        print(f"source {name}: {len(data)} bytes sha256={got}")
    return sources


def add_metadata(
    model: bytes,
    *,
    name: str,
    description: str,
    norm_mean: float,
    norm_std: float,
    outputs: tuple[str, ...],
) -> bytes:
    """Return `model` with TFLite metadata: one normalized RGB image input, feature outputs."""
    # Imported here: only the 0.10.21 venv has a working metadata writer.
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer

    writer = metadata_writer.MetadataWriter.create(bytearray(model))
    writer.add_general_info(name, description)
    # The Tasks image preprocessor refuses float inputs without NormalizationOptions; it
    # computes (pixel - mean) / std per channel from these values.
    writer.add_image_input(norm_mean=[norm_mean], norm_std=[norm_std])
    for output in outputs:
        writer.add_feature_output(name=output)
    tflite, _json = writer.populate()
    return bytes(tflite)


def write_bundle(entries: dict[str, bytes], out: Path) -> None:
    """Write an uncompressed zip whose entry data start at 4-byte-aligned file offsets.

    Uses mediapipe's own AlignZipFile (what model_asset_bundle_utils.create_model_asset_bundle
    uses), which pads before each local header so the runtime can mmap each model in place.
    Unlike create_model_asset_bundle we pass ZipInfo objects with a fixed date and mode, so
    rebuilding gives the same bytes. Padding by hand around ZipFile.writestr does not work:
    ZipFile seeks back to its own end-of-data before writing each header, dropping the pad.
    """
    # Imported here: only the 0.10.21 venv has it.
    from mediapipe.tasks.python.metadata.metadata_writers import model_asset_bundle_utils

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with model_asset_bundle_utils.AlignZipFile(tmp, mode="w", alignment=ZIP_ALIGNMENT) as zf:
        for entry_name, data in entries.items():
            info = zipfile.ZipInfo(entry_name, date_time=ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_STORED  # AlignZipFile only accepts stored entries
            info.external_attr = ZIP_FILE_MODE
            info.create_system = 3  # Unix, so the mode above is honoured on any host
            zf.writestr(info, data)
    check_bundle(tmp, entries)
    os.replace(tmp, out)  # never leave a half-written or unchecked bundle at the real path


def check_bundle(path: Path, entries: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            assert info.compress_type == zipfile.ZIP_STORED, info
            # Data offset = local header offset + 30-byte fixed header + name + extra.
            with path.open("rb") as fp:
                fp.seek(info.header_offset + 26)
                name_len = int.from_bytes(fp.read(2), "little")
                extra_len = int.from_bytes(fp.read(2), "little")
            data_offset = info.header_offset + 30 + name_len + extra_len
            if data_offset % ZIP_ALIGNMENT:
                raise SystemExit(f"{info.filename} data at unaligned offset {data_offset}")
            if zf.read(info) != entries[info.filename]:
                raise SystemExit(f"{info.filename}: content mismatch after writing")


def inner(args: argparse.Namespace) -> None:
    sources = read_sources(args.wheel)
    entries = {
        DETECTOR_ENTRY: add_metadata(
            sources[DETECTOR_SRC],
            name="BlazePose GHUM pose detector",
            description=f"pose_detection.tflite from mediapipe=={MEDIAPIPE_VERSION}",
            # The legacy graph fed the detector pixels scaled to [-1, 1].
            norm_mean=127.5,
            norm_std=127.5,
            outputs=DETECTOR_OUTPUTS,
        ),
        LANDMARKS_ENTRY: add_metadata(
            sources[LANDMARKS_SRC],
            name="BlazePose GHUM pose landmarks (full)",
            description=f"pose_landmark_full.tflite from mediapipe=={MEDIAPIPE_VERSION}",
            # The legacy graph fed the landmark model pixels scaled to [0, 1].
            norm_mean=0.0,
            norm_std=255.0,
            outputs=LANDMARKS_OUTPUTS,
        ),
    }
    for entry_name, data in entries.items():
        print(f"entry {entry_name}: {len(data)} bytes sha256={sha256_hex(data)}")
    write_bundle(entries, args.out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="bundle to write")
    parser.add_argument(
        "--venv", type=Path, default=DEFAULT_VENV, help="throwaway venv for mediapipe 0.10.21"
    )
    parser.add_argument(
        "--wheel", type=Path, help="use this mediapipe 0.10.21 wheel instead of downloading"
    )
    parser.add_argument(INNER_FLAG, action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inner:
        inner(args)
    else:
        drive(args)


if __name__ == "__main__":
    main()
