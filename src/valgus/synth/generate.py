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
import math
import os
import shlex
import sys
import time
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import numpy as np

from valgus.synth.camera import (
    CAMERA_MOTIONS,
    Camera,
    CameraConfig,
    CameraMotion,
    camera_path,
    flexion_deg,
    make_camera,
)
from valgus.synth.freeleg import FOOT_POSTURES, FreeLegGeometry, foot_target, two_bone_ik
from valgus.synth.markers import choose_marker_vertices
from valgus.synth.motion import (
    BETWEEN_REPS,
    MotionConfig,
    Side,
    Timeline,
    build_timeline,
    parse_free_legs,
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
# Rotations (numpy)


def rot_x(deg: float) -> np.ndarray:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def rot_y(deg: float) -> np.ndarray:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def rot_axis(axis: np.ndarray, deg: float) -> np.ndarray:
    a = axis / np.linalg.norm(axis)
    k = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    t = math.radians(deg)
    return np.eye(3) + math.sin(t) * k + (1 - math.cos(t)) * (k @ k)


def rot_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Smallest rotation taking direction a to direction b."""
    a = a / np.linalg.norm(a)
    b = b / np.linalg.norm(b)
    v = np.cross(a, b)
    s, c = np.linalg.norm(v), float(np.dot(a, b))
    if s < 1e-9:
        return np.eye(3)
    return rot_axis(v, math.degrees(math.atan2(s, c)))


# ----------------------------------------------------------------------------------------------
# Skeleton posing: world rotations of bones relative to the rest pose


class Rig:
    """Rest skeleton of one body, and forward kinematics of bone heads in numpy.

    A pose is a (J, 3, 3) array G of world rotations relative to rest; a bone whose G is not set
    follows its parent. Posed head of bone c: p_c = p_parent + G_parent (h_c - h_parent), the root
    head at the origin (anny's ``world-orient`` parameterization).
    """

    def __init__(self, labels: list[str], parents: list[int], rest_heads: np.ndarray) -> None:
        self.labels = list(labels)
        self.index = {n: i for i, n in enumerate(self.labels)}
        self.parents = [int(p) for p in parents]
        self.rest_heads = np.asarray(rest_heads, float)
        order: list[int] = []
        children: dict[int, list[int]] = {}
        for c, p in enumerate(self.parents):
            if p >= 0:
                children.setdefault(p, []).append(c)
        stack = [i for i, p in enumerate(self.parents) if p < 0]
        while stack:
            c = stack.pop(0)
            order.append(c)
            stack.extend(children.get(c, []))
        self.order = order

    def j(self, name: str) -> int:
        return self.index[name]

    def propagate(self, explicit: dict[int, np.ndarray]) -> np.ndarray:
        G = np.empty((len(self.labels), 3, 3))
        for c in self.order:
            p = self.parents[c]
            if c in explicit:
                G[c] = explicit[c]
            elif p < 0:
                G[c] = np.eye(3)
            else:
                G[c] = G[p]
        return G

    def heads(self, G: np.ndarray) -> np.ndarray:
        pos = np.empty_like(self.rest_heads)
        h = self.rest_heads
        for c in self.order:
            p = self.parents[c]
            pos[c] = h[c] if p < 0 else pos[p] + G[p] @ (h[c] - h[p])
        return pos


@dataclass
class PoseParams:
    """Design variables of one frame."""

    stance: Side | None
    lift: float
    flexion_deg: float  # stance knee (or both knees when standing)
    valgus_rot_deg: float  # rotation of the stance knee about the hip-ankle axis, + = medial
    # Pelvis tilt in the frontal plane, + = free-side hip lower; ignored while both feet are down.
    pelvic_drop_deg: float = 0.0
    # Free-leg posture (valgus.synth.motion.FREE_LEGS) and squat progress (0 top, 1 bottom).
    free_leg: str = "bent_back"
    squat: float = 0.0


class Poser:
    """Turns a frame's design variables into bone rotations and the root translation."""

    def __init__(self, rig: Rig, motion: MotionConfig) -> None:
        self.rig = rig
        self.m = motion
        self.geo = FreeLegGeometry()
        self._arm_G = self._hands_on_hips()
        # The rest mesh stands with its knees a little bent; design flexions are true flexions.
        hip, knee, ankle = self._leg_rest("L")
        self.flex_offset = float(flexion_deg(hip, knee, ankle))
        standing = self._globals(PoseParams(None, 0.0, motion.standing_flexion_deg, 0.0))
        heads = rig.heads(standing)
        self.anchor = {s: heads[rig.j(f"{ANKLE}.{SUFFIX[s]}")].copy() for s in SUFFIX}

    def _hands_on_hips(self) -> dict[int, np.ndarray]:
        """Arm rotations (relative to the root) that put the hands on the iliac crests."""
        rig, h = self.rig, self.rig.rest_heads
        out: dict[int, np.ndarray] = {}
        for side, sx in (("L", 1.0), ("R", -1.0)):
            s = h[rig.j(f"upperarm01.{side}")]
            e = h[rig.j(f"lowerarm01.{side}")]
            w = h[rig.j(f"wrist.{side}")]
            hip = h[rig.j(f"{HIP}.{side}")]
            a, b = float(np.linalg.norm(e - s)), float(np.linalg.norm(w - e))
            target = np.array([hip[0] + sx * 0.085, hip[1] + 0.01, hip[2] + 0.12])
            d_vec = target - s
            d = min(float(np.linalg.norm(d_vec)), 0.98 * (a + b))
            axis = d_vec / np.linalg.norm(d_vec)
            target = s + axis * d
            x = (a * a - b * b + d * d) / (2 * d)
            r = math.sqrt(max(a * a - x * x, 0.0))
            pole = np.array([sx, 0.45, 0.0])
            pole = pole - np.dot(pole, axis) * axis
            pole /= np.linalg.norm(pole)
            elbow = s + axis * x + pole * r
            g_upper = rot_between(e - s, elbow - s)
            g_fore = rot_between(g_upper @ (w - e), target - elbow) @ g_upper
            out[rig.j(f"upperarm01.{side}")] = g_upper
            out[rig.j(f"lowerarm01.{side}")] = g_fore
        return out

    def _leg_rest(self, suffix: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        h, rig = self.rig.rest_heads, self.rig
        return (
            h[rig.j(f"{HIP}.{suffix}")],
            h[rig.j(f"{KNEE}.{suffix}")],
            h[rig.j(f"{ANKLE}.{suffix}")],
        )

    def _globals(self, p: PoseParams) -> np.ndarray:
        m, rig = self.m, self.rig
        explicit: dict[int, np.ndarray] = {}
        flex = p.flexion_deg - self.flex_offset
        if p.stance is None:
            alpha = m.hip_share * flex
            beta = flex - alpha
            for suf in SUFFIX.values():
                explicit[rig.j(f"{HIP}.{suf}")] = rot_x(-alpha)
                explicit[rig.j(f"{KNEE}.{suf}")] = rot_x(beta)
                explicit[rig.j(f"{ANKLE}.{suf}")] = np.eye(3)
            lean = m.trunk_lean_share * alpha
        else:
            st = SUFFIX[p.stance]
            fr = SUFFIX["right" if p.stance == "left" else "left"]
            # Frontal tilt of the legs that carries the pelvis over the stance foot.
            psi = p.lift * m.stance_lean_deg * (1.0 if p.stance == "left" else -1.0)
            tilt = rot_y(psi)
            alpha = m.hip_share * flex
            beta = flex - alpha
            g_th, g_sh = tilt @ rot_x(-alpha), tilt @ rot_x(beta)
            if p.valgus_rot_deg:
                hip, knee, ankle = self._leg_rest(st)
                k = g_th @ (knee - hip)
                a = k + g_sh @ (ankle - knee)
                # About the ankle->hip axis, + turns the knee towards the midline (medial = -x
                # for the left leg).
                axis = -a / np.linalg.norm(a)
                sign = -1.0 if p.stance == "left" else 1.0
                rv = rot_axis(axis, sign * p.valgus_rot_deg)
                g_th, g_sh = rv @ g_th, rv @ g_sh
            explicit[rig.j(f"{HIP}.{st}")] = g_th
            explicit[rig.j(f"{KNEE}.{st}")] = g_sh
            explicit[rig.j(f"{ANKLE}.{st}")] = np.eye(3)
            # Free leg by angles: bent back (thigh a little forward, knee bent, foot behind) or
            # held forward high. Foot postures are placed after the rest (_place_free_foot).
            hf = p.lift * m.free_hip_flex_deg
            kf = p.lift * m.free_knee_flex_deg
            if p.free_leg == "forward_high":
                g = self.geo
                hf = p.lift * (g.forward_high_hip_deg + g.forward_high_hip_gain_deg * p.squat)
                kf = p.lift * g.forward_high_knee_deg
            sf = m.standing_flexion_deg * (1 - p.lift) - self.flex_offset
            free_alpha = m.hip_share * sf + hf
            explicit[rig.j(f"{HIP}.{fr}")] = tilt @ rot_x(-free_alpha)
            explicit[rig.j(f"{KNEE}.{fr}")] = tilt @ rot_x(-free_alpha + sf + kf)
            if p.lift == 0 or p.free_leg == "forward_high":
                explicit[rig.j(f"{ANKLE}.{fr}")] = tilt if p.lift else np.eye(3)
            lean = m.trunk_lean_share * alpha
        root = rot_x(lean)
        explicit[rig.j("root")] = root
        if p.stance is not None and p.pelvic_drop_deg:
            # Tilt the pelvis (root) about the world's front-back axis; rot_y(+) lowers the +x
            # (left) side, so the sign follows the free side. The legs' world orientations are
            # explicit, so the stance thigh keeps its line and, with the stance foot anchored,
            # the pelvis pivots about the stance hip: the free hip drops, the free leg with it.
            free_sign = 1.0 if p.stance == "right" else -1.0
            explicit[rig.j("root")] = rot_y(free_sign * p.pelvic_drop_deg) @ root
            # The trunk above the pelvis keeps its orientation (the lumbar spine bends), so the
            # drop does not also show up as a lateral trunk lean. The bend goes at spine04, not
            # spine05: in anny spine05 carries most of the pelvis's skin (buttocks, lower
            # abdomen, rest z 0.02-0.19 m above the root's 0.14), so holding it upright would
            # leave the visible pelvis level while only the hip joints moved.
            if "spine04" in rig.index:
                explicit[rig.j("spine04")] = root
        for bone, g_arm in self._arm_G.items():
            explicit[bone] = root @ g_arm
        # Keep the head looking ahead rather than at the floor as the trunk leans.
        if "neck01" in rig.index:
            explicit[rig.j("neck01")] = rot_x(0.6 * lean)
        G = rig.propagate(explicit)
        if p.stance is not None and p.free_leg in FOOT_POSTURES:
            G = self._place_free_foot(p, explicit)
        return G

    def _place_free_foot(self, p: PoseParams, explicit: dict[int, np.ndarray]) -> np.ndarray:
        """Bone rotations with the free ankle on its posture's target (two-bone IK), the free
        foot flat. The target is fixed relative to the stance foot, which the pose anchors."""
        rig = self.rig
        assert p.stance is not None
        free: Side = "right" if p.stance == "left" else "left"
        st, fr = SUFFIX[p.stance], SUFFIX[free]
        heads = rig.heads(rig.propagate(explicit))
        target_world = foot_target(
            p.free_leg,
            p.lift,
            self.anchor[p.stance],
            self.anchor[free],
            self.m.hover_height_m,
            self.geo,
        )
        # In the unanchored rig frame: relative to the stance ankle, as the anchor is.
        target = heads[rig.j(f"{ANKLE}.{st}")] + (target_world - self.anchor[p.stance])
        hip_r, knee_r, ankle_r = self._leg_rest(fr)
        hip = heads[rig.j(f"{HIP}.{fr}")]
        knee, ankle = two_bone_ik(
            hip,
            target,
            float(np.linalg.norm(knee_r - hip_r)),
            float(np.linalg.norm(ankle_r - knee_r)),
            np.array([0.0, -1.0, 0.0]),
        )
        g_th = rot_between(knee_r - hip_r, knee - hip)
        g_sh = rot_between(g_th @ (ankle_r - knee_r), ankle - knee) @ g_th
        explicit = dict(explicit)
        explicit[rig.j(f"{HIP}.{fr}")] = g_th
        explicit[rig.j(f"{KNEE}.{fr}")] = g_sh
        explicit[rig.j(f"{ANKLE}.{fr}")] = np.eye(3)
        return rig.propagate(explicit)

    def pose(self, p: PoseParams) -> tuple[np.ndarray, np.ndarray]:
        """(G, root translation) putting the stance foot (or both feet) on its floor anchor."""
        G = self._globals(p)
        heads = self.rig.heads(G)
        if p.stance is None:
            offset = self.anchor["left"] - heads[self.rig.j(f"{ANKLE}.L")]
        else:
            offset = self.anchor[p.stance] - heads[self.rig.j(f"{ANKLE}.{SUFFIX[p.stance]}")]
        return G, offset

    def joints(self, p: PoseParams) -> np.ndarray:
        G, offset = self.pose(p)
        return self.rig.heads(G) + offset


class _JointSource(Protocol):
    """What ``calibrate_valgus`` needs of a poser: its rig and the joints of a pose."""

    rig: Rig

    def joints(self, p: PoseParams) -> np.ndarray: ...


def calibrate_valgus(
    poser: _JointSource,
    cam: Camera,
    side: Side,
    flexion: float,
    target_deg: float,
    pelvic_drop: float = 0.0,
) -> float:
    """Knee rotation about the hip-ankle axis that gives ``target_deg`` FPPA at this flexion."""

    def f(rot: float) -> float:
        heads = poser.joints(PoseParams(side, 1.0, flexion, rot, pelvic_drop))
        return float(projected_fppa(cam, leg_points(poser.rig, heads), side)) - target_deg

    lo, hi = -60.0, 60.0
    flo, fhi = f(lo), f(hi)
    if flo * fhi > 0:
        raise ValueError(f"valgus {target_deg} deg not reachable at {flexion} deg flexion")
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        fm = f(mid)
        if (fm > 0) == (fhi > 0):
            hi, fhi = mid, fm
        else:
            lo, flo = mid, fm
    return 0.5 * (lo + hi)


# ----------------------------------------------------------------------------------------------
# Body model and rendering (torch / anny / pyrender imported here only)


class Body:
    """An anny body with one phenotype, posed in batches."""

    def __init__(self, look: Look) -> None:
        import anny
        import torch

        self.torch = torch
        torch.set_grad_enabled(False)
        self.model = anny.Anny()
        self.look = look
        self.phen = {
            k: torch.tensor([v], dtype=self.model.dtype) for k, v in look.phenotypes().items()
        }
        out = self.model(phenotype_kwargs=self.phen)
        self.rest_poses = out["rest_bone_poses"][0].double().numpy()
        self.rest_vertices = out["rest_vertices"][0].double().numpy()
        self.faces = self.model.get_triangular_faces().numpy()
        self.rig = Rig(
            self.model.bone_labels, list(self.model.bone_parents), self.rest_poses[:, :3, 3]
        )
        self.colors = self._vertex_colors()

    def _vertex_colors(self) -> np.ndarray:
        look, rig = self.look, self.rig
        w = self.model.vertex_bone_weights.numpy()
        idx = self.model.vertex_bone_indices.numpy()
        bone = idx[np.arange(len(idx)), np.argmax(w, axis=1)]
        names = np.array(rig.labels)[bone]
        v = self.rest_vertices
        h = rig.rest_heads
        hip_z = h[rig.j(f"{HIP}.L"), 2]
        knee_z = h[rig.j(f"{KNEE}.L"), 2]
        shoulder_z = h[rig.j("upperarm01.L"), 2]
        eye = h[rig.j("eye.L")] if "eye.L" in rig.index else h[rig.j("head")] + [0, -0.08, 0.05]
        waist_z = hip_z + 0.11
        shorts_z = knee_z + 0.55 * (hip_z - knee_z)
        col = np.tile(np.array(_rgb(look.skin)), (len(v), 1))

        def starts(*prefixes: str) -> np.ndarray:
            return np.array([any(n.startswith(p) for p in prefixes) for n in names])

        arm = starts(
            "clavicle", "shoulder", "upperarm", "lowerarm", "wrist", "finger", "metacarpal"
        )
        head = starts(
            "head",
            "neck",
            "eye",
            "jaw",
            "tongue",
            "special",
            "oris",
            "levator",
            "temporalis",
            "risorius",
            "orbicularis",
        )
        foot = starts("foot", "toe")
        eyes = starts("eye")
        trunk_legs = ~(arm | head | foot)
        col[trunk_legs & (v[:, 2] > waist_z)] = _rgb(look.shirt)
        col[trunk_legs & (v[:, 2] <= waist_z) & (v[:, 2] > shorts_z)] = _rgb(look.shorts)
        sleeve = arm & starts("clavicle", "shoulder", "upperarm01") & (v[:, 2] > shoulder_z - 0.10)
        col[sleeve] = _rgb(look.shirt)
        col[foot] = _rgb(look.shoes)
        # Hair: top and back of the head.
        hair = head & (
            (v[:, 2] > eye[2] + 0.045) | ((v[:, 2] > eye[2] - 0.10) & (v[:, 1] > eye[1] + 0.075))
        )
        col[hair] = _rgb(look.hair)
        col[eyes] = (0.12, 0.1, 0.09)
        return col

    def vertices(self, Gs: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posed vertices (B, V, 3) and bone heads (B, J, 3) for world rotations (B, J, 3, 3)."""
        torch = self.torch
        B = len(Gs)
        D = np.einsum("bjik,jkl->bjil", Gs, self.rest_poses[:, :3, :3])
        P = np.tile(np.eye(4), (B, len(self.rig.labels), 1, 1))
        P[:, :, :3, :3] = D
        P[:, 0, :3, 3] = self.rig.rest_heads[0]
        out = self.model(
            pose_parameters=torch.tensor(P, dtype=self.model.dtype),
            phenotype_kwargs=self.phen,
            pose_parameterization="world-orient",
        )
        verts = out["vertices"].double().numpy() + offsets[:, None, :]
        heads = out["bone_poses"][:, :, :3, 3].double().numpy() + offsets[:, None, :]
        return verts, heads


class Renderer:
    def __init__(
        self,
        cam: Camera,
        look: Look,
        faces: np.ndarray,
        colors: np.ndarray,
        light: Lighting | None = None,
        shadows: bool = False,
    ) -> None:
        os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
        import pyrender
        import trimesh

        self.flags = pyrender.RenderFlags.SHADOWS_DIRECTIONAL if shadows else 0

        self.pyrender, self.trimesh = pyrender, trimesh
        self.faces, self.colors = faces, colors
        light = light or Lighting()
        self.scene = pyrender.Scene(
            bg_color=[*_rgb(look.wall), 1.0], ambient_light=[light.ambient] * 3
        )
        floor = trimesh.creation.box(extents=[12.0, 12.0, 0.02])
        floor.apply_translation([0, 2.0, -0.01])
        floor.visual.vertex_colors = [*(int(255 * c) for c in _rgb(look.floor)), 255]
        self.scene.add(pyrender.Mesh.from_trimesh(floor, smooth=False))
        wall = trimesh.creation.box(extents=[12.0, 0.02, 6.0])
        wall.apply_translation([0, 3.5, 3.0])
        wall.visual.vertex_colors = [*(int(255 * c) for c in _rgb(look.wall)), 255]
        self.scene.add(pyrender.Mesh.from_trimesh(wall, smooth=False))
        self.cam_node = self.scene.add(
            pyrender.PerspectiveCamera(yfov=cam.yfov, aspectRatio=cam.width / cam.height),
            pose=cam.pose_matrix(),
        )
        # Key light (by default from above the camera, to the person's right), fill from the
        # person's left.
        key = np.eye(4)
        key[:3, :3] = _look_rotation(light.key_direction())
        self.scene.add(
            pyrender.DirectionalLight(color=[1.0, 0.97, 0.92], intensity=3.2 * light.intensity),
            pose=key,
        )
        fill = np.eye(4)
        fill[:3, :3] = _look_rotation(np.array([-1.0, 0.6, -0.3]))
        self.scene.add(
            pyrender.DirectionalLight(color=[0.9, 0.95, 1.0], intensity=1.4 * light.intensity),
            pose=fill,
        )
        self.renderer = pyrender.OffscreenRenderer(cam.width, cam.height)
        self.node = None

    def render(self, vertices: np.ndarray, cam: Camera | None = None) -> np.ndarray:
        """(H, W, 3) uint8 RGB of the body with these vertices (V, 3), seen by ``cam`` (a moved
        camera of the same size) or by the camera the renderer was made with."""
        if cam is not None:
            self.cam_node.camera.yfov = cam.yfov
            self.scene.set_pose(self.cam_node, cam.pose_matrix())
        tm = self.trimesh.Trimesh(vertices, self.faces, vertex_colors=self.colors, process=False)
        mesh = self.pyrender.Mesh.from_trimesh(tm, smooth=True)
        if self.node is not None:
            self.scene.remove_node(self.node)
        self.node = self.scene.add(mesh)
        color, _ = self.renderer.render(self.scene, flags=self.flags)
        return color

    def close(self) -> None:
        self.renderer.delete()


def _look_rotation(direction: np.ndarray) -> np.ndarray:
    """Rotation whose -z axis points along ``direction`` (pyrender lights shine along -z)."""
    f = direction / np.linalg.norm(direction)
    right = np.cross(f, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, f)
    return np.stack([right, up, -f], axis=1)


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
