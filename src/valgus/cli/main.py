"""Command line: ``valgus analyze VIDEO``, ``valgus batch`` (``valgus.cli.batch``) and the
clinician records commands (``history``, ``report``, ``review``, ``clearance``, ``policy``:
``valgus.cli.records``; ``records check|quarantine|upgrade|verify``: ``valgus.cli.upkeep``;
``user ...``: ``valgus.cli.users``). Thin: parses arguments, calls ``pipeline.analyze_video``,
prints."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import stat
import sys
import tempfile
import time
from pathlib import Path
from typing import TextIO

from valgus import __version__
from valgus.cli import batch as batch_cli
from valgus.cli import records as records_cli
from valgus.cli import upkeep as upkeep_cli
from valgus.cli import users as users_cli
from valgus.cli.argtypes import (
    LEG_CHOICES,
    SEX_CHOICES,
    UsageError,
    positive_float,
    positive_int,
)
from valgus.config import AnalysisConfig, InputLimits, Sex
from valgus.core.pose import PoseSeries
from valgus.core.result import LegChoice
from valgus.errors import InputTooLargeError, ValgusError, VideoError
from valgus.files import PARTIAL_PREFIX, private_dir, sha256_file, write_atomic
from valgus.pipeline import VideoAnalysis, analyze_series, analyze_video
from valgus.present.export import format_report, results_stem, write_all
from valgus.runtime.estimator import native_logs_silenced


class Progress:
    """One-line progress on a terminal; silent when the stream is not a terminal."""

    def __init__(self, stream: TextIO, label: str) -> None:
        self._stream = stream
        self._label = label
        self._start = time.monotonic()
        self._tty = stream.isatty()
        self._last = 0.0

    def __call__(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        if not self._tty or (now - self._last < 0.2 and done != total):
            return
        self._last = now
        rate = done / max(now - self._start, 1e-6)
        if total:
            pct = min(100.0, 100.0 * done / total)
            text = f"\r{self._label}: {pct:5.1f}% ({done}/{total} frames, {rate:.0f} fps)"
        else:
            text = f"\r{self._label}: {done} frames ({rate:.0f} fps)"
        self._stream.write(text)
        self._stream.flush()

    def close(self) -> None:
        if self._tty:
            self._stream.write("\n")
            self._stream.flush()


# The CLI option that raises each InputLimits field, named in the "too large" message.
LIMIT_OPTIONS = {"max_duration_s": "--max-duration-s", "max_file_size_mb": "--max-size-mb"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="valgus",
        description="Rep-by-rep dynamic knee valgus from single-leg squat videos.",
    )
    parser.add_argument("--version", action="version", version=f"valgus {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    an = sub.add_parser("analyze", help="analyze one video (or a saved pose file)")
    an.add_argument("video", type=Path, help="video file (mp4, mov, webm, avi, gif) or .npz poses")
    an.add_argument("--leg", choices=LEG_CHOICES, default="auto",
                    help="stance leg; auto finds it for each rep from the planted foot")
    an.add_argument("--sex", choices=SEX_CHOICES,
                    help="selects the sex-specific valgus threshold, set on skin markers, to "
                    "which the FPPA is then mapped (default: unspecified, Park 2024's "
                    "keypoint threshold, or the person's recorded sex with --save)")
    an.add_argument("--out", type=Path, help="write JSON, per-frame CSV and per-rep CSV here")
    an.add_argument("--json", action="store_true", help="print the result as JSON")
    an.add_argument("--model", type=Path,
                    help="pose_landmarker .task file (default: the bundled full model)")
    an.add_argument("--save-poses", type=Path, metavar="NPZ",
                    help="also save the pose landmarks so the analysis can re-run without "
                    "the model")
    an.add_argument("--verbose", action="store_true", help="show MediaPipe's own log output")
    an.add_argument("--save", action="store_true",
                    help="store the clip and its analysis in the clinician records "
                    "(needs --person)")
    an.add_argument("--person", metavar="CODE",
                    help="pseudonymous code of the person filmed (with --save)")
    an.add_argument("--session-date", type=records_cli.iso_date, metavar="YYYY-MM-DD",
                    help="date of the test session (with --save; default: today)")
    records_cli.add_data_options(an)
    limits = InputLimits()
    an.add_argument("--max-duration-s", type=positive_float, default=limits.max_duration_s,
                    metavar="S", help="refuse videos longer than this many seconds "
                    f"(default {limits.max_duration_s:.0f})")
    an.add_argument("--max-size-mb", type=positive_float, default=limits.max_file_size_mb,
                    metavar="MB", help="refuse video files larger than this many MB "
                    f"(default {limits.max_file_size_mb:.0f})")
    an.add_argument("--threads", type=positive_int, default=1, metavar="N",
                    help="track the clip in N segments at once, one pose model each, on N "
                    "cores (default 1: one pass; see README 'Speed' for what splitting changes)")
    records_cli.add_parsers(sub)
    upkeep_cli.add_parser(sub)
    users_cli.add_parser(sub)
    batch_cli.add_parser(sub)
    return parser


def _analyze(
    args: argparse.Namespace, cfg: AnalysisConfig, copy: Path | None = None
) -> VideoAnalysis:
    """Analyse ``args.video`` (or ``copy`` of it: the clip staged by ``--save``)."""
    leg: LegChoice = args.leg
    if args.video.suffix.lower() == ".npz":
        try:
            series = PoseSeries.load(args.video)
        except (OSError, ValueError, KeyError) as err:
            raise ValgusError(f"cannot read pose file {args.video}: {err}") from err
        result, kin = analyze_series(series, cfg, leg=leg)
        return VideoAnalysis(result, kin, series)
    limits = dataclasses.replace(
        InputLimits(), max_duration_s=args.max_duration_s, max_file_size_mb=args.max_size_mb
    )
    with native_logs_silenced(not args.verbose) as progress_stream:
        progress = Progress(progress_stream, f"analyzing {args.video.name}")
        try:
            done = analyze_video(
                copy or args.video, cfg, limits, leg=leg, model=args.model,
                threads=args.threads, progress=progress, name=args.video.name,
                quiet=not args.verbose,
            )
        except ValgusError as err:
            # --save analyses the staged copy: the message names the user's file, not the copy.
            if copy is not None and err.args and isinstance(err.args[0], str):
                err.args = (err.args[0].replace(str(copy), str(args.video)), *err.args[1:])
            raise
        finally:
            progress.close()
    if args.save_poses:
        _save_poses(done.series, args.save_poses)
    return done


class OutputPathError(ValgusError):
    """An output path (``--out``, ``--save-poses``) that cannot be written: bad input."""

    exit_code = 2


def _writable_folder(folder: Path) -> str | None:
    """Why files cannot be made in ``folder`` (made when missing), or None when they can."""
    existing = next((f for f in (folder, *folder.parents) if f.exists()), None)
    if existing is None:
        return f"{folder} cannot be made"
    if not existing.is_dir():
        return f"{existing} is a file, not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{existing} is not writable"
    return None


def _try_writing(folder: Path) -> str | None:
    """Why a file could not be made in ``folder`` when tried, or None when it could. Catches
    what the permission check lets through (as root every folder reads writable, yet nothing
    can be made under /proc, nor on a read-only file system). Leaves nothing behind: the
    trial file and the folders made for it are removed again."""
    made = [f for f in (folder, *folder.parents) if not f.exists()]
    try:
        private_dir(folder)
        fd, trial = tempfile.mkstemp(prefix=PARTIAL_PREFIX, dir=folder)
        os.close(fd)
        os.unlink(trial)
    except OSError as err:
        return f"nothing can be made there ({err.strerror or err})"
    finally:
        for f in made:  # the innermost first
            with contextlib.suppress(OSError):
                f.rmdir()
    return None


def _pose_path(path: Path) -> Path:
    """Where ``--save-poses`` writes (numpy adds ``.npz`` when the name lacks it)."""
    return path if path.suffix == ".npz" else path.with_suffix(path.suffix + ".npz")


def check_outputs(args: argparse.Namespace) -> None:
    """Before the analysis: ``--out`` and ``--save-poses`` can be written (OutputPathError)."""
    if args.out:
        why = _writable_folder(args.out) or _try_writing(args.out)
        if why:
            raise OutputPathError(f"cannot write results to {args.out}: {why}")
    if args.save_poses:
        target = _pose_path(args.save_poses)
        folder = target.parent
        video = getattr(args, "video", None)
        why = (f"{args.save_poses} is a folder: give a file name (NAME.npz)"
               if args.save_poses.is_dir() else
               f"{video} is already a pose file" if video is not None
               and Path(video).suffix.lower() == ".npz" else
               f"{target} is a folder" if target.is_dir() else
               f"there is no folder {folder}" if not folder.exists() else
               f"{folder} is a file, not a folder" if not folder.is_dir() else
               f"{folder} is not writable" if not os.access(folder, os.W_OK | os.X_OK) else
               _try_writing(folder))
        if why:
            raise OutputPathError(f"cannot write pose file {args.save_poses}: {why}")


def check_input(path: Path) -> None:
    """Before anything is read or copied: a path that is there but is not a regular file (a
    device such as /dev/zero, a named pipe, a socket) is not a video file (VideoError, exit 2),
    rather than read as "empty" or read for ever. A missing path or a folder is left to the
    video reader, which says so."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return
    kind = ("a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else
            "a named pipe (FIFO)" if stat.S_ISFIFO(mode) else
            "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
    raise VideoError(f"{path} is {kind}, not a video file; give the path of one video file.")


def _save_poses(series: PoseSeries, path: Path) -> Path:
    """The pose file (patient landmarks): whole or absent and 0600 (``files.write_atomic``);
    ``PoseSeries.save`` writes it in a private temporary folder first."""
    target = _pose_path(path)
    try:
        with tempfile.TemporaryDirectory(prefix="valgus-poses-") as tmp:
            data = series.save(Path(tmp) / "poses.npz").read_bytes()
        return write_atomic(target, data)
    except OSError as err:
        raise ValgusError(
            f"cannot write pose file {path}: {err.strerror or err}") from err


def check_save_options(args: argparse.Namespace) -> None:
    """Without ``--save`` nothing is stored: ``--person``, ``--session-date`` and
    ``--data-dir`` (which only ``--save`` uses) are refused rather than silently ignored, so
    that nobody takes the result for stored; with it, a pose file is refused, as ``--save``
    stores the video with its analysis (UsageError, before anything is read)."""
    if args.save:
        if args.video.suffix.lower() == ".npz":
            raise UsageError("--save stores the video with its analysis: give the video file, "
                             "not a pose file")
        return
    given = [option for option, value in (("--person", args.person),
                                          ("--session-date", args.session_date),
                                          ("--data-dir", args.data_dir)) if value is not None]
    if given:
        names = given[0] if len(given) == 1 else f"{', '.join(given[:-1])} and {given[-1]}"
        raise UsageError(f"{names} only {'applies' if len(given) == 1 else 'apply'} with "
                         "--save, which stores the clip and its analysis in the records; "
                         "nothing is stored without it: add --save, or leave "
                         f"{'it' if len(given) == 1 else 'them'} out.")


def analyze(args: argparse.Namespace) -> int:
    check_save_options(args)  # before the clip is read: nothing analysed that is not stored
    check_input(args.video)
    check_outputs(args)  # a bad output path fails now, not after the whole analysis
    records = person = staged = None
    if args.save:
        # Copied and hashed first; the copy is what is analysed and stored.
        records, person, staged = records_cli.prepare_save(args)
    sex: Sex = args.sex or (person.sex if person else None) or "unspecified"
    cfg = dataclasses.replace(AnalysisConfig(), sex=sex)
    try:
        done = _analyze(args, cfg, staged.temp if staged else None)
        result, kin, series = done.result, done.kin, done.series
        if records is not None and staged is not None:
            records_cli.finish_save(records, args, staged, result, series)
    finally:
        if staged is not None and not staged.published:
            staged.discard()
        if records is not None:
            records.close()
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(format_report(result))
    sys.stdout.flush()
    if args.out:
        # The same clip is told by its content: the hash of the file given (with --save, of
        # the copy analysed and stored), recorded in the JSON.
        try:
            digest = staged.sha256 if staged is not None else sha256_file(args.video)
        except OSError as err:
            raise ValgusError(
                f"cannot read {args.video} again to hash it: {err.strerror or err}") from err
        wanted = Path(series.source or args.video.name).stem
        stem = results_stem(args.out, wanted, digest)
        if stem != wanted:
            print(f"{args.out} holds results of another clip named {wanted}: these are written "
                  f"as {stem}.*", file=sys.stderr)
        try:
            paths = write_all(result, kin, args.out, stem, source_sha256=digest)
        except OSError as err:
            raise ValgusError(
                f"cannot write results to {args.out}: {err.strerror or err}") from err
        for path in paths:
            print(f"wrote {path}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "analyze" and args.save and not args.person:
        parser.error("--save needs --person CODE")
    try:
        if args.command == "analyze":
            return analyze(args)
        if args.command in records_cli.COMMANDS:
            return records_cli.run(args)
        if args.command == upkeep_cli.COMMAND:
            return upkeep_cli.run(args)
        if args.command == users_cli.COMMAND:
            return users_cli.run(args)
        if args.command == "batch":
            return batch_cli.run_from_args(args)
    except ValgusError as err:
        message = str(err)
        if isinstance(err, InputTooLargeError) and err.limit in LIMIT_OPTIONS:
            message = f"{message.rstrip('.')}, or raise the limit with {LIMIT_OPTIONS[err.limit]}."
        print(f"valgus: error: {message}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("valgus: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into e.g. `head`, which stopped reading: not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
