"""The truth written beside a synthetic clip (pure numpy, no torch).

Everything here comes from the rig's joint centres (anny skeleton: hip = head of upperleg01,
knee = head of lowerleg01, ankle = head of foot), projected by each frame's own camera (the
camera may sway, pan or zoom; ``valgus.synth.camera.CameraMotion``). See
``sample_videos/README.md`` for the fields.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from valgus.synth.camera import Camera, flexion_deg, fppa_deg, pelvic_drop_deg, project_frames
from valgus.synth.markers import MARKER_DEFINITIONS, fppa_by_definition
from valgus.synth.motion import Side, Timeline

if TYPE_CHECKING:
    from valgus.synth.scene import ClipConfig

SCHEMA = "valgus.synth.truth/1"
# Per-definition FPPA (issue 12), in words for the truth file.
DEFINITION_WORDS = {
    "thigh_marker": "proximal-thigh skin marker (front of the thigh at half the ASIS-knee "
    "distance) -> knee (image midpoint of the condyle markers) -> ankle (image midpoint of the "
    "malleoli markers); Herrington 2014's markers on the proximal thigh, knee and ankle",
    "asis_marker": "ASIS skin marker -> knee (mid-condyles) -> ankle (mid-malleoli); the "
    "thigh line from the ASIS",
    "joint_centres": "rig joint centres: hip -> knee -> ankle (= fppa_deg)",
}

# Rig joints used for the truth.
HIP, KNEE, ANKLE = "upperleg01", "lowerleg01", "foot"
SUFFIX = {"left": "L", "right": "R"}
# The free foot counts as on the floor below this clearance (m).
ON_FLOOR_M = 0.01
# Reference flexion of the literature's alternative scoring point (deg).
REFERENCE_FLEXION_DEG = 60.0


class _HasJoints(Protocol):
    def j(self, name: str) -> int: ...


def leg_points(rig: _HasJoints, heads: np.ndarray) -> dict[str, np.ndarray]:
    """World positions (..., 3) of the six truth joints from bone heads (..., J, 3)."""
    out = {}
    for side, suf in SUFFIX.items():
        for name, bone in (("hip", HIP), ("knee", KNEE), ("ankle", ANKLE)):
            out[f"{side}_{name}"] = heads[..., rig.j(f"{bone}.{suf}"), :]
    return out


def _other(side: Side) -> Side:
    return "right" if side == "left" else "left"


def projected_fppa(cam: Camera, pts: dict[str, np.ndarray], side: Side) -> np.ndarray:
    """True FPPA (deg, + = valgus) of ``side`` through one camera; points (..., 3)."""
    px = {k: cam.project(v) for k, v in pts.items()}
    return fppa_px(px, side)


def fppa_px(px: dict[str, np.ndarray], side: Side) -> np.ndarray:
    other = _other(side)
    return fppa_deg(px[f"{side}_hip"], px[f"{side}_knee"], px[f"{side}_ankle"], px[f"{other}_hip"])


def projected_pelvic_drop(cam: Camera, pts: dict[str, np.ndarray], stance: Side) -> np.ndarray:
    free = _other(stance)
    return pelvic_drop_deg(cam.project(pts[f"{stance}_hip"]), cam.project(pts[f"{free}_hip"]))


def _round_list(a: np.ndarray, nd: int) -> list:
    return np.round(np.asarray(a, float), nd).tolist()


def free_foot_clearance(
    tl: Timeline, pts: dict[str, np.ndarray], ankle_rest_z: dict[str, float]
) -> np.ndarray:
    """(T,) rise (m) of the free ankle above its standing height; NaN while both feet are down.

    The free foot of the foot postures stays flat, so this is its sole's clearance."""
    out = np.full(len(tl), np.nan)
    for k, s in enumerate(tl.stance):
        if s is not None:
            free = _other(s)
            out[k] = pts[f"{free}_ankle"][k, 2] - ankle_rest_z[free]
    return out


def build_truth(
    cfg: ClipConfig,
    tl: Timeline,
    pts: dict[str, np.ndarray],
    cams: list[Camera],
    cam_motion: np.ndarray,
    frontal: Camera,
    rot_bottom: dict[str, float],
    ankle_rest_z: dict[str, float],
    command: str,
    markers: dict[str, np.ndarray] | None = None,
    marker_vertices: dict[str, int] | None = None,
) -> dict[str, Any]:
    """The truth dict of a rendered clip.

    ``markers``: skin markers (T, 3) in world metres (``valgus.synth.markers``), with the mesh
    vertex each was taken from (``marker_vertices``); when given, the FPPA of every definition
    in ``MARKER_DEFINITIONS`` is written per frame and per rep.

    ``pts``: the six joints (T, 3) in world metres (``leg_points``); ``cams``: each frame's camera;
    ``cam_motion``: (T, 3) content shift dx, dy (px) and zoom per frame; ``frontal``: a static
    square-on camera; ``ankle_rest_z``: standing ankle heights (m) per side."""
    px = {k: project_frames(cams, v) for k, v in pts.items()}
    fppa = {s: fppa_px(px, s) for s in ("left", "right")}
    fppa_frontal = {s: projected_fppa(frontal, pts, s) for s in ("left", "right")}
    flex = {
        s: flexion_deg(pts[f"{s}_hip"], pts[f"{s}_knee"], pts[f"{s}_ankle"])
        for s in ("left", "right")
    }
    # Per side "as if this leg were the stance leg", like the FPPA series (and like valgus's
    # per-leg kinematics), so standing frames have a value too; right = -left.
    drop = {s: pelvic_drop_deg(px[f"{s}_hip"], px[f"{_other(s)}_hip"]) for s in ("left", "right")}
    drop_frontal = {s: projected_pelvic_drop(frontal, pts, s) for s in ("left", "right")}
    clearance = free_foot_clearance(tl, pts, ankle_rest_z)
    mpx: dict[str, np.ndarray] = {}
    by_def: dict[str, dict[str, np.ndarray]] = {}
    if markers is not None:
        mpx = {k: project_frames(cams, v) for k, v in markers.items()}
        both = {**px, **mpx}
        by_def = {
            d: {s: fppa_by_definition(both, s, d) for s in ("left", "right")}
            for d in MARKER_DEFINITIONS
        }
    fps = cfg.fps
    m = cfg.motion

    def frame_of(t: float) -> int:
        return int(min(len(tl) - 1, max(0, round(t * fps))))

    reps = []
    for plan in tl.reps:
        s = plan.stance
        a, b = frame_of(plan.squat_start_s), frame_of(plan.squat_end_s)
        seg = slice(a, b + 1)
        f = flex[s][seg]
        # The deepest frame; during a hold at the bottom, the middle of the plateau.
        deep = np.flatnonzero(f >= np.max(f) - 0.05)
        bottom = a + int(deep[len(deep) // 2])
        desc = np.flatnonzero(f[: bottom - a + 1] >= REFERENCE_FLEXION_DEG)
        ref = a + int(desc[0]) if desc.size else None
        lowest = float(np.nanmin(clearance[seg]))
        reps.append(
            {
                "index": plan.index + 1,
                "stance": s,
                "exercise": "single_leg",
                "free_leg": plan.free_leg,
                "valid_for_test": plan.valid_for_test,
                "invalid_reason": None
                if plan.valid_for_test
                else "the free foot rests on the floor during the squat",
                "tempo": {
                    "rep_s": m.rep_s,
                    "between_reps": m.between_reps,
                    "bottom_hold_s": m.bottom_hold_s,
                    "top_pause_s": m.top_pause_s if m.between_reps == "pause" else 0.0,
                    "squat_s": round(plan.squat_end_s - plan.squat_start_s, 4),
                },
                "start_frame": frame_of(plan.start_s),
                "squat_start_frame": a,
                "bottom_frame": bottom,
                "squat_end_frame": b,
                "end_frame": frame_of(plan.end_s),
                "bottom_hold_start_frame": frame_of(plan.hold_start_s),
                "bottom_hold_end_frame": frame_of(plan.hold_end_s),
                "free_foot_lifts": plan.lifts_foot,
                "free_foot_lowers": plan.lowers_foot,
                "start_s": round(plan.start_s, 4),
                "squat_start_s": round(plan.squat_start_s, 4),
                "bottom_s": round(bottom / fps, 4),
                "design_bottom_s": round(plan.bottom_s, 4),
                "squat_end_s": round(plan.squat_end_s, 4),
                "end_s": round(plan.end_s, 4),
                "design_depth_deg": m.depth_deg,
                "peak_flexion_deg": round(float(flex[s][bottom]), 3),
                "fppa_at_bottom_deg": round(float(fppa[s][bottom]), 3),
                "fppa_at_bottom_frontal_deg": round(float(fppa_frontal[s][bottom]), 3),
                "reference_flexion_frame": ref,
                "fppa_at_reference_flexion_deg": None
                if ref is None
                else round(float(fppa[s][ref]), 3),
                "max_fppa_deg": round(float(np.max(fppa[s][seg])), 3),
                "fppa_at_bottom_by_definition_deg": {
                    d: round(float(v[s][bottom]), 3) for d, v in by_def.items()
                },
                "design_valgus_deg": m.valgus_deg(s),
                "pelvic_drop_at_bottom_deg": round(float(drop[s][bottom]), 3),
                "pelvic_drop_at_bottom_frontal_deg": round(float(drop_frontal[s][bottom]), 3),
                "design_pelvic_drop_deg": m.pelvic_drop_deg(s),
                "free_foot_min_clearance_m": round(lowest, 4),
                "free_foot_on_floor_frames": int(np.sum(clearance[seg] < ON_FLOOR_M)),
            }
        )
    cam = cams[0]
    return {
        "schema": SCHEMA,
        "command": command,
        "definitions": {
            "world": "metres, z up, floor z=0, x towards the person's left, person faces -y",
            "pixels": "x right, y down, origin at the top-left corner of the image; each frame "
            "in its own (possibly moved) camera's pixels",
            "joints": "rig joint centres: hip = anny upperleg01 head, knee = lowerleg01 head, "
            "ankle = foot head; projected by the rendering camera of that frame",
            "fppa_deg": "angle between projected thigh (hip->knee) and shank (knee->ankle); "
            "+ = knee medial of the hip-ankle line (towards the other hip)",
            "fppa_frontal_deg": "same, projected by a static square-on camera (yaw 0) at the "
            "same distance and height; the design valgus refers to it",
            "fppa_by_definition_deg": DEFINITION_WORDS,
            "markers": "skin markers on the body surface: posed mesh vertices chosen on the "
            "rest mesh by the rules of valgus.synth.markers (vertex indices in "
            "marker_vertices), projected like the joints",
            "flexion_deg": "3D angle between thigh and shank directions, 0 = straight",
            "pelvic_drop_deg": "tilt of the projected hip-joint line (hip -> other hip) from "
            "image horizontal, per leg as if it were the stance leg; + = the other (free-side) "
            "hip lower, the sign rule of valgus.kinematics.pelvic_drop_deg",
            "stance": "leg standing on the floor during a rep; null = both feet down",
            "free_foot_clearance_m": "rise of the free ankle above its standing height (the "
            "sole's clearance for the flat-foot postures); null = both feet down",
            "camera_motion": "per frame: content shift dx, dy (px, x right, y down) of the "
            "picture centre relative to the static camera, and zoom (focal length factor)",
            "valid_for_test": "false when the free foot rests on the floor (touch_floor)",
        },
        "video": {
            "width": cam.width,
            "height": cam.height,
            "fps": fps,
            "n_frames": len(tl),
            "duration_s": round(len(tl) / fps, 4),
        },
        "camera": {
            **cam.to_dict(),
            "config": asdict(cfg.camera),
            "motion": asdict(cfg.camera_motion),
        },
        "motion": asdict(m),
        "look": asdict(cfg.look),
        "light": asdict(cfg.light),
        "knee_rotation_at_bottom_deg": {k: round(v, 4) for k, v in rot_bottom.items()},
        "marker_vertices": marker_vertices or {},
        "reps": reps,
        "frames": {
            "t_s": _round_list(tl.t_s, 4),
            "stance": tl.stance,
            "rep": tl.rep.tolist(),
            "free_leg": tl.free_leg,
            "joints_px": {k: _round_list(v, 2) for k, v in px.items()},
            "joints_world_m": {k: _round_list(v, 4) for k, v in pts.items()},
            "fppa_deg": {s: _round_list(v, 3) for s, v in fppa.items()},
            "fppa_frontal_deg": {s: _round_list(v, 3) for s, v in fppa_frontal.items()},
            "markers_px": {k: _round_list(v, 2) for k, v in mpx.items()},
            "markers_world_m": {k: _round_list(v, 4) for k, v in (markers or {}).items()},
            "fppa_by_definition_deg": {
                d: {s: _round_list(a, 3) for s, a in v.items()} for d, v in by_def.items()
            },
            "flexion_deg": {s: _round_list(v, 3) for s, v in flex.items()},
            "pelvic_drop_deg": {s: _round_list(v, 3) for s, v in drop.items()},
            "free_foot_clearance_m": [
                None if not np.isfinite(c) else round(float(c), 4) for c in clearance
            ],
            "camera_motion": {
                "dx_px": _round_list(cam_motion[:, 0], 2),
                "dy_px": _round_list(cam_motion[:, 1], 2),
                "zoom": _round_list(cam_motion[:, 2], 5),
            },
        },
    }
