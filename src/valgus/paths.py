"""Where valgus keeps things: the bundled pose model and the data directory (read in one place).

No project imports (floor 1).
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

DATA_DIR_ENV = "VALGUS_DATA_DIR"
MODEL_FILE = "pose_landmarker_full.task"


def bundled_model_path() -> Path:
    """The pose model shipped inside the package (``valgus/models/``, package data), so that a
    non-editable ``pip install .`` finds it too. The file may be missing in a broken install;
    the estimator says so when it loads."""
    return Path(str(files("valgus") / "models" / MODEL_FILE))


def data_dir() -> Path:
    """``$VALGUS_DATA_DIR`` if set, else the user data directory (``~/.local/share/valgus`` on
    Linux): the records database, stored clips and poses, and the app's self-test clips."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_path

    return user_data_path("valgus", appauthor=False)
