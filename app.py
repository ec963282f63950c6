"""valgus in the browser: analyse a phone video, or run a live single-leg squat self-test on the
webcam. Start with ``.venv/bin/streamlit run app.py``.

The pages live in ``valgus.app``; everything runs on this machine, the video never leaves it.
"""

from pathlib import Path

from valgus.app.main import main

main(sample_clip=Path(__file__).resolve().parent / "sample_videos" / "demo_single_leg_squats.mp4")
