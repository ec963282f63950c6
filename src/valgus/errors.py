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


class InputTooLargeError(ValgusError):
    """The input exceeds a configured limit (file size or duration, ``config.InputLimits``).

    ``limit`` names the ``InputLimits`` field that was exceeded (e.g. ``"max_duration_s"``), so a
    front end can say how to raise it (the CLI names its option).
    """

    exit_code = 5

    def __init__(self, message: str, limit: str) -> None:
        super().__init__(message)
        self.limit = limit
