"""Temporary files rollout-doctor makes, and sweeping up the ones a killed run left behind.

Two kinds, both named after the process that made them:

* next to a rollout, the new version before ``os.replace`` moves it into place:
  ``.rollout-doctor-<pid>-<random>.tmp``. Hidden, not ``rollout-*``, not ``*.jsonl``: neither Codex
  (which lists ``rollout-*.jsonl`` and, from 2026, ``rollout-*.jsonl.zst``) nor rollout-doctor ever
  takes one for a session.
* in the system temp folder, private (0700) scratch folders ``rollout-doctor-<kind>-<pid>-<random>``
  holding a decompressed ``.jsonl.zst`` or the passes of a fix.

A run killed with SIGKILL cannot clean up after itself, so every later run sweeps: a leftover goes
when the process that made it is gone and it is older than ``STALE_AFTER`` (the age keeps a run on
another machine sharing the folder safe), or when it is older than ``ABANDONED_AFTER`` whatever the
pid says (pids get reused). Removing one never loses anything: the original stays in place until
the atomic replace, and a temporary file is only ever a copy.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

SESSION_TMP_PREFIX = ".rollout-doctor-"
SESSION_TMP_SUFFIX = ".tmp"
SCRATCH_PREFIX = "rollout-doctor-"
STALE_AFTER = 10 * 60  # seconds
ABANDONED_AFTER = 24 * 60 * 60
SWEEP_EVERY = 60  # seconds: how often a check looks in the temp folder (sweep_scratch_lately)

_SESSION_TMP = re.compile(r"^\.rollout-doctor-(?P<pid>\d+)-[^/]*\.tmp$")
_SCRATCH = re.compile(r"^rollout-doctor-[a-z]+-(?P<pid>\d+)-[^/]*$")


def session_tmp(folder: Path) -> tuple[int, Path]:
    """A new private (0600) temporary file in ``folder``: an open descriptor and its path."""
    import tempfile

    fd, name = tempfile.mkstemp(prefix=f"{SESSION_TMP_PREFIX}{os.getpid()}-", suffix=SESSION_TMP_SUFFIX, dir=folder)
    return fd, Path(name)


def session_tmp_name(folder: Path) -> Path:
    """A name for a temporary file in ``folder`` that no file has yet (for a hard link to take)."""
    import secrets

    return folder / f"{SESSION_TMP_PREFIX}{os.getpid()}-{secrets.token_hex(8)}{SESSION_TMP_SUFFIX}"


def scratch_dir(kind: str) -> Path:
    """A new private (0700) scratch folder in the system temp folder."""
    # In the folder the sweep looks in, by construction; and, tempfile not imported yet, without its own
    # choice of it, which writes and removes a probe file there: a run killed in between would leave one
    # that no sweep knows (tests/test_crash.py, killed at random moments, met it once).
    root = temp_root()
    import tempfile

    return Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{kind}-{os.getpid()}-",
                                 dir=None if root is None else str(root)))


def temp_root() -> Path | None:
    """The folder ``tempfile.mkdtemp`` makes scratch folders in (``tempfile.gettempdir()``); None when
    there is none.

    Every check sweeps it, and importing tempfile (it brings random and its seeding) is 3 ms of a
    start-up that is a user's wait before each resume (2026-11-29, Python 3.11). So unless tempfile is
    imported already (a library caller or a test may have set ``tempfile.tempdir``), this is its choice
    made again on POSIX systems: $TMPDIR, $TEMP, $TMP, /tmp, /var/tmp, /usr/tmp, then the working
    folder, the first one may create files in. Where the two could ever differ, the sweep looks in a
    folder that holds no scratch of ours: nothing is removed that should not be."""
    if "tempfile" in sys.modules or os.name != "posix":
        import tempfile

        try:
            return Path(tempfile.gettempdir())
        except OSError:  # FileNotFoundError: no usable temporary folder at all
            return None
    candidates = [value for name in ("TMPDIR", "TEMP", "TMP") if (value := os.environ.get(name))]
    candidates += ["/tmp", "/var/tmp", "/usr/tmp"]
    try:
        candidates.append(os.getcwd())
    except OSError:
        pass
    for folder in candidates:
        folder = os.path.abspath(folder)
        if os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK):
            return Path(folder)
    return None


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def stale(pid: int, mtime: float, now: float) -> bool:
    age = now - mtime
    if pid == os.getpid():
        return False
    return age > ABANDONED_AFTER or (age > STALE_AFTER and not pid_alive(pid))


def sweep_folder(folder: Path, now: float | None = None) -> list[Path]:
    """Remove stale ``.rollout-doctor-*.tmp`` files from one session folder; returns what went."""
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _SESSION_TMP.match(entry.name)
        if match is None:
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            if stale(int(match["pid"]), entry.stat(follow_symlinks=False).st_mtime, now):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue  # gone already, or not ours to remove
    return removed


def sweep_scratch_lately(stamps: str, now: float | None = None) -> list[Path]:
    """``sweep_scratch``, unless it ran less than ``SWEEP_EVERY`` seconds ago for the same temp folder: a
    stamp file in the folder ``stamps`` (the caller's, private to this user) keeps when.

    The temp folder is every program's (362 entries here), and listing it was 2.5 to 4 ms of a
    re-check's 90 after Codex appended a turn (2026-11-29). A scratch folder a killed run left is only
    removed once it is ``STALE_AFTER`` old, so checks made within a minute of each other have little to
    find: what one leaves goes at most ``SWEEP_EVERY`` later. ``fix`` sweeps every time."""
    now = time.time() if now is None else now
    root = temp_root()
    if root is None:
        return []
    # Named after the temp folder, its separators made plain (two folders could share a name, which would
    # only put a sweep off by a minute).
    stamp = os.path.join(stamps, f"swept{str(root).replace(os.sep, '%')}"[:200])
    try:
        if 0 <= now - os.stat(stamp).st_mtime < SWEEP_EVERY:
            return []
    except OSError:
        pass  # never swept from here, or the stamp is gone: sweep
    removed = sweep_scratch(now, root)
    try:
        with open(stamp, "ab"):
            pass
        os.utime(stamp, (now, now))
    except OSError:
        pass  # the next check sweeps again
    return removed


def sweep_scratch(now: float | None = None, root: Path | None = None) -> list[Path]:
    """Remove stale scratch folders of ours from the system temp folder; returns what went."""
    now = time.time() if now is None else now
    root = temp_root() if root is None else root
    removed: list[Path] = []
    if root is None:
        return removed
    try:
        # Names only, matched by prefix first: the temp folder is shared (299 entries here), and this runs
        # at the start of every check, where a regular expression on each name cost 2 ms (2026-11-29).
        with os.scandir(root) as listing:
            entries = [entry for entry in listing if entry.name.startswith(SCRATCH_PREFIX)]
    except OSError:
        return removed
    for entry in entries:
        match = _SCRATCH.match(entry.name)
        if match is None:
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if not entry.is_dir(follow_symlinks=False) or st.st_uid != os.geteuid():
                continue
            if stale(int(match["pid"]), st.st_mtime, now):
                import shutil  # rarely needed, and it pulls in bz2 and lzma: every check starts here

                shutil.rmtree(entry.path, ignore_errors=True)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed
