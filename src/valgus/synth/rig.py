"""The rendered body's skeleton: rotations, the rest rig and its forward kinematics, the
poser that sets a single-leg squat pose, and the knee rotation that gives a wanted FPPA
(numpy only; ``synth.generate`` renders with it)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from valgus.synth.camera import Camera, flexion_deg
from valgus.synth.freeleg import FOOT_POSTURES, FreeLegGeometry, foot_target, two_bone_ik
from valgus.synth.motion import MotionConfig, Side
from valgus.synth.truth import ANKLE, HIP, KNEE, SUFFIX, leg_points, projected_fppa

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
