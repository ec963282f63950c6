"""Draw ``docs/how_to_film.png``, the README's "How to film" picture (OpenCV and numpy only).

Left: the set-up seen from the side (camera in front at knee-to-hip height, 2-4 m away, the
whole body inside the view). Right: what the camera should see, a frame of the bundled
synthetic clip (sample_videos/demo_single_leg_squats.mp4) in an upright phone, and the
checklist. Run from the project root::

    .venv/bin/python scripts/make_filming_diagram.py [--out docs/how_to_film.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from valgus.runtime.video import iter_frames

ROOT = Path(__file__).resolve().parents[1]
DEMO_CLIP = ROOT / "sample_videos" / "demo_single_leg_squats.mp4"
# The first rep's bottom (left leg), from the clip's truth file: a single-leg squat in action.
FRAME_AT_S = 2.2

W, H = 1290, 540
BG = (255, 255, 255)  # colours are BGR (OpenCV)
INK = (40, 40, 40)
ACCENT = (186, 110, 30)  # blue
OK = (60, 150, 60)  # green
GREY = (170, 170, 170)
FONT = cv2.FONT_HERSHEY_SIMPLEX
PX_PER_M = 110.0  # scale of the side view


def text(img: np.ndarray, s: str, org: tuple[int, int], scale: float = 0.55,
         color: tuple[int, int, int] = INK, thickness: int = 1) -> None:
    cv2.putText(img, s, org, FONT, scale, color, thickness, cv2.LINE_AA)


def arrow(img: np.ndarray, a: tuple[int, int], b: tuple[int, int],
          color: tuple[int, int, int] = INK) -> None:
    """Double-headed dimension arrow."""
    tip = 8.0 / max(1.0, float(np.hypot(b[0] - a[0], b[1] - a[1])))  # 8 px heads
    cv2.arrowedLine(img, a, b, color, 1, cv2.LINE_AA, tipLength=tip)
    cv2.arrowedLine(img, b, a, color, 1, cv2.LINE_AA, tipLength=tip)


def side_view(img: np.ndarray) -> None:
    """Camera on a stand at knee-to-hip height, 3 m in front of a person on one leg."""
    floor = 470
    cv2.line(img, (30, floor), (740, floor), INK, 2, cv2.LINE_AA)
    m = PX_PER_M
    px = 620  # person's x (stance foot)
    # Camera: 3 m in front, lens at 0.7 m (between knee ~0.5 m and hip ~0.9 m).
    cx = int(px - 3.0 * m)
    lens = (cx + 8, int(floor - 0.7 * m))
    cv2.line(img, (cx, lens[1] + 14), (cx - 22, floor), GREY, 2, cv2.LINE_AA)  # stand
    cv2.line(img, (cx, lens[1] + 14), (cx + 22, floor), GREY, 2, cv2.LINE_AA)
    cv2.line(img, (cx, lens[1] + 14), (cx, floor), GREY, 2, cv2.LINE_AA)
    cv2.rectangle(img, (cx - 6, lens[1] - 22), (cx + 6, lens[1] + 22), ACCENT, -1, cv2.LINE_AA)
    # The view: from the lens to above the head and to the floor in front of the feet.
    top = (px + 60, int(floor - 1.63 * m) - 40)  # above the head
    bottom = (px + 60, floor + 4)
    view = np.array([lens, top, bottom], np.int32)
    overlay = img.copy()
    cv2.fillPoly(overlay, [view], (245, 225, 200), cv2.LINE_AA)
    cv2.addWeighted(overlay, 0.6, img, 0.4, 0, dst=img)
    cv2.line(img, lens, top, ACCENT, 1, cv2.LINE_AA)
    cv2.line(img, lens, bottom, ACCENT, 1, cv2.LINE_AA)
    cv2.line(img, lens, (px, lens[1]), ACCENT, 1, cv2.LINE_AA)  # level: camera not tilted

    # Stick person, 1.75 m, facing the camera (left), standing on one leg with the other knee
    # bent behind, drawn over the view.
    hip = (px, int(floor - 0.92 * m))
    knee = (px - 10, int(floor - 0.48 * m))
    ankle = (px, floor - 6)
    shoulder = (px + 4, int(floor - 1.45 * m))
    head = (px + 4, int(floor - 1.63 * m))
    free_knee = (px + 4, int(floor - 0.5 * m))
    free_ankle = (px + 40, int(floor - 0.28 * m))
    for a, b in ((hip, knee), (knee, ankle), (hip, shoulder), (hip, free_knee),
                 (free_knee, free_ankle), (shoulder, (px - 22, int(floor - 1.0 * m)))):
        cv2.line(img, a, b, INK, 5, cv2.LINE_AA)
    cv2.line(img, ankle, (px - 22, floor - 4), INK, 5, cv2.LINE_AA)  # foot
    cv2.circle(img, head, int(0.12 * m), INK, -1, cv2.LINE_AA)

    # Dimensions and labels.
    arrow(img, (cx, floor + 30), (px, floor + 30))
    text(img, "2 - 4 m", ((cx + px) // 2 - 30, floor + 55), 0.6, INK, 2)
    kx = cx - 60
    arrow(img, (kx, int(floor - 0.5 * m)), (kx, int(floor - 0.92 * m)))
    text(img, "knee-to-hip", (kx - 95, int(floor - 0.75 * m)), 0.5)
    text(img, "height", (kx - 95, int(floor - 0.62 * m)), 0.5)
    text(img, "camera level,", (cx - 45, lens[1] - 60), 0.5, ACCENT)
    text(img, "in front of you", (cx - 45, lens[1] - 42), 0.5, ACCENT)
    text(img, "whole body, head to feet,", (px - 250, head[1] - 60), 0.5)
    text(img, "inside the picture", (px - 250, head[1] - 42), 0.5)
    text(img, "Side view of the set-up", (30, 40), 0.75, INK, 2)


def camera_view(img: np.ndarray, x0: int) -> None:
    """An upright phone showing a demo frame, and the checklist beside it."""
    frame = next(rgb for t_s, rgb in iter_frames(DEMO_CLIP) if t_s >= FRAME_AT_S)
    screen_w, screen_h = 216, 288  # the clip's 3:4
    shot = cv2.resize(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), (screen_w, screen_h),
                      interpolation=cv2.INTER_AREA)
    sx, sy = x0 + 20, 110
    cv2.rectangle(img, (sx - 12, sy - 30), (sx + screen_w + 12, sy + screen_h + 30), INK, -1,
                  cv2.LINE_AA)
    img[sy:sy + screen_h, sx:sx + screen_w] = shot
    cv2.circle(img, (sx + screen_w // 2, sy + screen_h + 15), 6, GREY, -1, cv2.LINE_AA)
    text(img, "What the camera sees", (x0, 40), 0.75, INK, 2)
    text(img, "(phone upright)", (x0, 68), 0.55)
    checks = ("camera in front", "one person only", "whole body in", "good light",
              "plain background", "phone upright", "30 fps, held still")
    cx = sx + screen_w + 30
    for i, line in enumerate(checks):
        y = sy + 14 + 40 * i
        cv2.line(img, (cx, y - 4), (cx + 6, y + 2), OK, 3, cv2.LINE_AA)
        cv2.line(img, (cx + 6, y + 2), (cx + 18, y - 12), OK, 3, cv2.LINE_AA)
        text(img, line, (cx + 28, y + 2), 0.55)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "how_to_film.png")
    args = parser.parse_args()
    img = np.full((H, W, 3), BG, np.uint8)
    side_view(img)
    cv2.line(img, (765, 30), (765, H - 30), GREY, 1, cv2.LINE_AA)
    camera_view(img, 790)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), img, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
