"""Live webcam self-test: the offline rep detector and scoring, fed one frame at a time.

``LiveSession`` is pure (no Streamlit, no webcam, no video files): it takes each frame's
``FramePose`` and timestamp and

* checks the setup first (``live.setup``: whole body in the picture, facing the camera, large
  enough); counting starts once every check has held for ``LiveConfig.setup_hold_s``;
* then keeps a bounded buffer of landmarks, computes per-frame kinematics with a causal low-pass
  (what the person sees, without waiting for future frames) and feeds them to the same streaming
  ``core.reps.RepCounter`` that ``pipeline.analyze_series`` runs over a recorded clip;
* scores every rep the moment it ends with ``core.scoring.score_rep`` on kinematics computed over
  the buffered window with the offline (zero-phase) smoothing (``pipeline.prepare_scoring``), so
  its numbers match those of the recorded clip.

``live.processor.LiveProcessor`` runs one webcam stream through it; ``live.overlay`` draws it.
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque

import numpy as np

from valgus import landmarks as lm
from valgus.config import AnalysisConfig, LiveConfig
from valgus.core.flexion import UprightTrunkScale
from valgus.core.fppa import frame_fppa
from valgus.core.kinematics import (
    StandingLengthTracker,
    body_width_px,
    body_yaw_deg,
    hip_ankle_length_px,
    leg_series,
    leg_tilt_deg,
)
from valgus.core.pose import PoseSeries
from valgus.core.reps import FlexionCycle, RepCandidate, RepCounter, StreamSample, classify_cycle
from valgus.core.scoring import RepScore, score_rep
from valgus.landmarks import SIDES, Side
from valgus.live.frames import (
    NO_VIS,
    NO_WORLD,
    NO_XY,
    NOT_MEASURED,
    BufferedFrame,
    CausalSmoother,
    Phase,
)
from valgus.live.frames import LiveStatus as LiveStatus
from valgus.live.setup import SetupStatus, check_setup
from valgus.pipeline import prepare_scoring
from valgus.runtime.estimator import FramePose


class LiveSession:
    """Rep counting and scoring on a live stream of poses (see the module docstring).

    Args:
        cfg: thresholds, smoothing, rep and stance settings, exactly as for a recorded clip.
        live_cfg: the setup check and the buffer length.
        require_setup: when False, counting starts with the first frame (tests, replays).
    """

    def __init__(
        self,
        cfg: AnalysisConfig | None = None,
        live_cfg: LiveConfig | None = None,
        require_setup: bool = True,
    ) -> None:
        self.cfg = cfg or AnalysisConfig()
        self.live_cfg = live_cfg or LiveConfig()
        self._max_gap_s = max(self.cfg.smoothing.max_gap_s, 0.5)  # as analyze_series
        self._counter = RepCounter(
            self.cfg.reps, self.cfg.stance, self._max_gap_s, buffer_s=self.live_cfg.buffer_s
        )
        smoothing = self.cfg.smoothing
        self._xy_smoother = CausalSmoother(smoothing.cutoff_hz, smoothing.max_gap_s)
        self._world_smoother = CausalSmoother(smoothing.cutoff_hz, smoothing.max_gap_s)
        # Flexion is measured against each leg's standing length, as offline (trailing half of
        # the offline window: the live page cannot look ahead).
        self._standing = {
            s: StandingLengthTracker(
                self.cfg.kinematics.standing_window_s / 2.0, self.cfg.kinematics
            )
            for s in SIDES
        }
        self._trunk_scale = UprightTrunkScale(
            self.cfg.kinematics.standing_window_s / 2.0, self.cfg.kinematics
        )
        self._buffer: deque[BufferedFrame] = deque()
        self._first_recorded_i = 0  # recorded index of self._buffer[0]
        self._recorded = 0
        self._frames = 0
        self._t_first: float | None = None
        self._t_record0: float | None = None
        self._setup_since: float | None = None
        self._yaw: deque[tuple[float, float]] = deque()
        self._image_size: tuple[int, int] = (0, 0)
        self._reps: list[RepScore] = []
        self._stance: Side | None = None
        self._phase: Phase = "setup" if require_setup else "counting"
        self._status = self._make_status(0.0, SetupStatus(()), {}, {}, (), 0.0)

    # ----------------------------------------------------------------- public

    @property
    def status(self) -> LiveStatus:
        return self._status

    @property
    def reps(self) -> tuple[RepScore, ...]:
        return tuple(self._reps)

    @property
    def phase(self) -> Phase:
        return self._phase

    @property
    def buffered_frames(self) -> int:
        """Frames held for scoring (bounded by ``LiveConfig.buffer_s``)."""
        return len(self._buffer)

    @property
    def buffered_s(self) -> float:
        """Time span of the frames held for scoring, seconds."""
        return self._buffer[-1].t_s - self._buffer[0].t_s if self._buffer else 0.0

    def update(
        self,
        t_s: float,
        pose: FramePose | None,
        image_size: tuple[int, int],
        image_stats: tuple[float, float] | None = None,
        leg_still: np.ndarray | None = None,
    ) -> LiveStatus:
        """Feed one frame (``t_s`` strictly increasing, seconds; ``pose`` None = nobody seen).

        ``image_stats``: (brightness, sharpness) of the frame as ``runtime.video.frame_image_stats``
        gives them, on the frames where they were measured (the clip quality checks use them).
        ``leg_still``: the frame's (2,) ``runtime.occluder.OccluderMeter`` reading (an object in
        front of a leg, as ``PoseSeries.leg_still`` offline); None = not measured.

        Returns the status after this frame; ``status.phase == "counting"`` and
        ``status.recorded_frames`` tell whether (and as which index) the frame was recorded.
        """
        if self._phase == "finished":
            return self._status
        self._frames += 1
        self._image_size = image_size
        if self._t_first is None:
            self._t_first = t_s
        xy = pose.xy_px if pose is not None else None
        world = pose.world_m if pose is not None else None
        setup = self._setup(t_s, xy, world, image_size)
        held = 0.0 if self._setup_since is None else t_s - self._setup_since
        if self._phase == "setup":
            if held >= self.live_cfg.setup_hold_s:
                self._phase = "counting"
            else:
                self._status = self._make_status(t_s, setup, {}, {}, (), held)
                return self._status
        if self._t_record0 is None:
            self._t_record0 = t_s
        return self._record(t_s, pose, setup, held, image_stats, leg_still)

    def finish(self) -> LiveStatus:
        """End of the stream: reps still under way are closed as cut by the end, and scored."""
        if self._phase == "finished":
            return self._status
        new: list[RepScore] = []
        if self._recorded:
            new = [self._score(c) for c in self._counter.finish()]
            self._reps.extend(new)
        self._phase = "finished"
        self._status = dataclasses.replace(
            self._status, phase="finished", reps=tuple(self._reps), new_reps=tuple(new),
            counts=self._counts(), not_a_rep=self._not_a_rep(),
        )
        return self._status

    # ----------------------------------------------------------------- internals

    def _setup(
        self,
        t_s: float,
        xy: np.ndarray | None,
        world: np.ndarray | None,
        image_size: tuple[int, int],
    ) -> SetupStatus:
        if world is not None and np.all(np.isfinite(world)):
            self._yaw.append((t_s, float(body_yaw_deg(world[None].astype(np.float64))[0])))
        while self._yaw and t_s - self._yaw[0][0] > self.live_cfg.setup_yaw_window_s:
            self._yaw.popleft()
        yaw = float(np.median([y for _, y in self._yaw])) if self._yaw else math.nan
        setup = check_setup(xy, image_size, yaw, self.live_cfg)
        if setup.ok:
            if self._setup_since is None:
                self._setup_since = t_s
        else:
            self._setup_since = None
        return setup

    def _record(
        self,
        t_s: float,
        pose: FramePose | None,
        setup: SetupStatus,
        held: float,
        image_stats: tuple[float, float] | None,
        leg_still: np.ndarray | None = None,
    ) -> LiveStatus:
        assert self._t_record0 is not None
        rt = t_s - self._t_record0
        frame = BufferedFrame(
            rt,
            pose.xy_px.astype(np.float32) if pose is not None else NO_XY,
            pose.world_m.astype(np.float32) if pose is not None else NO_WORLD,
            pose.visibility.astype(np.float32) if pose is not None else NO_VIS,
            pose.n_people if pose is not None else 0,
            *(image_stats or (math.nan, math.nan)),
            leg_seen=(
                pose.leg_seen.astype(np.float32)
                if pose is not None and pose.leg_seen is not None else NOT_MEASURED
            ),
            leg_still=NOT_MEASURED if leg_still is None else leg_still.astype(np.float32),
        )
        self._buffer.append(frame)
        self._recorded += 1
        # Keep the buffer bounded: the longest rep plus filter context.
        while self._buffer and rt - self._buffer[0].t_s > self.live_cfg.buffer_s:
            self._buffer.popleft()
            self._first_recorded_i += 1
        xy = self._xy_smoother(rt, frame.xy_px)
        world = self._world_smoother(rt, frame.world_m)
        kcfg = self.cfg.kinematics
        if kcfg.body_scale == "trunk":
            width = self._trunk_scale.update(rt, xy, world)
        elif kcfg.body_scale == "width":
            width = float(body_width_px(xy))
        else:
            width = 1.0
        yaw = float(body_yaw_deg(world[None])[0])
        frontal = bool(abs(yaw) <= kcfg.body_width_max_yaw_deg)
        legs = {
            s: leg_series(
                xy[None],
                world[None],
                s,
                self._standing[s].update(
                    rt,
                    float(hip_ankle_length_px(xy, s)),
                    width,
                    bool(leg_tilt_deg(world, s) <= kcfg.standing_max_leg_tilt_deg),
                    frontal,
                ),
            )
            for s in SIDES
        }
        hip_y = 0.5 * (xy[lm.LEFT_HIP, 1] + xy[lm.RIGHT_HIP, 1])
        sample = StreamSample(
            t_s=rt,
            flexion_deg={s: float(legs[s].flexion_deg[0]) for s in SIDES},
            foot_xy_px={
                s: (float(legs[s].foot_xy_px[0, 0]), float(legs[s].foot_xy_px[0, 1]))
                for s in SIDES
            },
            hip_y_px=float(hip_y),
            hip_x_px=float(0.5 * (xy[lm.LEFT_HIP, 0] + xy[lm.RIGHT_HIP, 0])),
            hip_width_px=float(np.linalg.norm(xy[lm.LEFT_HIP] - xy[lm.RIGHT_HIP])),
            yaw_deg=yaw,
        )
        new = [self._score(c) for c in self._counter.update(sample)]
        self._reps.extend(new)
        self._update_stance(new)
        self._status = self._make_status(
            t_s,
            setup,
            {s: frame_fppa(float(legs[s].fppa_deg[0]), xy, s, self.cfg) for s in SIDES},
            {s: float(legs[s].flexion_deg[0]) for s in SIDES},
            tuple(new),
            held,
        )
        return self._status

    def _buffer_series(self) -> PoseSeries:
        frames = list(self._buffer)
        return PoseSeries(
            t_s=np.array([f.t_s for f in frames]),
            xy_px=np.stack([f.xy_px for f in frames]),
            world_m=np.stack([f.world_m for f in frames]),
            visibility=np.stack([f.visibility for f in frames]),
            image_size=self._image_size,
            n_people=np.array([f.n_people for f in frames], np.int16),
            source="live",
            brightness=np.array([f.brightness for f in frames], np.float32),
            sharpness=np.array([f.sharpness for f in frames], np.float32),
            leg_seen=np.stack([f.leg_seen for f in frames]),
            leg_still=np.stack([f.leg_still for f in frames]),
        )

    def _score(self, rep: RepCandidate) -> RepScore:
        """Score a finished rep on zero-phase kinematics of the buffered window (as offline)."""
        series = self._buffer_series()
        # Exactly as analyze_series, over the buffered frames.
        ctx = prepare_scoring(series, self.cfg)
        kin = ctx.kin
        off = self._first_recorded_i
        c = rep.cycle
        last = len(series) - 1
        start, end = min(max(c.start_i - off, 0), last), min(max(c.end_i - off, 0), last)
        bottom = min(max(c.bottom_i - off, start), end)
        incomplete = c.incomplete
        if c.start_i - off < 0 and not incomplete:
            incomplete = "too_slow"  # began before the buffer: longer than any accepted rep
        # The bottom and depth as the offline (zero-phase) flexion has them: the causal signal
        # that found the rep peaks up to a frame later.
        flex = kin.leg(rep.leg).flexion_deg[start : end + 1]
        depth = c.depth_deg
        if np.any(np.isfinite(flex)):
            bottom = start + int(np.nanargmax(flex))
            depth = float(flex[bottom - start])
        local = dataclasses.replace(
            rep,
            cycle=FlexionCycle(start, bottom, end, depth, incomplete),
        )
        score = score_rep(
            local, kin, self.cfg, ctx.view.frontal, ctx.trusted, ctx.blockers, ctx.hidden
        )
        # Frame index in the whole recording (= in the kept clip), not in the buffer.
        return dataclasses.replace(score, bottom_index=score.bottom_index + off)

    def _update_stance(self, new: list[RepScore]) -> None:
        if new:
            self._stance = new[-1].leg
            return
        # Between reps: the same rule as the offline stance check, over the last two seconds.
        window_s = self.live_cfg.stance_window_s
        frames = [f for f in self._buffer if self._buffer[-1].t_s - f.t_s <= window_s]
        if len(frames) < 5:
            return
        xy = np.stack([f.xy_px for f in frames]).astype(np.float64)
        feet = {
            s: (xy[:, lm.ankle(s)] + xy[:, lm.heel(s)] + xy[:, lm.foot_index(s)]) / 3.0
            for s in SIDES
        }
        hip_y = 0.5 * (xy[:, lm.LEFT_HIP, 1] + xy[:, lm.RIGHT_HIP, 1])
        dummy = FlexionCycle(0, 0, len(frames) - 1, math.nan, "")
        for s in SIDES:
            cand = classify_cycle(s, dummy, feet[s], feet[lm.other(s)], hip_y, self.cfg.stance)
            # Only a clear one-leg pattern counts; standing still says nothing.
            if cand is not None and cand.exercise == "single_leg" and cand.free_foot_motion > 0:
                travel = float(np.nanmax(hip_y) - np.nanmin(hip_y))
                if travel > self.live_cfg.stance_min_hip_travel_fraction * self._image_size[1]:
                    self._stance = s
                    return

    def _counts(self) -> dict[Side, int]:
        return {
            s: sum(r.leg == s and r.test_rep for r in self._reps)
            for s in SIDES
        }

    def _make_status(
        self,
        t_s: float,
        setup: SetupStatus,
        fppa: dict[Side, float],
        flexion: dict[Side, float],
        new: tuple[RepScore, ...],
        held: float,
    ) -> LiveStatus:
        nan = {s: math.nan for s in SIDES}
        t0 = self._t_first if self._t_first is not None else t_s
        r0 = self._t_record0
        return LiveStatus(
            phase=self._phase,
            t_s=t_s - t0,
            frames=self._frames,
            recorded_frames=self._recorded,
            recorded_s=0.0 if r0 is None else t_s - r0,
            setup=setup,
            fppa_deg=fppa or nan,
            flexion_deg=flexion or dict(nan),
            stance=self._stance,
            counts=self._counts(),
            reps=tuple(self._reps),
            new_reps=new,
            setup_held_s=held,
            not_a_rep=self._not_a_rep(),
        )

    def _not_a_rep(self) -> tuple[str, ...]:
        return tuple(c.reason for c in self._counter.unattributed)
