"""Robustness benchmark: valgus on a matrix of rendered single-leg squats (issue 16).

Renders on demand a matrix of synthetic clips (``valgus.synth.generate``) crossing free-leg
postures x tempo (paused, continuous, bottom holds) x camera motion (static, sway, pan, zoom) x
bodies (both sexes) x camera yaw 0-8 deg x stance-leg patterns (including switches), in a
fractional design where every level of every factor appears several times. Clips go into a cache
outside git (default ``~/.cache/valgus/robustness``); a clip already rendered with the same
parameters is not rendered again. Then each clip is analysed with valgus
(``valgus.synth.evaluate.analyze_clip``) and compared with its truth, per clip and overall:

* reps found / true: each true rep matched to the detected rep whose bottom is nearest in time
  (within ``--match-s``);
* stance legs right, exercise right (single_leg), among the found valid reps;
* FPPA error at the scored point (measured - true, degrees): the true value at the bottom, or at
  the reference flexion (60 deg) when valgus scored there; reps outside ``--bound-deg`` (the
  accuracy set's bound, ``evaluate.ACCURACY_SET_BOUND_DEG``: the 10-body set's 95 % limits of
  agreement, -10.8 to +0.6 deg) are counted, and the signed errors' bias, SD and range printed;
* touch_floor reps (the free foot rests on the floor: invalid for the test): whether valgus
  listed them as invalid (``evaluate.rep_listed_invalid``);
* extra detected reps and reps called double-leg squats.

Needs the ``synth`` extra for rendering (torch, anny, pyrender; see sample_videos/README.md);
the analysis needs only valgus.

Usage::

    python bench/robustness.py                     # render what is missing, analyse all 40
    python bench/robustness.py --list              # the matrix, nothing rendered
    python bench/robustness.py --only 'hover*'     # clips whose name matches (fnmatch)
    python bench/robustness.py --render-only       # fill the cache, no analysis
    python bench/robustness.py --committed         # the committed subset (no rendering)
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CACHE = Path(os.path.expanduser("~/.cache/valgus/robustness"))
COMMITTED = ROOT / "sample_videos" / "robustness"

POSTURES = ("bent_back", "forward_high", "hover_forward_low", "hover_beside", "touch_floor")
# name: (between_reps, rep_s, bottom_hold_s)
TEMPI: dict[str, tuple[str, float, float]] = {
    "stand3.2": ("stand", 3.2, 0.0),
    "pause2.4": ("pause", 2.4, 0.0),
    "cont1.7": ("continuous", 1.7, 0.0),
    "cont2.4hold1": ("continuous", 2.4, 1.0),
    "stand5hold2.5": ("stand", 5.0, 2.5),
}
CAMERAS: dict[str, list[str]] = {
    "static": [],
    "sway": ["--camera-motion", "sway", "--camera-motion-amplitude", "0.015"],
    "pan": ["--camera-motion", "pan", "--camera-motion-amplitude", "0.06"],
    "zoom": ["--camera-motion", "zoom", "--camera-motion-amplitude", "0.12"],
}
BODIES: dict[str, list[str]] = {
    "female": ["--body", "female"],
    "male": ["--body", "male", "--shirt", "#8a2f2f", "--skin", "#a8795a"],
    "heavy": ["--body", "heavy", "--shirt", "#2f7a4a", "--skin", "#e0b898"],
    "slim": ["--body", "slim", "--shirt", "#c07a2a", "--skin", "#8d5b3e"],
}
YAWS = (0.0, 3.0, -5.0, 8.0, -8.0)
LEGS = ("alternate", "LLRR", "RRLL", "LLLRRR", "alternate-right", "right", "left")
# (left, right) design valgus at the bottom, deg.
VALGUS = ((5.0, 15.0), (12.0, 3.0), (0.0, 10.0), (18.0, 8.0))
SEED_CLIPS = 40


@dataclass(frozen=True)
class Clip:
    """One clip of the matrix: its factors and the generator arguments."""

    name: str
    posture: str
    tempo: str
    camera: str
    body: str
    yaw_deg: float
    legs: str
    args: tuple[str, ...] = field(repr=False)


def _reps_for(tempo: str, legs: str) -> int:
    """Reps that fill about 10 s (8-15 s clips), at least 2, whole leg patterns when explicit."""
    between, rep_s, hold = TEMPI[tempo]
    per = rep_s + hold + (0.0 if between == "stand" else 0.3)
    n = int(np.clip(round(10.0 / per), 2, 6))
    if legs in ("LLRR", "RRLL"):
        n = 4
    elif legs == "LLLRRR":
        n = 6 if per < 2.5 else 3
    return n


def matrix(size: str = "480x360", fps: float = 25.0) -> list[Clip]:
    """The fractional design: clip i takes posture i mod 5 and tempo (i div 5) mod 5, so the
    first 25 clips cross every posture with every tempo; camera, body, yaw, legs and valgus cycle
    with other strides chosen so that every posture meets every camera motion, body and yaw, and
    every tempo every camera motion; each level of each factor appears 5-10 times."""
    clips = []
    for i in range(SEED_CLIPS):
        posture = POSTURES[i % 5]
        tempo = list(TEMPI)[(i // 5 + i // 25) % 5]
        camera = list(CAMERAS)[(3 * i + 3 * (i // 5) + i // 10) % 4]
        body = list(BODIES)[(i // 2 + i) % 4]
        yaw = YAWS[(2 * i + i // 5) % 5]
        legs = LEGS[(i * 3 + i // 7) % len(LEGS)]
        vl, vr = VALGUS[(i + i // 4) % 4]
        between, rep_s, hold = TEMPI[tempo]
        reps = _reps_for(tempo, legs)
        # touch_floor: the free foot rests on the floor in every other rep, hovering beside the
        # stance ankle in the others, so valid and invalid reps share a clip.
        free = "touch_floor,hover_beside" if posture == "touch_floor" else posture
        name = f"m{i:02d}_{posture}_{tempo}_{camera}_{body}_y{yaw:+.0f}_{legs}"
        args = (
            "--reps", str(reps), "--legs", legs, "--rep-s", str(rep_s),
            "--between-reps", between, "--bottom-hold-s", str(hold), "--free-leg", free,
            "--depth-deg", str(75 + 5 * (i % 3)), "--valgus-left-deg", str(vl),
            "--valgus-right-deg", str(vr), "--hip-share", "0.65", "--trunk-lean-share", "1.1",
            "--yaw-deg", str(yaw), "--size", size, "--fps", str(fps),
            "--lead-in-s", "0.5", "--lead-out-s", "0.5",
            *CAMERAS[camera], *BODIES[body],
        )  # fmt: skip
        clips.append(Clip(name, posture, tempo, camera, body, yaw, legs, args))
    return clips


def _args_file(cache: Path, clip: Clip) -> Path:
    return cache / f"{clip.name}.args.json"


def is_rendered(cache: Path, clip: Clip) -> bool:
    """The mp4, its truth and the same generator arguments are in the cache."""
    f = _args_file(cache, clip)
    return (
        (cache / f"{clip.name}.mp4").is_file()
        and (cache / f"{clip.name}.truth.json").is_file()
        and f.is_file()
        and json.loads(f.read_text()) == list(clip.args)
    )


def render(cache: Path, clip: Clip, python: str) -> None:
    """Render one clip with the generator (a niced subprocess: the machine is shared)."""
    cache.mkdir(parents=True, exist_ok=True)
    out = cache / f"{clip.name}.mp4"
    cmd = ["nice", "-n", "10", python, "-m", "valgus.synth.generate", "--out", str(out)]
    t0 = time.perf_counter()
    proc = subprocess.run([*cmd, *clip.args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"rendering {clip.name} failed:\n{proc.stderr[-2000:]}")
    _args_file(cache, clip).write_text(json.dumps(list(clip.args)) + "\n")
    print(f"rendered {clip.name} in {time.perf_counter() - t0:.0f} s", flush=True)


# ----------------------------------------------------------------------------------------------
# Comparison with the truth


def _mean(xs: list[float]) -> str:
    return f"{np.mean(xs):.1f}" if xs else "-"


def _ratio(a: int, b: int) -> str:
    return f"{a}/{b}" if b else "-"


def row_text(name: str, c: dict[str, Any]) -> str:
    if "error" in c:
        return f"| {name} | error: {c['error']} | | | | | | |"
    return (
        f"| {name} | {_ratio(c['reps_found'], c['reps_true'])} | "
        f"{_ratio(c['legs_right'], c['reps_found'])} | "
        f"{_ratio(c['exercise_right'], c['reps_found'])} | "
        f"{_mean(c['fppa_abs_errors'])} ({c['scored']}; {c['beyond_bound']} >bound) | "
        f"{_ratio(c['touch_listed_invalid'], c['touch_true'])} | {c['extra_detected']} | "
        f"{c['double_leg_detected']} |"
    )


HEADER = (
    "| clip | reps found/true | legs right | exercise right | FPPA abs err at scored point, "
    "deg (n scored; n beyond bound) | touch_floor listed invalid | extra reps | "
    "double-leg reps |\n| --- | --- | --- | --- | --- | --- | --- | --- |"
)


def total(results: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [c for c in results if "error" not in c]
    keys = ("reps_true", "reps_found", "legs_right", "exercise_right", "scored", "beyond_bound")
    out: dict[str, Any] = {k: sum(c[k] for c in ok) for k in keys}
    for k in ("touch_true", "touch_listed_invalid", "extra_detected", "double_leg_detected"):
        out[k] = sum(c[k] for c in ok)
    out["fppa_abs_errors"] = [e for c in ok for e in c["fppa_abs_errors"]]
    out["fppa_errors"] = [e for c in ok for e in c.get("fppa_errors", [])]
    return out


def print_signed(results: list[dict[str, Any]], bound: tuple[float, float]) -> None:
    """The scored reps' signed FPPA errors: bias, SD, range, and those outside ``bound``."""
    e = total(results)["fppa_errors"]
    if len(e) < 2:
        return
    out = sorted(x for x in e if not bound[0] <= x <= bound[1])
    print(f"\nFPPA error at the scored point (measured - true, deg): bias "
          f"{statistics.fmean(e):+.1f}, SD {statistics.stdev(e):.1f}, range {min(e):+.1f} to "
          f"{max(e):+.1f} over {len(e)} "
          f"reps; outside the accuracy set's bound {bound[0]:+.1f} to {bound[1]:+.1f}: "
          f"{len(out)} {[round(x, 1) for x in out]}")


def print_unscored(results: list[dict[str, Any]]) -> None:
    """Found valid reps that valgus did not score, tallied by their first reason (never silent:
    a rep without a reason would show as "(none)")."""
    tally: dict[str, int] = {}
    for c in results:
        for r in c.get("rows", []):
            if r["valid"] and r.get("found") and r.get("fppa_error_deg") is None:
                code = r["issues"][0] if r["issues"] else "(none)"
                tally[code] = tally.get(code, 0) + 1
    if tally:
        words = ", ".join(f"{k} {v}" for k, v in sorted(tally.items(), key=lambda kv: -kv[1]))
        print(f"\nFound valid reps not scored, by first reason: {words}")


def print_report(clips: list[Clip | Path], results: list[dict[str, Any]],
                 bound: tuple[float, float]) -> None:
    print(HEADER)
    for clip, c in zip(clips, results, strict=True):
        print(row_text(clip.name if isinstance(clip, Clip) else clip.stem, c))
    print(row_text("**all**", total(results)))
    print_unscored(results)
    print_signed(results, bound)
    matrix_clips = [(k, c) for k, c in zip(clips, results, strict=True) if isinstance(k, Clip)]
    if not matrix_clips:
        return
    print("\nBy factor level (reps found/true; legs right; exercise right; mean FPPA abs err):\n")
    print("| factor | level | clips | reps found/true | legs right | exercise right | FPPA err |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for factor in ("posture", "tempo", "camera", "body", "yaw_deg"):
        levels: dict[str, list[dict[str, Any]]] = {}
        for k, c in matrix_clips:
            levels.setdefault(str(getattr(k, factor)), []).append(c)
        for level, cs in levels.items():
            t = total(cs)
            print(
                f"| {factor} | {level} | {len(cs)} | {_ratio(t['reps_found'], t['reps_true'])} | "
                f"{_ratio(t['legs_right'], t['reps_found'])} | "
                f"{_ratio(t['exercise_right'], t['reps_found'])} | "
                f"{_mean(t['fppa_abs_errors'])} |"
            )


def analyse(path: Path, match_s: float, bound_deg: tuple[float, float]) -> dict[str, Any]:
    from valgus.errors import ValgusError
    from valgus.synth.evaluate import analyze_clip, compare_with_truth, truth_path

    truth = json.loads(truth_path(path).read_text())
    try:
        result = analyze_clip(path)
    except ValgusError as e:
        return {"error": str(e)}
    return compare_with_truth(truth, result, match_s, bound_deg)


def main(argv: list[str] | None = None) -> int:
    from valgus.synth.evaluate import ACCURACY_SET_BOUND_DEG

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where clips are rendered")
    p.add_argument("--only", default=None, help="clip names matching this fnmatch pattern")
    p.add_argument("--list", action="store_true", help="print the matrix and exit")
    p.add_argument("--render-only", action="store_true", help="render missing clips, no analysis")
    p.add_argument("--no-render", action="store_true", help="analyse only clips already rendered")
    p.add_argument("--committed", action="store_true", help=f"the clips in {COMMITTED}")
    p.add_argument("--size", default="480x360")
    p.add_argument("--fps", type=float, default=25.0)
    p.add_argument("--python", default=sys.executable, help="interpreter with the synth extra")
    p.add_argument("--match-s", type=float, default=1.0)
    p.add_argument("--bound-deg", type=float, nargs=2, default=list(ACCURACY_SET_BOUND_DEG),
                   metavar=("LOW", "HIGH"), help="a rep's FPPA error must lie in this range")
    p.add_argument("--json", type=Path, default=None, help="write per-clip results here")
    args = p.parse_args(argv)

    if args.committed:
        paths = sorted(COMMITTED.glob("*.mp4"))
        if args.only:
            paths = [q for q in paths if fnmatch.fnmatch(q.stem, args.only)]
        items: list[Clip | Path] = list(paths)
    else:
        clips = matrix(args.size, args.fps)
        if args.only:
            clips = [c for c in clips if fnmatch.fnmatch(c.name, args.only)]
        if args.list:
            for c in clips:
                state = "rendered" if is_rendered(args.cache, c) else "-"
                print(f"{c.name:60s} {state}")
            print(f"{len(clips)} clips in {args.cache}")
            return 0
        if not args.no_render:
            for c in clips:
                if not is_rendered(args.cache, c):
                    render(args.cache, c, args.python)
        if args.render_only:
            return 0
        clips = [c for c in clips if is_rendered(args.cache, c)]
        items = list(clips)
        paths = [args.cache / f"{c.name}.mp4" for c in clips]

    from valgus.cli.main import native_logs_silenced

    results = []
    with native_logs_silenced() as err:
        for path in paths:
            t0 = time.perf_counter()
            results.append(analyse(path, args.match_s, (args.bound_deg[0], args.bound_deg[1])))
            print(f"analysed {path.stem} in {time.perf_counter() - t0:.0f} s", file=err, flush=True)
    print_report(items, results, (args.bound_deg[0], args.bound_deg[1]))
    if args.json:
        named = {
            (k.name if isinstance(k, Clip) else k.stem): r
            for k, r in zip(items, results, strict=True)
        }
        args.json.write_text(json.dumps(named, indent=1, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
