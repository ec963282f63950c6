"""Analysing a clip in the app: ``clip_report.build_report`` with a progress bar, its poses and
reports cached for the browser session, errors shown as a panel. The annotated video and the
export files go to a temporary folder of the session, removed with it."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

import streamlit as st

from valgus.app.clip_report import Report, build_report
from valgus.app.plain import plain
from valgus.app.results import error_panel
from valgus.config import AnalysisConfig
from valgus.core.result import LegChoice
from valgus.errors import ValgusError

log = logging.getLogger("valgus.app")

# Reports kept per browser session (the latest ones: changing a threshold back is instant).
KEPT_REPORTS = 3


def session_work_dir() -> Path:
    """This browser session's temporary folder (annotated videos, export files). It is removed
    when the session ends (or the server stops): nothing of a clip stays behind."""
    tmp: tempfile.TemporaryDirectory[str] | None = st.session_state.get("work_dir")
    if tmp is None:
        tmp = tempfile.TemporaryDirectory(prefix="valgus-app-")
        st.session_state["work_dir"] = tmp
    return Path(tmp.name)


def shown_message(err: BaseException, temp_path: Path | None, name: str) -> str:
    """The error's words with the upload's temporary file named as the user named it."""
    text = str(err)
    if temp_path is not None:
        text = text.replace(str(temp_path), name).replace(str(temp_path.parent), "")
    return text


def analyse(
    name: str, cfg: AnalysisConfig, leg: LegChoice, path: Path | None = None,
    data: bytes | None = None, content_id: str | None = None,
) -> Report | None:
    """Run (or reuse) the analysis of one clip (a file, or uploaded bytes) with a progress bar;
    errors become a panel.

    Poses are cached per clip content for this browser session, so changing a threshold only
    re-scores and redraws; the pose model runs once per clip.
    """
    content = data if data is not None else path.read_bytes() if path else b""
    # Hashing a big upload takes a while: once per uploaded file (Streamlit's file id) or per
    # file on disk (path, size, time) for the whole session.
    if content_id is None and path is not None:
        stat = path.stat()
        content_id = f"{path}:{stat.st_size}:{stat.st_mtime_ns}"
    digests: dict[str, str] = st.session_state.setdefault("digests", {})
    digest = digests.get(content_id or "")
    if digest is None:
        digest = hashlib.sha256(content).hexdigest()[:16]
        if content_id:
            digests[content_id] = digest
    cfg_key = json.dumps(dataclasses.asdict(cfg), sort_keys=True) + leg
    cache: dict[str, Any] = st.session_state.setdefault("reports", {})
    series_cache: dict[str, Any] = st.session_state.setdefault("series", {})
    full_key = digest + hashlib.sha256(cfg_key.encode()).hexdigest()[:16]
    if full_key in cache:
        return cache[full_key]
    bar = st.progress(0.0, text=f"Analysing {plain(name)}...")

    def progress(fraction: float, text: str) -> None:
        bar.progress(min(max(fraction, 0.0), 1.0), text=text)

    temp_path: Path | None = None
    try:
        with tempfile.TemporaryDirectory(prefix="valgus-upload-") as tmp:
            if path is None:
                # PyAV reads files; the upload is written next to nothing else and removed.
                path = temp_path = Path(tmp) / f"upload{Path(name).suffix.lower() or '.mp4'}"
                path.write_bytes(content)
            report = build_report(
                path, cfg, session_work_dir() / full_key, series=series_cache.get(digest),
                leg=leg, name=name, progress=progress,
            )
    except ValgusError as err:
        bar.empty()
        error_panel(f"Could not analyse {name}", err, shown_message(err, temp_path, name))
        return None
    except Exception as err:  # never a traceback in the browser; details go to the log
        log.exception("analysis of %s failed", name)
        bar.empty()
        error_panel(f"Could not analyse {name}: unexpected error", err,
                    shown_message(err, temp_path, name))
        return None
    bar.empty()
    series_cache[digest] = report.series
    # Keep only the latest few reports in memory (and their files on disk).
    while len(cache) >= KEPT_REPORTS:
        shutil.rmtree(session_work_dir() / cache.pop(next(iter(cache))).video.path.parent,
                      ignore_errors=True)
    cache[full_key] = report
    return report
