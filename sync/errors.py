"""Errors of the sync a person may see: each says what is wrong and what to do."""

from jobs.errors import FerryError


class SyncError(FerryError):
    """The sync cannot go on as asked; nothing was written on either side."""

    def __init__(self, message: str, *, code: str = "sync"):
        super().__init__(message, code=code)


class SyncSourceError(SyncError):
    """The external database cannot be opened, read or written (missing, locked, not SQLite…)."""

    def __init__(self, message: str):
        super().__init__(message, code="sync_source")


class SyncNotAllowed(SyncError):
    """A path or URL outside what the operator allows."""

    def __init__(self, message: str):
        super().__init__(message, code="sync_not_allowed")


class SyncBusy(SyncError):
    def __init__(self, message: str):
        super().__init__(message, code="sync_busy")
