"""Skin markers a clinician digitises, taken from the rendered body's surface (pure numpy).

The clinical 2D FPPA is not measured on joint centres: a person places (or picks in the image)
points on the skin. This module chooses, once per body on its rest mesh (standing, legs
straight), the anny mesh vertices where those points lie; the posed vertices then carry them
through every frame, projected by the same camera as the joint-centre truth.

Choice rules (rest pose; world metres, z up, x towards the person's left, the person faces -y;
"lateral" = away from the body's midline; "front" = the most anterior = smallest y):

Each "front" point is picked among the vertices within 2 cm (x and z) of a target, keeping those
within 1.5 cm of the most anterior one (the front skin), as the one nearest the target seen from
the front.

* ``asis`` (anterior superior iliac spine): the front vertex at the point 7.5 cm above and 1.5 cm
  lateral of the rig's hip joint centre. Assumption: the ASIS lies
  about 0.3 x the inter-ASIS distance (~25 cm) above the hip joint centre and lateral of it
  (Bell and colleagues' hip-centre regression, turned round); the rig's hip centres sit wider
  than an average pelvis, hence only 1.5 cm.
* ``knee_front`` (mid-patella): the front vertex 1.5 cm above the rig's knee joint centre (window
  1.5 cm below to 4.5 cm above, wide enough for the coarse mesh of every body) (the patella's
  centre sits at or just above the joint line: assumption).
* ``knee_medial`` / ``knee_lateral`` (femoral condyles/epicondyles on the skin): the most medial
  / lateral vertex of this leg within 1.5 cm of the knee centre's height and 6 cm of it front to
  back; their midpoint in the image is the mid-condyle knee point.
* ``ankle_medial`` / ``ankle_lateral`` (malleoli): the same at the ankle joint centre's height
  (within 1.5 cm), within 4 cm of it front to back (so no forefoot vertex is taken); their
  midpoint in the image is the mid-malleoli ankle point. Assumption: both malleoli at the rig's
  ankle height (the lateral one really sits ~1 cm lower and a little behind).
* ``thigh`` (proximal-thigh marker): the front thigh vertex at the midpoint of the ``asis`` and
  ``knee_front`` vertices seen from the front, i.e. a skin marker at
  half the ASIS-knee distance on the front of the thigh (stated choice: the midpoint).

Definitions (``MARKER_DEFINITIONS``) built from the projected points; all use the FPPA sign
rule of the joint-centre truth (+ = knee medial of the hip-ankle line, towards the other side):

* ``thigh_marker``: proximal-thigh marker -> knee -> ankle (Herrington 2014 measured between the
  line from markers on the proximal thigh to the knee joint and the line from the knee joint to
  the ankle; where on the thigh is not given there: the midpoint is an assumption);
* ``asis_marker``: ASIS -> knee -> ankle (the thigh line started at the ASIS, a common variant
  reported for Willson & Davis 2008 and Munro 2012: an assumption to check against the papers);
* ``joint_centres``: the rig's hip, knee and ankle joint centres (the generator's first truth).

The knee point is the mid-condyle point (mid-patella is recorded too) and the ankle point the
mid-malleoli point in every marker definition (Munro 2012 and Herrington 2014 place them at the
knee and ankle joint centres as seen from the front).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

SIDES = ("left", "right")
SUFFIX = {"left": "L", "right": "R"}
HIP, KNEE, ANKLE = "upperleg01", "lowerleg01", "foot"

# Rule constants (m), see the module docstring.
ASIS_ABOVE_HIP_M = 0.075
ASIS_LATERAL_OF_HIP_M = 0.015
WINDOW_M = 0.02
PATELLA_ABOVE_KNEE_M = (-0.015, 0.045)
SLICE_HALF_M = 0.015
KNEE_DEPTH_M = 0.06
ANKLE_DEPTH_M = 0.04
LEG_HALF_WIDTH_M = 0.12
FRONT_TOL_M = 0.015

MARKERS = ("asis", "thigh", "knee_front", "knee_medial", "knee_lateral", "ankle_medial",
           "ankle_lateral")
MARKER_DEFINITIONS = ("thigh_marker", "asis_marker", "joint_centres")


class _Rig(Protocol):
    rest_heads: np.ndarray

    def j(self, name: str) -> int: ...


def _pick(mask: np.ndarray, score: np.ndarray, what: str) -> int:
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        raise ValueError(f"no mesh vertex matches the {what} rule")
    return int(idx[np.argmin(score[idx])])


def _front_nearest(v: np.ndarray, window: np.ndarray, x0: float, z0: float, what: str) -> int:
    """Among the window's vertices within ``FRONT_TOL_M`` of its most anterior one (the front
    skin), the one nearest (x0, z0) as seen from the front."""
    idx = np.flatnonzero(window)
    if idx.size == 0:
        raise ValueError(f"no mesh vertex matches the {what} rule")
    front = idx[v[idx, 1] <= v[idx, 1].min() + FRONT_TOL_M]
    d = np.hypot(v[front, 0] - x0, v[front, 2] - z0)
    return int(front[np.argmin(d)])


def choose_marker_vertices(rest_vertices: np.ndarray, rig: _Rig) -> dict[str, int]:
    """Vertex index of every marker (``f"{side}_{marker}"``) on this body's rest mesh (V, 3)."""
    v = rest_vertices
    out: dict[str, int] = {}
    for side, suf in SUFFIX.items():
        lat = 1.0 if side == "left" else -1.0  # +x is the person's left
        hip = rig.rest_heads[rig.j(f"{HIP}.{suf}")]
        knee = rig.rest_heads[rig.j(f"{KNEE}.{suf}")]
        ankle = rig.rest_heads[rig.j(f"{ANKLE}.{suf}")]
        x_lat = lat * v[:, 0]  # lateral coordinate of this side
        near_x = lambda x0: np.abs(v[:, 0] - x0) < WINDOW_M  # noqa: E731
        # ASIS: front of the pelvis above and just lateral of the hip joint centre.
        ax = hip[0] + lat * ASIS_LATERAL_OF_HIP_M
        az = hip[2] + ASIS_ABOVE_HIP_M
        asis = _front_nearest(
            v, near_x(ax) & (np.abs(v[:, 2] - az) < WINDOW_M) & (v[:, 1] < hip[1]), ax, az,
            f"{side} ASIS")
        # Mid-patella: front of the knee at or just above the joint centre.
        lo, hi = PATELLA_ABOVE_KNEE_M
        dz = v[:, 2] - knee[2]
        patella = _front_nearest(
            v, near_x(knee[0]) & (dz >= lo) & (dz <= hi) & (v[:, 1] < knee[1]), knee[0],
            knee[2] + 0.5 * (lo + hi), f"{side} patella")
        # Condyles and malleoli: extreme medial / lateral vertices of this leg's slice.
        out_side: dict[str, int] = {"asis": asis, "knee_front": patella}
        for name, joint, depth in (("knee", knee, KNEE_DEPTH_M), ("ankle", ankle, ANKLE_DEPTH_M)):
            leg = (
                (np.abs(v[:, 2] - joint[2]) < SLICE_HALF_M)
                & (np.abs(v[:, 1] - joint[1]) < depth)
                & (np.abs(v[:, 0] - joint[0]) < LEG_HALF_WIDTH_M)
                & (x_lat > 0)
            )
            out_side[f"{name}_medial"] = _pick(leg, x_lat, f"{side} {name} medial")
            out_side[f"{name}_lateral"] = _pick(leg, -x_lat, f"{side} {name} lateral")
        # Proximal thigh: front of the thigh at half the ASIS-knee distance (frontal view).
        mid = 0.5 * (v[asis] + v[patella])
        thigh = _front_nearest(
            v, near_x(mid[0]) & (np.abs(v[:, 2] - mid[2]) < WINDOW_M) & (x_lat > 0), mid[0],
            mid[2], f"{side} thigh")
        out_side["thigh"] = thigh
        for k, i in out_side.items():
            out[f"{side}_{k}"] = i
    return out


def marker_points(verts: np.ndarray, chosen: dict[str, int]) -> dict[str, np.ndarray]:
    """World positions (..., 3) of every marker from posed vertices (..., V, 3)."""
    return {k: verts[..., i, :] for k, i in chosen.items()}


def definition_points_px(
    px: dict[str, np.ndarray], definition: str
) -> dict[str, np.ndarray]:
    """The hip / knee / ankle image points (..., 2) of both legs for one FPPA definition.

    ``px`` holds projected markers (``left_asis`` ...) and joint centres (``left_hip`` ...).
    For the marker definitions the knee point is the image midpoint of the two condyle markers
    and the ankle point that of the two malleoli, as a person picks them on the frame."""
    out: dict[str, np.ndarray] = {}
    for s in SIDES:
        if definition == "joint_centres":
            for j in ("hip", "knee", "ankle"):
                out[f"{s}_{j}"] = px[f"{s}_{j}"]
            continue
        top = {"thigh_marker": "thigh", "asis_marker": "asis"}[definition]
        out[f"{s}_hip"] = px[f"{s}_{top}"]
        out[f"{s}_knee"] = 0.5 * (px[f"{s}_knee_medial"] + px[f"{s}_knee_lateral"])
        out[f"{s}_ankle"] = 0.5 * (px[f"{s}_ankle_medial"] + px[f"{s}_ankle_lateral"])
    return out


def fppa_by_definition(px: dict[str, np.ndarray], side: str, definition: str) -> np.ndarray:
    """FPPA (deg, + = valgus) of ``side`` under one definition from projected points (..., 2).

    Medial is towards the other leg's projected hip joint centre (anatomy, not image x), the
    rule of the joint-centre truth."""
    from valgus.synth.camera import fppa_deg

    pts = definition_points_px(px, definition)
    other = "right" if side == "left" else "left"
    return fppa_deg(pts[f"{side}_hip"], pts[f"{side}_knee"], pts[f"{side}_ankle"],
                    px[f"{other}_hip"])
