"""argparse types shared by the commands: each turns the text of an option into its value or
raises ``argparse.ArgumentTypeError`` with a one-line message (argparse prints it as the
usage error)."""

from __future__ import annotations

import argparse
from typing import get_args

from valgus.config import Sex
from valgus.core.result import LegChoice
from valgus.errors import ValgusError


class UsageError(ValgusError):
    """Options that do not go together: bad input (exit 2), said on one line before anything
    is read."""

    exit_code = 2


def positive_float(text: str) -> float:
    """A finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (value > 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text!r}")
    return value


# The choices of --leg and --sex, from the types the analysis takes.
LEG_CHOICES: tuple[LegChoice, ...] = get_args(LegChoice)
SEX_CHOICES: tuple[Sex, ...] = get_args(Sex)
