"""The sidebar's settings: sex (which selects the valgus threshold), the threshold itself, the
reps needed per leg and the stance leg of uploads, as an ``AnalysisConfig`` (defaults from
``AnalysisConfig``); and the words of the rule in force. The borderline band is not a setting:
it is the measurement error (``ValgusThresholds.margin_deg``)."""

from __future__ import annotations

import dataclasses
from typing import cast

import streamlit as st

from valgus.config import AnalysisConfig, Sex
from valgus.core.result import LegChoice
from valgus.present.style import rule_text

SEX_LABEL: dict[str, str] = {"unspecified": "not given", "female": "female", "male": "male"}
LEG_CHOICES: tuple[LegChoice, ...] = ("auto", "left", "right")


def sidebar_settings() -> tuple[AnalysisConfig, LegChoice]:
    """Thresholds and sex from the sidebar. Returns the config and the stance-leg choice."""
    base = AnalysisConfig()
    st.sidebar.header("Settings")
    sex = cast(Sex, st.sidebar.selectbox(
        "Sex (selects the valgus threshold and how the FPPA is measured)",
        ("unspecified", "female", "male"),
        format_func=lambda s: SEX_LABEL[s],
        key="sex",
        help="Herrington & Munro 2010: healthy women 5-12 deg, men 1-9 deg, set on skin "
        "markers; with a sex every FPPA shown is valgus's pose-keypoint FPPA mapped to skin "
        "markers (checked on rendered bodies: README \"FPPA definitions\"), and a rep too deep "
        "for the map is not scored. Not given: 11.3 deg (Park 2024, smartphone pose estimation "
        "in single-leg squats), on keypoints as measured, which read lower than markers, the "
        "more so in deep squats.",
    ))
    default_thr = base.valgus.threshold_deg(sex)
    error = base.valgus.margin_deg(sex)
    thr = st.sidebar.number_input(
        "Valgus threshold T: FPPA (deg)", min_value=0.0, max_value=45.0,
        value=float(default_thr), step=0.5, key=f"threshold_{sex}",
        help=f"Default for {SEX_LABEL[sex]}: {default_thr:.1f} deg. A rep is excessive above "
        f"T + {error:.2f} deg (the measurement error), fine below T - {error:.2f} deg.",
    )
    reps = st.sidebar.number_input(
        "Reps needed per leg (reps)", min_value=1, max_value=100,
        value=int(base.clearance.required_reps), step=1, key="required_reps",
        help="Return-to-running criterion: single-leg squat, 20 repetitions, no excessive valgus.",
    )
    leg: LegChoice = st.sidebar.selectbox(
        "Stance leg (uploads)", LEG_CHOICES, key="leg",
        help="auto: found for each rep from the foot that stays planted.",
    )
    if sex == "female":
        valgus = dataclasses.replace(base.valgus, female_deg=float(thr))
    elif sex == "male":
        valgus = dataclasses.replace(base.valgus, male_deg=float(thr))
    else:
        valgus = dataclasses.replace(base.valgus, unspecified_deg=float(thr))
    cfg = dataclasses.replace(
        base, sex=sex, valgus=valgus,
        clearance=dataclasses.replace(base.clearance, required_reps=int(reps)),
    )
    st.sidebar.caption(rule_text(cfg))
    return cfg, leg

