"""One error hierarchy and one mapping from errors to exit codes.

Core modules raise ``CrmsegError`` subclasses (chained with ``from e``) whose
message names the file, row, line or key and says what to do. Only the CLI
turns them into text on stderr and an exit code, through ``exit_code_for``.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The process exit codes of SPEC §3."""

    OK = 0
    INTERNAL = 1
    INPUT = 2
    BUSY = 3


class CrmsegError(Exception):
    """Root of every error crmseg raises on purpose."""

    exit_code: ExitCode = ExitCode.INPUT


class InputError(CrmsegError):
    """A user or input error: bad file, bad option, unknown name."""


class ConfigError(InputError):
    """``crmseg.yaml`` is missing a piece, malformed or holds an unknown key."""


class ImportFileError(InputError):
    """A file given to ``crmseg import`` cannot be read or mapped."""


class StrictImportError(InputError):
    """``--strict`` met a rejected row or an issue; nothing was imported."""


class SegmentError(InputError):
    """A segment definition is invalid (unknown field, bad operator, cycle...)."""


class NotFoundError(InputError):
    """A named thing (contact, segment, group, import, merge) does not exist."""


class StoreError(CrmsegError):
    """The database file cannot be opened or upgraded."""


class DatabaseBusyError(StoreError):
    """Another crmseg process holds the database for longer than ``--wait``."""

    exit_code = ExitCode.BUSY


def exit_code_for(error: BaseException) -> ExitCode:
    """Return the exit code for ``error``: its own for crmseg errors, 1 otherwise."""
    if isinstance(error, CrmsegError):
        return error.exit_code
    return ExitCode.INTERNAL
