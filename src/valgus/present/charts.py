"""The interactive chart of a clip (plotly, the ``app`` extra): FPPA and knee flexion of both
legs over time, with the reps and the threshold drawn."""

from __future__ import annotations

from typing import Any

import numpy as np

from valgus.core.kinematics import Kinematics
from valgus.core.result import AnalysisResult
from valgus.landmarks import SIDES
from valgus.present.style import BAND_HEX, SIDE_SHORT


def _shown(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(T,) object array: ``values`` where ``mask`` is true, None elsewhere (a gap in plotly)."""
    out = values.astype(object)
    out[~mask] = None
    return out


def timeline_figure(kin: Kinematics, result: AnalysisResult) -> Any:
    """Plotly figure: FPPA (top) and knee flexion (bottom) of both legs over time, each rep
    shaded in its band colour and labelled, the valgus threshold and its borderline band drawn.
    """
    import plotly.graph_objects as go  # type: ignore[import-untyped]
    from plotly.subplots import make_subplots  # type: ignore[import-untyped]

    cfg = result.config
    thr = cfg.valgus.threshold_deg(cfg.sex)
    margin = cfg.valgus.margin_deg(cfg.sex)
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
        subplot_titles=("FPPA (deg, + = knee medial / valgus)", "Knee flexion (deg)"),
    )
    dash = {"left": "solid", "right": "dot"}
    leg_color = {"left": "#1f4e8c", "right": "#7b3294"}
    t = kin.t_s
    in_stance: list[np.ndarray] = []
    for leg in SIDES:
        series = kin.leg(leg)
        fppa = series.fppa_deg if result.view.frontal else np.full_like(t, np.nan)
        # FPPA means something only for the leg standing in a rep; the free leg, bent behind,
        # reads anything up to +/-100 deg. Its own reps are drawn bold, the rest faint.
        own = np.zeros(t.shape, bool)
        for rep in result.reps:
            if rep.leg == leg and not rep.not_a_rep:  # not the free leg's listed bends
                own |= (t >= rep.start_s) & (t <= rep.end_s)
        in_stance.append(fppa[own & np.isfinite(fppa)])
        fig.add_trace(go.Scatter(
            x=t, y=_shown(fppa, np.isfinite(fppa)), name=f"{leg} FPPA, any time",
            line={"color": leg_color[leg], "dash": dash[leg], "width": 1}, opacity=0.3,
            legendgroup=leg, showlegend=False, hoverinfo="skip",
        ), row=1, col=1)
        fig.add_trace(go.Scatter(
            x=t, y=_shown(fppa, own & np.isfinite(fppa)), name=f"{leg} FPPA",
            line={"color": leg_color[leg], "dash": dash[leg], "width": 2.5}, legendgroup=leg,
            hovertemplate="%{x:.2f} s: %{y:.1f} deg",
        ), row=1, col=1)
        flex = series.flexion_deg
        fig.add_trace(go.Scatter(
            x=t, y=_shown(flex, np.isfinite(flex)), name=f"{leg} knee flexion",
            line={"color": leg_color[leg], "dash": dash[leg], "width": 2}, legendgroup=leg,
            hovertemplate="%{x:.2f} s: %{y:.0f} deg",
        ), row=2, col=1)
    values = np.concatenate(in_stance)
    if values.size == 0:
        everything = np.concatenate([kin.leg(s).fppa_deg for s in SIDES])
        values = everything[np.isfinite(everything)]
        values = np.percentile(values, [5, 95]) if values.size else np.zeros(1)
    low = min(float(np.min(values)), thr - margin, 0.0) - 5.0
    high = max(float(np.max(values)), thr + margin) + 5.0
    fig.update_yaxes(range=[max(low, -60.0), min(high, 60.0)], row=1, col=1)
    fig.add_hrect(y0=thr - margin, y1=thr + margin, fillcolor=BAND_HEX["borderline"],
                  opacity=0.12, line_width=0, row=1, col=1)
    fig.add_hline(y=thr, line={"color": BAND_HEX["excessive"], "dash": "dash", "width": 2},
                  annotation_text=f"threshold {thr:.1f} deg ({cfg.sex})",
                  annotation_position="top left", row=1, col=1)
    for k, rep in enumerate(result.reps, start=1):
        if rep.not_a_rep:
            # The free leg's bend lies under the other leg's rep: shaded and labelled too, the
            # two labels overlap ("12R"); it is listed in the rep table with its reason.
            continue
        for row in (1, 2):
            fig.add_vrect(x0=rep.start_s, x1=rep.end_s, fillcolor=BAND_HEX[rep.band],
                          opacity=0.15, line_width=0, row=row, col=1)
        fig.add_annotation(
            x=rep.bottom_s, y=1.0, yref="y domain", xref="x", showarrow=False,
            text=f"{k} {SIDE_SHORT[rep.leg]}", font={"color": BAND_HEX[rep.band], "size": 12},
            row=1, col=1,
        )
    fig.update_xaxes(title_text="time (s)", row=2, col=1)
    fig.update_layout(
        height=520, margin={"l": 50, "r": 20, "t": 40, "b": 40}, hovermode="x unified",
        legend={"orientation": "h", "y": -0.15},
    )
    return fig
