"""What a ``check`` run read, for the run cache (run_cache.py): the folders and files it walked, each
with its identity and a sample of its bytes, and the registries of running sessions a replay must find
unchanged."""

from __future__ import annotations

import os
from pathlib import Path

from rollout_doctor.core.sampling import identity, racy, sample_of

Dirs = list[tuple[str, tuple[int, int, int]]]
Files = list[tuple[str, tuple[int, ...], bytes]]


def walk(roots: list[Path], started: float) -> tuple[Dirs, Files] | None:
    """Every folder and file under ``roots``; None when one changed too close to ``started``, when the
    run began, or after it (maybe not what the run read: ``sampling.racy``) or a symbolic link was met.
    A folder that cannot be listed raises."""
    dirs: Dirs = []
    files: Files = []
    for root in roots:
        if os.path.islink(root):
            return None
        top = os.path.abspath(root)
        # A folder that cannot be listed raises (os.walk would skip it silently): the run is not kept.
        walked = [(top, [], [])] if os.path.isfile(top) else list(os.walk(top, onerror=_raise))
        for folder, subdirs, names in walked:
            if os.path.isdir(folder):
                st = os.stat(folder)
                if racy(st, started):
                    return None
                dirs.append((folder, (st.st_ino, st.st_mtime_ns, st.st_ctime_ns)))
                candidates = [os.path.join(folder, n) for n in names + subdirs]
            else:
                candidates = [folder]
            for file in candidates:
                if os.path.islink(file):
                    return None
                if not os.path.isfile(file):
                    continue
                fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK)
                try:
                    st = os.fstat(fd)
                    if racy(st, started):
                        return None
                    files.append((file, identity(st), sample_of(fd, st, st.st_size)))
                finally:
                    os.close(fd)
    return dirs, files


def _raise(error: OSError) -> None:
    raise error


def watch_registries(files: list[str], dirs: Dirs, absent: list[str], started: float) -> bool:
    """Add the registries of running sessions of the Claude homes the files belong to to what a replay
    must find unchanged (False: one changed too recently for that to be known). A running claude holds
    no descriptor on its transcript; it announces itself there (a file per process, removed as it exits),
    so a claude started or ended since the run changes that folder, and the run is done again."""
    from rollout_doctor.formats.claude.format import CLAUDE
    from rollout_doctor.formats.claude.home import SESSIONS as RUNNING
    from rollout_doctor.formats.claude.home import homes_of
    from rollout_doctor.formats.codex.format import CODEX

    registries = {home / RUNNING for file in files
                  if not CODEX.owns_name(os.path.basename(file)) and CLAUDE.owns_name(os.path.basename(file))
                  for home in homes_of(Path(file))}
    for registry in sorted(registries):
        try:
            st = os.stat(registry)
        except OSError:
            absent.append(str(registry))
            continue
        if racy(st, started):
            return False
        dirs.append((str(registry), (st.st_ino, st.st_mtime_ns, st.st_ctime_ns)))
    return True
