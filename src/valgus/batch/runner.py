"""``valgus batch DIR --out DIR``: analyse a folder of clips, resumably, on local worker processes
or on a Ray cluster (``--engine ray``).

Each clip is analysed as ``valgus analyze --out`` would (the same JSON and CSVs) by a worker,
which returns the files' contents; only the driver writes, each file atomically (a temporary
name, then a rename), and a clip's record ``NAME.batch.json`` last. A clip counts as done when
its record is there, was made from the same input file (size and modification time) with the
same settings, and its outputs exist; a rerun skips done clips, so an interrupted batch (Ctrl-C,
a killed job, a power cut) resumes where it stopped. A clip that fails (not a video, nobody in
the picture, a worker process that died) gets a record with the error and is not retried
unless ``--retry-failed``. ``summary.csv`` has one row per clip of the folder.

Workers never share a pose model: each clip gets its own (``estimate_poses``), in a process of
its own, so one clip that crashes the decoder or the model costs only its own row.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import io
import json
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnProcess
from pathlib import Path
from typing import Any, Literal, TextIO

from valgus.config import InputLimits
from valgus.files import PARTIAL_PREFIX, write_atomic

# What a folder's clips are recognised by. A clip is still checked by its content when it is
# analysed: a file named .mp4 that is not a video gets a row with the error.
VIDEO_SUFFIXES = frozenset(
    {".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi", ".gif", ".mpg", ".mpeg", ".3gp", ".ts"}
)
RECORD_SUFFIX = ".batch.json"
SUMMARY_NAME = "summary.csv"
SUMMARY_COLUMNS = (
    "file", "status", "error", "reps_left", "reps_right", "verdict_left", "verdict_right",
    "median_fppa_left_deg", "median_fppa_right_deg", "duration_s",
)
# Exit code of a batch that ran to its end but in which some clips failed (their rows say why).
EXIT_SOME_FAILED = 9
EXIT_INTERRUPTED = 130

Status = Literal["ok", "error", "pending"]
Engine = Literal["local", "ray"]


@dataclass(frozen=True)
class BatchOptions:
    """How every clip of a batch is analysed (the same for all; sent to the workers).

    ``threads``: pose models per clip (``estimate_poses`` segments), normally 1 in a batch,
    where the clips themselves keep the cores busy.
    """

    sex: str = "unspecified"
    leg: str = "auto"
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
    ``median_fppa_*_deg``: degrees; ``duration_s``: the clip's length in seconds;
    ``analysis_s``: how long its analysis took (wall clock, seconds).
    """

    file: str
    status: Status
    error: str = ""
    reps_left: int | None = None
    reps_right: int | None = None
    verdict_left: str = ""
    verdict_right: str = ""
    median_fppa_left_deg: float | None = None
    median_fppa_right_deg: float | None = None
    duration_s: float | None = None
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


# --------------------------------------------------------------------------- the worker side


def analyze_clip(path: str, options: BatchOptions) -> ClipOutcome:
    """Analyse one clip, as ``valgus analyze --out`` does; runs in a worker process.

    Never raises for a bad clip: the error goes into the record, so that one bad file costs one
    row, not the batch.
    """
    from valgus.config import AnalysisConfig
    from valgus.errors import ValgusError
    from valgus.pipeline import analyze_video
    from valgus.present.export import write_all

    clip = Path(path)
    started = time.monotonic()
    record = ClipRecord(file=clip.name, status="error", settings=options.settings())
    try:
        record.size_bytes, record.mtime_ns = _file_stamp(clip)
        limits = dataclasses.replace(
            InputLimits(),
            max_duration_s=options.max_duration_s,
            max_file_size_mb=options.max_file_size_mb,
        )
        cfg = dataclasses.replace(AnalysisConfig(), sex=options.sex)  # type: ignore[arg-type]
        done = analyze_video(
            clip, cfg, limits, leg=options.leg, model=options.model,  # type: ignore[arg-type]
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
            median_fppa_left_deg=legs["left"].median_fppa_deg,
            median_fppa_right_deg=legs["right"].median_fppa_deg,
            duration_s=result.duration_s,
            outputs=sorted(files),
        )
        return ClipOutcome(_timed(record, started), files)
    except ValgusError as err:
        record.error, record.exit_code = str(err), err.exit_code
    except MemoryError:
        record.error, record.exit_code = "out of memory analysing this clip", 1
    except Exception as err:  # an unexpected failure is a row too, never the end of the batch
        record.error, record.exit_code = f"unexpected error: {type(err).__name__}: {err}", 1
    return ClipOutcome(_timed(record, started))


def _timed(record: ClipRecord, started: float) -> ClipRecord:
    record.analysis_s = time.monotonic() - started
    return record


def _failed(clip: Path, options: BatchOptions, message: str) -> ClipOutcome:
    """The outcome of a clip whose worker did not hand one back (it died, or the engine failed)."""
    record = ClipRecord(file=clip.name, status="error", error=message, exit_code=1,
                        settings=options.settings())
    with contextlib.suppress(OSError):
        record.size_bytes, record.mtime_ns = _file_stamp(clip)
    return ClipOutcome(record)


# --------------------------------------------------------------------------- the driver side


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
    return record


def write_summary(out_dir: Path, clips: list[Path], records: dict[str, ClipRecord]) -> Path:
    """``summary.csv``: one row per clip, in name order; clips not done yet are ``pending``."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=SUMMARY_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for clip in clips:
        record = records.get(clip.name) or ClipRecord(file=clip.name, status="pending")
        writer.writerow(record.row())
    path = out_dir / SUMMARY_NAME
    write_atomic(path, buf.getvalue().encode("utf-8"))
    return path


def _remove_partial_files(out_dir: Path) -> None:
    for stale in out_dir.glob(f"{PARTIAL_PREFIX}*"):
        with contextlib.suppress(OSError):
            stale.unlink()


class BatchProgress:
    """A progress bar on a terminal; one line per finished clip otherwise (logs, CI)."""

    def __init__(self, stream: TextIO, total: int, done_before: int, todo: int) -> None:
        self._stream = stream
        self._tty = stream.isatty()
        self._total = total
        self._done = done_before
        self._todo = todo
        self._finished = 0
        self._failed = 0
        self._start = time.monotonic()

    def clip_done(self, record: ClipRecord) -> None:
        self._done += 1
        self._finished += 1
        self._failed += record.status == "error"
        if self._tty:
            self._draw()
            return
        what = (
            f"ok (left {record.verdict_left}, right {record.verdict_right})"
            if record.status == "ok" else f"error: {record.error}"
        )
        self._stream.write(f"[{self._done}/{self._total}] {record.file}: {what}\n")
        self._stream.flush()

    def _draw(self) -> None:
        width = 30
        filled = round(width * self._done / max(self._total, 1))
        elapsed = time.monotonic() - self._start
        left = elapsed / self._finished * (self._todo - self._finished) if self._finished else 0
        failed = f", {self._failed} failed" if self._failed else ""
        self._stream.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {self._done}/{self._total} clips"
            f"{failed} | {_clock(elapsed)} elapsed, about {_clock(left)} left "
        )
        self._stream.flush()

    def start(self) -> None:
        if self._tty:
            self._draw()

    def close(self) -> None:
        if self._tty:
            self._stream.write("\n")
            self._stream.flush()


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}:{secs:02d}"


@dataclass
class BatchReport:
    """What a batch run did: clip names analysed now, skipped (done before), and failed."""

    summary: Path
    analysed: list[str]
    skipped: list[str]
    failed: list[str]
    interrupted: bool = False

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return EXIT_INTERRUPTED
        return EXIT_SOME_FAILED if self.failed else 0


ClipFn = Callable[[str, BatchOptions], ClipOutcome]


def run_batch(
    in_dir: Path,
    out_dir: Path,
    options: BatchOptions,
    *,
    workers: int | None = None,
    engine: Engine = "local",
    retry_failed: bool = False,
    stream: TextIO | None = None,
    clip_fn: ClipFn = analyze_clip,
) -> BatchReport:
    """Analyse every clip of ``in_dir`` not done yet into ``out_dir``; see the module docstring.

    ``workers``: clips analysed at once (default: the usable cores divided by
    ``options.threads`` locally; the cluster's CPUs with Ray). ``clip_fn`` (a module-level
    function, so that workers can import it) analyses one clip.
    KeyboardInterrupt stops the workers, writes the summary and returns with ``interrupted``.
    """
    stream = stream or sys.stderr
    clips = find_clips(in_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _remove_partial_files(out_dir)
    records: dict[str, ClipRecord] = {}
    for clip in clips:
        record = load_record(out_dir, clip, options)
        if record is not None:
            records[clip.name] = record
    todo = [
        c for c in clips
        if c.name not in records or (retry_failed and records[c.name].status == "error")
    ]
    report = BatchReport(
        out_dir / SUMMARY_NAME, [], [c.name for c in clips if c not in todo], []
    )
    stream.write(
        f"{len(clips)} clips in {in_dir}: {len(report.skipped)} done before, "
        f"{len(todo)} to analyse ({engine})\n"
    )
    progress = BatchProgress(stream, len(clips), len(report.skipped), len(todo))
    progress.start()

    def finish(outcome: ClipOutcome) -> None:
        save_outcome(out_dir, outcome)
        record = outcome.record
        records[record.file] = record
        report.analysed.append(record.file)
        progress.clip_done(record)

    try:
        if todo:
            if engine == "ray":
                _run_ray(todo, options, workers, finish, clip_fn)
            else:
                from valgus.runtime.tracking import usable_cores

                n = workers or max(1, usable_cores() // options.threads)
                _run_local(todo, options, n, finish, clip_fn)
    except KeyboardInterrupt:
        report.interrupted = True
    finally:
        progress.close()
        report.summary = write_summary(out_dir, clips, records)
    report.failed = [c.name for c in clips if c.name in records
                     and records[c.name].status == "error"]
    return report


# --------------------------------------------------------------------------- local engine


def _worker_main(conn: Connection, clip_fn: ClipFn) -> None:
    """A local worker process: analyse clips sent by the driver until it sends None."""
    # Ctrl-C on a terminal reaches the whole process group; the driver decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            job = conn.recv()
        except EOFError:  # the driver is gone
            return
        if job is None:
            return
        conn.send(clip_fn(*job))


class _Slot:
    """One local worker process and the clip it is working on."""

    def __init__(self, ctx: multiprocessing.context.SpawnContext, clip_fn: ClipFn) -> None:
        self.conn, child = ctx.Pipe()
        self.proc: SpawnProcess = ctx.Process(
            target=_worker_main, args=(child, clip_fn), name="valgus-batch-worker", daemon=True
        )
        self.proc.start()
        child.close()
        self.clip: Path | None = None

    def stop(self, now: bool) -> None:
        if now:
            self.proc.terminate()
        else:
            with contextlib.suppress(OSError):
                self.conn.send(None)
        self.proc.join(timeout=10)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.conn.close()


def _run_local(
    todo: list[Path],
    options: BatchOptions,
    workers: int,
    finish: Callable[[ClipOutcome], None],
    clip_fn: ClipFn,
) -> None:
    """Worker processes (spawned: MediaPipe and the decoder run threads, which fork would copy
    in whatever state they are in), each analysing one clip at a time. A worker that dies
    (a crash in native code, the out-of-memory killer) costs its clip an error row and is
    replaced."""
    ctx = multiprocessing.get_context("spawn")
    pending = deque(todo)
    slots = [_Slot(ctx, clip_fn) for _ in range(min(workers, len(todo)))]
    interrupted = True
    try:
        for slot in slots:
            _assign(slot, pending, options)
        while any(s.clip is not None for s in slots):
            busy = [s for s in slots if s.clip is not None]
            ready = multiprocessing.connection.wait(
                [s.conn for s in busy] + [s.proc.sentinel for s in busy]
            )
            for i, slot in enumerate(slots):
                done = slot.conn in ready or slot.proc.sentinel in ready
                if slot.clip is None or not done:
                    continue
                clip = slot.clip
                try:
                    outcome: ClipOutcome = slot.conn.recv()
                except (EOFError, OSError):
                    # The pipe closes a moment before the process is reaped: wait for its exit
                    # code (bounded) rather than report None.
                    slot.proc.join(timeout=10.0)
                    code = slot.proc.exitcode
                    outcome = _failed(
                        clip, options,
                        f"the worker analysing this clip died (exit code {code}): a crash in the "
                        "video decoder or the pose model, or the system ran out of memory",
                    )
                    slot.stop(now=True)
                    slots[i] = slot = _Slot(ctx, clip_fn)
                slot.clip = None
                finish(outcome)
                _assign(slot, pending, options)
        interrupted = False
    finally:
        for slot in slots:
            slot.stop(now=interrupted)


def _assign(slot: _Slot, pending: deque[Path], options: BatchOptions) -> None:
    if pending:
        slot.clip = pending.popleft()
        slot.conn.send((str(slot.clip), options))


# --------------------------------------------------------------------------- Ray engine


def _run_ray(
    todo: list[Path],
    options: BatchOptions,
    workers: int | None,
    finish: Callable[[ClipOutcome], None],
    clip_fn: ClipFn,
) -> None:
    """One Ray task per clip. Uses the Ray instance this process is connected to, else connects
    to ``RAY_ADDRESS`` (a cluster), else starts one on this machine. Every node must see the
    clips at the same path; the outputs come back to this process, which writes them."""
    try:
        import ray
    except ImportError:
        from valgus.errors import ValgusError

        raise ValgusError(
            "--engine ray needs Ray: pip install 'valgus[ray]'"
        ) from None
    started_here = not ray.is_initialized()
    if started_here:
        # Ray's usage statistics go to its vendor unless switched off: valgus sends nothing.
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        # No dashboard (a web server on this machine) and no worker logs on this terminal. A Ray
        # started here talks to itself over loopback; RAY_ADDRESS names a cluster to join.
        local = {} if os.environ.get("RAY_ADDRESS") else {"_node_ip_address": "127.0.0.1"}
        ray.init(include_dashboard=False, log_to_driver=False, **local)
    # A task that dies (its worker process crashed) is tried once more, then becomes a row.
    task = ray.remote(num_cpus=options.threads, max_retries=1)(clip_fn)
    capacity = workers or max(1, int(ray.cluster_resources().get("CPU", 1)) // options.threads)
    pending = deque(todo)
    in_flight: dict[Any, Path] = {}
    try:
        while pending or in_flight:
            # Only as many tasks as can run are submitted, so each result is written (and the
            # batch can resume) as soon as it is done.
            while pending and len(in_flight) < capacity:
                clip = pending.popleft()
                in_flight[task.remote(str(clip.resolve()), options)] = clip
            ready, _ = ray.wait(list(in_flight), num_returns=1)
            for ref in ready:
                clip = in_flight.pop(ref)
                try:
                    outcome = ray.get(ref)
                except ray.exceptions.RayError as err:
                    outcome = _failed(clip, options, f"the Ray task failed: {_first_line(err)}")
                finish(outcome)
    finally:
        for ref in in_flight:
            with contextlib.suppress(Exception):
                ray.cancel(ref, force=True)
        if started_here:
            ray.shutdown()


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


# --------------------------------------------------------------------------- command line


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    positive_float: Callable[[str], float],
    positive_int: Callable[[str], int],
) -> None:
    """``valgus batch``'s arguments."""
    limits = InputLimits()
    p = sub.add_parser("batch", help="analyze every clip of a folder (resumable)")
    p.add_argument("folder", type=Path, help="folder of clips (mp4, mov, webm, avi, mkv, gif)")
    p.add_argument("--out", type=Path, required=True,
                   help="results folder: per clip NAME.valgus.json, NAME.frames.csv, "
                   "NAME.reps.csv and NAME.batch.json; summary.csv for all")
    p.add_argument("--workers", type=positive_int,
                   help="clips analysed at once (default: one per core; with Ray, one per CPU "
                   "of the cluster)")
    p.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="local worker processes, or Ray (a cluster at RAY_ADDRESS, else one "
                   "started on this machine; needs pip install 'valgus[ray]')")
    p.add_argument("--retry-failed", action="store_true",
                   help="analyse clips that failed in an earlier run again")
    p.add_argument("--leg", choices=("auto", "left", "right"), default="auto")
    p.add_argument("--sex", choices=("female", "male", "unspecified"), default="unspecified")
    p.add_argument("--model", type=Path, help="pose_landmarker .task file")
    p.add_argument("--threads", type=positive_int, default=1, metavar="N",
                   help="pose models per clip (default 1: the clips keep the cores busy)")
    p.add_argument("--max-duration-s", type=positive_float, default=limits.max_duration_s,
                   metavar="S")
    p.add_argument("--max-size-mb", type=positive_float, default=limits.max_file_size_mb,
                   metavar="MB")
    p.add_argument("--verbose", action="store_true", help="show MediaPipe's own log output")


def run_from_args(args: argparse.Namespace) -> int:
    """``valgus batch``: run, print where the summary is, and exit 0 (all clips analysed),
    9 (done, but some clips failed: see their rows) or 130 (interrupted; rerun to resume)."""
    options = BatchOptions(
        sex=args.sex,
        leg=args.leg,
        model=str(args.model.resolve()) if args.model else None,
        max_duration_s=args.max_duration_s,
        max_file_size_mb=args.max_size_mb,
        threads=args.threads,
        verbose=args.verbose,
    )
    from valgus.errors import ValgusError

    try:
        report = run_batch(
            args.folder, args.out, options, workers=args.workers, engine=args.engine,
            retry_failed=args.retry_failed,
        )
    except (NotADirectoryError, FileNotFoundError) as err:
        raise ValgusError(str(err)) from err
    except OSError as err:  # the results folder cannot be written (permissions, a full disk)
        target = err.filename2 or err.filename  # a rename names its destination second
        where = f" {target}" if target else ""
        raise ValgusError(
            f"cannot write{where}: {err.strerror or err}; the clips finished before are kept: "
            "fix this, then run the same command again to resume"
        ) from err
    print(
        f"{len(report.analysed)} analysed, {len(report.skipped)} done before, "
        f"{len(report.failed)} failed; summary: {report.summary}"
    )
    if report.interrupted:
        print("valgus: interrupted; run the same command again to resume", file=sys.stderr)
    return report.exit_code


def iter_summary(path: Path) -> Iterator[dict[str, str]]:
    """The rows of a ``summary.csv``."""
    with path.open(newline="", encoding="utf-8") as f:
        yield from csv.DictReader(f)
