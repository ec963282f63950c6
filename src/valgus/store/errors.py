"""Errors of the records store. Like every ``ValgusError`` the message is one sentence that says
what to do, printed by the CLI on one line with the exit code."""

from __future__ import annotations

from valgus.errors import ValgusError


class NotFoundError(ValgusError):
    """A person, session, analysis or rep that is not in the records."""

    exit_code = 6


class RecordError(ValgusError):
    """A change the records refuse: a duplicate person code, an edit of a signed clearance
    record, a value out of range."""

    exit_code = 7


class StorageError(ValgusError):
    """The data directory or the database cannot be used (not writable, unreachable, locked for
    longer than the busy timeout)."""

    exit_code = 8


class NoRecordsError(StorageError):
    """A command that only reads found no records database (nothing was saved there yet)."""
