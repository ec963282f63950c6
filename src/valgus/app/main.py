"""The app's page router: the page from the sidebar (or ``?page=live`` / ``?page=review``), the
sidebar settings, then the page. Run it with ``streamlit run app.py`` (the root ``app.py`` calls
``main``)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from valgus.app.live import page_live
from valgus.app.review import page_review
from valgus.app.settings import sidebar_settings
from valgus.app.upload import page_upload

PAGES = ("Analyse a video", "Live self-test", "Review")


def main(sample_clip: Path | None = None) -> None:
    """Lay out one run of the app. ``sample_clip``: the bundled sample video offered on the
    upload page (None: no sample button)."""
    st.set_page_config(page_title="valgus: knee valgus in single-leg squats", layout="wide")
    query_page = st.query_params.get("page")
    default = {"live": 1, "review": 2}.get(query_page or "", 0)
    page = st.sidebar.radio("Page", PAGES, index=default, key="page")
    if page == PAGES[2]:
        page_review()
        return
    cfg, leg = sidebar_settings()
    if page == PAGES[0]:
        page_upload(cfg, leg, sample_clip)
    else:
        page_live(cfg)
