"""Synthetic single-leg squat clips with known knee valgus.

A parametric human body (``anny``, MakeHuman-based, with a skeleton) is posed frame by frame
through a scripted single-leg squat and rendered offscreen (``pyrender`` over EGL/Mesa). The
truth written beside each clip comes from the rig's joint centres (hip, knee and ankle joints)
projected by the same camera that rendered the frames.

Install with the ``synth`` extra (pulls torch; keep it in its own virtual environment if your
main one must keep mediapipe's pinned dependencies). Only ``valgus.synth.generate`` imports torch,
anny and pyrender; ``valgus.synth.motion`` and ``valgus.synth.camera`` are plain numpy so the
motion script and the truth geometry can be tested without them.

Run ``python -m valgus.synth.generate --help``.
"""
