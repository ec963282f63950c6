"""Writing results: JSON, a per-frame CSV and a per-rep CSV, and the plain-text report.

Every file is written whole or not at all and private (``files.write_atomic``: 0600), every
CSV cell through ``files.csv_cell`` (no spreadsheet formulas from user text)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np

from valgus.core.kinematics import Kinematics
from valgus.core.reasons import describe, plural
from valgus.core.reasons.verdict import too_few_reps, verdict_words
from valgus.core.result import AnalysisResult
from valgus.files import csv_cell, csv_row, private_dir, write_atomic
from valgus.landmarks import SIDES, Side
from valgus.present.style import band_rule_text, definition_label, leg_rule_text

REP_COLUMNS = (
    "index", "leg", "exercise", "complete", "start_s", "bottom_s", "end_s", "depth_deg",
    "fppa_bottom_deg", "fppa_peak_deg", "fppa_ref_deg", "scored_at", "pelvic_drop_deg",
    "trunk_lean_deg", "knee_medial_of_foot", "knee_ankle_separation_ratio", "descent_s",
    "ascent_s", "band", "issues", "scored_index", "thigh_ratio", "camera_shift_pct",
    "camera_zoom_pct", "camera_roll_deg", "camera_speed_pct_per_s", "camera_measured_from",
    "fppa_keypoint_deg", "hip_width_ratio",
)
LEG_FIELDS = (
    "fppa_deg", "fppa_keypoint_deg", "flexion_deg", "pelvic_drop_deg", "trunk_lean_deg",
    "knee_medial_of_foot",
)


# The top-level JSON field with the sha256 of the file analysed (``valgus analyze --out``): how
# a later run tells a re-run of the same clip from another clip of the same name. Not part of
# ``AnalysisResult`` (``from_dict`` ignores it).
SOURCE_SHA256 = "source_sha256"


def json_bytes(result: AnalysisResult, source_sha256: str | None = None) -> bytes:
    """The result as JSON; with ``source_sha256``, that hash of the analysed file as the
    top-level field ``SOURCE_SHA256``, right after ``source``."""
    data = result.to_dict()
    if source_sha256 is not None:
        with_hash: dict[str, object] = {}
        for key, value in data.items():
            with_hash[key] = value
            if key == "source":
                with_hash[SOURCE_SHA256] = source_sha256
        with_hash.setdefault(SOURCE_SHA256, source_sha256)
        data = with_hash
    return (json.dumps(data, indent=2) + "\n").encode("utf-8")


def reps_csv_bytes(result: AnalysisResult) -> bytes:
    """One row per rep (``REP_COLUMNS``), the issues' words joined."""
    reps = result.to_dict()["reps"]
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=REP_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for rep in reps:
        writer.writerow(csv_row({**rep, "issues": "; ".join(i["text"] for i in rep["issues"])}))
    return buf.getvalue().encode("utf-8")


def frames_csv_bytes(kin: Kinematics) -> bytes:
    """One row per frame: time, detection, body yaw and each leg's kinematics (blank = NaN)."""
    header = ["t_s", "detected", "yaw_deg"] + [f"{s}_{f}" for s in SIDES for f in LEG_FIELDS]
    columns = [kin.t_s, kin.detected.astype(float), kin.yaw_deg] + [
        _leg_column(kin, s, f) for s in SIDES for f in LEG_FIELDS
    ]
    table = np.column_stack(columns)
    buf = io.StringIO(newline="")
    writer = csv.writer(buf)
    writer.writerow([csv_cell(h) for h in header])
    for row in table:
        writer.writerow([csv_cell("" if not np.isfinite(v) else f"{v:.4f}") for v in row])
    return buf.getvalue().encode("utf-8")


def _leg_column(kin: Kinematics, side: Side, name: str) -> np.ndarray:
    """A leg's per-frame column; the keypoint FPPA is ``fppa_deg`` itself where nothing was
    mapped (``core.fppa.in_definition``)."""
    leg = kin.leg(side)
    if name == "fppa_keypoint_deg" and leg.fppa_keypoint_deg is None:
        return leg.fppa_deg
    return np.asarray(getattr(leg, name))


def write_json(result: AnalysisResult, path: Path, source_sha256: str | None = None) -> Path:
    return write_atomic(path, json_bytes(result, source_sha256))


def write_reps_csv(result: AnalysisResult, path: Path) -> Path:
    return write_atomic(path, reps_csv_bytes(result))


def write_frames_csv(kin: Kinematics, path: Path) -> Path:
    return write_atomic(path, frames_csv_bytes(kin))


# What each download is, in words (the app's buttons say what a file is, not its cut-off name).
DOWNLOAD_LABELS: dict[str, str] = {
    ".valgus.json": "Full result (JSON)",
    ".reps.csv": "Per-rep table (CSV)",
    ".frames.csv": "Per-frame angles (CSV)",
    ".annotated.mp4": "Annotated video (MP4)",
    ".pdf": "Result as PDF",
}


def download_label(name: str) -> str:
    """The words of a download button for the file ``name`` (its name when unknown)."""
    return next((label for end, label in DOWNLOAD_LABELS.items() if name.endswith(end)), name)


def _same_clip(path: Path, source_sha256: str) -> bool:
    """Whether the results at ``path`` (a ``.valgus.json``) are of the file whose content hashes
    to ``source_sha256`` (a re-run of it, perhaps with other settings): only when they recorded
    that very hash. Results without one (an earlier valgus) or unreadable count as another
    clip's: two phone clips named ``IMG_0001.MOV`` of the same length are told apart."""
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
        recorded = old.get(SOURCE_SHA256)
    except (OSError, ValueError, TypeError, AttributeError):
        return False
    return isinstance(recorded, str) and recorded == source_sha256


def results_stem(out_dir: Path, stem: str, source_sha256: str) -> str:
    """The file stem under which the results of the file hashing to ``source_sha256``
    (``sha256_file``) are written in ``out_dir``: ``stem`` when nothing is there or the results
    there are of the same content (a re-run replaces them), else the first of ``stem-2``,
    ``stem-3``, ... that is free or holds this content, so that another clip of the same name
    (``a/clip.mp4`` after ``b/clip.mp4``, ``clip.mov`` after ``clip.mp4``, another phone's
    ``IMG_0001.MOV``) never overwrites results."""
    n = 1
    while True:
        name = stem if n == 1 else f"{stem}-{n}"
        existing = [out_dir / f"{name}{suffix}" for suffix in RESULT_SUFFIXES]
        if not any(p.exists() for p in existing) or _same_clip(existing[0], source_sha256):
            return name
        n += 1


RESULT_SUFFIXES = (".valgus.json", ".frames.csv", ".reps.csv")


def write_all(
    result: AnalysisResult, kin: Kinematics, out_dir: Path, stem: str,
    source_sha256: str | None = None,
) -> list[Path]:
    """The JSON, per-frame and per-rep CSV of one clip in ``out_dir`` (made 0700 when it is
    not there), each file whole or absent and 0600; ``source_sha256`` (the analysed file's
    hash) is recorded in the JSON when given. Raises OSError; files written before the
    failure stay (each complete)."""
    private_dir(out_dir)
    json_path, frames_path, reps_path = (out_dir / f"{stem}{s}" for s in RESULT_SUFFIXES)
    return [
        write_json(result, json_path, source_sha256),
        write_frames_csv(kin, frames_path),
        write_reps_csv(result, reps_path),
    ]


def _num(value: float | None, fmt: str = "{:.1f}") -> str:
    return "-" if value is None else fmt.format(value)


def format_report(result: AnalysisResult) -> str:
    """Readable per-rep table and verdict for the terminal."""
    lines = [
        f"valgus: {result.source}  ({result.duration_s:.1f} s, {result.n_frames} frames, "
        f"person found in {100 * result.detection_fraction:.0f}% of frames)",
        f"exercise: {result.exercise.replace('_', '-')}   view: "
        + ("frontal" if result.view.frontal else "NOT frontal")
        + f"   threshold: FPPA {result.threshold_deg:.1f} deg ({result.config.sex}; FPPA "
        f"{definition_label(result.config)})",
    ]
    for guidance in result.view.guidance:
        lines.append(f"! {guidance}")
    for issue in result.quality:
        mark = "!" if issue.blocking else "~"
        lines.append(f"{mark} {issue.message[0].upper()}{issue.message[1:]}. {issue.guidance}")
    lines.append("")
    header = (
        f"{'#':>2} {'leg':5} {'start':>6} {'bottom':>6} {'end':>6} {'depth':>6} "
        f"{'FPPA':>6} {'peak':>6} {'@60':>6} {'pelvis':>6} {'trunk':>6} {'KASR':>5}  band"
    )
    lines += [header, "-" * len(header)]
    for n, r in enumerate(result.reps, start=1):
        band = r.band.replace("_", " ")
        note = f" ({'; '.join(describe(i) for i in r.issues)})" if r.issues else ""
        if r.scored_at == "reference_flexion":
            note = " (too deep to measure at the bottom: scored at 60 deg flexion)"
        lines.append(
            f"{n:>2} {r.leg:5} {r.start_s:6.1f} {r.bottom_s:6.1f} {r.end_s:6.1f} "
            f"{r.depth_deg:6.0f} {_num(r.fppa_bottom_deg):>6} {_num(r.fppa_peak_deg):>6} "
            f"{_num(r.fppa_ref_deg):>6} "
            f"{_num(r.pelvic_drop_deg):>6} {_num(r.trunk_lean_deg):>6} "
            f"{_num(r.knee_ankle_separation_ratio, '{:.2f}'):>5}  {band}{note}"
        )
    if not result.reps:
        lines.append("   no squat reps found")
    lines += ["", "times in s, angles in deg; FPPA + = valgus (scored at the deepest point: the "
              "median over the frames within "
              f"{result.config.view.bottom_plateau_deg:.0f} deg of the deepest flexion; peak on "
              "the way down; @60 = at 60 deg knee flexion, shown beside it); every knee bend "
              "found is listed, with why it was not counted; pelvis + = free-side drop; "
              "trunk + = lean towards stance leg; KASR = knee-to-ankle separation ratio "
              "(knees' over ankles' distance across the image, at the scored frame; a "
              "screening number, not scored)",
              band_rule_text(result.config), leg_rule_text(result.config), ""]
    required = result.config.clearance.required_reps
    for side, verdict in result.legs.items():
        words = verdict_words(
            verdict.verdict, valid=verdict.valid_reps, required=required,
            position=verdict.position, excessive=verdict.excessive_reps,
        )
        detail = ""
        if verdict.valid_reps:
            # The count once: the verdict's words carry it when it is too few.
            count = ("" if too_few_reps(verdict.valid_reps, required)
                     else f"{plural(verdict.valid_reps, 'valid rep')}, ")
            detail = (
                f" - {count}FPPA median "
                f"{_num(verdict.median_fppa_deg)}, worst {_num(verdict.worst_fppa_deg)} deg"
            )
        lines.append(f"{side.upper():5} leg: {words}{detail}")
        lines += [f"        {reason}" for reason in verdict.reasons]
    if result.symmetry is not None:
        s = result.symmetry
        lines.append(
            f"symmetry: reps {_num(s.reps_lsi_pct, '{:.0f}')}%, depth "
            f"{_num(s.depth_lsi_pct, '{:.0f}')}%, FPPA difference "
            f"{_num(s.fppa_difference_deg)} deg" if s.given else "symmetry: not given"
        )
        lines += [f"        {note}" for note in s.notes]
    return "\n".join(lines)
