"""The session report of the demo clip as PNG pages for the README (``docs/report_page*.png``).

The demo clip (``sample_videos/demo_single_leg_squats.mp4``) is analysed with the bundled model,
saved in a throw-away records folder as one session (reviewed, one rep's knee point corrected,
values entered, not signed), and its PDF is rendered page by page with ``pdftoppm``
(poppler-utils).

    nice -n 10 .venv/bin/python scripts/report_screenshots.py [--out docs] [--dpi 70]
"""

from __future__ import annotations

import argparse
import math
import shutil
import subprocess
import tempfile
from datetime import date
from pathlib import Path

from valgus.config import AnalysisConfig
from valgus.core.clearance import ClearanceInputs, correctable
from valgus.pipeline import analyze_video
from valgus.report import build_session_report
from valgus.store.service import AnalysisInfo, Records

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT / "sample_videos" / "demo_single_leg_squats.mp4"


def correct_a_knee(rec: Records, analysis: AnalysisInfo) -> None:
    """The first measured right-leg rep's knee point moved outwards by 3 % of the leg's
    length, as a reviewer would who saw it on the kneecap rather than the joint centre."""
    for index, rep in enumerate(analysis.result.reps, start=1):
        if rep.leg == "right" and correctable(rep):
            points = rec.scored_points(analysis, index).points
            leg = math.dist(points.hip, points.ankle)
            outwards = -1.0 if points.other_hip[0] > points.hip[0] else 1.0
            knee = (points.knee[0] + outwards * 0.03 * leg, points.knee[1])
            rec.save_correction(analysis.id, index, "knee", knee,
                                "knee point on the kneecap, not the joint centre", "Dr Vega")
            return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--dpi", type=int, default=70)
    args = parser.parse_args()
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        raise SystemExit("pdftoppm not found (Debian: apt-get install poppler-utils)")
    cfg = AnalysisConfig(sex="female")
    done = analyze_video(CLIP, cfg)
    with tempfile.TemporaryDirectory(prefix="valgus-report-") as tmp:
        with Records.open(Path(tmp) / "data") as rec:
            rec.ensure_person("DEMO-1", "female")
            visit = rec.create_session("DEMO-1", date(2025, 4, 1))
            saved = rec.save_analysis(visit.id, CLIP, done.result, done.series,
                                      original_name=CLIP.name)
            correct_a_knee(rec, saved)
            rec.save_review(visit.id, "Dr Vega", "Right knee drifts in on every rep.", [])
            rec.save_clearance(visit.id, ClearanceInputs(
                squat_pain_left=0, squat_pain_right=1, stair_descent_pain=False,
                run_minutes=20, run_pain_during=0, run_pain_next_morning=0,
                strength_left=92.0, strength_right=100.0, strength_unit="Nm",
                involved_side="left"), "Dr Vega")
            pdf = Path(tmp) / "report.pdf"
            pdf.write_bytes(build_session_report(rec, visit.id).pdf())
        for old in args.out.glob("report_page*.png"):
            old.unlink()
        subprocess.run([pdftoppm, "-r", str(args.dpi), "-png", str(pdf),
                        str(args.out / "report_page")], check=True, timeout=120)
    for page in sorted(args.out.glob("report_page*.png")):
        print(page)


if __name__ == "__main__":
    main()
