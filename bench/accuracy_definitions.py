"""The keypoint FPPA against each truth definition, and the mapping study (issue 12).

Called by ``bench/accuracy.py --definitions`` with the evaluated clips; or on a saved result::

    .venv/bin/python bench/accuracy.py --definitions --json /tmp/acc12.json
    .venv/bin/python bench/accuracy_definitions.py /tmp/acc12.json [MORE.json ...]

Per body (clip) and overall, for every definition in the truth (``thigh_marker``,
``asis_marker``, ``joint_centres``): the keypoint FPPA at valgus's scored point (the rep's
deepest frame) minus the truth at the true deepest frame: n, bias, SD, MAE, 95 % limits of
agreement (bias +/- 1.96 SD), max. Then for each marker definition, each mapping kind
(``valgus.core.fppa``: offset; offset + slope; offset + slope + a term in the rep's hip width
ratio) fitted leaving one body out: the held-out agreement before (raw) and after, and the
mapping fitted on every body (the constants ``config.ValgusThresholds`` holds for the
thigh-marker one).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from valgus.core.fppa import (
    Agreement,
    FppaDefinition,
    MappingKind,
    agreement,
    fit_mapping,
    held_out_predictions,
)

DEFINITIONS: tuple[FppaDefinition, ...] = ("thigh_marker", "asis_marker", "joint_centres")
TARGETS: tuple[FppaDefinition, ...] = ("thigh_marker", "asis_marker")
KINDS: tuple[MappingKind, ...] = ("offset", "linear", "linear_ratio")
PROTOCOL_MAX_DEG = 92.0  # true knee flexion; the accuracy12 set squats 45-90, the deep one 95-115


def rows(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One dict per scored rep: body, raw keypoint FPPA, truths by definition, size ratio."""
    out = []
    for res in results:
        for r in res["reps"]:
            raw = r.get("fppa_keypoint_deg", r.get("fppa_bottom_deg"))
            if not r.get("found") or raw is None:
                continue
            out.append(
                {
                    "body": res["clip"].removesuffix(".mp4"),
                    "raw": raw,
                    "true": r.get("true_fppa_by_definition_deg") or {},
                    "true_jc": r["true_fppa_deg"],
                    "ratio": r.get("hip_width_ratio"),
                    "true_flexion_deg": r.get("true_flexion_deg"),
                }
            )
    return out


def _fmt(a: Agreement) -> str:
    if a.n == 0:
        return f"{'-':>36}"
    return (
        f"{a.bias_deg:+6.1f} {a.sd_deg:4.1f} {a.mae_deg:4.1f} "
        f"[{a.loa_low_deg:+5.1f},{a.loa_high_deg:+5.1f}] {a.max_abs_deg:4.1f}"
    )


def truth_of(row: dict[str, Any], definition: str) -> float:
    if definition == "joint_centres":
        return float(row["true"].get(definition, row["true_jc"]))
    v = row["true"].get(definition)
    return float("nan") if v is None else float(v)


def per_body_table(data: list[dict[str, Any]]) -> None:
    """One block per definition: a row per body, then all bodies."""
    bodies = sorted({r["body"] for r in data})
    for d in DEFINITIONS:
        head = (
            f"{'vs ' + d:18} {'n':>3}  {'bias':>6} {'SD':>4} {'MAE':>4} {'95% LoA':>15} "
            f"{'max':>4}"
        )
        print(head)
        print("-" * len(head))
        for name in [*bodies, "all"]:
            sel = [r for r in data if name in ("all", r["body"])]
            raw = np.array([r["raw"] for r in sel])
            a = agreement(raw, [truth_of(r, d) for r in sel])
            print(f"{name:18} {len(sel):>3}  {_fmt(a)}")
        print()
    print(
        "keypoint FPPA at the scored point minus the truth at the true deepest frame (deg); "
        "LoA = bias +/- 1.96 SD."
    )


def mapping_study(data: list[dict[str, Any]]) -> dict[str, Any]:
    raw = np.array([r["raw"] for r in data], float)
    ratio = np.array([np.nan if r["ratio"] is None else r["ratio"] for r in data], float)
    groups = [r["body"] for r in data]
    found: dict[str, Any] = {}
    if len(set(groups)) < 2:
        print("\n(leave-one-body-out needs two bodies or more)")
        return found
    print(f"\nleave-one-body-out ({len(set(groups))} bodies, {len(data)} reps), held-out error:")
    print(f"{'target':14} {'mapping':12} {'bias   SD  MAE  95% LoA       max':40} fitted on all")
    for target in TARGETS:
        true = np.array([truth_of(r, target) for r in data])
        if not np.any(np.isfinite(true)):
            continue
        print(f"{target:14} {'none (raw)':12} {_fmt(agreement(raw, true)):40}")
        _print_by_depth(data, raw, true)
        for kind in KINDS:
            pred = held_out_predictions(raw, true, groups, kind, target, ratio)
            full = fit_mapping(raw, true, kind, target, ratio)
            a = agreement(pred, true)
            found[f"{target}/{kind}"] = {
                "held_out": a.__dict__,
                "offset_deg": full.offset_deg,
                "slope": full.slope,
                "ratio_deg": full.ratio_deg,
            }
            print(
                f"{target:14} {kind:12} {_fmt(a):40} offset {full.offset_deg:+.2f} deg, "
                f"slope {full.slope:.3f}, {full.ratio_deg:+.1f} deg x ratio"
            )
            _print_by_depth(data, pred, true)
    return found


def _print_by_depth(data: list[dict[str, Any]], pred: np.ndarray, true: np.ndarray) -> None:
    for name, sel in depth_groups(data).items():
        if 0 < sel.sum() < len(data):
            print(f"{'':14} {'  ' + name:12} {_fmt(agreement(pred[sel], true[sel])):40}")


def depth_groups(data: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """Masks of the reps at the protocol's depth (true knee flexion up to PROTOCOL_MAX_DEG, the
    45-90 deg of issue 12's bar) and deeper (the deep set, as real clips squat)."""
    flex = np.array([r.get("true_flexion_deg") or np.nan for r in data], float)
    return {"45-90 deg": flex <= PROTOCOL_MAX_DEG, "deeper": flex > PROTOCOL_MAX_DEG}


def report(results: list[dict[str, Any]]) -> dict[str, Any]:
    data = rows(results)
    per_body_table(data)
    return mapping_study(data)


def save_rows(results: list[dict[str, Any]], path: Path) -> None:
    """The reps the mapping study uses, as tests/data/fppa_definition_reps.json holds them."""
    reps = [
        {"body": r["body"], "keypoint_deg": round(r["raw"], 3),
         "hip_width_ratio": None if r["ratio"] is None else round(r["ratio"], 5),
         "true_flexion_deg": r["true_flexion_deg"],
         **{f"{d}_deg": truth_of(r, d) for d in DEFINITIONS}}
        for r in rows(results)
    ]
    doc = {
        "what": "issue-12 body sets (bench/accuracy_set.py: 10 rendered bodies squatting 45-90 "
        "deg and 8 more squatting 95-115 deg, filmed from 0.5-1.2 m; square camera): "
        "per scored rep, valgus's keypoint FPPA at its scored point (plateau median) and hip "
        "width ratio, and the true FPPA at the true deepest frame under each definition (deg)",
        "made_by": ".venv/bin/python bench/accuracy.py --definitions --json F (both sets); "
        "bench/accuracy_definitions.py F --save-rows tests/data/fppa_definition_reps.json",
        "reps": reps,
    }
    path.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    # Saved results: --json files of bench/accuracy.py or python -m valgus.synth.evaluate;
    # --save-rows PATH writes the reps for tests/data.
    args = sys.argv[1:]
    target = None
    if "--save-rows" in args:
        k = args.index("--save-rows")
        target = Path(args[k + 1])
        del args[k : k + 2]
    loaded = [res for arg in args for res in json.loads(Path(arg).read_text())]
    report(loaded)
    if target is not None:
        save_rows(loaded, target)
