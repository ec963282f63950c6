#!/usr/bin/env bash
# Rebuilds the committed robustness subset (issue 16): small clips of the variations that
# today's detector gets wrong, with their truth. Run from the project root with a python that
# has the synth extra:
#   PY=/work/main/.venv/bin/python bash sample_videos/robustness/make.sh
# The full matrix (40+ clips, not committed) is rendered by bench/robustness.py.
set -euo pipefail
PY=${PY:-python}
G="$PY -m valgus.synth.generate --size 480x270 --fps 25 --lead-in-s 0.4 --lead-out-s 0.4 --depth-deg 80 --hip-share 0.65 --trunk-lean-share 1.1"
D=sample_videos/robustness
# Free foot hovering ~5 cm above the floor, a little forward; it barely moves during the squat.
$G --out $D/rb_hover_forward_low.mp4 --reps 3 --legs LRL --rep-s 2.8 --free-leg hover_forward_low --valgus-left-deg 5 --valgus-right-deg 15 --body female
# Continuous reps, 1.7 s each, no pause at the top, free foot kept up; legs switch once.
$G --out $D/rb_continuous_1p7.mp4 --reps 4 --legs LLRR --rep-s 1.7 --between-reps continuous --valgus-left-deg 12 --valgus-right-deg 3 --body male --shirt '#8a2f2f' --skin '#a8795a'
# Hand-held phone swaying by 1.5% of the picture; free leg held forward high; paused reps.
$G --out $D/rb_sway_forward_high.mp4 --reps 3 --legs right --rep-s 2.2 --between-reps pause --top-pause-s 0.6 --free-leg forward_high --camera-motion sway --camera-motion-amplitude 0.015 --valgus-left-deg 0 --valgus-right-deg 10 --body slim --shirt '#c07a2a' --skin '#8d5b3e'
# The free foot rests on the floor during rep 2 (invalid for the test); reps 1 and 3 hover beside.
$G --out $D/rb_touch_floor.mp4 --reps 3 --legs LLR --rep-s 2.8 --free-leg hover_beside,touch_floor,hover_beside --valgus-left-deg 8 --valgus-right-deg 14 --yaw-deg 5 --body heavy --shirt '#2f7a4a' --skin '#e0b898'
# Slow zoom in and out by 12%, a 1.5 s hold at the bottom, camera turned 6 deg.
$G --out $D/rb_zoom_hold.mp4 --reps 2 --legs LR --rep-s 2.6 --bottom-hold-s 1.5 --free-leg hover_beside --camera-motion zoom --camera-motion-amplitude 0.12 --yaw-deg -6 --valgus-left-deg 14 --valgus-right-deg 4 --body female
