"""Report charts as PNG data URIs. matplotlib's object interface (``Figure``), not pyplot:
pyplot keeps global state and a GUI backend, while a bare ``Figure`` renders with Agg, needs no
display and is safe when two app sessions make reports at once."""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from valgus.core.clearance import SIDES, NotComparable, ProgressRow, SquatRep
from valgus.core.progress import definition_runs

if TYPE_CHECKING:
    from matplotlib.axes import Axes

# The same traffic-light colours as the app and the annotated video (render.BAND_HEX), so a band
# looks alike everywhere; every band also appears in words in the table next to the chart.
BAND_HEX = {
    "fine": "#2e7d32",
    "borderline": "#d97706",
    "excessive": "#c62828",
    "not_measurable": "#616161",
}
LEG_HEX = {"left": "#1f4e8c", "right": "#7b3294"}
DPI = 150


def _data_uri(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _threshold_band(ax: Axes, threshold_deg: float, margin_deg: float) -> None:
    ax.axhspan(threshold_deg - margin_deg, threshold_deg + margin_deg, color=BAND_HEX["borderline"],
               alpha=0.15, lw=0, label=f"borderline (+/- {margin_deg:.1f} deg)")
    ax.axhline(threshold_deg, color=BAND_HEX["excessive"], ls="--", lw=1.2,
               label=f"threshold {threshold_deg:.1f} deg")


def fppa_per_rep_chart(
    reps: Sequence[SquatRep], threshold_deg: float, margin_deg: float
) -> str | None:
    """FPPA (deg) of every counted rep per leg, coloured by its band after review, over the
    threshold and its borderline band; a rep whose points a reviewer corrected is a diamond at
    the corrected value, with the tool's value a faint ring joined to it. None when no rep has
    an FPPA."""
    measured = [r for r in reps if r.counted and r.fppa_deg is not None]
    if not measured:
        return None
    fig = Figure(figsize=(8.0, 2.8))
    axes = fig.subplots(1, 2, sharey=True)
    for ax, leg in zip(axes, SIDES, strict=True):
        own = [r for r in measured if r.leg == leg]
        _threshold_band(ax, threshold_deg, margin_deg)
        for n, r in enumerate(own, start=1):
            if r.correction is not None and r.tool_fppa_deg is not None:
                ax.plot([n, n], [r.tool_fppa_deg, r.fppa_deg], color="grey", lw=0.8, zorder=2)
                ax.scatter([n], [r.tool_fppa_deg], s=22, facecolors="none",
                           edgecolors="grey", linewidths=0.8, zorder=2)
            ax.scatter([n], [r.fppa_deg], s=36 if r.correction else 28,
                       color=BAND_HEX[r.band], zorder=3,
                       marker="D" if r.correction is not None else "o",
                       edgecolors="black" if r.overridden or r.correction else "none",
                       linewidths=1.0)
        ax.set_title(f"{leg} leg ({len(own)} reps with FPPA)", fontsize=9)
        ax.set_xlabel("rep", fontsize=8)
        ax.grid(alpha=0.3, lw=0.5)
        ax.tick_params(labelsize=7)
        if own:
            ax.set_xlim(0.3, len(own) + 0.7)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0].set_ylabel("FPPA (deg, + = valgus)", fontsize=8)
    axes[0].legend(fontsize=6.5, loc="best")
    fig.tight_layout()
    return _data_uri(fig)


def fppa_history_chart(
    rows: Sequence[ProgressRow], sdc_deg: float, threshold_deg: float | None
) -> str | None:
    """Median FPPA per leg over the sessions (deg), each point with +/- the smallest detectable
    change as a bar: two points whose bars overlap their values are within noise. Points on
    different FPPA definitions are not joined; one with no earlier session on its definition
    to compare with is squared (not comparable). None when no session has an FPPA."""
    if not any(r.session.median_fppa_deg.get(leg) is not None for r in rows for leg in SIDES):
        return None
    fig = Figure(figsize=(8.0, 2.6))
    ax = fig.subplots()
    labels = [r.session.session_date.isoformat() for r in rows]
    x = list(range(len(rows)))
    for k, leg in enumerate(SIDES):
        measured = [(i + (k - 0.5) * 0.08, v, r) for i, r in zip(x, rows, strict=True)
                    if (v := r.session.median_fppa_deg.get(leg)) is not None]
        if not measured:
            continue
        # A gap (NaN) between runs of one FPPA definition: no line across definitions.
        at = {id(r): (i, v) for i, v, r in measured}
        xs: list[float] = []
        ys: list[float] = []
        for run in definition_runs(rows, leg):
            if xs:
                xs.append(at[id(run[0])][0])
                ys.append(math.nan)
            xs.extend(at[id(r)][0] for r in run)
            ys.extend(at[id(r)][1] for r in run)
        ax.errorbar(xs, ys, yerr=sdc_deg, color=LEG_HEX[leg], marker="o", ms=4, lw=1.4,
                    capsize=3, elinewidth=0.8, label=f"{leg} leg")
        apart = [(i, v) for i, v, r in measured
                 if isinstance(r.since_previous.get(leg), NotComparable)]
        if apart:
            ax.plot([i for i, _ in apart], [v for _, v in apart], ls="none", marker="s",
                    ms=9, mfc="none", mew=1.2, color=LEG_HEX[leg],
                    label=f"{leg}: not comparable (other FPPA definition)")
    if threshold_deg is not None:
        ax.axhline(threshold_deg, color=BAND_HEX["excessive"], ls="--", lw=1.0,
                   label=f"threshold {threshold_deg:.1f} deg")
    ax.set_xticks(x, labels, fontsize=7)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_ylabel("median FPPA (deg)", fontsize=8)
    ax.set_title(f"FPPA over sessions (bars: +/- {sdc_deg:.1f} deg smallest detectable change)",
                 fontsize=9)
    ax.grid(alpha=0.3, lw=0.5)
    ax.legend(fontsize=7, loc="best")
    if len(rows) == 1:
        ax.set_xlim(-1, 1)
    fig.tight_layout()
    return _data_uri(fig)
