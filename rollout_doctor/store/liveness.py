"""Which running processes could still write to a rollout.

Replacing a rollout that a live Codex is writing loses whatever it writes next: it appends through
the descriptor it already holds, to the old, now nameless file. Seen with the real binaries while a
turn ran a slow command (tests/test_safety.py repeats it):

* 0.77.0 holds the rollout open ``O_WRONLY|O_APPEND`` (``/proc/PID/fdinfo`` flags ``02102001``);
* 0.169.0 holds it ``O_RDWR|O_APPEND`` (``02102002``), and also holds an exclusive ``flock`` on
  ``$CODEX_HOME/thread-writer-locks/<thread id>.lock``, open for as long as it has the thread loaded
  (the format names such lock files: places.writer_locks).

So a process counts as a writer when it has the rollout open with write access, or has the thread's
writer-lock file open. On Linux every ``/proc/PID/fd`` entry is compared by device and inode (names
can differ across bind mounts and renames) and the access mode comes from ``/proc/PID/fdinfo``;
elsewhere ``lsof`` answers when it is installed. Without either nothing can be told, and ``method``
says so. Processes of other users are invisible to an unprivileged scan.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from rollout_doctor.store import places

PROC = Path("/proc")
COMMAND_WIDTH = 100


class Holder(NamedTuple):  # not a dataclass: every check makes this class, and @dataclass compiles its methods
    pid: int
    command: str
    what: str  # "has it open for writing" / "holds its thread's writer lock"

    def describe(self) -> str:
        return f"pid {self.pid} ({self.command}) {self.what}"


def describe(holders: list[Holder]) -> str:
    """One phrase per process: "pid 7 (codex exec …) has it open for writing and holds its thread's writer lock"."""
    by_pid: dict[int, list[Holder]] = {}
    for holder in holders:
        by_pid.setdefault(holder.pid, []).append(holder)
    return "; ".join(f"pid {pid} ({group[0].command}) " + " and ".join(h.what for h in group)
                     for pid, group in sorted(by_pid.items()))


def method() -> str:
    """How holders are found here: ``proc``, ``lsof`` or ``none``."""
    if (PROC / "self" / "fdinfo").is_dir():
        return "proc"
    if _has_lsof():
        return "lsof"
    return "none"


def _has_lsof() -> bool:
    import shutil  # only where /proc cannot answer: shutil brings bz2, lzma and zlib (2 ms of a check's start-up)

    return shutil.which("lsof") is not None


def writers(path: Path) -> list[Holder]:
    """Processes that hold ``path`` open for writing or hold its thread's writer lock."""
    return writers_of([path]).get(path, [])


def writers_of(paths: list[Path], open_by_none: frozenset[str] = frozenset()) -> dict[Path, list[Holder]]:
    """``writers`` for many files at once: one pass over /proc (or one lsof), whatever their number.
    Only the files some process holds are in the answer. ``open_by_none``: files and locks (absolute paths)
    the caller has just found no process holding open (cli/run_cache.py's replay): when they are all there
    is to look at, the processes are not listed again, only the writers sessions declare are asked."""
    locks = {path: places.writer_locks(path) for path in paths}
    if open_by_none and all(os.path.abspath(p) in open_by_none for path, path_locks in locks.items()
                            for p in (path, *path_locks)):
        return _declared(paths, {})
    how = method()
    found: dict[Path, list[Holder]] = {}
    if how == "proc":
        try:
            found = _scan_proc_all(locks)
        except OSError:  # a /proc that cannot be listed (a locked-down sandbox): ask lsof if it is there
            how = "lsof" if _has_lsof() else "none"
    if how == "lsof":
        found = {path: held for path, path_locks in locks.items() if (held := _scan_lsof(path, path_locks))}
    return _declared(paths, found)


def _declared(paths: list[Path], found: dict[Path, list[Holder]]) -> dict[Path, list[Holder]]:
    """``found`` with the processes that declare they run one of the sessions (a running Claude Code
    holds no descriptor on its transcript: store/places.py)."""
    for path in paths:
        declared = [Holder(pid, _command(pid), "is running this session") for pid in places.declared_writers(path)]
        if declared:
            found[path] = sorted([*found.get(path, []), *declared], key=lambda h: h.pid)
    return found


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _command(pid: int) -> str:
    """The command line, program by its file name only: enough to recognise a Codex."""
    try:
        parts = [p.decode("utf-8", "replace") for p in (PROC / str(pid) / "cmdline").read_bytes().split(b"\0") if p]
        text = " ".join([os.path.basename(parts[0]), *parts[1:]]) if parts else ""
    except OSError:
        text = ""
    if not text:
        try:
            text = (PROC / str(pid) / "comm").read_text().strip()
        except OSError:
            text = "?"
    return text if len(text) <= COMMAND_WIDTH else text[: COMMAND_WIDTH - 1] + "…"


def _writable(pid: str, fd: str) -> bool:
    try:
        info = (PROC / pid / "fdinfo" / fd).read_text()
    except OSError:
        return True  # the descriptor is there; assume the worst about how it was opened
    for line in info.splitlines():
        if line.startswith("flags:"):
            return (int(line.split()[1], 8) & os.O_ACCMODE) in (os.O_WRONLY, os.O_RDWR)
    return True


def _scan_proc_all(locks: dict[Path, list[Path]]) -> dict[Path, list[Holder]]:
    rollouts: dict[tuple[int, int], list[Path]] = {}
    lock_ids: dict[tuple[int, int], list[Path]] = {}
    for path, path_locks in locks.items():
        if (ident := _identity(path)) is not None:
            rollouts.setdefault(ident, []).append(path)
        for lock in path_locks:
            if (ident := _identity(lock)) is not None:
                lock_ids.setdefault(ident, []).append(path)
    if not rollouts and not lock_ids:
        return {}
    found: dict[Path, dict[tuple[int, str], Holder]] = {}
    for entry in os.scandir(PROC):
        if not entry.name.isdigit():
            continue
        fd_dir = PROC / entry.name / "fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue  # gone, or not ours to look at
        for fd in fds:
            try:
                st = os.stat(fd_dir / fd)
            except OSError:
                continue
            ident = (st.st_dev, st.st_ino)
            pid = int(entry.name)
            if ident in rollouts and _writable(entry.name, fd):
                for path in rollouts[ident]:
                    found.setdefault(path, {}).setdefault((pid, "open"), Holder(pid, _command(pid), "has it open for writing"))
            if ident in lock_ids:
                for path in lock_ids[ident]:
                    found.setdefault(path, {}).setdefault((pid, "lock"),
                                                          Holder(pid, _command(pid), "holds its thread's writer lock"))
    return {path: sorted(holders.values(), key=lambda h: h.pid) for path, holders in found.items()}


def _scan_lsof(path: Path, locks: list[Path]) -> list[Holder]:
    import subprocess  # only where there is no /proc: every check on Linux would pay for its import

    found: dict[tuple[int, str], Holder] = {}
    for target, is_lock in [(path, False), *((lock, True) for lock in locks)]:
        try:
            done = subprocess.run(["lsof", "-w", "-F", "pcfa", "--", str(target)], capture_output=True,
                                  text=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired):
            continue
        pid, command = 0, "?"
        for line in done.stdout.splitlines():
            tag, value = line[:1], line[1:]
            if tag == "p":
                pid, command = int(value), "?"
            elif tag == "c":
                command = value
            elif tag == "a" and pid:
                if is_lock:
                    found.setdefault((pid, "lock"), Holder(pid, command, "holds its thread's writer lock"))
                elif value in ("w", "u"):
                    found.setdefault((pid, "open"), Holder(pid, command, "has it open for writing"))
    return sorted(found.values(), key=lambda h: h.pid)
