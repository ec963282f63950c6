"""``valgus batch``'s engine: analyse a folder of clips, resumably, on local worker processes or
on a Ray cluster (``engine="ray"``). What one clip is (its analysis, record and files) is in
``valgus.batch.jobs``; the command line is ``valgus.cli.batch``.

Each clip is analysed by a worker (``jobs.analyze_clip``), which returns the files' contents;
only the driver writes them. A rerun skips clips that are done (``jobs.load_record``), so an
interrupted batch (Ctrl-C, a killed job, a power cut) resumes where it stopped. A clip that
fails (not a video, nobody in the picture, a worker process that died) gets a record with the
error and is not retried unless ``retry_failed``. ``summary.csv`` has one row per clip of the
folder.

Workers never share a pose model: each clip gets its own (``estimate_poses``), in a process of
its own, so one clip that crashes the decoder or the model costs only its own row.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnProcess
from pathlib import Path
from typing import Any, Literal, TextIO

from valgus.batch.guard import die_with_parent, folder_lock
from valgus.batch.jobs import (
    SUMMARY_NAME,
    BatchOptions,
    ClipOutcome,
    ClipRecord,
    analyze_clip,
    failed_outcome,
    find_clips,
    load_record,
    save_outcome,
    write_summary,
)
from valgus.core.reasons import plural
from valgus.errors import ValgusError
from valgus.files import PARTIAL_PREFIX, printable, private_dir

# Exit code of a batch that ran to its end but in which some clips failed (their rows say why).
EXIT_SOME_FAILED = 9
EXIT_INTERRUPTED = 130

Engine = Literal["local", "ray"]


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
        # Clip names and messages come from the folder: escaped, never raw terminal controls.
        self._stream.write(f"[{self._done}/{self._total}] {printable(f'{record.file}: {what}')}\n")
        self._stream.flush()

    def _draw(self) -> None:
        width = 30
        filled = round(width * self._done / max(self._total, 1))
        elapsed = time.monotonic() - self._start
        left = elapsed / self._finished * (self._todo - self._finished) if self._finished else 0
        failed = f", {self._failed} failed" if self._failed else ""
        self._stream.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {self._done}/{plural(self._total, 'clip')}"
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
    ``out_dir`` is made 0700 when it is not there, and held for the run (``guard.folder_lock``):
    a second run on it raises FolderBusyError before it touches anything.
    """
    stream = stream or sys.stderr
    clips = find_clips(in_dir)
    private_dir(out_dir)
    with folder_lock(out_dir):
        return _run_locked(clips, in_dir, out_dir, options, workers, engine, retry_failed,
                           stream, clip_fn)


def _run_locked(
    clips: list[Path], in_dir: Path, out_dir: Path, options: BatchOptions,
    workers: int | None, engine: Engine, retry_failed: bool, stream: TextIO, clip_fn: ClipFn,
) -> BatchReport:
    """``run_batch`` once it holds the output folder (no other run removes or writes files
    there meanwhile)."""
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
        f"{plural(len(clips), 'clip')} in {printable(str(in_dir))}: "
        f"{len(report.skipped)} done before, "
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
        report.summary = write_summary(out_dir, clips, records, options)
    report.failed = [c.name for c in clips if c.name in records
                     and records[c.name].status == "error"]
    return report


# --------------------------------------------------------------------------- local engine


def _worker_main(conn: Connection, clip_fn: ClipFn, driver_pid: int) -> None:
    """A local worker process: analyse clips sent by the driver until it sends None; it ends
    with the driver (``guard.die_with_parent``), also in the middle of a clip."""
    die_with_parent(driver_pid)
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
            target=_worker_main, args=(child, clip_fn, os.getpid()), name="valgus-batch-worker",
            daemon=True,
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
                    outcome = failed_outcome(
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
        raise ValgusError(
            "--engine ray needs Ray: pip install 'valgus[ray]'"
        ) from None
    started_here = not ray.is_initialized()
    if started_here:
        # Ray's usage statistics go to its vendor unless switched off: valgus sends nothing.
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        # No dashboard (a web server on this machine) and no worker logs on this terminal. A Ray
        # started here talks to itself over loopback; RAY_ADDRESS names a cluster to join.
        local: dict[str, Any] = (
            {} if os.environ.get("RAY_ADDRESS") else {"_node_ip_address": "127.0.0.1"}
        )
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
                    outcome = failed_outcome(
                        clip, options, f"the Ray task failed: {_first_line(err)}"
                    )
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
