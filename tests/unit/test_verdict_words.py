"""What a leg's verdict and the legs' symmetry say when a leg has few reps, and the batch
summary's columns as the README describes them. Pure data: synthetic people through the real
``analyze_series`` (tests/records_data.py), no video, no model."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from tests.records_data import squats
from tests.unit.test_leg_verdict import CFG3, score, verdict_of
from valgus.batch.jobs import SUMMARY_COLUMNS
from valgus.config import AnalysisConfig, ClearanceConfig
from valgus.core.reasons.verdict import verdict_words
from valgus.core.scoring import symmetry
from valgus.present.export import format_report

README = Path(__file__).resolve().parents[2] / "README.md"


# --- a leg short of reps -----------------------------------------------------------------------


def test_too_few_reps_is_said_with_the_verdict_and_first_in_its_reasons() -> None:
    """3 fine reps of the 20 asked for: NOT YET for the count, not for valgus; the table's
    verdict line says so before anything else, and the reasons start with it."""
    result, _ = squats("left", 3.0, 3)
    left = result.legs["left"]
    assert left.verdict == "NOT YET" and left.position == "below"
    assert left.reasons[0] == "only 3 of the 20 reps the test asks for were measured"
    line = next(x for x in format_report(result).splitlines() if x.startswith("LEFT "))
    assert line.startswith("LEFT  leg: NOT YET (too few reps: 3 of 20 measured) - FPPA median")
    assert "valid rep" not in line  # the count once


def test_verdict_words_name_every_reason_a_leg_is_not_yet() -> None:
    few = dict(valid=3, required=20)
    assert verdict_words("NOT YET", **few, position="below", excessive=0) == (
        "NOT YET (too few reps: 3 of 20 measured)")
    assert verdict_words("NOT YET", **few, position="above", excessive=3) == (
        "NOT YET (too few reps: 3 of 20 measured; excessive knee valgus)")
    assert verdict_words("NOT YET", **few, position="below", excessive=1) == (
        "NOT YET (too few reps: 3 of 20 measured; 1 rep excessive)")
    enough = dict(valid=20, required=20)
    assert verdict_words("NOT YET", **enough, position="above", excessive=20) == (
        "NOT YET (excessive knee valgus)")
    for verdict in ("PASS", "UNCERTAIN", "CANNOT ASSESS"):
        assert verdict_words(verdict, **few, position=None, excessive=0) == verdict


def test_enough_reps_reads_as_before() -> None:
    """20 fine reps: PASS, with its count, and no count reason."""
    result, _ = squats("left", 3.0, 20)
    line = next(x for x in format_report(result).splitlines() if x.startswith("LEFT "))
    assert line.startswith("LEFT  leg: PASS - 20 valid reps, FPPA median")
    assert not any("reps the test asks for" in r for r in result.legs["left"].reasons)


# --- symmetry from too few reps ------------------------------------------------------------------


def test_symmetry_is_withheld_while_a_leg_has_fewer_than_the_minimum() -> None:
    """One rep a leg: no rep-count, depth or FPPA comparison (100 % symmetric from single
    reps), the reason instead; from the minimum on, the legs are compared."""
    assert ClearanceConfig().min_symmetry_reps == 3
    one_left = verdict_of("left", [score(4.0)])
    one_right = verdict_of("right", [score(4.0, leg="right")])
    sym = symmetry(one_left, one_right, CFG3)
    assert sym is not None and not sym.given
    assert (sym.reps_lsi_pct, sym.depth_lsi_pct, sym.fppa_lsi_pct,
            sym.fppa_difference_deg) == (None, None, None, None)
    assert sym.notes == (
        "limb symmetry withheld: the left leg has 1 measured rep and the right leg has 1 "
        "measured rep, fewer than the 3 per leg a comparison of the legs needs",)
    # From the minimum on: rep counts and depths as indices, the FPPA as a difference only (a
    # ratio of signed angles means nothing: -3 and +3 deg would read 100 %).
    three_left = verdict_of("left", [score(-3.0)] * 3)
    opposite = symmetry(three_left, verdict_of("right", [score(3.0, leg="right")] * 3), CFG3)
    assert opposite is not None and opposite.given
    assert (opposite.reps_lsi_pct, opposite.fppa_lsi_pct, opposite.fppa_difference_deg) == (
        100.0, None, 6.0)
    three_right = verdict_of("right", [score(5.0, leg="right")] * 3)
    sym = symmetry(one_left, three_right, CFG3)
    assert sym is not None and not sym.given
    assert sym.notes == ("limb symmetry withheld: the left leg has 1 measured rep, fewer than "
                         "the 3 per leg a comparison of the legs needs",)
    three_left = verdict_of("left", [score(4.0)] * 3)
    sym = symmetry(three_left, three_right, CFG3)
    assert sym is not None and sym.given and sym.reps_lsi_pct == 100.0
    # The minimum is the config's.
    two = AnalysisConfig(clearance=ClearanceConfig(required_reps=3, min_symmetry_reps=1))
    sym = symmetry(one_left, one_right, two)
    assert sym is not None and sym.given


def test_the_table_says_symmetry_is_not_given_and_why() -> None:
    result, _ = squats("left", 3.0, 3)
    withheld = symmetry(verdict_of("left", [score(4.0)]),
                        verdict_of("right", [score(4.0, leg="right")]), CFG3)
    text = format_report(dataclasses.replace(result, symmetry=withheld))
    lines = text.splitlines()
    at = lines.index("symmetry: not given")
    assert lines[at + 1].strip().startswith("limb symmetry withheld: the left leg has 1")
    assert "%" not in lines[at]


# --- README -------------------------------------------------------------------------------------


def _readme_section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n{title}\n")
    end = re.compile(r"\n#{2,3} ").search(text, start + len(title) + 2)
    return text[start:end.start() if end else None]


def test_readme_batch_section_names_every_summary_column() -> None:
    section = _readme_section("### Batch: a folder of clips")
    named = set(re.findall(r"`([a-z_]+)`", section))
    missing = [c for c in SUMMARY_COLUMNS if c not in named]
    assert not missing, f"summary.csv columns not described in README: {missing}"


def test_readme_states_the_symmetry_minimum() -> None:
    minimum = ClearanceConfig().min_symmetry_reps
    text = README.read_text(encoding="utf-8")
    assert f"at least {minimum} measured reps on each leg" in text
    assert "min_symmetry_reps" in text
