"""What the FPPA's measurement error allows to conclude: the band of one rep, and where a leg's
set of reps stands against the threshold. Pure Python, angles in degrees (+ = valgus).

The error is ``ValgusThresholds.margin_deg``: one standard deviation combining the
standard error of measurement of manual 2D FPPA (Munro 2012: 2.7-3.0 deg) with valgus's own error
against the reference points (README "Accuracy"). Both are errors of a person's score that do
not shrink when more reps are averaged; only the reps' own spread does (its standard error is
spread / sqrt(n)). The studies behind the thresholds score a leg on the mean of its trials
(three, in Willson & Davis 2008, Munro 2012 and Herrington 2014), which is why a leg is judged on
its set of reps rather than on whichever single rep crosses an edge.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Band = Literal["fine", "borderline", "excessive", "not_measurable"]
# Where a leg's mean FPPA stands against the threshold, given its uncertainty.
Position = Literal["below", "within", "above"]


def band_for(fppa_deg: float, threshold_deg: float, margin_deg: float) -> Band:
    """One rep: fine below threshold - margin, excessive above threshold + margin, borderline
    between (edges included). ``margin_deg``: ``ValgusThresholds.margin_deg``."""
    if fppa_deg > threshold_deg + margin_deg:
        return "excessive"
    if fppa_deg >= threshold_deg - margin_deg:
        return "borderline"
    return "fine"


@dataclass(frozen=True)
class SetEstimate:
    """A leg's FPPA over its set of measured reps.

    ``mean_deg``: the mean of the reps' scored FPPA; ``spread_deg``: their sample standard
    deviation (0 for one rep); ``uncertainty_deg``: one standard deviation of the mean as a
    measure of the person, sqrt(error^2 + spread^2 / n); ``reps``: n.
    """

    mean_deg: float
    spread_deg: float
    uncertainty_deg: float
    reps: int

    @property
    def low_deg(self) -> float:
        """mean - uncertainty (deg)."""
        return self.mean_deg - self.uncertainty_deg

    @property
    def high_deg(self) -> float:
        """mean + uncertainty (deg)."""
        return self.mean_deg + self.uncertainty_deg

    def position(self, threshold_deg: float) -> Position:
        """"above" when even mean - uncertainty exceeds the threshold (clearly excessive),
        "below" when even mean + uncertainty stays under it (clearly fine), else "within"
        (the threshold lies inside mean +/- uncertainty: the data cannot tell)."""
        if self.low_deg > threshold_deg:
            return "above"
        if self.high_deg < threshold_deg:
            return "below"
        return "within"


def set_estimate(values_deg: Sequence[float], error_sd_deg: float) -> SetEstimate | None:
    """The mean of ``values_deg`` (the reps' scored FPPA, deg) with its uncertainty: the
    per-person error ``error_sd_deg`` combined with the reps' standard error. None for no
    values."""
    n = len(values_deg)
    if n == 0:
        return None
    mean = statistics.fmean(values_deg)
    spread = statistics.stdev(values_deg) if n > 1 else 0.0
    return SetEstimate(mean, spread, math.hypot(error_sd_deg, spread / math.sqrt(n)), n)
