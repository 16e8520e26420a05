"""Reading a file to fix: its model and the hash its replace will be checked against, together."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rollout_doctor.core.model import Model

if TYPE_CHECKING:
    from rollout_doctor.store import FileState


def read_hashed(path: Path, read: Callable[[], Model]) -> tuple[FileState, Model]:
    """The file's state (its sha256) and its model, the hash taken on the other core while the
    file is indexed (hashlib and reads let go of the interpreter): a gigabyte's hash is a second.
    Both describe the same bytes when the file's change time, settled before either began, is the
    one the hash vouches for (store FileState.of_fd); else they are taken one after the other, the
    hash first, so that any change after it shows when the backup is checked or at the replace."""
    from concurrent.futures import ThreadPoolExecutor

    from rollout_doctor.store import FileState

    try:
        known = os.stat(path)
    except OSError:
        known = None
    if known is not None:
        with ThreadPoolExecutor(1) as pool:
            hashed = pool.submit(FileState.of, path)
            try:
                original = read()
            finally:
                state = hashed.result() if hashed.exception() is None else None
        if state is not None and state.ctime_ns == known.st_ctime_ns and state.ino == known.st_ino:
            return state, original
        original.close()
    return FileState.of(path), read()
