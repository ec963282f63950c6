"""Gathering a session's data from the records into the report template, and the PDF."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from valgus import __version__
from valgus.core.clearance import SIDES
from valgus.core.reasons import describe
from valgus.files import write_atomic
from valgus.present.style import band_rule_text, leg_rule_text, method_text, rule_text
from valgus.report.charts import BAND_HEX, fppa_history_chart, fppa_per_rep_chart
from valgus.report.frames import FramePicture, bottom_frames
from valgus.store.errors import NotFoundError, StorageError
from valgus.store.provenance import settings_check
from valgus.store.service import History, Records, SessionSummary

DISCLAIMER = (
    "valgus measures the knee's frontal plane projection angle from video and combines it with "
    "the values a clinician entered. It is a measurement aid, not a diagnosis and not medical "
    "advice: the decision to return to running rests with the clinician who signs this record. "
    "2D video angles carry a measurement error of about 3 deg (SEM) and changes below about "
    "7.5 deg between sessions cannot be told from noise (Munro 2012)."
)


@dataclass(frozen=True)
class SessionReport:
    """The report of one session: ``html`` (self-contained), the data it was made from, and
    notes on anything left out (e.g. a clip that could not be read)."""

    html: str
    summary: SessionSummary
    history: History
    notes: tuple[str, ...] = field(default=())

    def pdf(self) -> bytes:
        return render_pdf(self.html)


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("valgus.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,  # a template typo fails the tests instead of printing blank
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["deg"] = lambda v, d=1: "-" if v is None else f"{v:.{d}f}"
    env.filters["band"] = lambda b: str(b).replace("_", " ")
    env.filters["when"] = lambda t: "-" if t is None else t.strftime("%Y-%m-%d %H:%M UTC")
    env.filters["css_string"] = css_string
    return env


def css_string(value: object) -> Markup:
    """``value`` as a quoted CSS string, for ``content:`` in the page's margin boxes (the
    footer). HTML escaping is wrong there: a style sheet shows "&amp;" as it is. Quotes,
    backslashes, angle brackets and control characters become CSS escapes instead."""
    out = []
    for ch in str(value):
        if ch in "\\\"'<>&" or ord(ch) < 32 or ord(ch) == 127:
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return Markup('"' + "".join(out) + '"')


def _thresholds(summary: SessionSummary) -> dict[str, Any]:
    """The FPPA threshold the analyses used (deg), the measurement error around it (deg) and the
    rule in words, from the first analysis (the one ``clearance.squat_results`` applies; all
    analyses of a person normally share the sex-specific threshold)."""
    for a in summary.analyses:
        cfg = dataclasses.replace(
            a.result.config,
            clearance=dataclasses.replace(a.result.config.clearance,
                                          required_reps=summary.policy.required_reps),
        )
        return {
            "threshold_deg": a.result.threshold_deg,
            "margin_deg": cfg.valgus.margin_deg(cfg.sex),
            "sex": cfg.sex,
            "bands": band_rule_text(cfg),
            "rule": leg_rule_text(cfg),
            "method": method_text(cfg),
            "rule_text": rule_text(cfg),
        }
    return {"threshold_deg": None, "margin_deg": None, "sex": None, "bands": "", "rule": "",
            "method": method_text(None), "rule_text": ""}


def _criteria_rows(summary: SessionSummary) -> list[dict[str, Any]]:
    """The criteria table, each reason once: the squat criterion's per-leg reasons are stated
    in the per-leg table below it, so here the legs are named with their verdict only."""
    rows = []
    for c in summary.decision.criteria:
        details = list(c.reasons)
        if c.key == "squat":
            legs = [f"{leg} leg {summary.squat[leg].verdict}" for leg in SIDES]
            own = [r for r in details if not r.startswith(("left leg squat:", "right leg squat:"))]
            if len(own) < len(details):
                details = [", ".join(legs) + " (why: the per-leg table below)", *own]
        rows.append({"title": c.title, "status": c.status, "details": details})
    return rows


def _settings_flags(summary: SessionSummary) -> list[dict[str, Any]]:
    """Each analysis whose settings are not the clinic's (``provenance.settings_check``):
    its id, clip, the words, and whether it decides the verdict (``flagged``)."""
    out = []
    for a in summary.analyses:
        check = settings_check(a.result, summary.person.sex, summary.policy)
        if check.differs:
            out.append({"analysis_id": a.id, "clip": a.clip.original_name,
                        "text": check.text(), "flagged": check.flagged})
    return out


def _signed(summary: SessionSummary) -> dict[str, Any] | None:
    """Who signed the session and when (None: not signed)."""
    if summary.signature is not None:
        return {"by": summary.signature.signed_by, "at": summary.signature.signed_at}
    c = summary.clearance
    if c is not None and c.signed and c.signed_by:
        return {"by": c.signed_by, "at": c.signed_at}
    return None


def _history_signed(records: Records, summary: SessionSummary, history: History
                    ) -> dict[int, str]:
    """Per session of the history, "yes: who, when (decision)" or "no"."""
    out: dict[int, str] = {}
    for row in history.rows:
        sid = row.session.session_id
        decision = history.signed_decisions.get(sid)
        if decision is None:
            out[sid] = "no"
            continue
        try:
            other = summary if sid == summary.session.id else records.session_summary(sid)
        except NotFoundError:
            other = None
        who = _signed(other) if other is not None else None
        when = who["at"].strftime("%Y-%m-%d") if who and who["at"] else ""
        out[sid] = (f"yes: {who['by']}, {when} ({decision})" if who
                    else f"yes ({decision})")
    return out


def _rep_rows(summary: SessionSummary) -> list[dict[str, Any]]:
    """One row per rep of every current analysis, with the reviewed band."""
    names = {a.id: a.clip.original_name for a in summary.analyses}
    return [
        {
            "clip": names[sq.analysis_id],
            "analysis_id": sq.analysis_id,
            "index": sq.index,
            "leg": sq.leg,
            "bottom_s": sq.score.bottom_s,
            "depth_deg": sq.score.depth_deg,
            "fppa_deg": sq.fppa_deg,
            "tool_fppa_deg": sq.tool_fppa_deg,
            "correction": sq.correction.text() if sq.correction else None,
            "separation": sq.score.knee_ankle_separation_ratio,
            "at60": sq.score.scored_at == "reference_flexion",
            "band": sq.band,
            "original_band": sq.original_band,
            "counted": sq.counted,
            "override_reason": sq.override_reason,
            "issues": "; ".join(describe(i) for i in sq.score.issues),
        }
        for sq in summary.reps
        if sq.analysis_id in names
    ]


def build_session_report(records: Records, session_id: int, *, frames: bool = True
                         ) -> SessionReport:
    """Everything about one session, rendered as a self-contained HTML page.

    ``frames``: include a picture of every rep's scored frame (a grid per leg and clip), read
    from the stored clips (one pass per clip).

    Raises:
        NotFoundError: no such session.
    """
    summary = records.session_summary(session_id)
    history = records.history(summary.person.code)
    thr = _thresholds(summary)
    notes: list[str] = []
    groups: list[dict[str, Any]] = []
    if frames:
        for leg in SIDES:
            for a in summary.analyses:
                own = [r for r in summary.reps if r.analysis_id == a.id and r.leg == leg
                       and not r.score.not_a_rep]
                if not own:
                    continue
                got, why = bottom_frames(a, own, placeholders=True)
                groups.append({"leg": leg, "clip": a.clip.original_name, "analysis_id": a.id,
                               "pictures": got})
                notes.extend(n for n in why if n not in notes)
    pictures: list[FramePicture] = [p for g in groups for p in g["pictures"]]
    per_rep = (fppa_per_rep_chart(summary.reps, thr["threshold_deg"], thr["margin_deg"])
               if thr["threshold_deg"] is not None else None)
    over_time = fppa_history_chart(history.rows, history.sdc_deg, thr["threshold_deg"])
    html = _env().get_template("session.html.j2").render(
        s=summary,
        history=history,
        legs=SIDES,
        criteria=_criteria_rows(summary),
        signed=_signed(summary),
        settings_flags=_settings_flags(summary),
        history_signed=_history_signed(records, summary, history),
        rep_rows=_rep_rows(summary),
        thr=thr,
        frame_groups=groups,
        unpictured_bends=sum(r.score.not_a_rep for r in summary.reps),
        pictures=pictures,
        per_rep_chart=per_rep,
        history_chart=over_time,
        notes=notes,
        band_hex=BAND_HEX,
        disclaimer=DISCLAIMER,
        version=__version__,
        generated_at=datetime.now(UTC),
    )
    return SessionReport(html, summary, history, tuple(notes))


def render_pdf(html: str) -> bytes:
    """The PDF of a report page (WeasyPrint). No network: every image is a data URI and the
    URL fetcher refuses any other protocol.

    Raises:
        StorageError: WeasyPrint or its system libraries (Pango) are missing.
    """
    try:
        import weasyprint  # type: ignore[import-untyped]
    except (ImportError, OSError) as err:
        raise StorageError(
            "PDF output needs WeasyPrint and the Pango libraries (Debian: apt-get install "
            f"libpango-1.0-0 libpangoft2-1.0-0): {str(err).splitlines()[0]}"
        ) from err

    # Only data: URIs (the embedded charts and frames) may be loaded; nothing is fetched.
    # Anything else is refused before a connection is made and left out of the page.
    fetcher = weasyprint.URLFetcher(allowed_protocols={"data"})
    return weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()


def _atomic_write(path: Path, data: bytes) -> Path:
    """Write the whole report or nothing (``write_atomic``); failures are StorageError."""
    try:
        return write_atomic(path, data)
    except OSError as err:
        raise StorageError(f"cannot write {path}: {err.strerror}") from err


def write_report(
    records: Records, session_id: int, pdf: Path | None = None, html: Path | None = None
) -> list[Path]:
    """Build the session's report and write it as PDF and/or HTML; returns the paths written."""
    for path in (pdf, html):
        if path is not None and not path.parent.is_dir():
            # Checked first: building the report takes seconds.
            raise StorageError(f"cannot write {path}: no such directory {path.parent}")
    report = build_session_report(records, session_id)
    written: list[Path] = []
    if html is not None:
        written.append(_atomic_write(html, report.html.encode("utf-8")))
    if pdf is not None:
        written.append(_atomic_write(pdf, report.pdf()))
    return written
