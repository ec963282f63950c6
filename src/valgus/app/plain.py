"""User text (codes, clip names, notes, reasons, names, error messages that quote them) inside
the app's markdown strings: shown exactly as typed, never as markdown. A clip named
``![x](http://host/a.png)`` must not make every clinician's browser fetch that address."""

from __future__ import annotations

# The characters that start markdown (links and images, emphasis, code, headings, tables, HTML,
# entities) or Streamlit's own syntax (``:color[...]``, ``:emoji:``, ``$math$``). CommonMark
# lets a backslash escape any ASCII punctuation; "." "-" "@" "," and the like are left as typed
# (mid-line they start nothing), so codes and account names read as they are.
_SPECIAL = frozenset("\\`*_{}[]()#+!|<>$:~^=&")


def plain(text: object) -> str:
    """``text`` for a Streamlit markdown string: the characters in ``_SPECIAL``
    backslash-escaped, line breaks folded to spaces."""
    return "".join("\\" + c if c in _SPECIAL else c for c in " ".join(str(text).split()))
