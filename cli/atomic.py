"""Files written whole or not at all: a temporary file beside the target, renamed into place.

Lists, the GDPR export and the HTML report hold personal data and are often
written from cron. So the temporary file is owner-only (0600) from the
moment it exists, a failure removes it and leaves the previous file as it
was, and what the system refuses (a missing or unwritable folder, a target
that is a folder, a device or a read-only file, a full disk) becomes an
``InputError`` naming the path (exit 2), never a traceback. A symbolic link
is followed: the file it points to is replaced and the link stays. A
database file (the base itself, given as ``--out`` by mistake) is never
replaced.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cli.errors import InputError


def check_target(path: Path) -> Path:
    """The file to replace for ``path`` (a symbolic link's target, so the link stays).

    Raises ``InputError`` when it cannot be (re)placed by a file written beside it.
    """
    path = Path(path)
    if path.is_symlink():
        path = path.resolve()
    if path.is_dir():
        raise InputError(f"{path} is a folder; give a file name.")
    if path.exists() and not path.is_file():
        raise InputError(f"{path} is not a regular file (a device or a pipe); give a file name.")
    folder = path.parent
    if not folder.exists():
        raise InputError(f"{path}: the folder {folder} does not exist; create it or choose another path.")
    if not folder.is_dir():
        raise InputError(f"{path}: {folder} is a file, not a folder.")
    # A database's write-ahead log is `<database>.wal`, even before it exists.
    if _is_database(path) or (path.suffix == ".wal" and _is_database(path.with_suffix(""))):
        raise InputError(f"{path} is a database file (perhaps crmseg's own); it was left as it is. "
                         "Choose another path for the output.")
    if path.exists() and (not os.access(path, os.W_OK) or not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)):
        raise InputError(f"{path} is read-only; it was left as it is. Make it writable or choose another path.")
    return path


def _is_database(path: Path) -> bool:
    """Whether ``path`` starts like a DuckDB database file (``DUCK`` at byte 8)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(12)[8:12] == b"DUCK"
    except OSError:
        return False


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block ends without error it replaces ``path``.

    >>> with atomic_path(Path("list.csv")) as temporary:  # doctest: +SKIP
    ...     temporary.write_text("email\\n")
    """
    path = check_target(Path(path))
    try:
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise InputError(f"{path}: cannot write in the folder {path.parent} ({e.strerror or e}).") from e
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except OSError as e:
        temporary.unlink(missing_ok=True)
        raise InputError(f"{path}: cannot write the file ({e.strerror or e}); "
                         "nothing was written and any previous file is unchanged.") from e
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
