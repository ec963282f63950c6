"""The issue-12 accuracy set: 10 rendered bodies, square camera, truth for every FPPA definition.

Renders on demand (skips clips already there) into ``~/.cache/valgus/<set>`` (``set_dir``;
outside git; ``--out`` to change), with the synth environment (torch, anny, pyrender)::

    nice -n 10 .venv/bin/python bench/accuracy_set.py [--set deep] [--only NAME ...] [--list]

Bodies span both sexes, height, weight (pelvis and thigh girth follow weight and sex in anny),
muscle (thigh girth) and proportions (anny phenotypes, 0..1). Each clip: 4 reps L R L R at one
depth (45-90 deg true knee flexion), each leg its own valgus (0-25 deg, set on the square-on
camera's joint-centre FPPA), camera square (yaw 0), 854x480 at 25 fps, 2.6 s per rep.
``--set deep``: 8 more bodies squatting 95-115 deg, as real clips do, filmed from 0.5-1.2 m
(about 3 min to render both cores). ``--only NAME ...``: just those bodies, of either set,
each into its own set's folder (``--set`` with ``--only`` must hold every name).
``bench/accuracy.py --definitions`` measures both sets.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

CACHE_ROOT = Path.home() / ".cache" / "valgus"
DEFAULT_SET = "accuracy12"


def set_dir(name: str) -> Path:
    """The folder a set's clips are rendered into by default: ``~/.cache/valgus/<name>``."""
    return CACHE_ROOT / name


CACHE = set_dir(DEFAULT_SET)


@dataclass(frozen=True)
class Body:
    """One rendered person of the set (anny phenotypes 0..1; 0 = male, 1 = female)."""

    name: str
    gender: float
    height: float
    weight: float
    muscle: float
    proportions: float
    valgus_left_deg: float
    valgus_right_deg: float
    depth_deg: float
    skin: str
    shirt: str
    camera_height_m: float = 0.75
    pitch_deg: float = 0.0


BODIES: tuple[Body, ...] = (
    Body("f_avg", 0.90, 0.45, 0.45, 0.50, 0.50, 4.0, 18.0, 80.0, "#c99a7b", "#2f5d9e"),
    Body("m_avg", 0.10, 0.50, 0.55, 0.60, 0.50, 12.0, 0.0, 70.0, "#a8795a", "#8a2f2f"),
    Body("f_short_heavy", 0.95, 0.15, 0.85, 0.40, 0.40, 22.0, 8.0, 60.0, "#e0b898", "#2f7a4a"),
    Body("m_tall_slim", 0.05, 0.90, 0.20, 0.45, 0.60, 2.0, 15.0, 90.0, "#8d5b3e", "#c07a2a"),
    Body("f_tall_muscular", 0.80, 0.80, 0.55, 0.85, 0.55, 10.0, 25.0, 55.0, "#8d5b3e", "#6a3d8f"),
    Body("m_short_heavy", 0.15, 0.20, 0.90, 0.50, 0.45, 16.0, 6.0, 85.0, "#e0b898", "#2f5d9e"),
    Body("f_slim", 0.85, 0.50, 0.10, 0.30, 0.50, 0.0, 20.0, 65.0, "#a8795a", "#8a2f2f"),
    Body("m_muscular", 0.00, 0.60, 0.60, 0.95, 0.50, 24.0, 5.0, 75.0, "#c99a7b", "#2f7a4a"),
    Body("f_wide_hips", 1.00, 0.40, 0.70, 0.50, 0.30, 8.0, 14.0, 45.0, "#c99a7b", "#c07a2a"),
    Body("m_long_legs", 0.25, 0.70, 0.40, 0.55, 0.90, 19.0, 2.0, 80.0, "#a8795a", "#6a3d8f"),
)
# The deep set: squats past the studies' 45-90 deg, as real clips go (100-115 deg true knee
# flexion), filmed from phone-like heights (knee to chest, looking level or a little down), so the
# hip width ratio reaches the 0.38-0.46 the real single-leg clips read. Other bodies than above.
DEEP_BODIES: tuple[Body, ...] = (
    Body("d_f_avg", 0.85, 0.50, 0.50, 0.50, 0.50, 6.0, 16.0, 105.0, "#a8795a", "#2f7a4a", 0.9, 4.0),
    Body("d_m_avg", 0.10, 0.55, 0.50, 0.65, 0.50, 14.0, 2.0, 110.0, "#c99a7b", "#6a3d8f", 0.6, 0.0),
    Body("d_f_heavy", 0.95, 0.30, 0.80, 0.45, 0.45, 20.0, 4.0, 100.0,
         "#8d5b3e", "#c07a2a", 1.1, 8.0),
    Body("d_m_tall", 0.05, 0.85, 0.35, 0.50, 0.60, 0.0, 12.0, 115.0,
         "#e0b898", "#2f5d9e", 0.75, 0.0),
    Body("d_f_slim", 0.90, 0.60, 0.15, 0.35, 0.55, 10.0, 24.0, 95.0,
         "#c99a7b", "#8a2f2f", 1.2, 10.0),
    Body("d_m_heavy", 0.15, 0.35, 0.85, 0.55, 0.45, 3.0, 18.0, 105.0,
         "#a8795a", "#2f7a4a", 0.5, -3.0),
    Body("d_f_muscular", 0.75, 0.70, 0.50, 0.90, 0.50, 15.0, 8.0, 110.0,
         "#e0b898", "#6a3d8f", 1.0, 6.0),
    Body("d_m_long_legs", 0.20, 0.75, 0.45, 0.55, 0.85, 22.0, 10.0, 100.0,
         "#8d5b3e", "#8a2f2f", 0.8, 2.0),
)
SETS: dict[str, tuple[Body, ...]] = {"accuracy12": BODIES, "deep": DEEP_BODIES}
BY_NAME = {b.name: b for b in (*BODIES, *DEEP_BODIES)}
SIZE = "854x480"
FPS = 25.0


def command(body: Body, out_dir: Path, python: str = sys.executable) -> list[str]:
    """The generator command line for one body's clip."""
    return [
        python, "-m", "valgus.synth.generate",
        "--out", str(out_dir / f"{body.name}.mp4"),
        "--reps", "4", "--legs", "LRLR", "--rep-s", "2.6",
        "--lead-in-s", "0.4", "--lead-out-s", "0.4",
        "--size", SIZE, "--fps", str(FPS), "--yaw-deg", "0",
        "--camera-height-m", str(body.camera_height_m), "--pitch-deg", str(body.pitch_deg),
        "--gender", str(body.gender), "--height", str(body.height),
        "--weight", str(body.weight), "--muscle", str(body.muscle),
        "--proportions", str(body.proportions), "--age", "0.72",
        "--valgus-left-deg", str(body.valgus_left_deg),
        "--valgus-right-deg", str(body.valgus_right_deg),
        "--depth-deg", str(body.depth_deg), "--hip-share", "0.65",
        "--trunk-lean-share", "1.1", "--skin", body.skin, "--shirt", body.shirt,
    ]  # fmt: skip


def clips(out_dir: Path = CACHE, bodies: tuple[Body, ...] = BODIES) -> list[Path]:
    """The set's clips that are rendered (with their truth) in ``out_dir``."""
    return [
        out_dir / f"{b.name}.mp4"
        for b in bodies
        if (out_dir / f"{b.name}.mp4").exists() and (out_dir / f"{b.name}.truth.json").exists()
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--set", choices=sorted(SETS), default=None,
                   help="accuracy12 (the default): the 10 bodies at 45-90 deg; "
                   "deep: 8 more at 95-115 deg")
    p.add_argument("--out", type=Path, default=None, help="default ~/.cache/valgus/<set>")
    p.add_argument("--only", nargs="*", default=None, choices=sorted(BY_NAME),
                   help="just these bodies, of either set (each into its set's folder)")
    p.add_argument("--list", action="store_true", help="print the commands and stop")
    args = p.parse_args(argv)
    if args.only and args.set:
        outside = [n for n in args.only if n not in {b.name for b in SETS[args.set]}]
        if outside:
            p.error(f"--only {' '.join(outside)}: not in --set {args.set} (leave out --set "
                    "to render each body into its own set's folder)")
    todo = [
        (body, args.out or set_dir(name))
        for name, bodies in SETS.items()
        for body in bodies
        if (body.name in args.only if args.only else name == (args.set or DEFAULT_SET))
    ]
    for body, out in todo:
        out.mkdir(parents=True, exist_ok=True)
        cmd = command(body, out)
        if args.list:
            print(shlex.join(cmd))
            continue
        if (out / f"{body.name}.truth.json").exists():
            print(f"{body.name}: already rendered")
            continue
        print(f"{body.name}: rendering", flush=True)
        subprocess.run(cmd, check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
