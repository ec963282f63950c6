"""A non-editable install finds everything it needs: the project is built into a wheel, installed
into a fresh virtual environment, and the README's main command runs on the sample clip from
another directory (the pose model, migrations and templates are package data)."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from tests.conftest import ROOT

SAMPLE = ROOT / "sample_videos" / "demo_single_leg_squats.mp4"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with valgus installed from a wheel of this checkout (not editable). Its
    dependencies come from the test environment's site-packages, added as a plain path (so
    the editable install there is not seen)."""
    tmp = tmp_path_factory.mktemp("install")
    wheels = tmp / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(wheels), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = wheels.glob("valgus-*.whl")
    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    site = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    install = subprocess.run(
        [str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        capture_output=True, text=True, timeout=300,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    # The dependencies of the test environment, after the venv's own site-packages.
    Path(site, "zz_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return env_dir


def test_wheel_holds_the_pose_model_and_package_data(installed: Path) -> None:
    py = installed / "bin" / "python"
    out = subprocess.run(
        [str(py), "-c", "import valgus, valgus.paths as p; print(valgus.__file__); "
         "print(p.bundled_model_path().is_file())"],
        capture_output=True, text=True, timeout=60, cwd=installed,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    location, model_found = out.stdout.split()
    assert str(installed) in location  # the installed copy, not this checkout
    assert model_found == "True"


def test_readme_main_command_from_another_directory(installed: Path, tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    assert "valgus analyze sample_videos/demo_single_leg_squats.mp4" in readme
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["VALGUS_DATA_DIR"] = str(tmp_path / "data")
    run = subprocess.run(
        [str(installed / "bin" / "valgus"), "analyze", str(SAMPLE)],
        capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "demo_single_leg_squats.mp4" in run.stdout
    # The sample holds 6 reps, 3 on each leg (sample_videos/demo_single_leg_squats.truth.json).
    assert run.stdout.count("left") >= 3 and run.stdout.count("right") >= 3
