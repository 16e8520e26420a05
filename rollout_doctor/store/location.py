"""Where backups live: a private folder of this user's, never where a client looks for sessions.

``<state>`` is ``$ROLLOUT_DOCTOR_HOME``, else ``$XDG_STATE_HOME/rollout-doctor``, else
``~/.local/state/rollout-doctor``; backups go to ``<state>/backups/<transaction>/`` (journal.py).
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

from rollout_doctor.store import places
from rollout_doctor.store.files import WriteError


def state_home() -> Path:
    """``$ROLLOUT_DOCTOR_HOME``, else ``$XDG_STATE_HOME/rollout-doctor``, else ``~/.local/state/rollout-doctor``."""
    override = os.environ.get("ROLLOUT_DOCTOR_HOME")
    if override:
        return Path(os.path.abspath(os.path.expanduser(override)))
    xdg = os.environ.get("XDG_STATE_HOME")
    # The XDG spec says a relative path there is invalid and must be ignored.
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".local" / "state"
    return base / "rollout-doctor"


def backup_root(paths: list[Path] | None = None) -> Path:
    """The folder holding every backup; refuses one that lies where a client looks for sessions."""
    root = state_home()
    real = Path(os.path.realpath(root))
    for store, client in places.session_stores(paths or []).items():
        if real == store or store in real.parents:
            raise WriteError(
                f"backups would go to {root}, inside {store}, where {client} looks for sessions; "
                "set ROLLOUT_DOCTOR_HOME (or XDG_STATE_HOME) to a folder outside it"
            )
    return root / "backups"


def make_private_root(root: Path) -> None:
    """Create the backups folder, and any missing folder above it, readable by this user only.

    Folders that already exist above it are left as they are: ``ROLLOUT_DOCTOR_HOME`` may be a folder
    the user shares (a 1777 one keeps its sticky bit). The backups folder itself is ours: it must
    belong to this user, and is made 0700 if it is not."""
    missing = [p for p in [root, *root.parents] if not os.path.lexists(p)]
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            pass
        except OSError as exc:
            raise WriteError(f"cannot make the backup folder {folder}: {exc.strerror or exc}") from None
    st = os.stat(root)
    if not stat.S_ISDIR(st.st_mode):
        raise WriteError(f"{root} is not a folder; backups cannot go there")
    if st.st_uid != os.geteuid():
        raise WriteError(f"{root} belongs to uid {st.st_uid}, not to this user; backups must be private")
    if stat.S_IMODE(st.st_mode) != 0o700:
        os.chmod(root, 0o700)


def new_folder(root: Path) -> Path:
    ns = time.time_ns()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(ns // 1_000_000_000)) + f"-{ns % 1_000_000_000:09d}"
    for n in range(1000):
        folder = root / f"{stamp}-{os.getpid()}" if not n else root / f"{stamp}-{os.getpid()}-{n}"
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            continue
        os.chmod(folder, 0o700)
        return folder
    raise WriteError(f"{root}: could not make a new backup folder")
