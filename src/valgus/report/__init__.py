"""One-click session report: HTML (Jinja2 template) and PDF (WeasyPrint) with the verdict and
its reasons, the per-rep table, charts, the deepest frames, the reviewer's notes, the person's
progress and a disclaimer. Everything is made locally; images are embedded as data URIs, so
the files are self-contained and nothing is fetched or sent.

    report = build_session_report(records, session_id)
    report.html            # str, e.g. for st.download_button or st.components.v1.html
    report.pdf()           # bytes
    write_report(records, session_id, pdf=Path("s12.pdf"), html=Path("s12.html"))
"""

from __future__ import annotations

from valgus.report.build import SessionReport, build_session_report, render_pdf, write_report

__all__ = ["SessionReport", "build_session_report", "render_pdf", "write_report"]
