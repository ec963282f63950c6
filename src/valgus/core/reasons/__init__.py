"""Why a rep or a clip is not scored, as codes with their numbers, and the one place that turns
them into words.

Rep issues (``RepIssue``) and clip checks (``QualityIssue`` in ``core.checks``) carry a code from
``RepIssueCode`` / ``QualityCode`` and the numbers their message needs (``values``), so that they
can be filtered, counted and translated; ``describe`` and ``describe_quality`` /
``quality_guidance`` give the words (the JSON keeps both). Clip-level reasons for no verdict
(``ClipProblem``) and the per-leg verdict reasons are worded here too, for the person filming
themselves (the app and the CLI: "you") or for the clinician (records and reports).
"""

from valgus.core.reasons.codes import Audience, ClipProblem, QualityCode, RepIssueCode, Values
from valgus.core.reasons.quality import describe_clip_problem, describe_quality, quality_guidance
from valgus.core.reasons.rep import RepIssue, describe, incomplete_issue
from valgus.core.reasons.verdict import (
    cycle_label,
    cycles_sentence,
    forced_leg_reasons,
    leg_reasons,
    plural,
    set_sentence,
)

__all__ = [
    "Audience",
    "ClipProblem",
    "QualityCode",
    "RepIssue",
    "RepIssueCode",
    "Values",
    "cycle_label",
    "cycles_sentence",
    "describe",
    "describe_clip_problem",
    "describe_quality",
    "forced_leg_reasons",
    "incomplete_issue",
    "leg_reasons",
    "plural",
    "quality_guidance",
    "set_sentence",
]
