"""Shared fixtures: the real clips in ../shared/videos (skipped where absent) analysed once."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_VIDEOS = ROOT.parent / "shared" / "videos"
MODEL = ROOT / "models" / "pose_landmarker_full.task"


def shared_clip(name: str) -> Path:
    path = SHARED_VIDEOS / name
    if not path.is_file():
        pytest.skip(f"real clip {name} not available ({SHARED_VIDEOS} is absent in a fresh clone)")
    return path


@pytest.fixture(scope="session")
def pose_cache(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Pose series of real clips, estimated once per test session (the model is the slow part)."""
    return {}
