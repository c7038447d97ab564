"""The embedded profile's data directory: private to the user VM-X runs as.

The directory is created 0700 and the SQLite file 0600 before SQLite first opens it (SQLite creates its
`-wal` and `-shm` files with the database file's permissions, so they follow). The key file is written
0600 by the vault (`vault/keys.py`).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def ensure_private_dir(path: Path) -> None:
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)


def ensure_private_sqlite(db_path: Path) -> None:
    """Create the data directory and an empty database file, both private, when they do not exist yet."""
    ensure_private_dir(db_path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(db_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
