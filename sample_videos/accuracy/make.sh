#!/usr/bin/env bash
# Rebuilds the accuracy clips. Run from the project root with the synth environment's python:
#   PY=/work/synthvenv/bin/python bash sample_videos/accuracy/make.sh
set -euo pipefail
PY=${PY:-python}
G="$PY -m valgus.synth.generate --reps 2 --legs alternate --lead-in-s 0.4 --lead-out-s 0.4"
D=sample_videos/accuracy
$G --out $D/acc_female_yaw0.mp4     --body female --yaw-deg 0   --valgus-left-deg 5  --valgus-right-deg 22 --depth-deg 80 --hip-share 0.65 --trunk-lean-share 1.1
$G --out $D/acc_female_yaw-20.mp4   --body female --yaw-deg -20 --valgus-left-deg 12 --valgus-right-deg 12 --depth-deg 80 --hip-share 0.65 --trunk-lean-share 1.1
$G --out $D/acc_female_yaw+20.mp4   --body female --yaw-deg 20  --valgus-left-deg 12 --valgus-right-deg 12 --depth-deg 80 --hip-share 0.65 --trunk-lean-share 1.1
$G --out $D/acc_male_yaw0.mp4       --body male --yaw-deg 0     --valgus-left-deg 15 --valgus-right-deg 0  --depth-deg 80 --hip-share 0.65 --trunk-lean-share 1.1 --shirt '#8a2f2f' --skin '#a8795a'
$G --out $D/acc_male_yaw+10.mp4     --body male --yaw-deg 10    --valgus-left-deg 25 --valgus-right-deg 8  --depth-deg 75 --hip-share 0.65 --trunk-lean-share 1.0 --shirt '#8a2f2f' --skin '#a8795a' --camera-height-m 0.6 --distance-m 2.6
$G --out $D/acc_male_yaw-10.mp4     --body male --yaw-deg -10   --valgus-left-deg 0  --valgus-right-deg 18 --depth-deg 85 --hip-share 0.65 --trunk-lean-share 1.1 --shirt '#8a2f2f' --skin '#a8795a' --camera-height-m 0.9 --pitch-deg 5
$G --out $D/acc_heavy_yaw0.mp4      --body heavy --yaw-deg 0    --valgus-left-deg 10 --valgus-right-deg 3  --depth-deg 80 --hip-share 0.65 --trunk-lean-share 1.1 --shirt '#2f7a4a' --skin '#e0b898' --fps 30
# Protocol depth (65 deg true knee flexion): a hard case for the rep detector (see README.md).
$G --out $D/acc_female_depth65.mp4  --body female --yaw-deg 0   --valgus-left-deg 5  --valgus-right-deg 15 --depth-deg 65 --hip-share 0.65 --trunk-lean-share 1.1
# Contralateral pelvic drop: the free-side hip 8 deg lower than the stance hip at the bottom.
$G --out $D/acc_female_pelvicdrop8.mp4 --body female --yaw-deg 0  --valgus-left-deg 5  --valgus-right-deg 12 --depth-deg 80 --hip-share 0.65 --trunk-lean-share 1.1 --pelvic-drop-deg 8
# Faster tempo, 4 reps L R R L, larger frames at 30 fps.
$PY -m valgus.synth.generate --out $D/acc_slim_fast.mp4 --reps 4 --legs LRRL --rep-s 2.2 --lead-in-s 0.4 --lead-out-s 0.4 --body slim --valgus-left-deg 20 --valgus-right-deg 6 --depth-deg 80 --hip-share 0.65 --trunk-lean-share 1.1 --size 720x960 --fps 30 --shirt '#c07a2a' --skin '#8d5b3e'
