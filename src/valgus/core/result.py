"""The analysis result of one clip: per-rep scores, per-leg verdicts, the checks, the settings.

Pure data. ``AnalysisResult.to_dict`` writes the JSON of schema ``valgus.analysis/1``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Literal

from valgus import __version__
from valgus.config import AnalysisConfig
from valgus.core.checks import QualityIssue, ViewAssessment
from valgus.core.scoring import LegVerdict, RepScore, Symmetry
from valgus.landmarks import Side

SCHEMA = "valgus.analysis/1"
ExerciseLabel = Literal["single_leg", "double_leg", "unknown"]
LegChoice = Literal["auto", "left", "right"]


@dataclass(frozen=True)
class AnalysisResult:
    """Everything valgus concludes about one clip. Times in seconds, angles in degrees."""

    source: str
    duration_s: float
    n_frames: int
    detection_fraction: float
    view: ViewAssessment
    quality: tuple[QualityIssue, ...]
    exercise: ExerciseLabel
    reps: tuple[RepScore, ...]
    legs: dict[Side, LegVerdict]
    symmetry: Symmetry | None
    config: AnalysisConfig
    leg_choice: LegChoice = "auto"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (schema ``valgus.analysis/1``)."""

        def clean(x: Any) -> Any:
            if isinstance(x, float):
                return round(x, 3) if math.isfinite(x) else None
            if isinstance(x, dict):
                return {k: clean(v) for k, v in x.items()}
            if isinstance(x, list | tuple):
                return [clean(v) for v in x]
            return x

        return clean(
            {
                "schema": SCHEMA,
                "valgus_version": __version__,
                "source": self.source,
                "duration_s": self.duration_s,
                "n_frames": self.n_frames,
                "detection_fraction": self.detection_fraction,
                "leg_choice": self.leg_choice,
                "view": dataclasses.asdict(self.view),
                "quality": [dataclasses.asdict(q) for q in self.quality],
                "exercise": self.exercise,
                "reps": [
                    {"index": n + 1, **dataclasses.asdict(r)} for n, r in enumerate(self.reps)
                ],
                "legs": {s: dataclasses.asdict(v) for s, v in self.legs.items()},
                "symmetry": dataclasses.asdict(self.symmetry) if self.symmetry else None,
                "thresholds": {
                    "sex": self.config.sex,
                    "excessive_fppa_deg": self.config.valgus.threshold_deg(self.config.sex),
                    "borderline_margin_deg": self.config.valgus.borderline_margin_deg,
                    "required_reps": self.config.clearance.required_reps,
                },
                "config": dataclasses.asdict(self.config),
            }
        )
