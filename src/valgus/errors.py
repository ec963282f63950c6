"""User-facing errors. Each message is one plain sentence that says what to do."""


class ValgusError(Exception):
    """Base class; the CLI prints ``str(err)`` on one line and exits with ``exit_code``."""

    exit_code: int = 1


class VideoError(ValgusError):
    """The file cannot be read as a video (missing, not a video, corrupt, no frames)."""

    exit_code = 2


class ModelError(ValgusError):
    """The pose model file is missing or cannot be loaded."""

    exit_code = 3


class NoPersonError(ValgusError):
    """No person was found in enough frames to analyse."""

    exit_code = 4
