"""One clip of a batch: the settings every clip is analysed with (``BatchOptions``), its analysis
in a worker (``analyze_clip``, which calls ``pipeline.analyze_video`` as ``valgus analyze --out``
does and returns the files' contents), its record ``NAME.batch.json`` (``ClipRecord``: the row of
``summary.csv`` and the mark that the clip is done) and the driver's writing of both.

A clip counts as done when its record is there, was made from the same input file (size and
modification time) with the same settings, and its outputs exist (``load_record``). Only the
driver writes, each file atomically (a temporary name, then a rename), and a clip's record last.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import json
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from valgus.config import AnalysisConfig, InputLimits, Sex
from valgus.core.reasons import describe, plural
from valgus.core.result import AnalysisResult, LegChoice
from valgus.errors import ValgusError
from valgus.files import csv_row, write_atomic
from valgus.landmarks import Side

# What a folder's clips are recognised by. A clip is still checked by its content when it is
# analysed: a file named .mp4 that is not a video gets a row with the error.
VIDEO_SUFFIXES = frozenset(
    {".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi", ".gif", ".mpg", ".mpeg", ".3gp", ".ts"}
)
RECORD_SUFFIX = ".batch.json"
SUMMARY_NAME = "summary.csv"
SUMMARY_COLUMNS = (
    "file", "status", "error", "reps_left", "reps_right", "verdict_left", "verdict_right",
    "reason_left", "reason_right", "median_fppa_left_deg", "median_fppa_right_deg", "duration_s",
    "sex", "threshold_deg", "fppa_definition",
)
Status = Literal["ok", "error", "pending"]


@dataclass(frozen=True)
class BatchOptions:
    """How every clip of a batch is analysed (the same for all; sent to the workers).

    ``threads``: pose models per clip (``estimate_poses`` segments), normally 1 in a batch,
    where the clips themselves keep the cores busy.
    """

    sex: Sex = "unspecified"
    leg: LegChoice = "auto"
    model: str | None = None
    max_duration_s: float = InputLimits().max_duration_s
    max_file_size_mb: float = InputLimits().max_file_size_mb
    threads: int = 1
    verbose: bool = False

    def settings(self) -> dict[str, Any]:
        """What the results depend on (a record made with other settings is redone)."""
        return {
            "sex": self.sex, "leg": self.leg, "model": self.model,
            "max_duration_s": self.max_duration_s, "max_file_size_mb": self.max_file_size_mb,
            "threads": self.threads,
        }


@dataclass
class ClipRecord:
    """One clip's row in ``summary.csv``, stored as ``NAME.batch.json`` once the clip is done.

    ``reps_*``: measurable single-leg reps of that leg (the ones that count towards the 20).
    ``reason_*``: why a leg's verdict is not PASS (``leg_reason``), blank for PASS.
    ``median_fppa_*_deg``: degrees; ``duration_s``: the clip's length in seconds;
    ``analysis_s``: how long its analysis took (wall clock, seconds). ``sex``,
    ``threshold_deg`` and ``fppa_definition``: what the clip was scored against (the sex the
    threshold is chosen by, "unspecified" when none was given; the threshold in degrees; the
    FPPA definition it was set on, "keypoint" or "thigh_marker"), from the analysis's own
    settings (``scored_with``). A clip that failed has no analysis: the settings the batch
    scores its clips with (``options_config``), whichever valgus wrote the record. Only a
    record of an earlier valgus whose stored result cannot be read has the sex alone (from
    its settings) and the other two blank.
    """

    file: str
    status: Status
    error: str = ""
    reps_left: int | None = None
    reps_right: int | None = None
    verdict_left: str = ""
    verdict_right: str = ""
    reason_left: str = ""
    reason_right: str = ""
    median_fppa_left_deg: float | None = None
    median_fppa_right_deg: float | None = None
    duration_s: float | None = None
    sex: str = ""
    threshold_deg: float | None = None
    fppa_definition: str = ""
    analysis_s: float | None = None
    exit_code: int = 0
    size_bytes: int = 0
    mtime_ns: int = 0
    settings: dict[str, Any] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)

    def row(self) -> dict[str, str]:
        """The summary CSV row (blank where there is no value)."""
        values = dataclasses.asdict(self)
        out: dict[str, str] = {}
        for name in SUMMARY_COLUMNS:
            value = values[name]
            if value is None:
                out[name] = ""
            elif isinstance(value, float):
                out[name] = f"{value:.2f}"
            else:
                out[name] = str(value)
        return out


@dataclass
class ClipOutcome:
    """What a worker hands back: the record and the output files' contents by file name."""

    record: ClipRecord
    files: dict[str, bytes] = field(default_factory=dict)


def scored_with(cfg: AnalysisConfig) -> dict[str, Any]:
    """The ``sex``, ``threshold_deg`` and ``fppa_definition`` columns of a clip scored with
    ``cfg`` (``ClipRecord``)."""
    return {"sex": cfg.sex, "threshold_deg": cfg.valgus.threshold_deg(cfg.sex),
            "fppa_definition": cfg.valgus.definition(cfg.sex)}


def options_config(options: BatchOptions) -> AnalysisConfig:
    """The settings every clip of a batch is analysed with."""
    return dataclasses.replace(AnalysisConfig(), sex=options.sex)


def find_clips(folder: Path) -> list[Path]:
    """The clips of ``folder`` (not its subfolders), by name; hidden files are left out."""
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is not a folder")
    return sorted(
        p for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in VIDEO_SUFFIXES
    )


def _file_stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


# --------------------------------------------------------------------------- one clip (in a worker)


def analyze_clip(path: str, options: BatchOptions) -> ClipOutcome:
    """Analyse one clip, as ``valgus analyze --out`` does; runs in a worker process.

    Never raises for a bad clip: the error goes into the record, so that one bad file costs one
    row, not the batch.
    """
    from valgus.pipeline import analyze_video
    from valgus.present.export import write_all

    clip = Path(path)
    started = time.monotonic()
    cfg = options_config(options)
    record = ClipRecord(file=clip.name, status="error", settings=options.settings(),
                        **scored_with(cfg))
    try:
        record.size_bytes, record.mtime_ns = _file_stamp(clip)
        limits = dataclasses.replace(
            InputLimits(),
            max_duration_s=options.max_duration_s,
            max_file_size_mb=options.max_file_size_mb,
        )
        done = analyze_video(
            clip, cfg, limits, leg=options.leg, model=options.model,
            threads=options.threads, quiet=not options.verbose,
        )
        result, kin = done.result, done.kin
        files: dict[str, bytes] = {}
        with tempfile.TemporaryDirectory(prefix="valgus-batch-") as tmp:
            for written in write_all(result, kin, Path(tmp), clip.name):
                files[written.name] = written.read_bytes()
        legs = result.legs
        record = dataclasses.replace(
            record,
            status="ok",
            reps_left=legs["left"].valid_reps,
            reps_right=legs["right"].valid_reps,
            verdict_left=legs["left"].verdict,
            verdict_right=legs["right"].verdict,
            reason_left=leg_reason(result, "left"),
            reason_right=leg_reason(result, "right"),
            median_fppa_left_deg=legs["left"].median_fppa_deg,
            median_fppa_right_deg=legs["right"].median_fppa_deg,
            duration_s=result.duration_s,
            outputs=sorted(files),
            **scored_with(result.config),
        )
        return ClipOutcome(_timed(record, started), files)
    except ValgusError as err:
        record.error, record.exit_code = str(err), err.exit_code
    except MemoryError:
        record.error, record.exit_code = "out of memory analysing this clip", 1
    except Exception as err:  # an unexpected failure is a row too, never the end of the batch
        record.error, record.exit_code = f"unexpected error: {type(err).__name__}: {err}", 1
    return ClipOutcome(_timed(record, started))


def leg_reason(result: AnalysisResult, leg: Side) -> str:
    """Why a leg's verdict is not PASS, for a clinician reading the summary ("" for PASS): the
    verdict's reasons, and for a leg with no measurable rep what kept its reps out, each
    reason once with how many reps it applies to (``reasons.describe``, the one wording)."""
    verdict = result.legs[leg]
    if verdict.verdict == "PASS":
        return ""
    # The clip's problem first, worded as the analysis words it (pipeline.analyze_series).
    parts = [result.problem_text(), *verdict.reasons]
    if verdict.verdict == "CANNOT ASSESS":
        counts: dict[str, int] = {}
        for rep in result.reps:
            if rep.leg == leg and not rep.counts_towards_test:
                for issue in rep.issues:
                    words = describe(issue)
                    counts[words] = counts.get(words, 0) + 1
        parts += [f"{words} ({plural(n, 'rep')})" for words, n in counts.items()]
    return "; ".join(dict.fromkeys(p for p in parts if p))


def _timed(record: ClipRecord, started: float) -> ClipRecord:
    record.analysis_s = time.monotonic() - started
    return record


def failed_outcome(clip: Path, options: BatchOptions, message: str) -> ClipOutcome:
    """The outcome of a clip whose worker did not hand one back (it died, or the engine failed)."""
    record = ClipRecord(file=clip.name, status="error", error=message, exit_code=1,
                        settings=options.settings(), **scored_with(options_config(options)))
    with contextlib.suppress(OSError):
        record.size_bytes, record.mtime_ns = _file_stamp(clip)
    return ClipOutcome(record)


# --------------------------------------------------------------------------- its files (the driver)


def _record_path(out_dir: Path, clip_name: str) -> Path:
    return out_dir / f"{clip_name}{RECORD_SUFFIX}"


def save_outcome(out_dir: Path, outcome: ClipOutcome) -> None:
    """Write a clip's outputs, then its record (the mark that the clip is done)."""
    for name, data in outcome.files.items():
        write_atomic(out_dir / name, data)
    record = json.dumps(dataclasses.asdict(outcome.record), indent=1).encode()
    write_atomic(_record_path(out_dir, outcome.record.file), record + b"\n")


def load_record(out_dir: Path, clip: Path, options: BatchOptions) -> ClipRecord | None:
    """The clip's record if the clip is done: made from this very file with these settings, and
    every output it lists is there. None otherwise (never analysed, interrupted, changed)."""
    path = _record_path(out_dir, clip.name)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        record = ClipRecord(**data)
    except (OSError, ValueError, TypeError):
        return None
    if record.status not in ("ok", "error") or record.settings != options.settings():
        return None
    try:
        if (record.size_bytes, record.mtime_ns) != _file_stamp(clip):
            return None
    except OSError:
        return None
    if not all((out_dir / name).is_file() for name in record.outputs):
        return None
    if not record.fppa_definition:
        _fill_scored_with(out_dir, record, options)
    return record


def _fill_scored_with(out_dir: Path, record: ClipRecord, options: BatchOptions) -> None:
    """A record of an earlier valgus, without the ``scored_with`` columns: taken from the
    clip's stored result, which keeps the settings it was scored with (a result from before
    the FPPA was mapped reads as "keypoint", as it was). A clip without a stored result (it
    failed, so was not scored) gets the settings of ``options``, which the record was made
    with (``load_record``), as a clip failing now does (``failed_outcome``). A stored result
    that cannot be read leaves the sex alone, from the record's settings."""
    result = next((name for name in record.outputs if name.endswith(".valgus.json")), None)
    if result is None:
        cfg = options_config(options)
    else:
        record.sex = str(record.settings.get("sex", ""))
        try:
            data = json.loads((out_dir / result).read_text(encoding="utf-8"))
            cfg = AnalysisResult.from_dict(data).config
        except (OSError, ValueError, TypeError):
            return
    for name, value in scored_with(cfg).items():
        setattr(record, name, value)


def write_summary(
    out_dir: Path, clips: list[Path], records: dict[str, ClipRecord],
    options: BatchOptions | None = None,
) -> Path:
    """``summary.csv``: one row per clip, in name order; clips not done yet are ``pending``
    (with the settings ``options`` will score them with). Cells through ``files.csv_cell``: a
    clip named ``=...`` is text, not a formula."""
    pending = {} if options is None else scored_with(options_config(options))
    buf = io.StringIO()
    # "\r\n" (RFC 4180): the csv module then quotes a cell holding a lone CR, too.
    writer = csv.DictWriter(buf, fieldnames=SUMMARY_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for clip in clips:
        record = records.get(clip.name) or ClipRecord(file=clip.name, status="pending",
                                                      **pending)
        writer.writerow(csv_row(record.row()))
    path = out_dir / SUMMARY_NAME
    write_atomic(path, buf.getvalue().encode("utf-8"))
    return path


def iter_summary(path: Path) -> Iterator[dict[str, str]]:
    """The rows of a ``summary.csv``, by column name (one written before a column existed
    lacks it: ``row.get``)."""
    with path.open(newline="", encoding="utf-8") as f:
        yield from csv.DictReader(f)
