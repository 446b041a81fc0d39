"""Errors a person may see. Anything else is logged and shown as a generic message."""


class FerryError(Exception):
    """An error whose message is safe to show to the user as it is."""

    def __init__(self, message: str, *, code: str = "error"):
        super().__init__(message)
        self.message = message
        self.code = code


class JobCancelled(Exception):
    """Raised inside a running task when the user asked to cancel; the runner ends it cleanly."""


class LimitExceeded(FerryError):
    def __init__(self, message: str):
        super().__init__(message, code="limit")


class JobTakenOver(Exception):
    """Raised in a run whose job was given to another worker (this one was taken for dead)."""
