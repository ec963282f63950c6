"""Render a synthetic single-leg squat clip and write its truth.

    python -m valgus.synth.generate --out sample_videos/demo_single_leg_squats.mp4 \\
        --reps 6 --legs alternate --valgus-right-deg 18 --valgus-left-deg 2

Writes the H.264 mp4 and, beside it, ``<name>.truth.json``: per-frame projected joint centres
(hips, knees, ankles; pixels), true FPPA per leg (+ = knee medial of the hip-ankle line), true 3D
knee flexion, true pelvic drop (+ = free-side hip lower), and the reps (stance leg, frame
boundaries). Truth comes from the rig's joint centres (anny skeleton: hip = head of upperleg01,
knee = head of lowerleg01, ankle = head of foot) projected by the camera that rendered the frames.

Needs the ``synth`` extra (torch, anny, pyrender-maintained, av) and an OpenGL: EGL with Mesa
works headless (Debian: libegl1 libegl-mesa0 libgl1-mesa-dri); PYOPENGL_PLATFORM defaults to egl.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np

from valgus.synth.camera import (
    CAMERA_MOTIONS,
    CameraConfig,
    CameraMotion,
    camera_path,
    make_camera,
)
from valgus.synth.markers import choose_marker_vertices
from valgus.synth.motion import (
    BETWEEN_REPS,
    MotionConfig,
    Timeline,
    build_timeline,
    parse_free_legs,
)
from valgus.synth.render import Body, Renderer
from valgus.synth.rig import (  # noqa: F401  (re-exported: the generator's public names)
    PoseParams,
    Poser,
    Rig,
    calibrate_valgus,
    rot_axis,
    rot_between,
    rot_x,
    rot_y,
)
from valgus.synth.scene import (
    BODY_PRESETS,
    KEY_AZIMUTH_DEG,
    KEY_ELEVATION_DEG,
    ClipConfig,
    Lighting,
    Look,
    _rgb,
)
from valgus.synth.truth import (  # noqa: F401  (re-exported: the generator's public names)
    ANKLE,
    HIP,
    KNEE,
    SCHEMA,
    SUFFIX,
    build_truth,
    leg_points,
    projected_fppa,
    projected_pelvic_drop,
)

# ----------------------------------------------------------------------------------------------
# Clip


def generate(cfg: ClipConfig, out: Path, command: str = "", log=print) -> dict:
    """Render the clip to ``out`` (mp4), write ``<stem>.truth.json`` beside it, return the truth."""
    import av

    t0 = time.perf_counter()
    body = Body(cfg.look)
    rig = body.rig
    poser = Poser(rig, cfg.motion)
    tl: Timeline = build_timeline(cfg.motion, cfg.fps)

    # Scene placement: floor at z = 0 under the standing soles, midpoint of the feet at x = y = 0.
    G0, off0 = poser.pose(PoseParams(None, 0.0, cfg.motion.standing_flexion_deg, 0.0))
    v0, _ = body.vertices(G0[None], off0[None])
    shift = np.array(
        [
            -0.5 * (poser.anchor["left"][0] + poser.anchor["right"][0]),
            -0.5 * (poser.anchor["left"][1] + poser.anchor["right"][1]),
            -v0[0, :, 2].min(),
        ]
    )
    top = float(v0[0, :, 2].max() + shift[2])
    if cfg.camera.fov_deg is None:
        cfg = replace(cfg, camera=replace(cfg.camera, fit_top_m=max(1.95, top + 0.2)))
    cam = make_camera(cfg.camera)
    frontal = make_camera(replace(cfg.camera, yaw_deg=0.0))

    # Calibrate the knee rotation that gives each leg's valgus at the bottom (frontal camera).
    class _Shifted:
        def __init__(self, p: Poser) -> None:
            self.rig, self._p = p.rig, p

        def joints(self, pp: PoseParams) -> np.ndarray:
            return self._p.joints(pp) + shift

    rot_bottom = {
        side: calibrate_valgus(
            _Shifted(poser),
            frontal,
            side,
            cfg.motion.depth_deg,
            cfg.motion.valgus_deg(side),
            cfg.motion.pelvic_drop_deg(side),
        )
        for side in ("left", "right")
    }
    log(f"model ready in {time.perf_counter() - t0:.1f} s; knee rotation at bottom {rot_bottom}")

    params = []
    for k in range(len(tl)):
        side = tl.stance[k]
        rot = 0.0
        if side is not None:
            rot = rot_bottom[side] * float(tl.squat[k]) ** cfg.motion.valgus_exponent
        params.append(
            PoseParams(
                side,
                float(tl.lift[k]),
                float(tl.flexion_deg[k]),
                rot,
                float(tl.pelvic_drop_deg[k]),
                tl.free_leg[k] or "bent_back",
                float(tl.squat[k]),
            )
        )

    cams, cam_motion = camera_path(cam, cfg.camera_motion, tl.t_s, len(tl) / cfg.fps)
    renderer = Renderer(cam, cfg.look, body.faces, body.colors, cfg.light, shadows=cfg.shadows)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    container = av.open(str(out), mode="w")
    stream = container.add_stream("libx264", rate=Fraction(cfg.fps).limit_denominator(1001))
    stream.width, stream.height = cam.width, cam.height
    stream.pix_fmt = "yuv420p"
    stream.options = {"crf": str(cfg.crf), "preset": "slow", "tune": "animation"}

    heads_all = np.empty((len(tl), len(rig.labels), 3))
    # Skin markers a clinician digitises (valgus.synth.markers), carried by the posed mesh.
    chosen = choose_marker_vertices(body.rest_vertices, rig)
    marker_idx = np.array(list(chosen.values()))
    markers_all = np.empty((len(tl), len(chosen), 3))
    t_render = 0.0
    t_pose = 0.0
    for start in range(0, len(tl), cfg.batch):
        chunk = params[start : start + cfg.batch]
        ta = time.perf_counter()
        posed = [poser.pose(p) for p in chunk]
        Gs = np.stack([g for g, _ in posed])
        offs = np.stack([o for _, o in posed]) + shift
        verts, heads = body.vertices(Gs, offs)
        heads_all[start : start + len(chunk)] = heads
        markers_all[start : start + len(chunk)] = verts[:, marker_idx]
        tb = time.perf_counter()
        t_pose += tb - ta
        for k, v in enumerate(verts):
            img = renderer.render(v, cams[start + k])
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            for pkt in stream.encode(frame):
                container.mux(pkt)
        t_render += time.perf_counter() - tb
        if (start // cfg.batch) % 10 == 0:
            log(f"frame {start + len(chunk)}/{len(tl)}")
    for pkt in stream.encode():
        container.mux(pkt)
    container.close()
    renderer.close()
    log(
        f"{len(tl)} frames: posing {t_pose / len(tl) * 1000:.0f} ms/frame, "
        f"render+encode {t_render / len(tl) * 1000:.0f} ms/frame"
    )

    ankle_rest_z = {side: float(poser.anchor[side][2] + shift[2]) for side in SUFFIX}
    truth = build_truth(
        cfg,
        tl,
        leg_points(rig, heads_all),
        cams,
        cam_motion,
        frontal,
        rot_bottom,
        ankle_rest_z,
        command,
        markers={k: markers_all[:, i] for i, k in enumerate(chosen)},
        marker_vertices=chosen,
    )
    truth_path = out.parent / (out.stem + ".truth.json")
    truth_path.write_text(json.dumps(truth, separators=(",", ":")) + "\n")
    return truth


# ----------------------------------------------------------------------------------------------
# CLI


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m valgus.synth.generate",
        description="Render a synthetic single-leg squat clip with known knee valgus.",
    )
    p.add_argument("--out", required=True, type=Path, help="output .mp4")
    g = p.add_argument_group("motion")
    g.add_argument("--reps", type=int, default=6)
    g.add_argument(
        "--legs",
        default="alternate",
        help="alternate (left first), alternate-right, left, right, or a string like LRRL",
    )
    g.add_argument("--rep-s", type=float, default=3.2, help="seconds per rep (tempo)")
    g.add_argument("--depth-deg", type=float, default=65.0, help="knee flexion at the bottom")
    g.add_argument("--valgus-left-deg", type=float, default=2.0, help="FPPA at the bottom, left")
    g.add_argument("--valgus-right-deg", type=float, default=18.0, help="FPPA at the bottom, right")
    g.add_argument(
        "--hip-share", type=float, default=0.65, help="share of the flexion taken by thigh tilt"
    )
    g.add_argument(
        "--trunk-lean-share", type=float, default=1.1, help="trunk lean / thigh forward tilt"
    )
    g.add_argument("--stance-lean-deg", type=float, default=6.0)
    g.add_argument("--free-knee-flex-deg", type=float, default=90.0)
    g.add_argument("--free-hip-flex-deg", type=float, default=15.0)
    g.add_argument(
        "--pelvic-drop-deg",
        type=float,
        default=0.0,
        help="contralateral pelvic drop at the bottom of each squat (free-side hip lower), "
        "both legs; grows with the squat like the valgus",
    )
    g.add_argument(
        "--pelvic-drop-left-deg", type=float, default=None, help="same, left stance only"
    )
    g.add_argument(
        "--pelvic-drop-right-deg", type=float, default=None, help="same, right stance only"
    )
    g.add_argument(
        "--free-leg",
        default="bent_back",
        help="free-leg posture: bent_back, forward_high, hover_forward_low, hover_beside, "
        "touch_floor (that rep is invalid for the test), or a comma list cycled over the reps",
    )
    g.add_argument(
        "--hover-height-m",
        type=_non_negative,
        default=0.05,
        help="sole of the free foot above the floor for the hover postures (m)",
    )
    g.add_argument(
        "--between-reps",
        choices=BETWEEN_REPS,
        default="stand",
        help="stand: free foot down between reps (--rep-s is the whole cycle); pause: foot kept "
        "up, knee straight for --top-pause-s; continuous: foot kept up, the knee goes straight "
        "into the next rep (for pause/continuous --rep-s is the knee's top-to-top time)",
    )
    g.add_argument("--top-pause-s", type=_non_negative, default=0.8)
    g.add_argument(
        "--bottom-hold-s",
        type=_non_negative,
        default=0.0,
        help="hold at the bottom of every rep (s), added to --rep-s",
    )
    g.add_argument("--lead-in-s", type=float, default=0.6)
    g.add_argument("--lead-out-s", type=float, default=0.6)
    c = p.add_argument_group("camera")
    c.add_argument("--distance-m", type=float, default=3.0)
    c.add_argument("--camera-height-m", type=float, default=0.75)
    c.add_argument("--yaw-deg", type=float, default=0.0, help="+ = camera towards person's left")
    c.add_argument("--pitch-deg", type=float, default=0.0, help="+ = looking down")
    c.add_argument("--fov-deg", type=float, default=None, help="vertical field of view")
    c.add_argument("--size", default="540x720", help="WIDTHxHEIGHT")
    c.add_argument("--fps", type=float, default=25.0)
    c.add_argument("--crf", type=int, default=28)
    c.add_argument("--shadows", action="store_true", help="cast shadows from the key light")
    c.add_argument(
        "--camera-motion",
        choices=CAMERA_MOTIONS,
        default="static",
        help="sway: hand-held oscillation; pan: slow pan across the clip; zoom: slow zoom in "
        "and out (see valgus.synth.camera.CameraMotion)",
    )
    c.add_argument(
        "--camera-motion-amplitude",
        type=_non_negative,
        default=None,
        help="sway/pan: peak shift as a fraction of the picture (default 0.015 / 0.06); zoom: "
        "largest focal length change (default 0.10)",
    )
    c.add_argument(
        "--camera-motion-period-s",
        type=float,
        default=None,
        help="period of the motion (default: sway 1.9 s x 2.7 s, pan and zoom one sweep/cycle "
        "over the clip)",
    )
    li = p.add_argument_group("light")
    li.add_argument(
        "--light-intensity",
        type=_non_negative,
        default=1.0,
        help="scale of the key and fill lights (1 = the committed clips' light)",
    )
    li.add_argument(
        "--light-azimuth-deg",
        type=float,
        default=KEY_AZIMUTH_DEG,
        help="where the key light comes from: 0 = in front of the person, + = towards their "
        "left, 180 = from behind (default -31: front right, the committed clips' light)",
    )
    li.add_argument(
        "--light-elevation-deg",
        type=_elevation,
        default=KEY_ELEVATION_DEG,
        help="key light height above the horizon, 0-89 (default 38)",
    )
    li.add_argument(
        "--ambient",
        type=_non_negative,
        default=0.42,
        help="ambient light level (not scaled by --light-intensity)",
    )
    b = p.add_argument_group("body")
    b.add_argument("--body", choices=sorted(BODY_PRESETS), default="female")
    for name in ("gender", "age", "muscle", "weight", "height", "proportions"):
        b.add_argument(f"--{name}", type=float, default=None, help="anny phenotype 0..1")
    for name in ("skin", "hair", "shirt", "shorts", "shoes", "floor", "wall"):
        b.add_argument(f"--{name}", default=None, help="#RRGGBB")
    return p


def _non_negative(text: str) -> float:
    x = float(text)
    if not x >= 0.0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return x


def _elevation(text: str) -> float:
    x = float(text)
    # Straight above (90) has no azimuth and the light's frame is undefined; below 0 the floor
    # would block it.
    if not 0.0 <= x <= 89.0:
        raise argparse.ArgumentTypeError(f"must be 0-89 deg, got {text}")
    return x


def config_from_args(args: argparse.Namespace) -> ClipConfig:
    w, h = (int(x) for x in args.size.lower().split("x"))
    motion = MotionConfig(
        reps=args.reps,
        legs=args.legs,
        rep_s=args.rep_s,
        depth_deg=args.depth_deg,
        valgus_left_deg=args.valgus_left_deg,
        valgus_right_deg=args.valgus_right_deg,
        lead_in_s=args.lead_in_s,
        lead_out_s=args.lead_out_s,
        hip_share=args.hip_share,
        trunk_lean_share=args.trunk_lean_share,
        stance_lean_deg=args.stance_lean_deg,
        free_knee_flex_deg=args.free_knee_flex_deg,
        free_hip_flex_deg=args.free_hip_flex_deg,
        free_leg=args.free_leg,
        hover_height_m=args.hover_height_m,
        between_reps=args.between_reps,
        top_pause_s=args.top_pause_s,
        bottom_hold_s=args.bottom_hold_s,
        pelvic_drop_left_deg=(
            args.pelvic_drop_deg if args.pelvic_drop_left_deg is None else args.pelvic_drop_left_deg
        ),
        pelvic_drop_right_deg=(
            args.pelvic_drop_deg
            if args.pelvic_drop_right_deg is None
            else args.pelvic_drop_right_deg
        ),
    )
    camera = CameraConfig(
        distance_m=args.distance_m,
        height_m=args.camera_height_m,
        yaw_deg=args.yaw_deg,
        pitch_deg=args.pitch_deg,
        fov_deg=args.fov_deg,
        width=w,
        height=h,
    )
    look_kw: dict = dict(BODY_PRESETS[args.body])
    for name in ("gender", "age", "muscle", "weight", "height", "proportions"):
        if getattr(args, name) is not None:
            look_kw[name] = getattr(args, name)
    for name in ("skin", "hair", "shirt", "shorts", "shoes", "floor", "wall"):
        if getattr(args, name) is not None:
            _rgb(getattr(args, name))
            look_kw[name] = getattr(args, name)
    return ClipConfig(
        motion=motion,
        camera=camera,
        look=Look(**look_kw),
        light=Lighting(
            intensity=args.light_intensity,
            key_azimuth_deg=args.light_azimuth_deg,
            key_elevation_deg=args.light_elevation_deg,
            ambient=args.ambient,
        ),
        camera_motion=CameraMotion(
            args.camera_motion, args.camera_motion_amplitude, args.camera_motion_period_s
        ),
        fps=args.fps,
        crf=args.crf,
        shadows=args.shadows,
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    cfg = config_from_args(args)
    try:
        parse_free_legs(cfg.motion.free_leg, cfg.motion.reps)
    except ValueError as e:
        build_parser().error(str(e))
    command = "python -m valgus.synth.generate " + " ".join(shlex.quote(a) for a in argv)
    truth = generate(cfg, args.out, command=command)
    for r in truth["reps"]:
        print(
            f"rep {r['index']} {r['stance']:5s} frames {r['squat_start_frame']}-"
            f"{r['squat_end_frame']} bottom {r['bottom_frame']}: flexion "
            f"{r['peak_flexion_deg']:.1f} deg, FPPA {r['fppa_at_bottom_deg']:+.1f} deg, "
            f"pelvic drop {r['pelvic_drop_at_bottom_deg']:+.1f} deg, free leg {r['free_leg']}"
            f"{'' if r['valid_for_test'] else ' (invalid rep)'}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
