"""Accuracy benchmark: the real valgus pipeline on synthetic clips whose truth is known.

For every clip in sample_videos/accuracy/ and the demo clip: MediaPipe over every frame, the
full analysis, then each true rep matched with the detected rep nearest in time. Printed per
clip and overall:

* FPPA error at the deepest frame of each scored rep (measured - true, in this camera's image):
  mean absolute, bias (mean), max;
* knee-flexion error at the bottom (depth measured - true peak flexion);
* rep count and stance leg correctness; reps flagged not measurable (expected on turned cameras);
* detection rate (frames with a person).

The truth is the rig's joint centres projected by the rendering camera (sample_videos/README.md).

Usage::

    .venv/bin/python bench/accuracy.py [CLIPS...] [--json OUT.json]
    .venv/bin/python bench/accuracy.py --definitions [--json OUT.json]

``--definitions`` (issue 12) runs the two body sets of ``bench/accuracy_set.py`` (rendered into
``~/.cache/valgus/accuracy12`` and ``~/.cache/valgus/deep``) and prints the keypoint FPPA at the
scored point against each truth definition (skin markers, joint centres) per body and overall,
then the leave-one-body-out study of the mapping to the marker definition
(``bench/accuracy_definitions.py``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from valgus.runtime.estimator import native_logs_silenced
from valgus.synth.evaluate import evaluate_clip

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CLIPS = [
    *sorted((ROOT / "sample_videos" / "accuracy").glob("*.mp4")),
    ROOT / "sample_videos" / "demo_single_leg_squats.mp4",
]


def _stats(errors: list[float]) -> str:
    if not errors:
        return "   -      -      -  "
    e = np.asarray(errors)
    return f"{np.mean(np.abs(e)):5.1f}  {np.mean(e):+5.1f}  {np.max(np.abs(e)):5.1f}"


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    rows = [r for res in results for r in res["reps"]]
    found = [r for r in rows if r["found"]]
    scored = [r for r in found if r.get("fppa_error_deg") is not None]
    return {
        "true_reps": len(rows),
        "found": len(found),
        "extra": sum(res["extra_detected_reps"] for res in results),
        "leg_correct": sum(r["leg"] == r["true_leg"] for r in found),
        "not_measurable": sum(r["band"] == "not_measurable" for r in found),
        "fppa_errors": [r["fppa_error_deg"] for r in scored],
        "flexion_errors": [r["depth_deg"] - r["true_flexion_deg"] for r in found],
    }


def print_table(results: list[dict[str, Any]]) -> None:
    header = (
        f"{'clip':26} {'yaw':>4} {'det%':>5} {'reps':>7} {'legs':>5} {'n/m':>4}  "
        f"{'FPPA MAE  bias   max':22} {'flex MAE  bias   max':22}"
    )
    print(header)
    print("-" * len(header))
    groups: dict[str, list[dict[str, Any]]] = {"frontal (yaw 0)": [], "camera turned": []}
    for res in results:
        s = summarise([res])
        groups["frontal (yaw 0)" if res["camera_yaw_deg"] == 0 else "camera turned"].append(res)
        print(
            f"{res['clip'].removesuffix('.mp4'):26} {res['camera_yaw_deg']:+4.0f} "
            f"{100 * res['detection_fraction']:5.0f} {s['found']:>3}/{s['true_reps']:<3} "
            f"{s['leg_correct']:>5} {s['not_measurable']:>4}  {_stats(s['fppa_errors']):22} "
            f"{_stats(s['flexion_errors']):22}"
        )
    print("-" * len(header))
    for name, group in [*groups.items(), ("all", results)]:
        if not group:
            continue
        s = summarise(group)
        print(
            f"{name:26} {'':4} {'':5} {s['found']:>3}/{s['true_reps']:<3} {s['leg_correct']:>5} "
            f"{s['not_measurable']:>4}  {_stats(s['fppa_errors']):22} "
            f"{_stats(s['flexion_errors']):22}  (extra reps found: {s['extra']})"
        )
    print(
        "\nFPPA and flexion errors in deg (measured - true); MAE = mean absolute; n/m = reps "
        "found but not measurable (FPPA withheld, e.g. camera not square); legs = stance leg right."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="*", type=Path)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--definitions", action="store_true",
                        help="the issue-12 body set against every FPPA definition")
    args = parser.parse_args()
    results = []
    if args.definitions:
        from accuracy_definitions import report
        from accuracy_set import SETS, clips, set_dir

        todo = args.clips or [
            clip for name, bodies in SETS.items() for clip in clips(set_dir(name), bodies)
        ]
    else:
        todo = args.clips or DEFAULT_CLIPS
    with native_logs_silenced():
        for clip in todo:
            results.append(evaluate_clip(clip))
    if args.definitions:
        report(results)
    else:
        print_table(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
