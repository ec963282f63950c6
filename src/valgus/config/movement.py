"""Settings of the movement analysis: smoothing, kinematics (the flexion reference), rep cycles
and the stance leg. Each with its unit in its name and the reason for its value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class SmoothingConfig:
    # Single-leg squat reps last 2-6 s, so their content sits below ~1 Hz; landmark jitter is
    # broadband. 4 Hz keeps the movement (and the shape of the bottom of a fast rep) while removing
    # frame-to-frame jitter. Zero-phase Butterworth so the deepest frame does not shift in time.
    cutoff_hz: float = 4.0
    filter_order: int = 2
    # Gaps (landmarks lost) up to this long are bridged linearly; longer ones stay missing so that
    # nothing is invented across a real loss of tracking.
    max_gap_s: float = 0.25



@dataclass(frozen=True)
class KinematicsConfig:
    # Knee flexion is read from how much the hip-ankle line shortens against the leg's standing
    # length. That length is tracked as a ratio to the body's width (shoulder width + hip width,
    # image px), which follows a camera zoom or a person walking closer but does not change when
    # the knees bend or the trunk leans forward (measured on a rendered 12% zoom: the widths
    # followed the zoom within 2%, the trunk's length fell by 27% at the bottom of each squat).
    # The standing ratio is a high percentile of the ratio within this window around each frame
    # (people stand up between reps). The live page, which cannot look ahead, uses the trailing
    # half.
    standing_window_s: float = 20.0
    # ...the 95th percentile rather than the maximum, so that a few frames of a glitch or of a
    # free foot held towards the camera (it projects lower, lengthening the line by up to ~13%)
    # cannot set it...
    standing_percentile: float = 95.0
    # ...over frames where the leg's hip-ankle line is within this angle of vertical in the 3D
    # world landmarks: a free leg held forward or bent back is not a standing leg (a standing or
    # squatting stance leg keeps its hip over its ankle: measured 2-21 deg on the real and the
    # rendered clips).
    standing_max_leg_tilt_deg: float = 25.0
    # The body width is smoothed with a running median over this window (s): landmark jitter of
    # a shoulder is ~1-2% of the width per frame; a zoom changes it by a few % per second.
    body_width_window_s: float = 1.0
    # Widths shrink as the body turns (cos of the turn) and mean nothing side-on: frames turned
    # further than this from the camera (body_yaw_deg) use the longest hip-ankle length within
    # the window instead (a turn of 30 deg narrows the body by 13%).
    body_width_max_yaw_deg: float = 30.0
    # The body scale the standing length is tracked against (core/flexion.py body_scale_px):
    # "trunk" = the trunk's image length (mid-hip to mid-shoulder) at the frames where the trunk
    # is upright, interpolated between them; "width" = shoulder + hip width; "none" = image px.
    # The width grows by 4-6% when a person stands on one leg (pelvis and shoulders turn and
    # tilt; demo clip 151 -> 158-161 px) and lifted the depth at the bottom by ~6 deg (demo: 86
    # -> 92, truth 80); the upright trunk does not (demo: 87.6, rendered clips within 0-3 deg
    # of the unscaled depth), and follows a zoom: rendered 12% zoom rb_zoom_hold, standing read
    # 48 deg and depth 88.6/89.5 unscaled, 0 deg and 83.9/86.3 with it (truth 2 and 80).
    # Default "none" (image px, as before): on the real clips of ../shared (static cameras) the
    # upright-trunk length still varies by 10-20% (hyva7 157-188 px: MediaPipe's 3D lean does
    # not single out upright frames there), so "trunk" is offered, measured, not yet default.
    body_scale: Literal["none", "width", "trunk"] = "none"
    # A frame's trunk counts as upright when its 3D lean (MediaPipe world hip -> shoulder line)
    # is within this of the clip's 20th percentile of that lean: MediaPipe reads 12-16 deg
    # standing (its world frame is not level) and 25-40 at the bottom, where the image trunk is
    # 7-27% shorter.
    upright_trunk_margin_deg: float = 8.0
    # The trunk scale is applied only when the upright trunk's image length changes by more
    # than this fraction over the clip (5th to 95th percentile), i.e. the camera zoomed or the
    # person came closer: on static clips it varies by 2-4% (demo 139-144 px) and applying that
    # jitter moved the depth by 0.5-3 deg and the completeness of two short double-leg clips;
    # rb_zoom_hold's 12% zoom reads 15%.
    min_zoom_fraction: float = 0.06



@dataclass(frozen=True)
class RepConfig:
    # Reps are found relative to the standing level, not on absolute angles: quiet single-leg
    # standing reads anywhere from 5 to 35 deg of knee flexion from monocular 3D landmarks.
    # A cycle opens once flexion rises this far above the standing level...
    start_rise_deg: float = 15.0
    # ...and closes when it is back within this fraction of its excursion of the standing level.
    return_fraction: float = 0.25
    # A cycle also closes once the knee is back up by this fraction of its excursion and holds
    # still (changes by at most ``settle_plateau_max_change_deg`` over ``settle_plateau_s``):
    # standing on one leg after the rep reads 20-30 deg above the two-leg stance before the
    # free foot was lifted (hip hike), so "back to the start level" may never come.
    settle_return_fraction: float = 0.6
    settle_plateau_s: float = 0.3
    settle_plateau_max_change_deg: float = 3.0
    # Protocol squats go from standing to ~60 deg (Frohm; Kivlan). A rise of less than 25 deg over
    # standing is a dip or a weight shift, not a rep.
    min_excursion_deg: float = 25.0
    # Continuous reps (1.2-6 s each, no pause at the top) never return to the standing level nor
    # settle: a cycle also closes at the lowest flexion after its bottom once the knee has come
    # up by at least this prominence (deg) from the bottom and bends again by ``start_rise_deg``.
    # Same 25 deg as a rep's excursion: a smaller wobble at the bottom (a hold of up to 3 s)
    # stays one rep.
    min_prominence_deg: float = 25.0
    # ...and only when that low point comes at least half this separation (s) after the bottom:
    # two bottoms of one knee are at least this far apart (reps of 1.2 s or more, with a margin).
    min_separation_s: float = 0.8
    # Knee flexion at the bottom below 40 deg is too shallow for the FPPA at the bottom to say
    # anything about control under load.
    min_depth_deg: float = 40.0
    # 2-6 s per rep in protocol (1.2 s seen done fast); 0.6 s rejects jitter bursts, 20 s a
    # person who stopped mid-way.
    min_duration_s: float = 0.6
    max_duration_s: float = 20.0
    # A clip that opens partway down a rep: its first sample is the lowest point of the first
    # cycle but lies well above the level the knee settles at after that rep. Single-leg
    # standing drifts by a few degrees between reps (hyva7: 36 deg at the start, 32-34 after).
    start_level_margin_deg: float = 10.0
    # How long after the first cycle closes to watch for the settled standing level.
    settle_window_s: float = 0.5



@dataclass(frozen=True)
class StanceConfig:
    """Which leg stands during a cycle (``core.stance``). Foot motions are over the hips'
    vertical travel in the cycle; positions across the body are in hip widths (image distance
    between the hip landmarks), so neither depends on the person's size in the picture, the
    depth of the squat or a camera that sways or zooms (it moves both feet alike).

    Measured on the real clips (../shared/videos) and the rendered ones (wt-synth robustness,
    sample_videos): stance feet of single-leg squats move 0.02-0.15 in the image; free feet held
    behind or swept 0.3-1.0, always at least 0.27 more than the stance foot; planted feet of
    double-leg squats 0.02-0.35, within 0.15 of each other.
    """

    # Feet moving relative to each other by more than this (over the hips' travel) are one
    # planted and one free...
    feet_motion_difference: float = 0.2
    # ...the free one being the one that moved more in the image: by more than
    # ``feet_motion_difference`` and at least this many times as much.
    free_to_stance_motion_min_ratio: float = 2.0
    # Only one foot seen: it stands if it moves at most this much.
    lone_foot_max_motion: float = 0.25
    # Neither foot moved clearly more than the other: both planted (double-leg, or a free foot
    # hovering still) only if neither moved more than this; planted feet of double-leg squats
    # drift 0.02-0.35 as the shins tilt (real clips), a foot that moves more is not planted.
    double_max_motion: float = 0.5
    # The cues across the body (weight shift, a lift, free foot height: in hip widths) are read
    # only while the body's median turn from the camera (deg, 3D hip and shoulder lines) is
    # within this: the hips' image width shrinks as cos(turn) (30 deg: -13%) and beyond it the
    # feet overlap in the picture. The oblique Chdh11 clip (turned 46-75 deg) read the hips at
    # 1.4-1.8 of the way to one foot and the landmarks' jitter as a lift; single-leg squats
    # filmed from the front read 0-10 deg (more on one leg, never 30).
    cross_body_max_yaw_deg: float = 30.0
    # Both feet still relative to each other (double-leg, or a free foot hovering still): the
    # hips' position between the feet, 1 = over this foot, 0.5 = centred. Single-leg stance puts
    # them over the stance foot (measured 0.63-0.73 on rendered clips whose body barely shifts,
    # 0.92-1.4 on the real ones); double-leg squats read 0.46-0.54 (one small GIF 0.62, which
    # is why a shift alone is not enough: a lift of the other foot must also be seen). Beyond
    # ``weight_shift_max`` the hips are outside the feet: a side or oblique view, not balance.
    weight_shift_min: float = 0.6
    weight_shift_max: float = 1.6
    # After a lift of the other foot (or continuing a single-leg stance), hips merely on this
    # foot's side of the centre, beyond the double-leg squats' spread (0.46-0.54), are enough:
    # a camera turned 5-8 deg moves a free foot held forward sideways in the picture, and a body
    # that barely shifts its weight then reads 0.59-0.60 (rendered hover_forward_low, yaw -8).
    weight_shift_lean_min: float = 0.55
    # The other foot held clearly above this one (hip widths, image y; frontal view): a free foot
    # hovering beside the stance ankle reads ~0.3, held forward high 0.6-0.75, bent back 1.3-1.7;
    # feet on the floor of double-leg squats mostly within +/-0.1, a foot placed a little behind
    # up to 0.23 (a real GIF), a foot placed forward lower (-0.06 to -0.17). Read only with a lift
    # seen before the cycle (or the stance continuing), never alone nor with balance alone.
    free_foot_up_hip_widths: float = 0.2
    # The position between the feet is only read when they are at least this far apart.
    min_feet_apart_hip_widths: float = 0.1
    # A lift: the other foot moved relative to this one by at least this much (a lifted foot
    # moves 0.2-0.4 hip widths on the rendered clips; still feet 0.02-0.1) within this window
    # before the cycle.
    lift_min_hip_widths: float = 0.15
    lift_lookback_s: float = 3.0
    # ...read over stretches of this length (s) within the look-back: switching legs sets this
    # foot down and lifts the other within 1-2 s (rendered leg switches: 0.5-0.8 s each), and
    # over the whole look-back both feet then moved alike.
    lift_window_s: float = 1.0
    # The free foot's median height above the stance foot over the cycle (hip widths, image y;
    # frontal views only). A frontal camera cannot see a few cm of clearance in front: a foot
    # placed forward projects lower, so on the rendered matrix (40 clips, camera at hip height)
    # feet resting 15 cm ahead read -0.09 to -0.23 and feet hovering 5 cm up 22 cm ahead -0.07
    # to +0.01, which no threshold separates; feet hovering beside the stance ankle read +0.23
    # to +0.33, held forward high +0.6, bent back +1.3 and more. Below -floor the foot rests on
    # the floor (``free_foot_down``); from there up to +clear nobody can tell from the picture
    # (``free_foot_low``: listed, not counted, with "hold it clearly off the floor"); above,
    # the rep counts. Both limits sit 0.1 or more from the nearest population they must not
    # catch (beside +0.23; double-leg feet are not asked: this is read on single-leg reps).
    free_foot_floor_hip_widths: float = 0.12
    free_foot_clear_hip_widths: float = 0.1
