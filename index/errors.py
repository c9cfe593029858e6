"""Errors a user can act on: each names the source, the field and what to do."""

from __future__ import annotations


class SpotindexError(Exception):
    """Base class: anything the CLI may print as a one-line message (no traceback)."""


class SourceError(SpotindexError):
    """A source's response could not be understood.

    Raised by ``fetch`` or ``parse``; the framework records it on the source's
    ``scrape_runs`` row (status ``failed``) and carries on with the other sources.
    """

    def __init__(self, source: str, message: str, *, field: str | None = None, url: str | None = None):
        self.source = source
        self.field = field
        self.url = url
        parts = [f"source {source}"]
        if field:
            parts.append(f"field '{field}'")
        text = ", ".join(parts) + f": {message}"
        if url:
            text += f" [{url}]"
        super().__init__(text)


class StoreError(SpotindexError):
    """The database cannot be opened or written (lock held, newer schema, ...)."""


class PublishError(SpotindexError):
    """The publication could not be written (disk full, read-only or missing directory, ...)."""


def disk_hint(exc: OSError) -> str:
    """What an operator does about an OSError met while writing files."""
    import errno

    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "free disk space"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "make the directory writable or choose another --out"
    if exc.errno in (errno.ENOTDIR, errno.EEXIST, errno.ENOENT):
        return "point --out at a directory"
    return "check the disk and the directory"


def describe_os_error(exc: OSError) -> str:
    where = f" ({exc.filename})" if exc.filename else ""
    return f"{exc.strerror or exc}{where} [errno {exc.errno}]"


class ConfigError(SpotindexError):
    """A file in data/ (index definitions, canonical names, contracts) is invalid."""
