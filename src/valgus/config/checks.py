"""Settings of the checks: the view, the quality gate (picture, person, landmarks) and the input
limits. Each with its unit in its name and the reason for its value."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ViewConfig:
    # Camera yaw relative to the body estimated from the hip and shoulder lines in the 3D world
    # landmarks. Turning the camera 20 deg changes the 2D FPPA at 60 deg flexion by about
    # +/-23 deg (REFERENCE section 2), so beyond 25 deg FPPA numbers are withheld.
    max_yaw_deg: float = 25.0
    # Fraction of analysed frames that must be frontal for the clip to be called frontal.
    min_frontal_fraction: float = 0.6
    # Per rep: a body turned by psi from the camera shifts the 2D FPPA of a knee flexed by theta
    # by about 2 atan(tan(theta / 2) sin(psi)) (about 1.4 deg per deg of turn at 70 deg flexion;
    # REFERENCE: +/-23 deg for 20 deg at 60 deg). The rep is not measurable when that possible
    # shift exceeds this, using the median body turn over the rep.
    max_yaw_fppa_error_deg: float = 5.0
    # The body turn read from MediaPipe's 3D landmarks is itself uncertain: on the square-on
    # synthetic demo clip (true turn 0) it reads 2-5 deg, more when standing on one leg. Only the
    # turn beyond this counts; smaller turns cannot be told from the estimator's own error.
    yaw_noise_deg: float = 5.0
    # The scored point of every rep is its deepest point (peak knee flexion: Willson 2006; Munro
    # 2012; Herrington 2014), read as the median FPPA over the bottom plateau: the rep's frames
    # around the deepest one whose flexion is within this many degrees of it (about 1/3 s at
    # the bottom of a 2-6 s rep). One frame's FPPA moves 2-4 deg from frame to frame there on
    # real clips (hyva7's left rep: 10.3-12.8 deg over 0.7 s at 99-101 deg of flexion); the
    # median of the plateau does not jump when one frame changes (bench/bottom_reading_accuracy.py
    # compares both readings with the rendered truth).
    bottom_plateau_deg: float = 5.0
    # A rep is not measurable when the thigh at the bottom (median over the plateau) is shorter
    # in the image than this fraction of its length over the rep: the thigh then points at the
    # camera within ~15 deg (cos 75 = 0.26), hip near knee height, where the 2D FPPA loses its
    # meaning (REFERENCE section 1) and a knee placement error of x thigh lengths turns the
    # thigh line by about x / ratio rad, four times as much as standing. The hyva7 reps (about
    # 100 deg of flexion) read 0.36-0.56 and the pistol-like rendered holds 0.3 and up. Until
    # issue 16 this was 0.5 and silently moved the scored point to 60 deg of flexion (a 0.07
    # change flipped hyva7's left rep from +0.9 to 14.7 deg); now the point never moves.
    min_thigh_length_ratio: float = 0.25
    # The FPPA where the descent first reaches this knee flexion is reported beside the bottom's
    # for every measured rep (the literature's alternative point: Willson 2006; Munro 2012); it
    # never sets the band.
    reference_flexion_deg: float = 60.0
    # Per rep: landmarks must be present in at least this fraction of the rep's frames.
    min_rep_coverage: float = 0.8
    # Fraction of frames with a person needed to analyse a clip at all.
    min_detection_fraction: float = 0.3



@dataclass(frozen=True)
class QualityConfig:
    """Checks on the clip before anything is scored (see quality.py)."""

    # Mean luma (0-255) below which the clip is too dark for reliable landmarks.
    min_brightness: float = 35.0
    # Variance of the Laplacian of the luma at 320 px width, the luma first scaled to unit
    # standard deviation so that a dim or low-contrast picture does not read as blurred. The
    # real clips in ../shared/videos and the synthetic ones (dim and dark light included) read
    # 0.038-0.6; a Gaussian blur of sigma 3 px (at 640 px width) brings them to 0.002-0.012.
    min_sharpness: float = 0.015
    # A squat descent lasts 1-3 s; at least 15 frames per second keep its bottom within ~0.07 s.
    min_fps: float = 15.0
    # Too short to hold even one rep (2-6 s per rep in protocol).
    min_duration_s: float = 2.0
    # The person's height in the image (head to feet) as a fraction of the image height: below
    # this, a 1 px landmark error is over ~1 deg of FPPA.
    min_body_height_fraction: float = 0.3
    # The person's height (nose to feet, median over the clip) in px of the analysed picture.
    # Measured (bench/min_pixels.py): the demo, hyva2, hyva3, hyva7 and base_hyva7 downscaled
    # whole (area average, H.264 CRF 18), scored with this check off, against the clip as it is.
    # Largest |scored FPPA change| (deg) at person px; re-encoding alone: 0.4 / 0.5 / 1.7 / 1.7.
    #   demo  331 0.6 | 248 1.7 | 207 2.4 | 165 1.9 | 138 3.1 | 124 3.3 | 110 1.6 |  99 1.9
    #   hyva2 412 0.5 | 309 0.9 | 257 1.2 | 205 1.8 | 171 0.5 | 154 2.8 | 136 1.5 | 123 2.3
    #   hyva7 364 1.0 | 273 1.4 | 250 4.1 | 227 4.8 | 204 2.2 | 189 5.7 | 182 3.7 | 151 9.9
    #         136 5.0 | 121 6.9 | 109 5.3 (the slow right rep unreliable at 204 and 227 px)
    # hyva7's deep left rep (the same rep in base_hyva7), the steadiest real reading: <= 1.3 at
    # 269-364 px, 1.0-2.6 at 201-250, 2.5-4.4 at 179-189, 4.5-7.4 at 120-151 (bands change);
    # 144p gives these clips 99-123 px.
    # hyva3's rep is not measurable at every size, alike; base_hyva7's slow right rep reads -1
    # or +9..+14 at any size (4.9 deg off at 359 px), so it tells nothing of size. 150 px (the
    # earlier, reasoned limit) is the edge of the collapse, without margin; from 200 px real reps
    # hold within ~2.5 deg, under the method's own SEM (3 deg, Munro 2012), so 200 is the limit.
    # (Real reps hold 1-2 deg from ~270 px: film closer or at 720p where you can.) The demo
    # halved for the bad-input tests (248 px), the rendered rear/front test clips (480x360,
    # ~250 px) and the live page's smallest allowed person (half of 480 px) lie above it.
    min_body_height_px: float = 200.0
    # The camera roll check reads the feet -> nose axis of standing frames; it is skipped where
    # that axis means nothing: a body turned more than this (deg, 3D hip and shoulder lines) from
    # the camera (a side view: any forward reach leans the axis)...
    roll_max_yaw_deg: float = 45.0
    # ...or feet this far apart front to back (m, 3D ankles), a split stance leaning the axis
    # towards the front foot (a side view of a split squat read "tilted 28 deg").
    roll_max_feet_depth_m: float = 0.3
    # ...with both feet down: ankles within this height of each other (m). A free foot held
    # behind in a single-leg squat is also deep, but raised 0.3-0.5 m.
    roll_feet_level_m: float = 0.15
    # Landmarks closer than this fraction of the active picture's size to its edge count as out
    # of frame (the picture: the frame without static bars, ``PoseSeries.picture``).
    edge_margin_fraction: float = 0.01
    # Share of frames with feet or hips out of frame above which the clip is flagged.
    max_cropped_fraction: float = 0.2
    # Camera roll: the standing body axis further than this from image vertical.
    max_roll_deg: float = 10.0
    # The body axis (feet -> head) further than this from upright: the video is sideways or
    # upside down (rotation metadata missing).
    max_body_axis_deg: float = 45.0
    # Another person counted in more than this share of the checked frames.
    max_multi_person_fraction: float = 0.2
    # Landmark trust, not relying on MediaPipe's visibility score (it stays ~0.99 on hidden
    # joints). A frame is untrusted when a thigh or shank length (3D) differs from its clip median
    # by more than this fraction...
    max_bone_length_deviation: float = 0.25
    # ...or a hip, knee or ankle moves faster than this many body heights per second (squats
    # move joints at well under 2 body heights/s; identity switches and glitches jump faster)...
    max_joint_speed_body_per_s: float = 4.0
    # ...or the knees' left-right order in the image flips against the hips' order while the
    # hips are this far apart (px fraction of body height), i.e. a left-right swap.
    swap_min_hip_width_fraction: float = 0.05
    # A rep with more than this share of untrusted frames is not measurable. (Until issue 16 so
    # was one whose scored frame had an untrusted frame within scored_window_s around it; that
    # window is kept for stored configs, see min_trusted_plateau_fraction.) (MediaPipe's 3D thigh
    # shrinks by up to half in very deep squats, e.g. hyva3's bottom: those frames are untrusted,
    # which is why the rep-wide share is generous and the scored frame is checked on its own.)
    max_untrusted_rep_fraction: float = 0.5
    scored_window_s: float = 0.2
    # Issue 16: the scored point is the median FPPA of the bottom plateau's trusted frames
    # (``rep_score``), so it is unreliable when fewer than this share of the plateau's frames
    # are trusted: the median then no longer rests on a majority of the plateau. hyva7's
    # reps filmed six ways read 0.76-1.0; hyva3's deepest rep (3D thigh halved at the
    # bottom) 0.12. (Replaces the check of every frame within scored_window_s of the scored
    # frame, which one untrusted frame failed: the letterboxed hyva7's right rep.)
    min_trusted_plateau_fraction: float = 0.5
    # A descent caught in fewer frames than this cannot place the deepest frame (at 30 fps a
    # protocol descent of 1-3 s has 30-90).
    min_descent_frames: int = 6
    # One person (issue 13): the person under test is locked by the size of their upper body,
    # max(shoulder-to-hip length, 1.4 x shoulder width) in px, which a squat barely changes (one
    # person's 1st-99th percentile: 0.93-0.96 of each other on the demo, hyva7 and occluded
    # clips; frame-to-frame steps under 5%; the trunk alone shrinks to 0.5-0.7 in forward
    # lean). A tracked body whose size differs from the last accepted one by more than this
    # factor is someone else (the bystander case: 142 px -> 71 px, a factor 2)...
    person_max_scale_ratio: float = 1.33
    # ...and so is one whose hips land more than this many upper-body sizes from the last
    # accepted frame's within ``person_jump_window_s`` s (a person walks ~0.2 of it a frame at
    # 25 fps even when hurrying out; the tracker jumping to another person moves a whole body).
    person_max_jump_scales: float = 1.0
    person_jump_window_s: float = 0.25
    # Frames on another person add up to at least this (s) before the clip says so: one or two
    # frames of a tracker fumbling as the person walks out are not a second person.
    person_switch_min_s: float = 0.5
    # Hidden joints: the landmarker's person segmentation, averaged in a square of 0.08 shank
    # lengths either side of the knee and of mid-shin, the lesser of the two
    # (``PoseSeries.leg_seen``). Measured with masks on every frontal clip at hand, the stance
    # leg over each rep: real clips hyva2 1.00, hyva3 0.92, hyva7 and base_hyva7 1.00; the
    # rendered bodies (demo and sample_videos/accuracy, 540x720, shank ~100 px) 0.81-1.00, the
    # female body's right leg 0.81-0.83; 0.73 at the lowest on any frame (a free leg). A hidden
    # knee: occluded_one_knee's right rep (a box drawn over hyva7's knee; the model kept
    # placing the knee at the box's edge) is under 0.8 on 28% of its frames, under
    # 0.7 on 22%, under 0.6 on 15%, down to 0.00; both knees boxed on the demo: 62-96% under
    # 0.7. A leg reading under this is hidden on that frame: 0.11 below the lowest visible stance
    # leg (0.8 left 0.01), and the real hidden knee still over twice the share below...
    min_leg_seen: float = 0.7
    # ...and a rep whose stance leg is hidden on more than this share of its frames is not
    # measurable ("something hides your knee"): no visible stance leg had a single frame under
    # 0.7 (0%); the real hidden knee 22%.
    max_hidden_rep_fraction: float = 0.1
    # A box in front of ONE knee is counted as body by the segmentation (the demo with its
    # left knee boxed: leg_seen 0.88-1.00 over that rep, which read not_square), but it does
    # not move with the leg. ``PoseSeries.leg_still`` (``runtime.occluder``; a ratio, no unit)
    # compares the picture at the knee and at mid-shin with a frame of the last second in
    # which the point was >= 0.2 shank away: the change at the same spot over the change
    # following the point, the lesser of the two (so the light's level does not matter). A leg
    # reading under this is hidden on that frame (and counts towards
    # ``max_hidden_rep_fraction``). Measured on every clip at hand (the demo, sample_videos'
    # accuracy and robustness clips, ../shared/videos, ../shared/cases): 2294 measured frames
    # of 86 stance reps in view, none under 0.26 (hyva3's left rep; 1st percentile 0.39), 0%
    # of any of those reps' frames under 0.25; one box in front of one leg on the demo
    # (tests/bad_inputs.py: brown or patterned over the left knee, grey-blue over the right,
    # dark blue over the left shin) 21-61% of that rep's frames under this (those frames at a
    # median 0.005-0.047); occluded_one_knee's right rep 9% (its segmentation 22%).
    max_leg_still_ratio: float = 0.15
    # The other leg hidden on more than this share of a rep's frames makes the rep not
    # measurable ("other_leg_hidden"): the model fits the whole body, and a leg it cannot see
    # moves the one it can. Measured on the demo: a box over the right knee, hiding the free
    # leg through every left rep (98-100 % of their frames), moved the visible left leg's FPPA
    # from -3.3/-3.6/-3.9 to +1.3/+1.3/+0.6 deg with no other sign; occluded_one_knee's visible
    # left rep, its other leg hidden on 25 % of the frames, kept its control's band (10.3 vs
    # 11.1 deg). Half the rep lies between, with room on both sides.
    max_other_leg_hidden_fraction: float = 0.5
    # Rear view (issue 13 item 6). A frame shows the person's back when the model puts the
    # nose more than this (m, 3D world landmarks, z away from the camera) behind the middle of
    # the shoulders AND the person's left shoulder and hip on the image's left (their right in a
    # frontal view). Frontal clips (hyva2/3/7, demo, 10 rendered bodies, double-leg clips) put
    # the nose 0.14-0.27 m in front; side and oblique views (rohanx01, Chdh11, luizfcharry)
    # 0-0.13 m in front, a few side frames up to 0.16 m behind; a rendered back view (yaw 180)
    # 0.21-0.28 m behind on every frame. MediaPipe's face visibility stays 0.99-1.0 from behind,
    # so it is no cue.
    rear_nose_behind_m: float = 0.05
    # The clip is "filmed from behind" (blocking) when more than this share of its frames with
    # the person show their back: the rendered back view 100%; every frontal, side and oblique
    # clip 0-0.7%; the bystander composite 14% before the person lock, 3.5% after it...
    rear_view_blocking_fraction: float = 0.5
    # ...and says so without blocking above this share (a person who turns round for part of the
    # clip: those reps' sides and valgus direction are unverified).
    rear_view_warn_fraction: float = 0.25
    # Time, not frames (issue 16 item 6): a rep is not measurable when the recording has a step
    # longer than this (s) between the frames with a person on either side of its deepest frame,
    # or inside its bottom plateau ("frames missing around the bottom"): the true bottom may lie
    # in the gap. A 25-30 fps clip steps 0.03-0.04 s, a phone's variable frame rate up to ~0.1 s;
    # 0.25 s is 6-7 lost frames at 25-30 fps, a quarter of the 1 s that the fastest reps (1.2 s)
    # spend around the bottom.
    max_bottom_gap_s: float = 0.25



@dataclass(frozen=True)
class CameraMotionConfig:
    """When the camera moved too much during a rep for it to be scored (issue 16 item 4).

    The camera's motion is read from the background (``runtime.camera_motion``) as the picture
    content's shift, zoom and roll since the rep's first frame (``core.camera``). The FPPA is an
    angle inside the picture, so a pure shift, zoom or roll of the camera leaves it unchanged, and
    the reps, stance and checks compare body points with each other (hip widths, body heights):
    a hand-held phone that sways a little must not cost a rep. What a moving camera does break:
    body-relative cues only up to a point (the person slides towards the picture's edge, the
    person lock reads a fast zoom as another person), motion blur, and a change of viewpoint (a
    phone turned round the person, which a 2D shift/zoom/roll cannot express and which shows as
    a large fast motion). The limits sit well above the robustness matrix's camera levels
    (``bench/robustness.py``: sway 1.5% of the picture, pan 6%, zoom 12%; all scored) and
    the real hand-held case (hyva7_sway_horizontal: 1-2% of the width, 0.08 widths/s at most).
    """

    # The picture centre's content moved further than this (fraction of the picture width; the
    # largest distance between its positions over the rep). The whole 12% of the matrix's pan
    # fits inside it; a person filling a landscape picture's height is ~25-35% of its width
    # wide, so beyond this the person has slid by half their own width or more, feet and hips
    # near the picture's edge, and a pan that large is the phone being carried, not held.
    max_shift_fraction: float = 0.15
    # The content's scale changed by more than this factor over the rep (log of it, so zooming
    # in and out count alike): 1.22 against the matrix's 1.12 zoom; the person lock reads a body
    # 1.33x bigger or smaller as another person (``QualityConfig.person_max_scale_ratio``), so a
    # zoom must stay clearly under that.
    max_log_zoom: float = 0.2
    # The content turned by more than this (deg) over the rep: the camera-roll check's own
    # limit (``QualityConfig.max_roll_deg``), beyond which pelvis and trunk angles read against
    # the image's horizontal and vertical are off by more than it allows.
    max_roll_deg: float = 10.0
    # The content moved faster than this (picture widths per second, over ``speed_window_s``):
    # at an indoor phone exposure of 1/30 s that smears the picture by 1% of its width (13 px at
    # 1280 px: the knee's own size in the model's crop), and a hand-held sway moves 0.05-0.08
    # widths/s (matrix, real case). A shake or a swing of the phone goes 0.5-2 widths/s.
    max_speed_width_per_s: float = 0.3
    # Speed is read as the shift over this window (s), not frame to frame, so one noisy step
    # does not count as a fast camera.
    speed_window_s: float = 0.2
    # The camera's motion is judged from the background on a rep only when at least this share
    # of its frame steps is known; else (a plain wall gives no corners) its shift is read from
    # the standing foot, when that is placed on at least this share of the rep's frames
    # (``core.camera.foot_movement``), and otherwise it is unknown and not judged.
    min_known_fraction: float = 0.5
    # The background's steps are not read within this many seconds of a frame where someone
    # else was counted in the picture (``PoseSeries.n_people``, counted every 30th frame: 1 s at
    # 30 fps): the other person is not masked out, and before a plain wall their own squats are
    # most of the corners (two people side by side read a 32% "zoom"). The standing foot then
    # stands in for the camera (``min_known_fraction``).
    bystander_margin_s: float = 1.5


@dataclass(frozen=True)
class InputLimits:
    """What one analysis accepts, checked before and while frames are decoded, so that a wrong or
    huge file fails at once with a clear message instead of running for hours or exhausting
    memory (``errors.InputTooLargeError``). 1 MB = 1,000,000 bytes.
    """

    # The whole test is 20 reps per leg at 2-6 s per rep (80-240 s of squatting) plus setup and
    # the change of legs: 10 min leaves room for rests. It also bounds the work: 18,000 frames at
    # 30 fps, about 8 min of pose estimation at ~25 ms per frame on 2 cores.
    max_duration_s: float = 600.0
    # Ten minutes (max_duration_s) of 4K 30 fps phone video at ~50 Mbit/s is ~3.75 GB, of 1080p
    # ~1.3 GB. A bigger file is far longer than the test or an edit-grade codec (ProRes: ~6 GB per
    # minute) that is also slow to decode; exporting it as H.264 brings it under.
    max_file_size_mb: float = 4000.0
    # Frames are downscaled (aspect kept) so their longer side is at most this before pose
    # estimation. BlazePose looks at a 224 px picture to find the person and a 256 px crop of
    # them for the landmarks, so a person ~1000 px tall in a 1280 px frame already gives the
    # model 4x the pixels it uses; bigger frames only cost decoding time and memory (one 8K RGB
    # frame is 100 MB, 4K 25 MB, 1280x720 2.8 MB). Angles do not depend on the scale.
    max_side_px: int = 1280
    # Frames analysed per second at most (1/s). Knee angles are smoothed below 4 Hz
    # (SmoothingConfig) and a descent lasts 1-3 s: 30 frames a second sample that 7x over the
    # cut-off and give a descent 30-90 frames (the gate asks for 15 fps), and it is the rate the
    # pose tracker is made for. A 60, 120 or 240 fps (slow-motion) recording is thinned to this
    # rate from its timestamps (``runtime.video.iter_frames``): the 240 fps case clip took 7x the
    # time of its 25 fps control for the same result. With ``max_duration_s`` this bounds the
    # work, not only the seconds: at most max_duration_s x max_fps = 18,000 frames inferred.
    max_fps: float = 30.0
    # A clip in which nobody has been found after this many seconds (s) of its start stops there
    # with "no person found", instead of running the model over the rest (a 10-minute black or
    # empty clip took minutes). A tester walks into the picture within seconds of starting the
    # recording; 30 s leaves room for setting the phone down and stepping back.
    no_person_stop_s: float = 30.0
