"""The PDF of one analysis without a saved record: what a runner can download from the upload
page. The same template pieces, style sheet, chart, picture grid and method note as the session
report, on an ``AnalysisResult`` instead of a session.

    pdf = analysis_pdf(result, pictures)   # pictures: rep position -> its scored frame (RGB)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np

from valgus import __version__
from valgus.core.clearance import SIDES
from valgus.core.reasons import describe
from valgus.core.result import AnalysisResult
from valgus.core.scoring import SquatRep
from valgus.present.style import method_text, rule_text
from valgus.report.build import DISCLAIMER, _env, render_pdf
from valgus.report.charts import BAND_HEX, fppa_per_rep_chart
from valgus.report.frames import FramePicture, _jpeg_uri, caption


def analysis_html(result: AnalysisResult, pictures: Mapping[int, np.ndarray]) -> str:
    """The single-analysis report page (self-contained HTML). ``pictures``: the scored frame of
    rep k (0-based position in ``result.reps``), as drawn for the app; reps without one are
    listed without a picture."""
    reps = [SquatRep.of(score, k + 1) for k, score in enumerate(result.reps)]
    cfg = result.config
    groups: list[dict[str, Any]] = []
    for leg in SIDES:
        own = [(k, r) for k, r in enumerate(reps) if r.leg == leg]
        if own:
            groups.append({"leg": leg, "pictures": [
                FramePicture(r, _jpeg_uri(pictures[k]) if k in pictures else "", caption(r),
                             k in pictures) for k, r in own]})
    rows = [{"index": r.index, "leg": r.leg, "bottom_s": r.score.bottom_s,
             "depth_deg": r.score.depth_deg, "fppa_deg": r.fppa_deg,
             "at60": r.score.scored_at == "reference_flexion", "band": r.band,
             "issues": "; ".join(describe(i) for i in r.score.issues)} for r in reps]
    return _env().get_template("analysis.html.j2").render(
        result=result,
        legs=SIDES,
        rep_rows=rows,
        frame_groups=groups,
        chart=fppa_per_rep_chart(reps, result.threshold_deg, cfg.valgus.margin_deg(cfg.sex)),
        problem=result.problem_text(),
        method=method_text(cfg),
        rule=rule_text(cfg),
        band_hex=BAND_HEX,
        disclaimer=DISCLAIMER,
        version=__version__,
        generated_at=datetime.now(UTC),
    )


def analysis_pdf(result: AnalysisResult, pictures: Mapping[int, np.ndarray]) -> bytes:
    """``analysis_html`` as a PDF (``render_pdf``).

    Raises:
        StorageError: WeasyPrint or its system libraries are missing.
    """
    return render_pdf(analysis_html(result, pictures))
